/**
 * The messages of the sl1-ascii protocol (spec engraver-serial.md) as typed values, both ways:
 * commands the host builds and the engraver parses, replies and events the engraver builds and
 * the host parses. Fields only; the `$…*CC` wrapping is framing.ts.
 */
import { StamplineError } from '../../errors.js';
import {
  ENGRAVER_STATES,
  type EngraveJob,
  type EngraverStateName,
  type EngraverStatus,
  type MarkTarget,
} from '../types.js';
import { encodeFrame, fieldProblem } from './framing.js';

export type NakReason = 'BUSY' | 'BADJOB' | 'NOJOB' | 'CHECKSUM' | 'FAULT';
export const NAK_REASONS: readonly NakReason[] = ['BUSY', 'BADJOB', 'NOJOB', 'CHECKSUM', 'FAULT'];

export type Command =
  | { kind: 'JOB'; job: EngraveJob }
  | { kind: 'GO'; jobId: number }
  | { kind: 'STAT' }
  | { kind: 'ABORT' }
  | { kind: 'RESET' };

export type CommandKind = Command['kind'];

/** What the engraver sends in answer to a command. */
export type Reply =
  | { kind: 'ACK'; jobId: number }
  | { kind: 'NAK'; jobId: number; reason: NakReason }
  | { kind: 'STAT'; status: EngraverStatus };

/** What the engraver sends unasked. */
export type EngraverEvent =
  | { kind: 'DONE'; jobId: number; completed: number }
  | { kind: 'FAULT'; jobId: number; fault: number };

export type Incoming = Reply | EngraverEvent;

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const MAX_JOB_ID = 0xffffffff;
const FLAG_MIRROR = 1;
const FLAG_BREECH_FACE = 2;

// ---- Jobs ------------------------------------------------------------------------------------

/** Why a job cannot be sent over the serial protocol, or undefined when it can. */
export function jobProblem(job: EngraveJob): string | undefined {
  if (typeof job !== 'object' || job === null) return 'the job is not an object';
  if (!Number.isInteger(job.jobId) || job.jobId < 1 || job.jobId > MAX_JOB_ID) {
    return `jobId ${String(job.jobId)} is not an integer 1..4294967295`;
  }
  if (typeof job.text !== 'string' || job.text.length > 16)
    return 'text must be a string of 0..16 characters';
  const textProblem = fieldProblem(job.text);
  if (textProblem !== undefined) return `text ${JSON.stringify(job.text)} ${textProblem}`;
  if (typeof job.gear !== 'string' || job.gear.length > 96 || !/^[01]*$/.test(job.gear)) {
    return 'gear must be 0..96 characters of 0 and 1';
  }
  if (typeof job.mirror !== 'boolean') return 'mirror must be true or false';
  if (job.target !== 'firing-pin' && job.target !== 'breech-face') {
    return `target ${JSON.stringify(job.target)} is not firing-pin or breech-face`;
  }
  const r = job.recipe;
  if (typeof r !== 'object' || r === null) return 'recipe is missing';
  if (!isIntIn(r.power, 0, 1000)) return `recipe power ${String(r.power)} is not an integer 0..1000`;
  if (!isIntIn(r.frequency, 0, 0xffff))
    return `recipe frequency ${String(r.frequency)} is not an integer 0..65535`;
  if (!isIntIn(r.speed, 0, 0xffff)) return `recipe speed ${String(r.speed)} is not an integer 0..65535`;
  if (!isIntIn(r.passes, 1, 20)) return `recipe passes ${String(r.passes)} is not an integer 1..20`;
  return undefined;
}

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Gear bits as hex: the first bit is the most significant bit of the first digit, padded with 0 bits. */
export function gearToHex(bits: string): string {
  let hex = '';
  for (let i = 0; i < bits.length; i += 4) {
    const nibble = bits.slice(i, i + 4).padEnd(4, '0');
    hex += Number.parseInt(nibble, 2).toString(16).toUpperCase();
  }
  return hex;
}

/** The inverse of gearToHex; undefined when the digits do not fit `count` bits exactly. */
export function gearFromHex(hex: string, count: number): string | undefined {
  if (!/^[0-9A-Fa-f]*$/.test(hex) || hex.length !== Math.ceil(count / 4)) return undefined;
  let bits = '';
  for (const digit of hex) bits += Number.parseInt(digit, 16).toString(2).padStart(4, '0');
  // Padding bits must be 0, or the two ends disagree on what was meant.
  if (bits.slice(count).includes('1')) return undefined;
  return bits.slice(0, count);
}

