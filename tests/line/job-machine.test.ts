/**
 * The recovery table of docs/architecture.md, row by row, against the pure job machine: the
 * engraver's registers (or a command marker's readings, through its pure job tracker) select a
 * row, and the machine's step from that row voids or keeps the code, scraps or keeps the pin,
 * queues the records and halts the line as the table says. No simulator, no sleeps.
 */
import { describe, expect, it } from 'vitest';
import { loadCommandProfile } from '../../src/engraver/commands/profile.js';
import { JobTracker, type MarkerReading } from '../../src/engraver/commands/tracker.js';
import type { EngraverStatus } from '../../src/engraver/types.js';
import { isStamplineError } from '../../src/errors.js';
import {
  applyChange,
  type Effect,
  JOB_MOVES,
  type Observation,
  type RecoveryRow,
  reconcile,
  type StartKnown,
  step,
} from '../../src/line/job-machine.js';
import type { CodeRef, Firearm, FirearmState } from '../../src/line/model.js';

const AT = '2026-12-07T12:00:00.000Z';
const CODE: CodeRef = { index: 41, text: 'K7Q2-M9XW', gear: 'g', jobId: 42, allocatedAt: AT };
/** The job the engraver held, and its count, when the line read it just before the load. */
const BEFORE = { activeJob: 41, completed: 7 };

function firearm(state: FirearmState, extra: Partial<Firearm> = {}): Firearm {
  return {
    serial: 'A-0001',
    orderId: 'o1',
    seq: 0,
    rework: false,
    state,
    voided: [],
    history: [],
    ...(state === 'queued' || state === 'cancelled' ? {} : { code: CODE }),
    ...(state === 'marking' ? { completedBefore: BEFORE.completed, activeJobBefore: BEFORE.activeJob } : {}),
    recipe: { power: 500, frequency: 30, speed: 200, passes: 2 },
    ...extra,
  };
}

const status = (s: Partial<EngraverStatus> & Pick<EngraverStatus, 'state'>): EngraverStatus => ({
  fault: 0,
  completed: BEFORE.completed + 1,
  activeJob: CODE.jobId,
  ...s,
});

const kv = loadCommandProfile('kv-marker');
/** A command marker's status after a restart: the driver recalls our job and its count before. */
function markerSays(reading: Partial<MarkerReading>): EngraverStatus {
  const tracker = new JobTracker(kv);
  tracker.recall(CODE.jobId, BEFORE.completed);
  return tracker.observe({ ready: false, marking: false, error: 0, count: BEFORE.completed, ...reading });
}

/** What the table says the line does after a `marking` row that settles the job. */
interface Settles {
  to: FirearmState;
  /** undefined: the code is kept (engraved) */
  pinScrapped?: boolean;
  halts: boolean;
  reason?: RegExp;
}

type Row = [string, Firearm, EngraverStatus, StartKnown, RecoveryRow, Settles | undefined];

const scrapped = (reason: RegExp, halts = false): Settles => ({
  to: 'queued',
  pinScrapped: true,
  halts,
  reason,
});
const kept = (reason: RegExp, halts = false): Settles => ({
  to: 'queued',
  pinScrapped: false,
  halts,
  reason,
});
const engraved: Settles = { to: 'engraved', halts: false };

