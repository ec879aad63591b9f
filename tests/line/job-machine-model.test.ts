/**
 * A model test of the job machine: a line made of the pure machine (`step`, `reconcile`,
 * `applyChange`) and a model of the engraver's registers and of the pins it marks, driven by
 * fast-check through random engraver behaviours, random crashes between any two effects (and at
 * every crash point), power cuts and jobs of someone else's while the line is down. Whatever
 * happens, no code is started twice (so never on two pins), every pin the laser touched has its
 * record in the outbox (`engraved`, or `voided` for a pin set aside), a pin kept for a new code
 * was never touched, and every firearm ends engraved with its code on its own pin.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngraverStatus } from '../../src/engraver/types.js';
import {
  applyChange,
  type MarkingResult,
  type Observation,
  reconcile,
  type Step,
  step,
} from '../../src/line/job-machine.js';
import type { Firearm } from '../../src/line/model.js';

const AT = '2026-12-07T12:00:00.000Z';
const CRASH = Symbol('crash');

/** What the engraver does with a start the line sends. */
const BEHAVIOURS = [
  'done',
  'busy',
  'fault',
  'rejected',
  'nak',
  'start-lost',
  'power-cut',
  'fault-then-reset',
  'done-then-other-job',
] as const;
type Behaviour = (typeof BEHAVIOURS)[number];

interface Mark {
  jobId: number;
  pin: string;
  full: boolean;
}

/** The engraver's registers, and what its laser did to which pin. */
class ModelEngraver {
  state: EngraverStatus['state'] = 'READY';
  fault = 0;
  completed = 0;
  activeJob = 0;
  loaded = 0;
  private otherJobs = 9_000_000;
  readonly marks: Mark[] = [];
  readonly starts = new Map<number, number>();

  status(): EngraverStatus {
    return { state: this.state, fault: this.fault, completed: this.completed, activeJob: this.activeJob };
  }

  load(jobId: number): void {
    if (this.state !== 'READY' && this.state !== 'DONE') throw new Error(`load while ${this.state}`);
    this.loaded = jobId;
  }

  /** Answers whether the engraver refused the start. */
  start(jobId: number, pin: string, how: Behaviour): 'ok' | 'refused' {
    if (this.loaded !== jobId) throw new Error(`start of ${jobId}, but ${this.loaded} is loaded`);
    if (how === 'nak') return 'refused';
    if (how === 'start-lost') return 'ok';
    this.starts.set(jobId, (this.starts.get(jobId) ?? 0) + 1);
    this.activeJob = jobId;
    if (how === 'rejected') {
      this.state = 'FAULT';
      this.fault = 4;
      return 'refused';
    }
    const mark: Mark = { jobId, pin, full: false };
    this.marks.push(mark);
    this.state = 'BUSY';
    switch (how) {
      case 'done':
        this.end('done');
        break;
      case 'fault':
        this.end('fault');
        break;
      case 'power-cut':
        this.powerCycle();
        break;
      case 'fault-then-reset':
        this.end('fault');
        this.reset();
        break;
      case 'done-then-other-job':
        this.end('done');
        this.otherJob(true);
        break;
      default:
        break;
    }
    return 'ok';
  }

  /** The job marking now ends. */
  end(how: 'done' | 'fault' | 'power-cut'): void {
    if (this.state !== 'BUSY') return;
    if (how === 'power-cut') {
      this.powerCycle();
      return;
    }
    const mark = this.marks.findLast((m) => m.jobId === this.activeJob);
    if (how === 'done') {
      if (mark) mark.full = true;
      this.state = 'DONE';
      this.completed = (this.completed + 1) % 65536;
    } else {
      this.state = 'FAULT';
      this.fault = 2;
    }
  }

  /** Someone runs a test job of their own (`stampline engraver test-job`); it may still be marking. */
  otherJob(toTheEnd: boolean): void {
    if (this.state === 'BUSY' || this.state === 'FAULT') return;
    this.activeJob = ++this.otherJobs;
    this.state = 'BUSY';
    if (toTheEnd) this.end('done');
  }

  powerCycle(): void {
    Object.assign(this, { state: 'READY', fault: 0, completed: 0, activeJob: 0, loaded: 0 });
  }

  reset(): void {
    if (this.state === 'FAULT') Object.assign(this, { state: 'READY', fault: 0 });
  }
}