// ---- Commands --------------------------------------------------------------------------------

export function commandFields(command: Command): string[] {
  switch (command.kind) {
    case 'JOB': {
      const { job } = command;
      const flags = (job.mirror ? FLAG_MIRROR : 0) | (job.target === 'breech-face' ? FLAG_BREECH_FACE : 0);
      return [
        'JOB',
        String(job.jobId),
        job.text,
        gearToHex(job.gear),
        String(job.gear.length),
        String(flags),
        String(job.recipe.power),
        String(job.recipe.frequency),
        String(job.recipe.speed),
        String(job.recipe.passes),
      ];
    }
    case 'GO':
      return ['GO', String(command.jobId)];
    default:
      return [command.kind];
  }
}

/** The command's line; ENGRAVER_BAD_JOB with the reason when the job cannot be sent. */
export function encodeCommand(command: Command): Buffer {
  if (command.kind === 'JOB') {
    const problem = jobProblem(command.job);
    if (problem !== undefined) {
      throw new StamplineError('ENGRAVER_BAD_JOB', `job cannot be sent to the engraver: ${problem}`, {
        jobId: command.job?.jobId,
        problem,
      });
    }
  }
  if (command.kind === 'GO' && !isIntIn(command.jobId, 1, MAX_JOB_ID)) {
    throw new StamplineError(
      'ENGRAVER_BAD_JOB',
      `jobId ${String(command.jobId)} is not an integer 1..4294967295`,
      {
        jobId: command.jobId,
      },
    );
  }
  return encodeFrame(commandFields(command));
}

export interface CommandParseError {
  problem: string;
  /** The job id to put in the NAK: the command's own when it could be read, else 0. */
  jobId: number;
}

/** Reads a command as the engraver receives it. */
export function parseCommand(
  fields: readonly string[],
): { ok: true; value: Command } | ({ ok: false } & CommandParseError) {
  const [kind, ...args] = fields;
  const fail = (problem: string, jobId = 0) => ({ ok: false as const, problem, jobId });
  switch (kind) {
    case 'STAT':
    case 'ABORT':
    case 'RESET':
      if (args.length !== 0) return fail(`${kind} takes no fields, got ${args.length}`);
      return { ok: true, value: { kind } };
    case 'GO': {
      if (args.length !== 1) return fail(`GO takes 1 field, got ${args.length}`);
      const jobId = parseUint(args[0]!, 1, MAX_JOB_ID);
      if (jobId === undefined) return fail(`GO job id ${JSON.stringify(args[0])} is not 1..4294967295`);
      return { ok: true, value: { kind: 'GO', jobId } };
    }
    case 'JOB': {
      const jobId = args[0] === undefined ? undefined : parseUint(args[0], 1, MAX_JOB_ID);
      if (jobId === undefined) return fail(`JOB job id ${JSON.stringify(args[0])} is not 1..4294967295`);
      if (args.length !== 9) return fail(`JOB takes 9 fields, got ${args.length}`, jobId);
      const [, text, gearHex, gearBitsText, flagsText, power, frequency, speed, passes] = args as string[];
      const gearBits = parseUint(gearBitsText!, 0, 96);
      if (gearBits === undefined)
        return fail(`gear bit count ${JSON.stringify(gearBitsText)} is not 0..96`, jobId);
      const gear = gearFromHex(gearHex!, gearBits);
      if (gear === undefined) {
        return fail(
          `gear ${JSON.stringify(gearHex)} is not ${Math.ceil(gearBits / 4)} hex digits with 0 padding`,
          jobId,
        );
      }
      const flags = parseUint(flagsText!, 0, FLAG_MIRROR | FLAG_BREECH_FACE);
      if (flags === undefined) return fail(`flags ${JSON.stringify(flagsText)} is not 0..3`, jobId);
      const target: MarkTarget = flags & FLAG_BREECH_FACE ? 'breech-face' : 'firing-pin';
      const recipe = { power, frequency, speed, passes };
      const numbers: Record<string, number> = {};
      for (const [name, raw] of Object.entries(recipe)) {
        const value = parseUint(raw!, 0, 0xffff);
        if (value === undefined)
          return fail(`recipe ${name} ${JSON.stringify(raw)} is not a number 0..65535`, jobId);
        numbers[name] = value;
      }
      const job: EngraveJob = {
        jobId,
        text: text!,
        gear,
        mirror: (flags & FLAG_MIRROR) !== 0,
        target,
        recipe: {
          power: numbers.power!,
          frequency: numbers.frequency!,
          speed: numbers.speed!,
          passes: numbers.passes!,
        },
      };
      const problem = jobProblem(job);
      if (problem !== undefined) return fail(problem, jobId);
      return { ok: true, value: { kind: 'JOB', job } };
    }
    default:
      return fail(`unknown command ${JSON.stringify(kind)}`);
  }
}

