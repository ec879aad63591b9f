/**
 * The firearm's job as a pure state machine (docs/architecture.md, "The job state machine").
 *
 * `step(firearm, observation)` answers the firearm's next state, the durable change that takes it
 * there, and the effects to carry out, in order; it runs nothing. `reconcile(firearm, status,
 * start)` answers the row of the recovery table that the engraver's registers select. A move the
 * table does not allow from the firearm's state is refused with an error naming both, and the
 * change is checked again against the stored firearm when it is written (`applyChange`).
 */
import type { EngraverStatus, JobOutcome, Recipe } from '../engraver/types.js';
import { faultName } from '../engraver/types.js';
import { StamplineError } from '../errors.js';
import type { CrashPoint } from './crash-points.js';
import type { CodeRef, Firearm, FirearmQa, FirearmState, VoidedCode } from './model.js';

/** How a started job ended, as the engraver's registers or the driver's wait tell it. */
export type MarkingResult =
  | { kind: 'done'; completed?: number }
  | { kind: 'fault'; fault: number }
  /** The engraver lost power: the job may have been partly marked. */
  | { kind: 'lost' }
  /** The engraver never began this job. */
  | { kind: 'not-started' }
  /**
   * The engraver's last job is another one, and this one may have been marked before it: the
   * `completed` count or the `activeJob` moved since they were read before the start, or were
   * not noted.
   */
  | {
      kind: 'overtaken';
      activeJob: number;
      completed: number;
      completedBefore?: number;
      activeJobBefore?: number;
    }
  /** activeJob is ours but the engraver is READY: the outcome was cleared by a reset. */
  | { kind: 'unknown' }
  /** A marker without job ids cannot prove how the job ended (`EngraverStatus.unprovable`). */
  | { kind: 'unprovable'; why: string };

/** What the line has just learnt of one firearm's job: the machine's input. */
export type Observation =
  /** A code was reserved durably for the firearm, with the recipe it is marked with. */
  | { kind: 'allocated'; code: CodeRef; recipe: Recipe }
  /** The engraver took the job's registers (again, after a restart). */
  | { kind: 'loaded' }
  /** The line is about to pulse start; `before` is the status read just before the load. */
  | { kind: 'starting'; before: Pick<EngraverStatus, 'completed' | 'activeJob'> }
  /**
   * The job ended as `result` says. `orderAborted`: the firearm is cancelled rather than queued
   * again; `refused`: the engraver refused the start (why), which halts the line as a fault does.
   */
  | { kind: 'ended'; result: MarkingResult; orderAborted?: boolean; refused?: string }
  /** The order was aborted before this firearm's job was started. */
  | { kind: 'cancelled'; reason?: string }
  /** QA passed the code on the pin. */
  | { kind: 'qa-passed'; qa: FirearmQa; note: string }
  /** QA failed the code: it is voided, the pin scrapped, and the firearm queued for a new pin. */
  | { kind: 'qa-failed'; qa: FirearmQa; reason: string };

/** The moves each state allows: every observation not listed is refused. */
export const JOB_MOVES: Readonly<Record<FirearmState, ReadonlyArray<Observation['kind']>>> = {
  queued: ['allocated', 'cancelled'],
  allocated: ['loaded', 'cancelled'],
  loaded: ['loaded', 'starting', 'cancelled'],
  marking: ['ended'],
  engraved: ['qa-passed', 'qa-failed'],
  cancelled: [],
};

/**
 * One durable change of a firearm: from the state it must be in, to the next, with the fields it
 * sets or the code it voids. Every change adds one entry to the firearm's history.
 */
export interface FirearmChange {
  from: FirearmState;
  to: FirearmState;
  at: string;
  note?: string;
  set?: Partial<
    Pick<Firearm, 'code' | 'recipe' | 'completedBefore' | 'activeJobBefore' | 'engravedAt' | 'qa'>
  >;
  /** The code voided: appended to `voided`, and every field of the current code cleared. */
  voided?: VoidedCode;
}

/** What the line must do for a step, in this order. The runner carries them out (`job-runner.ts`). */
export type Effect =
  | { kind: 'crash'; point: CrashPoint }
  /** Write the step's change durably (with the code's index entry, for an allocation). */
  | { kind: 'write'; indexCode?: boolean }
  /** Tell the listeners the firearm as written. */
  | { kind: 'emit' }
  /** Queue the record durably in the outbox. */
  | { kind: 'report'; record: 'engraved' | 'voided' }
  /** The `engraved` record is in the outbox: a restart need not queue it again. */
  | { kind: 'note-reported' }
  | { kind: 'audit-void'; reason: string; pinScrapped: boolean }
  | { kind: 'log'; level: 'info' | 'warn'; msg: string; reason?: string; pinScrapped?: boolean }
  /** The firearm goes back to its order's queue for a new code. */
  | { kind: 'requeue' }
  /** Halt the line for an operator; a running order becomes `faulted`. */
  | { kind: 'halt'; fault: number; reason: string }
  /** The order may be finished now. */
  | { kind: 'retire' };

