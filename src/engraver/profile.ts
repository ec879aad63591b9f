/**
 * Register-map profiles: where an engraver keeps its status and job fields over Modbus, and how it
 * packs them. The reference engraver is `config/profiles/sl1-modbus.yaml`; an integrator adapts the
 * line to another engraver by writing a profile, not code. Profiles are YAML or JSON, validated
 * here; a bad one is ENGRAVER_BAD_PROFILE naming the file and the field.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { StamplineError } from '../errors.js';
import type { EngraverStateName } from './types.js';

export const PROFILES_DIR = fileURLToPath(new URL('../../config/profiles/', import.meta.url));
export const DEFAULT_PROFILE = 'sl1-modbus';

const address = z.number().int().min(0).max(65535);
const optionalAddress = address.nullable().default(null);
const code = z.number().int().min(0).max(65535);

const command = z.union([
  z.strictObject({
    coil: address,
    /** Write the coil back to off after the command, for engravers whose coils latch. */
    release: z.boolean().default(false),
  }),
  z.strictObject({
    register: address,
    value: code,
    /** Write this value after the command, for engravers that act on a change. */
    releaseValue: code.optional(),
  }),
]);

const profileSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().default(''),
    /** The interface version this map was written for; `engraver probe` warns on a mismatch. */
    interfaceVersion: code.nullable().default(null),
    /** How the two registers of a uint32 (jobId, activeJob) are ordered. */
    uint32WordOrder: z.enum(['high-first', 'low-first']).default('high-first'),
    registers: z.strictObject({
      interface: optionalAddress,
      state: address,
      fault: address,
      completed: optionalAddress,
      activeJob: address,
      jobId: address,
      textLength: optionalAddress,
      text: address,
      gear: address,
      gearLength: optionalAddress,
      flags: address,
      power: address,
      frequency: address,
      speed: address,
      passes: address,
    }),
    text: z
      .strictObject({
        maxLength: z.number().int().min(1).max(246).default(16),
        /** Which byte of a register holds the first of its two characters. */
        byteOrder: z.enum(['high-first', 'low-first']).default('high-first'),
      })
      .default({ maxLength: 16, byteOrder: 'high-first' }),
    gear: z
      .strictObject({
        maxBits: z.number().int().min(0).max(1968).default(96),
        /** Which bit of a register holds the first of its sixteen gear bits. */
        bitOrder: z.enum(['msb-first', 'lsb-first']).default('msb-first'),
      })
      .default({ maxBits: 96, bitOrder: 'msb-first' }),
    flags: z
      .strictObject({
        mirror: z.number().int().min(0).max(15).default(0),
        breechFace: z.number().int().min(0).max(15).default(1),
      })
      .default({ mirror: 0, breechFace: 1 }),
    recipe: z
      .strictObject({
        power: z.tuple([code, code]).default([0, 1000]),
        frequency: z.tuple([code, code]).default([0, 65535]),
        speed: z.tuple([code, code]).default([0, 65535]),
        passes: z.tuple([code, code]).default([1, 20]),
      })
      .default({ power: [0, 1000], frequency: [0, 65535], speed: [0, 65535], passes: [1, 20] }),
    commands: z.strictObject({ start: command, abort: command, reset: command }),
    /** Register value(s) of each state. */
    stateCodes: z
      .strictObject({
        READY: z.union([code, z.array(code).min(1)]),
        BUSY: z.union([code, z.array(code).min(1)]),
        DONE: z.union([code, z.array(code).min(1)]),
        FAULT: z.union([code, z.array(code).min(1)]),
      })
      .default({ READY: 0, BUSY: 1, DONE: 2, FAULT: 3 }),
    /** Engraver fault code → the line's fault code (types.ts FAULT); unlisted codes pass through. */
    faultCodes: z.record(z.string().regex(/^\d+$/), code).default({}),
    /**
     * `one-block`: the job is written with as few FC16 requests as possible, registers between
     * job fields written as 0. `per-field`: only the job fields' registers are written, for
     * engravers that refuse writes to registers they do not define.
     */
    jobWrite: z.enum(['one-block', 'per-field']).default('one-block'),
    /** Modbus exception codes that mean "busy, try later" (6 is slave device busy). */
    busyExceptions: z.array(z.number().int().min(1).max(255)).default([6]),
  })
  .superRefine((p, ctx) => {
    const used = new Map<number, string>();
    const claim = (name: string, first: number, count: number) => {
      for (let a = first; a < first + count; a++) {
        const other = used.get(a);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['registers', name],
            message: `register ${a} is used by both ${other} and ${name}`,
          });
          return;
        }
        used.set(a, name);
      }
    };
    const r = p.registers;
    claim('state', r.state, 1);
    claim('fault', r.fault, 1);
    if (r.interface !== null) claim('interface', r.interface, 1);
    if (r.completed !== null) claim('completed', r.completed, 1);
    claim('activeJob', r.activeJob, 2);
    claim('jobId', r.jobId, 2);
    if (r.textLength !== null) claim('textLength', r.textLength, 1);
    claim('text', r.text, Math.ceil(p.text.maxLength / 2));
    if (p.gear.maxBits > 0) claim('gear', r.gear, Math.ceil(p.gear.maxBits / 16));
    if (r.gearLength !== null) claim('gearLength', r.gearLength, 1);
    claim('flags', r.flags, 1);
    for (const name of ['power', 'frequency', 'speed', 'passes'] as const) claim(name, r[name], 1);
    if (p.flags.mirror === p.flags.breechFace) {
      ctx.addIssue({ code: 'custom', path: ['flags'], message: 'mirror and breechFace share a bit' });
    }
    const seen = new Map<number, string>();
    for (const [state, value] of Object.entries(p.stateCodes)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        const other = seen.get(v);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['stateCodes', state],
            message: `code ${v} is given to both ${other} and ${state}`,
          });
        }
        seen.set(v, state);
      }
    }
  });

