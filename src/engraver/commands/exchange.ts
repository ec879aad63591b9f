/**
 * The host's side of a text-command link, pure: one command→reply exchange at a time as a small
 * state machine, and the routing of every line the marker sends. Inputs are lines, the expiry of
 * the reply timer and a lost link; outputs are actions. The port, the timer and the clock stay
 * outside (driver.ts).
 *
 * Routing of a line, in order:
 * 1. A line the profile's `events` match (TL's `GO F`, `GO E <code>`) is an event, never a reply,
 *    whatever command is waiting.
 * 2. A line the exchange in progress recognises (its `ok`, its `fail`, the profile's `busy`) is
 *    its answer.
 * 3. Anything else is discarded and logged: late (a command timed out and its answer may still
 *    come) or unasked.
 *
 * Text replies carry no id, so a late answer to a timed-out command could pass for the answer to
 * the next one (`WX,OK` answers any write). The link is therefore suspect after a missed reply:
 * the driver lets late replies drain, then reads the status before anything else; a second
 * missed reply on a suspect link means it is lost, and the driver reconnects.
 */
import type { CompiledExchange } from './profile.js';
import { match } from './template.js';

/** One command on the wire and how its reply is read. */
export interface Outgoing {
  /** For logs and errors: the step (`load 2`, `start`, `status 0`, `raw`) and the line. */
  label: string;
  line: string;
  exchange: CompiledExchange;
}

export type ExchangeFailure =
  /** The `fail` reply, with the marker's code. */
  | { kind: 'refused'; code: number; reply: string }
  /** The profile's `busy` reply. */
  | { kind: 'busy'; reply: string }
  | { kind: 'timeout' }
  | { kind: 'link-down'; detail: string };

export type ExchangeResult =
  | { ok: true; reply: string; values: Record<string, number> }
  | { ok: false; failure: ExchangeFailure };

export type MarkerEvent = { kind: 'done' } | { kind: 'fault'; error: number };

export type SessionAction =
  | { kind: 'send'; line: string }
  | { kind: 'arm-timer' }
  | { kind: 'disarm-timer' }
  | { kind: 'settle'; out: Outgoing; result: ExchangeResult }
  | { kind: 'event'; event: MarkerEvent; line: string }
  | { kind: 'discard'; line: string; why: 'late' | 'unasked'; detail: string }
  /** A reply was missed on a sound link: suspect until the status is read again. */
  | { kind: 'link-suspect'; reason: string }
  /** A reply was missed on a suspect link: close it and reconnect. */
  | { kind: 'link-lost'; reason: string };

export interface EventPatterns {
  done: RegExp;
  fault: RegExp;
}

/** What a line means for the exchange waiting on `out`: its result, or undefined if not an answer. */
export function readReply(out: Outgoing, line: string, busy: RegExp | undefined): ExchangeResult | undefined {
  const ok = match(out.exchange.okRegex, line);
  if (ok) {
    const values: Record<string, number> = {};
    for (const [name, value] of Object.entries(ok)) values[name] = Number(value);
    return { ok: true, reply: line, values };
  }
  const fail = out.exchange.failRegex ? match(out.exchange.failRegex, line) : undefined;
  if (fail) return { ok: false, failure: { kind: 'refused', code: Number(fail.code), reply: line } };
  if (busy?.test(line)) return { ok: false, failure: { kind: 'busy', reply: line } };
  return undefined;
}

export function readEvent(events: EventPatterns | undefined, line: string): MarkerEvent | undefined {
  if (!events) return undefined;
  if (events.done.test(line)) return { kind: 'done' };
  const fault = match(events.fault, line);
  if (fault) return { kind: 'fault', error: Number(fault.error) };
  return undefined;
}

export class CommandSession {
  private current: Outgoing | undefined;
  /** Commands that timed out and whose replies may still come. */
  private owed = 0;
  private suspectLink = true;

  constructor(
    private readonly events: EventPatterns | undefined,
    private readonly busy: RegExp | undefined,
  ) {}

  /** A link is suspect when new and after a missed reply, until a status read is answered on it. */
  get suspect(): boolean {
    return this.suspectLink;
  }

  get busyNow(): boolean {
    return this.current !== undefined;
  }

  connected(): void {
    this.current = undefined;
    this.owed = 0;
    this.suspectLink = true;
  }

  /** A status read was answered: the link carries both ways again. */
  verified(): void {
    this.suspectLink = false;
  }

  /** The quiet time after a timeout is over: what comes later is no longer expected. */
  drained(): void {
    this.owed = 0;
  }

  begin(out: Outgoing): SessionAction[] {
    if (this.current) throw new Error(`an exchange (${this.current.label}) is already in progress`);
    this.current = out;
    return [{ kind: 'send', line: out.line }, { kind: 'arm-timer' }];
  }

  receive(line: string): SessionAction[] {
    const event = readEvent(this.events, line);
    if (event) return [{ kind: 'event', event, line }];
    if (this.current) {
      const result = readReply(this.current, line, this.busy);
      if (result) return this.settle(result);
    }
    if (this.owed > 0) {
      return [{ kind: 'discard', line, why: 'late', detail: 'may answer a command that already timed out' }];
    }
    const detail = this.current
      ? `does not answer ${this.current.label} (${this.current.line})`
      : 'nothing was asked';
    return [{ kind: 'discard', line, why: 'unasked', detail }];
  }

  timeout(): SessionAction[] {
    const out = this.current;
    if (!out) return [];
    const wasSuspect = this.suspectLink;
    this.owed++;
    this.suspectLink = true;
    const reason = `no answer to ${out.label} (${out.line})`;
    return [
      ...this.settle({ ok: false, failure: { kind: 'timeout' } }),
      wasSuspect
        ? { kind: 'link-lost', reason: `${reason} on a suspect link` }
        : { kind: 'link-suspect', reason },
    ];
  }

  linkDown(detail: string): SessionAction[] {
    this.suspectLink = true;
    return this.current ? this.settle({ ok: false, failure: { kind: 'link-down', detail } }) : [];
  }

  private settle(result: ExchangeResult): SessionAction[] {
    const out = this.current!;
    this.current = undefined;
    return [{ kind: 'disarm-timer' }, { kind: 'settle', out, result }];
  }
}