export interface Step {
  state: FirearmState;
  change: FirearmChange;
  effects: Effect[];
}

/** A move the machine does not allow from the firearm's state. */
export function refused(f: Pick<Firearm, 'serial' | 'state'>, move: string): StamplineError {
  return new StamplineError(
    'INTERNAL',
    `firearm ${f.serial} is ${f.state}: the job machine does not allow "${move}" from there`,
    { serial: f.serial, state: f.state, move },
  );
}

/** The next state of the firearm's job after `obs`, and what to do for it; runs nothing. */
export function step(f: Firearm, obs: Observation, at: string): Step {
  if (!JOB_MOVES[f.state].includes(obs.kind)) throw refused(f, obs.kind);
  switch (obs.kind) {
    case 'allocated':
      return {
        state: 'allocated',
        change: { from: f.state, to: 'allocated', at, set: { code: obs.code, recipe: obs.recipe } },
        effects: [
          { kind: 'write', indexCode: true },
          { kind: 'emit' },
          { kind: 'crash', point: 'after-allocation' },
        ],
      };
    case 'loaded':
      return {
        state: 'loaded',
        change: { from: f.state, to: 'loaded', at },
        effects: [{ kind: 'write' }, { kind: 'emit' }, { kind: 'crash', point: 'after-load' }],
      };
    case 'starting':
      return {
        state: 'marking',
        change: {
          from: 'loaded',
          to: 'marking',
          at,
          set: { completedBefore: obs.before.completed, activeJobBefore: obs.before.activeJob },
        },
        effects: [{ kind: 'write' }, { kind: 'emit' }, { kind: 'crash', point: 'before-start' }],
      };
    case 'ended':
      return ended(f, obs, at);
    case 'cancelled': {
      const note = obs.reason ? `order aborted: ${obs.reason}` : 'order aborted';
      const change: FirearmChange = f.code
        ? voidCode(f, { to: 'cancelled', reason: 'order aborted', pinScrapped: false, note, at })
        : { from: f.state, to: 'cancelled', at, note };
      return { state: 'cancelled', change, effects: [{ kind: 'write' }] };
    }
    case 'qa-passed':
      return {
        state: 'engraved',
        change: { from: 'engraved', to: 'engraved', at, note: obs.note, set: { qa: obs.qa } },
        effects: [{ kind: 'write' }],
      };
    case 'qa-failed': {
      const reason = `failed QA: ${obs.reason}`;
      const change = voidCode(f, { to: 'queued', reason, pinScrapped: true, qa: obs.qa, at });
      return { state: 'queued', change, effects: [{ kind: 'write' }] };
    }
  }
}

/** The end of a marking: `engraved` with its record, or the code voided. */
function ended(f: Firearm, obs: Extract<Observation, { kind: 'ended' }>, at: string): Step {
  const { result } = obs;
  const code = codeOf(f);
  if (result.kind === 'done') {
    return {
      state: 'engraved',
      change: { from: 'marking', to: 'engraved', at, set: { engravedAt: at } },
      effects: [
        { kind: 'crash', point: 'after-done-before-save' },
        { kind: 'write' },
        { kind: 'report', record: 'engraved' },
        { kind: 'crash', point: 'after-record-queued' },
        { kind: 'note-reported' },
        { kind: 'emit' },
        { kind: 'log', level: 'info', msg: 'engraved' },
        { kind: 'retire' },
      ],
    };
  }
  // The job did not finish: its code is never used again. The pin is scrapped if marking may
  // have begun, and the registry is told the code is void. That record is queued before the void
  // is written: a crash between them leaves the firearm `marking`, settled again after the
  // restart, and the record queued again has the same id. The other way round, the crash would
  // leave a scrapped pin whose record nothing queues again.
  const fault = result.kind === 'fault' ? result.fault : undefined;
  const pinScrapped = !(result.kind === 'not-started' || fault === 4);
  const reason = describeFailure(result);
  const to: FirearmState = obs.orderAborted ? 'cancelled' : 'queued';
  const effects: Effect[] = [];
  if (pinScrapped) effects.push({ kind: 'report', record: 'voided' });
  effects.push(
    { kind: 'write' },
    { kind: 'audit-void', reason, pinScrapped },
    { kind: 'log', level: 'warn', msg: 'code voided', reason, pinScrapped },
    { kind: 'requeue' },
    { kind: 'emit' },
  );
  if (fault !== undefined && fault !== 0) {
    effects.push({
      kind: 'halt',
      fault,
      reason: `engraver fault during job ${code.jobId}: ${faultName(fault)}`,
    });
  } else if (obs.refused !== undefined) {
    effects.push({
      kind: 'halt',
      fault: 0,
      reason: `the engraver refused to start job ${code.jobId}: ${obs.refused}`,
    });
  }
  effects.push({ kind: 'retire' });
  return {
    state: to,
    change: voidCode(f, { to, reason, pinScrapped, at, ...(fault !== undefined ? { fault } : {}) }),
    effects,
  };
}