// ---- Replies and events ----------------------------------------------------------------------

export function incomingFields(message: Incoming): string[] {
  switch (message.kind) {
    case 'ACK':
      return ['ACK', String(message.jobId)];
    case 'NAK':
      return ['NAK', String(message.jobId), message.reason];
    case 'STAT': {
      const s = message.status;
      return ['STAT', s.state, String(s.activeJob), String(s.fault), String(s.completed)];
    }
    case 'DONE':
      return ['DONE', String(message.jobId), String(message.completed)];
    case 'FAULT':
      return ['FAULT', String(message.jobId), String(message.fault)];
  }
}

export function encodeIncoming(message: Incoming): Buffer {
  return encodeFrame(incomingFields(message));
}

export function isEvent(message: Incoming): message is EngraverEvent {
  return message.kind === 'DONE' || message.kind === 'FAULT';
}

/** Reads a reply or event as the host receives it. */
export function parseIncoming(fields: readonly string[]): Parsed<Incoming> {
  const [kind, ...args] = fields;
  const fail = (problem: string) => ({ ok: false as const, problem });
  const count = (n: number) =>
    args.length === n ? undefined : fail(`${kind} takes ${n} fields, got ${args.length}`);
  switch (kind) {
    case 'ACK': {
      const bad = count(1);
      if (bad) return bad;
      const jobId = parseUint(args[0]!, 0, MAX_JOB_ID);
      if (jobId === undefined) return fail(`ACK job id ${JSON.stringify(args[0])} is not a number`);
      return { ok: true, value: { kind: 'ACK', jobId } };
    }
    case 'NAK': {
      const bad = count(2);
      if (bad) return bad;
      const jobId = parseUint(args[0]!, 0, MAX_JOB_ID);
      if (jobId === undefined) return fail(`NAK job id ${JSON.stringify(args[0])} is not a number`);
      const reason = args[1] as NakReason;
      if (!NAK_REASONS.includes(reason))
        return fail(`NAK reason ${JSON.stringify(args[1])} is not one of ${NAK_REASONS.join(', ')}`);
      return { ok: true, value: { kind: 'NAK', jobId, reason } };
    }
    case 'STAT': {
      const bad = count(4);
      if (bad) return bad;
      const state = args[0] as EngraverStateName;
      if (!ENGRAVER_STATES.includes(state))
        return fail(`STAT state ${JSON.stringify(args[0])} is not READY, BUSY, DONE or FAULT`);
      const activeJob = parseUint(args[1]!, 0, MAX_JOB_ID);
      const fault = parseUint(args[2]!, 0, 0xffff);
      const completed = parseUint(args[3]!, 0, 0xffff);
      if (activeJob === undefined || fault === undefined || completed === undefined) {
        return fail(
          `STAT numbers ${JSON.stringify(args.slice(1).join(','))} are not activeJob,fault,completed`,
        );
      }
      return { ok: true, value: { kind: 'STAT', status: { state, activeJob, fault, completed } } };
    }
    case 'DONE': {
      const bad = count(2);
      if (bad) return bad;
      const jobId = parseUint(args[0]!, 0, MAX_JOB_ID);
      const completed = parseUint(args[1]!, 0, 0xffff);
      if (jobId === undefined || completed === undefined)
        return fail(`DONE fields ${JSON.stringify(args.join(','))} are not jobId,completed`);
      return { ok: true, value: { kind: 'DONE', jobId, completed } };
    }
    case 'FAULT': {
      const bad = count(2);
      if (bad) return bad;
      const jobId = parseUint(args[0]!, 0, MAX_JOB_ID);
      const fault = parseUint(args[1]!, 0, 0xffff);
      if (jobId === undefined || fault === undefined)
        return fail(`FAULT fields ${JSON.stringify(args.join(','))} are not jobId,fault`);
      return { ok: true, value: { kind: 'FAULT', jobId, fault } };
    }
    default:
      return fail(`unknown message ${JSON.stringify(kind)}`);
  }
}

/** A decimal integer in [min, max]; digits only, so no sign, exponent or blank slips through. */
function parseUint(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}