const rows: Row[] = [
  ['allocated, READY', firearm('allocated'), status({ state: 'READY' }), 'unknown', 'load-again', undefined],
  [
    'loaded, DONE',
    firearm('loaded'),
    status({ state: 'DONE', activeJob: 9 }),
    'unknown',
    'load-again',
    undefined,
  ],
  [
    'allocated, BUSY with another job',
    firearm('allocated'),
    status({ state: 'BUSY', activeJob: 9 }),
    'unknown',
    'wait-for-other-job',
    undefined,
  ],
  [
    'loaded, BUSY with another job',
    firearm('loaded'),
    status({ state: 'BUSY', activeJob: 9 }),
    'unknown',
    'wait-for-other-job',
    undefined,
  ],
  [
    'loaded, FAULT',
    firearm('loaded'),
    status({ state: 'FAULT', fault: 2 }),
    'unknown',
    'halt-on-fault',
    undefined,
  ],
  ['marking, ours BUSY', firearm('marking'), status({ state: 'BUSY' }), 'unknown', 'wait-for-end', undefined],
  ['marking, ours DONE', firearm('marking'), status({ state: 'DONE' }), 'unknown', 'engraved', engraved],
  [
    'marking, ours FAULT 4',
    firearm('marking'),
    status({ state: 'FAULT', fault: 4 }),
    'unknown',
    'rejected',
    kept(/^engraver fault 4 /, true),
  ],
  [
    'marking, ours FAULT 2',
    firearm('marking'),
    status({ state: 'FAULT', fault: 2 }),
    'unknown',
    'faulted',
    scrapped(/^engraver fault 2 /, true),
  ],
  [
    'marking, ours READY',
    firearm('marking'),
    status({ state: 'READY' }),
    'unknown',
    'outcome-cleared',
    scrapped(/cleared before the line could read it/),
  ],
  [
    'marking, activeJob 0',
    firearm('marking'),
    status({ state: 'READY', activeJob: 0, completed: 0 }),
    'unknown',
    'power-lost',
    scrapped(/lost power/),
  ],
  [
    'marking, activeJob 0 as noted, after a restart',
    firearm('marking', { activeJobBefore: 0, completedBefore: 0 }),
    status({ state: 'READY', activeJob: 0, completed: 0 }),
    'unknown',
    'power-lost',
    scrapped(/lost power/),
  ],
  [
    'marking, activeJob 0 as noted, start just refused',
    firearm('marking', { activeJobBefore: 0, completedBefore: 0 }),
    status({ state: 'READY', activeJob: 0, completed: 0 }),
    'refused',
    'never-started',
    kept(/never started/, true),
  ],
  [
    'marking, activeJob and completed as noted',
    firearm('marking'),
    status({ state: 'DONE', ...BEFORE }),
    'unknown',
    'never-started',
    kept(/never started/),
  ],
  [
    'marking, another job, count moved',
    firearm('marking'),
    status({ state: 'DONE', activeJob: 4_000_000, completed: 9 }),
    'unknown',
    'overtaken',
    scrapped(/started job 4000000 after this one, and its completed jobs went from 7 to 9/),
  ],
  [
    'marking, another job, count unmoved',
    firearm('marking'),
    status({ state: 'BUSY', activeJob: 4_000_000, completed: 7 }),
    'unknown',
    'overtaken',
    scrapped(/may have faulted part-marked and been reset/),
  ],
  [
    'marking, another job, no count noted',
    firearm('marking', { completedBefore: undefined }),
    status({ state: 'DONE', activeJob: 4_000_000 }),
    'unknown',
    'overtaken',
    scrapped(/no count of completed jobs was noted/),
  ],
  [
    'command marker, marking (BUSY)',
    firearm('marking'),
    markerSays({ marking: true }),
    'unknown',
    'wait-for-end',
    undefined,
  ],
  [
    'command marker, ready, count one more',
    firearm('marking'),
    markerSays({ ready: true, count: BEFORE.completed + 1 }),
    'unknown',
    'engraved',
    engraved,
  ],
  [
    'command marker, in error',
    firearm('marking'),
    markerSays({ error: 7 }),
    'unknown',
    'faulted',
    scrapped(/^engraver fault /, true),
  ],
  [
    'command marker, ready, count unmoved',
    firearm('marking'),
    markerSays({ ready: true }),
    'unknown',
    'unprovable',
    scrapped(/still 7, as before job 42 started.*set aside/),
  ],
  [
    'command marker, count went back',
    firearm('marking'),
    markerSays({ ready: true, count: 2 }),
    'unknown',
    'unprovable',
    scrapped(/went from 7 to 2.*set aside/),
  ],
  [
    'command marker, count moved by more than one',
    firearm('marking'),
    markerSays({ ready: true, count: 10 }),
    'unknown',
    'unprovable',
    scrapped(/went from 7 to 10.*set aside/),
  ],
];

const kinds = (effects: Effect[]) => effects.map((e) => e.kind);

describe('the recovery table, against the pure machine', () => {
  it.each(rows)('%s', (_name, f, engraver, start, row, settles) => {
    const r = reconcile(f, engraver, start);
    expect(r.row).toBe(row);
    if (row === 'halt-on-fault') expect(r.fault).toBe(engraver.fault);
    if (!settles) {
      expect(r.result).toBeUndefined();
      return;
    }
    expect(r.result).toBeDefined();
    const s = step(
      f,
      { kind: 'ended', result: r.result!, ...(start === 'refused' ? { refused: 'NAK NOJOB' } : {}) },
      AT,
    );
    expect(s.state).toBe(settles.to);
    const stored = structuredClone(f);
    applyChange(stored, s.change);
    expect(stored.state).toBe(settles.to);
    expect(stored.history.at(-1)?.state).toBe(settles.to);

    if (settles.pinScrapped === undefined) {
      // DONE: engraved with its code; the record is queued after the write, and the crash point
      // before the write comes first.
      expect(stored).toMatchObject({ code: CODE, engravedAt: AT, voided: [] });
      expect(kinds(s.effects).slice(0, 3)).toEqual(['crash', 'write', 'report']);
      expect(s.effects).toContainEqual({ kind: 'report', record: 'engraved' });
      return;
    }
    // Any failure: the code is voided once, with why, and every field of it is cleared.
    expect(stored.voided).toEqual([
      expect.objectContaining({
        text: CODE.text,
        pinScrapped: settles.pinScrapped,
        reason: expect.stringMatching(settles.reason!),
      }),
    ]);
    for (const field of [
      'code',
      'completedBefore',
      'activeJobBefore',
      'reported',
      'engravedAt',
      'qa',
    ] as const)
      expect(stored[field]).toBeUndefined();
    // A scrapped pin may carry the code: the registry is told it is void, durably before the
    // void is written (a crash in between leaves the firearm `marking`, settled again). A kept
    // pin is not reported.
    expect(kinds(s.effects).slice(0, 2)).toEqual(
      settles.pinScrapped ? ['report', 'write'] : ['write', 'audit-void'],
    );
    expect(s.effects.some((e) => e.kind === 'report' && e.record === 'voided')).toBe(settles.pinScrapped);
    expect(s.effects.some((e) => e.kind === 'halt')).toBe(settles.halts);
    expect(s.effects).toContainEqual({
      kind: 'audit-void',
      reason: stored.voided[0]!.reason,
      pinScrapped: settles.pinScrapped,
    });
  });

  it('cancels the firearm instead of queueing it when its order was aborted while it marked', () => {
    const s = step(firearm('marking'), { kind: 'ended', result: { kind: 'lost' }, orderAborted: true }, AT);
    expect(s.state).toBe('cancelled');
    expect(s.change.voided).toMatchObject({ text: CODE.text, pinScrapped: true });
  });

  it('reconciles only a firearm that holds a code in flight', () => {
    for (const state of ['queued', 'engraved', 'cancelled'] as const) {
      expect(() => reconcile(firearm(state), status({ state: 'READY' }), 'unknown')).toThrow(
        /does not allow "reconcile"/,
      );
    }
  });
});