/**
 * The one transition that voids a code: the code joins `voided` with why and whether its pin is
 * scrapped, and every field that belonged to it (the code, the counts noted before its start,
 * its record's state, its engraving and its verification) is cleared.
 */
export function voidCode(
  f: Firearm,
  v: {
    to: 'queued' | 'cancelled';
    reason: string;
    pinScrapped: boolean;
    at: string;
    fault?: number;
    qa?: FirearmQa;
    note?: string;
  },
): FirearmChange {
  const code = codeOf(f);
  return {
    from: f.state,
    to: v.to,
    at: v.at,
    note: v.note ?? `code ${code.text} voided: ${v.reason}`,
    voided: {
      ...code,
      voidedAt: v.at,
      reason: v.reason,
      pinScrapped: v.pinScrapped,
      ...(v.fault !== undefined ? { fault: v.fault } : {}),
      ...(v.qa ? { qa: v.qa } : {}),
    },
  };
}

/** The fields that belong to the current code, cleared when it is voided. */
const CODE_FIELDS = ['code', 'completedBefore', 'activeJobBefore', 'reported', 'engravedAt', 'qa'] as const;

/**
 * Applies `change` to the stored firearm `x` (inside the repository's write), after checking that
 * `x` is still in the state the change was made from.
 */
export function applyChange(x: Firearm, change: FirearmChange): void {
  if (x.state !== change.from) throw refused(x, `${change.from} → ${change.to}`);
  if (change.voided) {
    x.voided.push(change.voided);
    for (const field of CODE_FIELDS) delete x[field];
  }
  if (change.set) Object.assign(x, change.set);
  x.state = change.to;
  x.history.push({ at: change.at, state: change.to, ...(change.note ? { note: change.note } : {}) });
}

// ---- Recovery --------------------------------------------------------------------------------

/** What the line knows of the start of a `marking` firearm's job. */
export type StartKnown = 'started' | 'refused' | 'unknown';

/** The rows of the recovery table (docs/architecture.md, "Recovery"). */
export type RecoveryRow =
  /** `allocated`/`loaded`, READY or DONE: load the job again and start it with the same code. */
  | 'load-again'
  /** `allocated`/`loaded`, BUSY with another job: wait until it ends (up to the job timeout). */
  | 'wait-for-other-job'
  /** `allocated`/`loaded`, FAULT: halt until an operator resets the engraver. */
  | 'halt-on-fault'
  /** `marking`, activeJob ours, BUSY: wait for the end. */
  | 'wait-for-end'
  /** `marking`, activeJob ours, DONE: `engraved`, record queued. */
  | 'engraved'
  /** `marking`, activeJob ours, FAULT 4: rejected, nothing marked; void, pin kept, halt. */
  | 'rejected'
  /** `marking`, activeJob ours, any other FAULT: void, pin scrapped, halt. */
  | 'faulted'
  /** `marking`, activeJob ours, READY: the outcome was cleared by a reset; void, pin scrapped. */
  | 'outcome-cleared'
  /** `marking`, activeJob 0: the engraver lost power; void, pin scrapped. */
  | 'power-lost'
  /** `marking`, activeJob and completed as noted before the start: never took; void, pin kept. */
  | 'never-started'
  /** `marking`, another activeJob: ours may have been marked; void, pin scrapped. */
  | 'overtaken'
  /** `marking`, a marker without job ids cannot prove the end: void, pin set aside. */
  | 'unprovable';

export interface Reconciliation {
  row: RecoveryRow;
  /** How the job ended, for the rows that settle a `marking` firearm. */
  result?: MarkingResult;
  /** The engraver's fault, for `halt-on-fault`. */
  fault?: number;
}

/**
 * The row of the recovery table for a firearm with a code, from the engraver's registers read now
 * (`status`) and what the line knows of the start. Decides from the engraver, not from memory.
 */