/** One run of the line over `firearms` firearms, its choices taken from `script`. */
function simulate(script: number[], firearms: number) {
  let at = 0;
  const pick = (n: number) => (at < script.length ? script[at++]! % n : 0);
  const maybeCrash = () => {
    if (pick(6) === 1) throw CRASH;
  };
  const eng = new ModelEngraver();
  const outbox = { engraved: new Set<number>(), voided: new Set<number>() };
  let nextJob = 100;
  let halted = false;
  const durable: Firearm[] = Array.from({ length: firearms }, (_, seq) => ({
    serial: `S-${seq}`,
    orderId: 'o1',
    seq,
    rework: false,
    state: 'queued',
    voided: [],
    history: [],
  }));
  let live = structuredClone(durable);
  /** The pin in the fixture for a firearm: a new one after each pin set aside. */
  const pinOf = (i: number) =>
    `${durable[i]!.serial}#${durable[i]!.voided.filter((v) => v.pinScrapped).length}`;

  /** The effects runner of the model: writes, records, halts; a crash may come between any two. */
  const carry = (i: number, f: Firearm, s: Step): Firearm => {
    const code = s.change.set?.code ?? f.code!;
    let current = f;
    for (const e of s.effects) {
      maybeCrash();
      if (e.kind === 'crash') maybeCrash();
      else if (e.kind === 'write') {
        const x = structuredClone(durable[i]!);
        applyChange(x, s.change);
        durable[i] = x;
        live[i] = current = structuredClone(x);
      } else if (e.kind === 'report') outbox[e.record].add(code.jobId);
      else if (e.kind === 'note-reported') current.reported = true;
      else if (e.kind === 'halt') halted = true;
    }
    return current;
  };
  const go = (i: number, f: Firearm, obs: Observation) => carry(i, f, step(f, obs, AT));

  const settle = (f: Firearm, justStarted: boolean): MarkingResult => {
    if (!justStarted) {
      const r = reconcile(f, eng.status(), 'unknown');
      if (r.result) return r.result;
      expect(r.row).toBe('wait-for-end');
    }
    maybeCrash();
    // The driver waits for the end of the job; one still marking ends as the script says.
    eng.end((['done', 'fault', 'power-cut'] as const)[pick(3)]!);
    const s = eng.status();
    if (s.activeJob === f.code!.jobId && s.state === 'DONE') return { kind: 'done', completed: s.completed };
    if (s.activeJob === f.code!.jobId && s.state === 'FAULT') return { kind: 'fault', fault: s.fault };
    // ENGRAVER_JOB_LOST: what became of it is read from the registers, as after a restart.
    const r = reconcile(f, s, 'unknown');
    expect(r.result).toBeDefined();
    return r.result!;
  };

  const advance = (i: number) => {
    let f = live[i]!;
    if (f.state === 'queued') {
      const jobId = nextJob++;
      const code = { index: jobId - 1, text: `C${jobId}`, gear: 'g', jobId, allocatedAt: AT };
      f = go(i, f, { kind: 'allocated', code, recipe: { power: 1, frequency: 1, speed: 1, passes: 1 } });
    }
    let justStarted = false;
    if (f.state === 'allocated' || f.state === 'loaded') {
      const before = eng.status();
      const r = reconcile(f, before, 'unknown');
      if (r.row === 'halt-on-fault') {
        halted = true;
        return;
      }
      if (r.row === 'wait-for-other-job') {
        eng.end('done');
        return;
      }
      eng.load(f.code!.jobId);
      f = go(i, f, { kind: 'loaded' });
      f = go(i, f, { kind: 'starting', before });
      const how = BEHAVIOURS[pick(BEHAVIOURS.length)]!;
      if (eng.start(f.code!.jobId, pinOf(i), how) === 'refused') {
        const refused = reconcile(f, eng.status(), 'refused');
        go(i, f, { kind: 'ended', result: refused.result!, refused: how });
        return;
      }
      justStarted = true;
    }
    if (f.state === 'marking') go(i, f, { kind: 'ended', result: settle(f, justStarted) });
  };

  const restart = () => {
    halted = false;
    live = structuredClone(durable);
    // While the line was down: a power cut, or someone's job, to its end or still marking.
    const meanwhile = pick(5);
    if (meanwhile === 1) eng.powerCycle();
    else if (meanwhile === 2) eng.otherJob(true);
    else if (meanwhile === 3) eng.otherJob(false);
    else if (meanwhile === 4) eng.end('done');
    // Records of `engraved` firearms that may not have reached the outbox are queued again.
    for (const f of live) if (f.state === 'engraved' && !f.reported) outbox.engraved.add(f.code!.jobId);
  };

  let rounds = 0;
  while (live.some((f) => f.state !== 'engraved')) {
    if (++rounds > 2_000) throw new Error('the line made no progress');
    try {
      if (halted) {
        // An operator resets the engraver.
        eng.reset();
        halted = false;
      }
      const inFlight = live.findIndex(
        (f) => f.state === 'allocated' || f.state === 'loaded' || f.state === 'marking',
      );
      advance(inFlight >= 0 ? inFlight : live.findIndex((f) => f.state === 'queued'));
    } catch (err) {
      if (err !== CRASH) throw err;
      restart();
    }
  }
  return { eng, outbox, durable, pinOf };
}

describe('the job machine, under random engraver behaviour and crashes', () => {
  it('never starts a code twice, leaves no touched pin without its record, and engraves every firearm', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 1_000 }), { minLength: 20, maxLength: 200, size: 'max' }),
        fc.integer({ min: 1, max: 4 }),
        (script, firearms) => {
          const { eng, outbox, durable, pinOf } = simulate(script, firearms);
          // A code is started at most once: it can be on one pin at most.
          for (const [jobId, n] of eng.starts) expect(n, `starts of job ${jobId}`).toBe(1);
          // A code is either on a kept pin (engraved) or void, never both.
          for (const jobId of outbox.engraved) expect(outbox.voided.has(jobId), `job ${jobId}`).toBe(false);
          // Every pin the laser touched has its record.
          for (const m of eng.marks) {
            const recorded = outbox.engraved.has(m.jobId) || outbox.voided.has(m.jobId);
            expect(recorded, `pin ${m.pin} marked with job ${m.jobId}`).toBe(true);
          }
          durable.forEach((f, i) => {
            expect(f.state).toBe('engraved');
            // Its code is fully marked on the pin it now has, and its record is queued.
            expect(eng.marks.filter((m) => m.jobId === f.code!.jobId)).toEqual([
              { jobId: f.code!.jobId, pin: pinOf(i), full: true },
            ]);
            expect(outbox.engraved.has(f.code!.jobId)).toBe(true);
            // A pin kept for a new code was never touched by the voided one.
            for (const v of f.voided.filter((x) => !x.pinScrapped))
              expect(eng.marks.filter((m) => m.jobId === v.jobId)).toEqual([]);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
