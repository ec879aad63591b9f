/**
 * Command profiles (spec engraver-commands.md): for one laser marker that takes text commands,
 * how each step of the job cycle is written and how each reply is read. The shipped ones are
 * `config/profiles/kv-marker.yaml` and `tl-marker.yaml`; an integrator writes another for another
 * marker, not code. Validated here; a bad one is ENGRAVER_BAD_PROFILE naming the file and the field.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { StamplineError } from '../../errors.js';
import { resolveProfilePath } from '../profile.js';
import { FAULT } from '../types.js';
import {
  compile,
  parseTemplate,
  REPLY_VARIABLES,
  SEND_VARIABLES,
  type Template,
  TemplateError,
} from './template.js';

const terminator = z.enum(['\r', '\n', '\r\n']);
const codes = z.array(z.number().int().min(0)).default([]);
const bit = z
  .number()
  .int()
  .min(1)
  .max(2 ** 30);

const exchange = z.strictObject({
  /** The command, with job placeholders. */
  send: z.string().min(1),
  /** The reply that means success. */
  ok: z.string().min(1),
  /** The reply that means failure; carries `{code}`. */
  fail: z.string().min(1).nullable().default(null),
});

const query = z.strictObject({
  send: z.string().min(1),
  /** The reply, with any of {ready} {marking} {error} {mask}. */
  reply: z.string().min(1),
  fail: z.string().min(1).nullable().default(null),
});

const schema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  /** `commands`: tells a command profile from a register map when both are in config/profiles. */
  kind: z.literal('commands'),
  link: z.strictObject({
    tcpPort: z.number().int().min(1).max(65535),
    baudRate: z.number().int().min(300).max(921600).default(9600),
    parity: z.enum(['none', 'even', 'odd']).default('none'),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    commandEnd: terminator,
    replyEnd: terminator,
    timeoutMs: z.number().int().min(50).max(60_000).default(1000),
  }),
  programs: z.strictObject({
    'firing-pin': z.union([z.string().min(1), z.number().int().min(0)]).transform(String),
    'breech-face': z.union([z.string().min(1), z.number().int().min(0)]).transform(String),
  }),
  text: z
    .strictObject({
      maxLength: z.number().int().min(1).max(256).default(16),
      /** Characters the command can carry inside {text}; others make the job ENGRAVER_BAD_JOB. */
      forbidden: z.string().default(''),
    })
    .default({ maxLength: 16, forbidden: '' }),
  gear: z
    .strictObject({
      toothChar: z.string().length(1).default('1'),
      gapChar: z.string().length(1).default('0'),
      maxBits: z.number().int().min(0).max(1024).default(96),
    })
    .default({ toothChar: '1', gapChar: '0', maxBits: 96 }),
  load: z.array(exchange).min(1),
  start: exchange,
  abort: exchange,
  reset: exchange,
  status: z.array(query).min(1),
  /** Bits of a `{mask}` status reply. */
  mask: z
    .strictObject({
      ready: bit.optional(),
      marking: bit.optional(),
      fault: bit.optional(),
      /** Bits always set on a healthy marker (only the simulator uses them). */
      always: z.number().int().min(0).default(0),
    })
    .nullable()
    .default(null),
  /** The marker's count of completed markings; null when it keeps none (see docs/engraver.md). */
  counter: z
    .strictObject({ send: z.string().min(1), reply: z.string().min(1) })
    .nullable()
    .default(null),
  /** Messages the marker sends unasked when a marking ends. */
  events: z
    .strictObject({ done: z.string().min(1), fault: z.string().min(1) })
    .nullable()
    .default(null),
  /** A reply any command may get while the marker is marking. */
  busy: z.string().min(1).nullable().default(null),
  /** Codes of `fail` replies: which mean "marking, ask later", "not ready", "in error". */
  refusals: z
    .strictObject({ busy: codes, notReady: codes, inError: codes })
    .default({ busy: [], notReady: [], inError: [] }),
  /** The marker's error codes, by the line's fault they mean; any other code is fault 6, other. */
  errors: z.strictObject({
    interlock: codes,
    noPart: codes,
    markingError: codes,
    jobRejected: codes,
    overTemperature: codes,
  }),
});

export type CommandProfileInput = z.input<typeof schema>;
type Raw = z.output<typeof schema>;

/** A compiled exchange: the command to render, the replies to recognise. */
export interface CompiledExchange {
  send: Template;
  ok: Template;
  okRegex: RegExp;
  fail: Template | undefined;
  failRegex: RegExp | undefined;
}

export interface CommandProfile extends Raw {
  readonly source: string;
  readonly compiled: {
    load: CompiledExchange[];
    start: CompiledExchange;
    abort: CompiledExchange;
    reset: CompiledExchange;
    status: CompiledExchange[];
    counter: CompiledExchange | undefined;
    events: { done: Template; doneRegex: RegExp; fault: Template; faultRegex: RegExp } | undefined;
    busy: { template: Template; regex: RegExp } | undefined;
  };
}

/** The line's fault for "any other marker error" (FAULT_NAMES 6). */
export const OTHER_FAULT = 6;

const FAULT_OF: Record<keyof Raw['errors'], number> = {
  interlock: FAULT.INTERLOCK_OPEN,
  noPart: FAULT.NO_PART,
  markingError: FAULT.MARKING_ERROR,
  jobRejected: FAULT.JOB_REJECTED,
  overTemperature: FAULT.OVER_TEMPERATURE,
};

/** The line's fault code for a marker error code (0 stays 0). */
export function lineFault(profile: CommandProfile, markerCode: number): number {
  if (markerCode === 0) return FAULT.NONE;
  for (const [name, list] of Object.entries(profile.errors)) {
    if (list.includes(markerCode)) return FAULT_OF[name as keyof Raw['errors']];
  }
  return OTHER_FAULT;
}