export function reconcile(f: Firearm, status: EngraverStatus, start: StartKnown): Reconciliation {
  if (f.state === 'allocated' || f.state === 'loaded') {
    if (status.state === 'READY' || status.state === 'DONE') return { row: 'load-again' };
    if (status.state === 'FAULT') return { row: 'halt-on-fault', fault: status.fault };
    return { row: 'wait-for-other-job' };
  }
  if (f.state !== 'marking') throw refused(f, 'reconcile');
  const code = codeOf(f);
  if (status.unprovable !== undefined)
    return { row: 'unprovable', result: { kind: 'unprovable', why: status.unprovable } };
  if (status.activeJob !== code.jobId) return afterAnotherJob(f, status, start === 'refused');
  switch (status.state) {
    case 'DONE':
      return { row: 'engraved', result: { kind: 'done', completed: status.completed } };
    case 'FAULT':
      return {
        row: status.fault === 4 ? 'rejected' : 'faulted',
        result: { kind: 'fault', fault: status.fault },
      };
    case 'READY':
      return { row: 'outcome-cleared', result: { kind: 'unknown' } };
    default:
      return { row: 'wait-for-end' };
  }
}

/**
 * The engraver's last job is not this firearm's. A power cycle (activeJob 0) may have cut the
 * marking short, whatever the count reads since. Otherwise the start never took only if nothing
 * at all was started after the status read before it: `activeJob` is still the job it named,
 * and `completed` has not moved. Another `activeJob` with an unmoved count may be a job started
 * after this one had faulted part-marked and been reset; a count that moved means a job ended
 * DONE since, perhaps this one. The count wraps at 65536, so only its equality means anything.
 *
 * A start the engraver has just refused, with both as noted, never took even when they read 0
 * (the first job after power-on): the refusal and the registers agree, moments after the start.
 */
function afterAnotherJob(f: Firearm, status: EngraverStatus, refusedNow: boolean): Reconciliation {
  const asNoted = status.activeJob === f.activeJobBefore && status.completed === f.completedBefore;
  if (status.activeJob === 0 && !(refusedNow && asNoted))
    return { row: 'power-lost', result: { kind: 'lost' } };
  if (asNoted) return { row: 'never-started', result: { kind: 'not-started' } };
  return {
    row: 'overtaken',
    result: {
      kind: 'overtaken',
      activeJob: status.activeJob,
      completed: status.completed,
      ...(f.completedBefore !== undefined ? { completedBefore: f.completedBefore } : {}),
      ...(f.activeJobBefore !== undefined ? { activeJobBefore: f.activeJobBefore } : {}),
    },
  };
}

/** The end the driver's wait reported. */
export function outcomeOf(outcome: JobOutcome): MarkingResult {
  return outcome.kind === 'done'
    ? { kind: 'done', completed: outcome.completed }
    : { kind: 'fault', fault: outcome.fault };
}

/** A job aborted for outliving the job timeout, from the status read after the abort. */
export function afterTimeout(f: Firearm, status: EngraverStatus): MarkingResult {
  return status.state === 'DONE' && status.activeJob === codeOf(f).jobId
    ? { kind: 'done', completed: status.completed }
    : { kind: 'fault', fault: status.fault || 3 };
}

function codeOf(f: Firearm): CodeRef {
  if (!f.code) throw refused(f, 'a step that needs the firearm’s code (it has none)');
  return f.code;
}

export function describeFailure(result: MarkingResult): string {
  switch (result.kind) {
    case 'fault':
      return `engraver fault ${result.fault} (${faultName(result.fault)})`;
    case 'lost':
      return 'engraver lost power during the job';
    case 'not-started':
      return 'the engraver never started the job';
    case 'overtaken':
      return describeOvertaken(result);
    case 'unknown':
      return 'the job outcome was cleared before the line could read it';
    case 'unprovable':
      return `${result.why}: the code is voided and the pin set aside for inspection`;
    case 'done':
      return 'done';
  }
}

/** What the engraver showed of the jobs after this one's start, and what had been noted before it. */
function describeOvertaken(r: Extract<MarkingResult, { kind: 'overtaken' }>): string {
  const started = `the engraver started job ${r.activeJob} after this one`;
  if (r.completedBefore === undefined)
    return `${started}, and no count of completed jobs was noted before this start: it may have been marked`;
  if (r.completed !== r.completedBefore)
    return `${started}, and its completed jobs went from ${r.completedBefore} to ${r.completed}: it may have been marked`;
  if (r.activeJobBefore === undefined)
    return `the engraver holds job ${r.activeJob}, its completed jobs stayed at ${r.completed}, and the job it held before this start was not noted: it may have been marked`;
  return `${started} (it held job ${r.activeJobBefore} before this start), and its completed jobs stayed at ${r.completed}: this one may have faulted part-marked and been reset before it`;
}
