/**
 * One command→reply exchange of the sl1-ascii protocol as a pure state machine: inputs are the
 * replies routed to it and the expiry of its reply timer; outputs are the lines to send and
 * whether to (re)arm the timer. The timer, the port and the clock stay outside (driver.ts).
 *
 * The rules it carries (spec engraver-serial.md and the decisions in docs/engraver.md):
 * - replies are matched by kind and job id, never by order alone;
 * - a link that missed a reply is suspect: `$STAT` goes out, and is answered, before the command;
 * - `$NAK,0,CHECKSUM` means the engraver could not read our line, so it did nothing with it: ask
 *   `$STAT` (which also flushes any reply still in flight) and send the command once more.
 */
import type { Command, NakReason, Reply } from './messages.js';

export type ExchangeState =
  /** The link is suspect: `$STAT` is on the wire; the command waits for its answer. */
  | { phase: 'probing'; command: Command }
  /** The command is on the wire. */
  | { phase: 'awaiting'; command: Command; attempt: 1 | 2 }
  /** Our line came back `$NAK,0,CHECKSUM`: `$STAT` is on the wire before the one retry. */
  | { phase: 'resyncing'; command: Command }
  | { phase: 'settled'; command: Command; result: ExchangeResult };

export type ExchangeFailure =
  /** The engraver answered `$NAK` for our command (BUSY, BADJOB, NOJOB or FAULT). */
  | { kind: 'refused'; reason: Exclude<NakReason, 'CHECKSUM'>; jobId: number }
  /** Our line was corrupted on the wire again after the one retry. */
  | { kind: 'corrupted'; during: 'command' | 'probe' | 'resync' }
  /** No reply within the timeout. `sent` tells whether the command itself reached the wire. */
  | { kind: 'timeout'; waitingFor: 'probe' | 'reply' | 'resync'; sent: boolean }
  | { kind: 'link-down'; detail: string; sent: boolean };

export type ExchangeResult = { ok: true; reply: Reply } | { ok: false; failure: ExchangeFailure };

export type ExchangeInput =
  | { kind: 'reply'; reply: Reply }
  | { kind: 'timeout' }
  | { kind: 'link-down'; detail: string };

export type ExchangeAction =
  | { kind: 'send'; command: Command }
  /** Start the reply timer afresh: every line sent gets the full timeout. */
  | { kind: 'arm-timer' }
  | { kind: 'settle'; result: ExchangeResult };

export interface Step {
  state: ExchangeState;
  actions: ExchangeAction[];
  /** False when the reply was not this exchange's: the caller treats it as unasked. */
  consumed: boolean;
}

const STAT: Command = { kind: 'STAT' };

/** Starts an exchange; on a suspect link `$STAT` goes first, unless the command is `$STAT`. */
export function startExchange(command: Command, linkSuspect: boolean): Step {
  if (linkSuspect && command.kind !== 'STAT') {
    return step({ phase: 'probing', command }, [{ kind: 'send', command: STAT }, { kind: 'arm-timer' }]);
  }
  return step({ phase: 'awaiting', command, attempt: 1 }, [{ kind: 'send', command }, { kind: 'arm-timer' }]);
}

/** Whether `reply` answers `command` (by kind and job id). `$NAK,0,CHECKSUM` answers any line. */
export function answers(command: Command, reply: Reply): boolean {
  if (isChecksumNak(reply)) return true;
  switch (command.kind) {
    case 'JOB':
      return (reply.kind === 'ACK' || reply.kind === 'NAK') && reply.jobId === command.job.jobId;
    case 'GO':
      return (reply.kind === 'ACK' || reply.kind === 'NAK') && reply.jobId === command.jobId;
    case 'STAT':
      return reply.kind === 'STAT';
    case 'ABORT':
    case 'RESET':
      return (reply.kind === 'ACK' || reply.kind === 'NAK') && reply.jobId === 0;
  }
}

export function isChecksumNak(reply: Reply): boolean {
  return reply.kind === 'NAK' && reply.reason === 'CHECKSUM';
}

export function advance(state: ExchangeState, input: ExchangeInput): Step {
  if (state.phase === 'settled') return { state, actions: [], consumed: false };
  switch (input.kind) {
    case 'timeout': {
      const waitingFor =
        state.phase === 'probing' ? 'probe' : state.phase === 'resyncing' ? 'resync' : 'reply';
      return settle(state.command, { kind: 'timeout', waitingFor, sent: state.phase !== 'probing' });
    }
    case 'link-down':
      return settle(state.command, {
        kind: 'link-down',
        detail: input.detail,
        sent: state.phase !== 'probing',
      });
    case 'reply':
      return onReply(state, input.reply);
  }
}

function onReply(state: Exclude<ExchangeState, { phase: 'settled' }>, reply: Reply): Step {
  const { command } = state;
  switch (state.phase) {
    case 'probing':
      if (isChecksumNak(reply)) return settle(command, { kind: 'corrupted', during: 'probe' });
      if (reply.kind !== 'STAT') return unconsumed(state);
      return step({ phase: 'awaiting', command, attempt: 1 }, [
        { kind: 'send', command },
        { kind: 'arm-timer' },
      ]);

    case 'resyncing':
      if (isChecksumNak(reply)) return settle(command, { kind: 'corrupted', during: 'resync' });
      if (reply.kind === 'STAT') {
        // The engraver answers in order, so anything it owed the corrupted line came before this.
        if (command.kind === 'STAT') return settled(command, { ok: true, reply });
        return step({ phase: 'awaiting', command, attempt: 2 }, [
          { kind: 'send', command },
          { kind: 'arm-timer' },
        ]);
      }
      // The checksum NAK was for some other line after all (noise on the wire), and this is ours.
      if (answers(command, reply)) return answer(command, reply);
      return unconsumed(state);

    case 'awaiting':
      if (!answers(command, reply)) return unconsumed(state);
      if (isChecksumNak(reply)) {
        if (state.attempt === 2) return settle(command, { kind: 'corrupted', during: 'command' });
        return step({ phase: 'resyncing', command }, [
          { kind: 'send', command: STAT },
          { kind: 'arm-timer' },
        ]);
      }
      return answer(command, reply);
  }
}

function answer(command: Command, reply: Reply): Step {
  if (reply.kind === 'NAK' && reply.reason !== 'CHECKSUM') {
    return settle(command, { kind: 'refused', reason: reply.reason, jobId: reply.jobId });
  }
  return settled(command, { ok: true, reply });
}

function settle(command: Command, failure: ExchangeFailure): Step {
  return settled(command, { ok: false, failure });
}

function settled(command: Command, result: ExchangeResult): Step {
  return step({ phase: 'settled', command, result }, [{ kind: 'settle', result }]);
}

function step(state: ExchangeState, actions: ExchangeAction[]): Step {
  return { state, actions, consumed: true };
}

function unconsumed(state: ExchangeState): Step {
  return { state, actions: [], consumed: false };
}