/** The marker's code for a line fault (the first listed), for the simulator. */
export function markerFault(profile: CommandProfile, fault: number): number {
  for (const [name, line] of Object.entries(FAULT_OF)) {
    if (line === fault) return profile.errors[name as keyof Raw['errors']][0] ?? fault;
  }
  return fault;
}

type Issue = { path: (string | number)[]; message: string };

function compileExchange(
  raw: { send: string; ok?: string; reply?: string; fail: string | null },
  path: (string | number)[],
  replyVars: readonly string[],
  issues: Issue[],
  needs: readonly string[] = [],
): CompiledExchange | undefined {
  const okKey = raw.ok !== undefined ? 'ok' : 'reply';
  const send = template(raw.send, [...path, 'send'], Object.keys(SEND_VARIABLES), issues);
  const ok = template((raw.ok ?? raw.reply)!, [...path, okKey], replyVars, issues);
  const fail = raw.fail === null ? undefined : template(raw.fail, [...path, 'fail'], ['code'], issues);
  if (fail && !fail.variables.includes('code'))
    issues.push({ path: [...path, 'fail'], message: 'must carry {code}' });
  for (const name of needs) {
    if (ok && !ok.variables.includes(name))
      issues.push({ path: [...path, okKey], message: `must carry {${name}}` });
  }
  if (!send || !ok || (raw.fail !== null && !fail)) return undefined;
  return {
    send,
    ok,
    okRegex: compile(ok),
    fail,
    failRegex: fail ? compile(fail) : undefined,
  };
}

function template(
  source: string,
  path: (string | number)[],
  allowed: readonly string[],
  issues: Issue[],
): Template | undefined {
  try {
    const t = parseTemplate(source);
    const unknown = t.variables.filter((name) => !allowed.includes(name));
    if (unknown.length > 0) {
      issues.push({
        path,
        message: `{${unknown[0]}} is not known here (allowed: ${allowed.map((n) => `{${n}}`).join(' ') || 'none'})`,
      });
      return undefined;
    }
    if (/[\r\n]/.test(source)) {
      issues.push({ path, message: 'holds a line end; the terminator is added by the link' });
      return undefined;
    }
    return t;
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    issues.push({ path, message: err.message });
    return undefined;
  }
}

/** Validates a profile object; `source` names it in errors (a path or "inline"). */
export function parseCommandProfile(input: unknown, source: string): CommandProfile {
  const result = schema.safeParse(input);
  const fail = (problems: string[]) =>
    new StamplineError(
      'ENGRAVER_BAD_PROFILE',
      `command profile ${source} is not valid: ${problems.join('; ')}`,
      {
        source,
        problems,
      },
    );
  if (!result.success) {
    throw fail(result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`));
  }
  const raw = result.data;
  const issues: Issue[] = [];
  const statusVars = ['ready', 'marking', 'error', 'mask'];
  const load = raw.load.map((step, i) => compileExchange(step, ['load', i], [], issues));
  const start = compileExchange(raw.start, ['start'], [], issues);
  const abort = compileExchange(raw.abort, ['abort'], [], issues);
  const reset = compileExchange(raw.reset, ['reset'], [], issues);
  const status = raw.status.map((q, i) => compileExchange(q, ['status', i], statusVars, issues));
  const counter = raw.counter
    ? compileExchange({ ...raw.counter, fail: null }, ['counter'], ['count'], issues, ['count'])
    : undefined;
  const said = new Set(status.flatMap((q) => q?.ok.variables ?? []));
  if (said.has('mask') && !raw.mask)
    issues.push({ path: ['mask'], message: 'a status reply carries {mask}: say its bits' });
  const maskSays = (b: 'ready' | 'marking' | 'fault') => said.has('mask') && raw.mask?.[b] !== undefined;
  if (!said.has('error') && !maskSays('fault')) {
    issues.push({
      path: ['status'],
      message: 'no status reply carries {error}, nor a {mask} with a fault bit',
    });
  }
  if (!said.has('ready') && !said.has('marking') && !maskSays('ready') && !maskSays('marking')) {
    issues.push({ path: ['status'], message: 'no status reply says whether the marker is ready or marking' });
  }
  let events: CommandProfile['compiled']['events'];
  if (raw.events) {
    const done = template(raw.events.done, ['events', 'done'], [], issues);
    const faultT = template(raw.events.fault, ['events', 'fault'], ['error'], issues);
    if (faultT && !faultT.variables.includes('error')) {
      issues.push({ path: ['events', 'fault'], message: 'must carry {error}' });
    }
    if (done && faultT)
      events = { done, doneRegex: compile(done), fault: faultT, faultRegex: compile(faultT) };
  }
  const busyT = raw.busy === null ? undefined : template(raw.busy, ['busy'], [], issues);
  const { toothChar, gapChar } = raw.gear;
  if (toothChar === gapChar)
    issues.push({ path: ['gear', 'gapChar'], message: 'must differ from toothChar' });
  if (issues.length > 0) throw fail(issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  return {
    ...raw,
    source,
    compiled: {
      load: load as CompiledExchange[],
      start: start!,
      abort: abort!,
      reset: reset!,
      status: status as CompiledExchange[],
      counter,
      events,
      busy: busyT ? { template: busyT, regex: compile(busyT) } : undefined,
    },
  };
}

export function loadCommandProfile(nameOrPath: string): CommandProfile {
  const path = resolveProfilePath(nameOrPath);
  let data: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new StamplineError(
      'ENGRAVER_BAD_PROFILE',
      `command profile ${path} cannot be read: ${(err as Error).message}`,
      { source: path },
      { cause: err },
    );
  }
  return parseCommandProfile(data, path);
}

export { REPLY_VARIABLES };