export type ModbusProfileInput = z.input<typeof profileSchema>;
export type ModbusProfile = z.output<typeof profileSchema> & {
  /** Where the profile was read from, for error messages and logs. */
  readonly source: string;
};

/** Validates a profile object; `source` names it in errors (a path or "inline"). */
export function parseProfile(input: unknown, source: string): ModbusProfile {
  const result = profileSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new StamplineError(
      'ENGRAVER_BAD_PROFILE',
      `engraver profile ${source} is not valid: ${problems.join('; ')}`,
      { source, problems },
    );
  }
  return { ...result.data, source };
}

/**
 * Finds a profile by name (`sl1-modbus`, looked up in config/profiles as .yaml, .yml or .json) or
 * by path (anything with a slash or a file extension, relative to the working directory).
 */
export function resolveProfilePath(nameOrPath: string): string {
  const looksLikePath = /[\\/]/.test(nameOrPath) || /\.(ya?ml|json)$/i.test(nameOrPath);
  if (looksLikePath) return isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
  if (!/^[A-Za-z0-9_.-]+$/.test(nameOrPath)) {
    throw new StamplineError('ENGRAVER_BAD_PROFILE', `engraver profile name "${nameOrPath}" is not valid`, {
      source: nameOrPath,
    });
  }
  for (const ext of ['.yaml', '.yml', '.json']) {
    const candidate = resolve(PROFILES_DIR, nameOrPath + ext);
    if (existsSync(candidate)) return candidate;
  }
  throw new StamplineError(
    'ENGRAVER_BAD_PROFILE',
    `engraver profile "${nameOrPath}" not found in ${PROFILES_DIR} (tried .yaml, .yml, .json)`,
    { source: nameOrPath },
  );
}

export function loadProfile(nameOrPath: string = DEFAULT_PROFILE): ModbusProfile {
  const path = resolveProfilePath(nameOrPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StamplineError(
      'ENGRAVER_BAD_PROFILE',
      `engraver profile ${path} cannot be read: ${(err as Error).message}`,
      { source: path },
      { cause: err },
    );
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new StamplineError(
      'ENGRAVER_BAD_PROFILE',
      `engraver profile ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
      { source: path },
      { cause: err },
    );
  }
  return parseProfile(data, path);
}

/** The state a register value means under this profile, or undefined for a code it does not list. */
export function stateFromCode(profile: ModbusProfile, value: number): EngraverStateName | undefined {
  let table = stateTables.get(profile);
  if (!table) {
    table = new Map();
    for (const [state, codes] of Object.entries(profile.stateCodes)) {
      for (const code of Array.isArray(codes) ? codes : [codes]) table.set(code, state as EngraverStateName);
    }
    stateTables.set(profile, table);
  }
  return table.get(value);
}

const stateTables = new WeakMap<ModbusProfile, Map<number, EngraverStateName>>();

export function faultFromCode(profile: ModbusProfile, value: number): number {
  return profile.faultCodes[String(value)] ?? value;
}