describe('the job machine', () => {
  const observations: Observation[] = [
    { kind: 'allocated', code: CODE, recipe: { power: 1, frequency: 1, speed: 1, passes: 1 } },
    { kind: 'loaded' },
    { kind: 'starting', before: BEFORE },
    { kind: 'ended', result: { kind: 'done' } },
    { kind: 'cancelled' },
    {
      kind: 'qa-passed',
      qa: { result: 'pass', policy: 'every-case', grade: 'A', casings: 3, at: AT, by: 'qa' },
      note: 'passed',
    },
    {
      kind: 'qa-failed',
      qa: { result: 'fail', policy: 'every-case', grade: 'F', casings: 3, at: AT, by: 'qa' },
      reason: 'unreadable',
    },
  ];
  const states: FirearmState[] = ['queued', 'allocated', 'loaded', 'marking', 'engraved', 'cancelled'];

  it.each(states)('from %s, takes the moves of its table and refuses every other, naming both', (state) => {
    for (const obs of observations) {
      const f = firearm(state);
      if (JOB_MOVES[state].includes(obs.kind)) {
        expect(() => step(f, obs, AT)).not.toThrow();
      } else {
        let error: unknown;
        try {
          step(f, obs, AT);
        } catch (err) {
          error = err;
        }
        expect(isStamplineError(error, 'INTERNAL')).toBe(true);
        expect((error as Error).message).toBe(
          `firearm A-0001 is ${state}: the job machine does not allow "${obs.kind}" from there`,
        );
      }
    }
  });

  it('never starts a code twice: `marking` is entered only from `loaded`, and leaves only by its end', () => {
    const into = states.filter((s) => JOB_MOVES[s].includes('starting'));
    expect(into).toEqual(['loaded']);
    expect(JOB_MOVES.marking).toEqual(['ended']);
  });

  it('refuses to write a change over a stored firearm that has moved on since', () => {
    const s = step(firearm('loaded'), { kind: 'starting', before: BEFORE }, AT);
    const moved = firearm('cancelled');
    expect(() => applyChange(moved, s.change)).toThrow(
      /is cancelled: the job machine does not allow "loaded → marking"/,
    );
    expect(moved.state).toBe('cancelled');
    expect(moved.history).toEqual([]);
  });

  it('writes `marking` with the status read before the load, and reaches the crash point before the start', () => {
    const s = step(firearm('loaded'), { kind: 'starting', before: BEFORE }, AT);
    expect(s.change).toMatchObject({ to: 'marking', set: { completedBefore: 7, activeJobBefore: 41 } });
    expect(s.effects).toEqual([
      { kind: 'write' },
      { kind: 'emit' },
      { kind: 'crash', point: 'before-start' },
    ]);
  });

  it('voids a code by one transition, whichever step voids it: abort, failure or QA', () => {
    const qaFailed = step(firearm('engraved', { engravedAt: AT, reported: true }), observations[6]!, AT);
    const aborted = step(firearm('loaded'), { kind: 'cancelled', reason: 'wrong model' }, AT);
    const failed = step(firearm('marking'), { kind: 'ended', result: { kind: 'fault', fault: 2 } }, AT);
    for (const [s, to, pinScrapped] of [
      [qaFailed, 'queued', true],
      [aborted, 'cancelled', false],
      [failed, 'queued', true],
    ] as const) {
      const f = firearm(s.change.from, { engravedAt: AT, reported: true });
      applyChange(f, s.change);
      expect(f.state).toBe(to);
      expect(f.voided).toEqual([expect.objectContaining({ index: CODE.index, pinScrapped })]);
      expect('code' in f).toBe(false);
      for (const field of ['completedBefore', 'activeJobBefore', 'reported', 'engravedAt', 'qa'] as const)
        expect(f[field]).toBeUndefined();
    }
    expect(aborted.change.note).toBe('order aborted: wrong model');
  });
});
