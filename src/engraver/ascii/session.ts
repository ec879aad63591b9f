/**
 * The host's side of one serial link, pure: it runs one exchange at a time (exchange.ts), routes
 * what the engraver sends to it, and keeps the two facts that outlive an exchange: whether the
 * link is suspect, and which timed-out commands may still be answered late.
 *
 * Routing, in order:
 * 1. `$DONE` and `$FAULT` are events, delivered as such, never taken as a reply.
 * 2. A reply that could answer a command that already timed out is late: discarded and logged,
 *    never taken as the answer to the exchange in progress (when it could be either, it is
 *    taken as late; the exchange then times out and the link is re-checked).
 * 3. A reply the exchange in progress accepts is its answer. The engraver answers lines in order,
 *    so every reply owed to an earlier line has come by then: nothing is owed any more.
 * 4. Anything else is unasked: discarded and logged.
 *
 * The link's health: a missed reply makes a sound link suspect (`link-suspect`); the next
 * exchange then asks `$STAT` first, and its answer makes the link sound again (`link-verified`,
 * with the status). A reply missed while the link is already suspect means it is lost
 * (`link-lost`): the driver closes the port and reconnects.
 *
 * Timers stay outside: the driver arms one reply timer when told, calls `timeout()` when it
 * fires, and after a timeout waits for late replies to drain before the next exchange (see
 * `drained()`).
 */

import type { EngraverStatus } from '../types.js';
import {
  advance,
  answers,
  type ExchangeInput,
  type ExchangeResult,
  type ExchangeState,
  isChecksumNak,
  type Step,
  startExchange,
} from './exchange.js';
import { type Command, type EngraverEvent, type Incoming, isEvent, type Reply } from './messages.js';

export type SessionAction =
  | { kind: 'send'; command: Command }
  | { kind: 'arm-timer' }
  | { kind: 'disarm-timer' }
  | { kind: 'settle'; command: Command; result: ExchangeResult }
  | { kind: 'event'; event: EngraverEvent }
  | { kind: 'discard'; message: Reply; why: 'late' | 'unasked'; detail: string }
  /** A reply was missed on a sound link: it is suspect until `$STAT` is answered again. */
  | { kind: 'link-suspect'; reason: string }
  /** `$STAT` was answered on a suspect link (a new one, or after a missed reply): it is sound. */
  | { kind: 'link-verified'; status: EngraverStatus }
  /** A reply was missed while the link was already suspect: close it and reconnect. */
  | { kind: 'link-lost'; reason: string };

export class AsciiSession {
  private exchange: ExchangeState | undefined;
  /** Commands that timed out and whose replies may still come, oldest first. */
  private owed: Command[] = [];
  private suspectLink = true;

  /** A fresh link is suspect until `$STAT` has been answered on it. */
  get suspect(): boolean {
    return this.suspectLink;
  }

  get busy(): boolean {
    return this.exchange !== undefined;
  }

  /** How many timed-out commands may still be answered. */
  get owedReplies(): number {
    return this.owed.length;
  }

  /** A new connection: nothing owed, nothing in progress, suspect until `$STAT` answers. */
  connected(): void {
    this.exchange = undefined;
    this.owed = [];
    this.suspectLink = true;
  }

  /** The quiet time after a timeout is over: a reply that comes later is no longer expected. */
  drained(): void {
    this.owed = [];
  }

  begin(command: Command): SessionAction[] {
    if (this.exchange) throw new Error(`an exchange (${this.exchange.command.kind}) is already in progress`);
    return this.apply(startExchange(command, this.suspectLink));
  }

  receive(message: Incoming): SessionAction[] {
    if (isEvent(message)) return [{ kind: 'event', event: message }];
    const late = this.owed.findIndex((command) => answers(command, message));
    if (late >= 0) {
      const command = this.owed[late]!;
      // Replies come in order: those owed before this one are not coming any more.
      this.owed.splice(0, late + 1);
      return [
        {
          kind: 'discard',
          message,
          why: 'late',
          detail: `could answer ${describe(command)}, which already timed out`,
        },
      ];
    }
    if (this.exchange) {
      const step = advance(this.exchange, { kind: 'reply', reply: message });
      if (step.consumed) {
        this.owed = [];
        // An answered $STAT, as probe, resync or command, proves the link carries both ways.
        if (message.kind === 'STAT' && this.suspectLink) {
          this.suspectLink = false;
          return [{ kind: 'link-verified', status: message.status }, ...this.apply(step)];
        }
        return this.apply(step);
      }
    }
    const detail = this.exchange
      ? `does not answer ${describe(this.exchange.command)}`
      : isChecksumNak(message)
        ? 'no line of ours was waiting for an answer (the engraver could not read something on the wire)'
        : 'no command was waiting for an answer';
    return [{ kind: 'discard', message, why: 'unasked', detail }];
  }

  timeout(): SessionAction[] {
    return this.exchange ? this.feed({ kind: 'timeout' }) : [];
  }

  linkDown(detail: string): SessionAction[] {
    const actions = this.exchange ? this.feed({ kind: 'link-down', detail }) : [];
    this.suspectLink = true;
    return actions;
  }

  private feed(input: ExchangeInput): SessionAction[] {
    return this.apply(advance(this.exchange!, input));
  }

  private apply(step: Step): SessionAction[] {
    const out: SessionAction[] = [];
    const wasSuspect = this.suspectLink;
    this.exchange = step.state;
    for (const action of step.actions) {
      if (action.kind !== 'settle') {
        out.push(action);
        continue;
      }
      const { command } = step.state;
      this.exchange = undefined;
      out.push({ kind: 'disarm-timer' }, { kind: 'settle', command, result: action.result });
      const { result } = action;
      if (result.ok) continue;
      const failure = result.failure;
      if (failure.kind === 'timeout') {
        const unanswered = failure.waitingFor === 'reply' ? command : ({ kind: 'STAT' } as const);
        this.owed.push(unanswered);
        this.suspectLink = true;
        if (wasSuspect || failure.waitingFor !== 'reply') {
          out.push({ kind: 'link-lost', reason: `no answer to ${describe(unanswered)} on a suspect link` });
        } else {
          out.push({ kind: 'link-suspect', reason: `no answer to ${describe(unanswered)}` });
        }
      }
    }
    return out;
  }
}

export function describe(command: Command): string {
  if (command.kind === 'JOB') return `$JOB ${command.job.jobId}`;
  if (command.kind === 'GO') return `$GO ${command.jobId}`;
  return `$${command.kind}`;
}
