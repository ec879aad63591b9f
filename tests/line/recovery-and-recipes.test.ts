/**
 * What a restarted line makes of a job the engraver holds, or no longer holds, and which recipe
 * a firearm is marked with. The controller "dies" by losing its link to the simulated engraver;
 * what happened at the engraver meanwhile is played on the device itself before the restart.
 */
import { describe, expect, it } from 'vitest';
import type { EngraverDevice } from '../../simulators/engraver/device.js';
import { recipeFor } from '../../src/config/recipes.js';
import type { Config } from '../../src/config/schema.js';
import { StamplineError } from '../../src/errors.js';
import type { CrashPoint } from '../../src/line/crash-points.js';
import type { Firearm, FirearmState } from '../../src/line/model.js';
import { type Harness, order, until, useLines } from './harness.js';

const lines = useLines();

/** Ends the job the device is marking now, as if its marking time had run out. */
function endMarking(device: EngraverDevice): void {
  device.finishMarking();
}

/** Starts a job of someone else's on the device, as `stampline engraver test-job` does. */
function startTestJob(device: EngraverDevice, jobId: number): void {
  const refused = device.loadJob({
    jobId,
    text: 'TEST',
    gear: '',
    mirror: false,
    breechFace: false,
    recipe: { power: 100, frequency: 30, speed: 200, passes: 1 },
  });
  expect(refused).toBeUndefined();
  expect(device.go(jobId)).toBeUndefined();
}

/** Marks a job of someone else's on the device to its end. */
async function runTestJob(device: EngraverDevice, jobId: number): Promise<void> {
  startTestJob(device, jobId);
  await until(() => device.status().state === 'DONE', 'the test job done');
}

/** Makes every job after the next DONE mark until the test ends it (`endMarking`). */
function slowAfterFirstDone(device: EngraverDevice): void {
  const off = device.on((e) => {
    if (e.kind === 'done') {
      device.markingTimeMs = 600_000;
      off();
    }
  });
}

/** A line engraving order o1 (two firearms), its second job marking until the test ends it. */
async function secondJobMarking(): Promise<Harness> {
  const h = await lines.start();
  await h.line.submitOrder(order('o1', 2), 'http', 'erp');
  slowAfterFirstDone(h.device);
  await h.line.startOrder('o1', 'operator');
  await until(() => h.device.marks.length === 2, 'the second job marking');
  return h;
}

/** The crash point reached once a firearm is durably in each state, before the line goes on. */
const CRASH_POINT_AFTER: Partial<Record<FirearmState, CrashPoint>> = {
  allocated: 'after-allocation',
  loaded: 'after-load',
  marking: 'before-start',
};

/**
 * The controller dies as soon as firearm `seq` reaches `state` durably: its link goes dead, and
 * the step it was in stops at the crash point there (the line's crash hook throws, which ends the
 * step as a crash would; the link error is one the line retries, never settles).
 */
function dieAt(h: Harness, seq: number, state: FirearmState): Promise<Firearm> {
  const at = CRASH_POINT_AFTER[state];
  if (!at) throw new Error(`no crash point follows the state ${state}`);
  return new Promise((resolve) => {
    h.onCrashPoint((point, firearm) => {
      if (point !== at || firearm.seq !== seq) return;
      h.onCrashPoint(undefined);
      h.engraver.down('controller died');
      resolve(structuredClone(firearm));
      throw new StamplineError('ENGRAVER_LINK_DOWN', 'controller died');
    });
  });
}

async function orderDone(h: Harness, id: string): Promise<void> {
  await until(async () => (await h.line.orderView(id)).order.state === 'engraved', `order ${id} done`);
}

const states = (f: Firearm) => f.history.map((e) => e.state);

/**
 * A line whose controller died once the second firearm of order o1 (two firearms) was durably
 * `marking`, before it sent the start; answers the line and that firearm as it died.
 */
async function diedWhileMarking(): Promise<{ h: Harness; marking: Firearm }> {
  const h = await lines.start();
  const died = dieAt(h, 1, 'marking');
  await h.line.submitOrder(order('o1', 2), 'http', 'erp');
  await h.line.startOrder('o1', 'operator');
  return { h, marking: await died };
}

/** Restarts the line and waits for o1 to be done; answers the restarted line and o1's two firearms. */
async function restartUntilDone(h: Harness): Promise<{ h: Harness; first: Firearm; second: Firearm }> {
  const restarted = await lines.restart(h);
  await orderDone(restarted, 'o1');
  const [first, second] = (await restarted.line.orderView('o1')).firearms as [Firearm, Firearm];
  return { h: restarted, first, second };
}

/**
 * As `diedWhileMarking`, from a store written before the line noted `field`: the dying firearm's
 * record is left without it. Answers what `restartUntilDone` does, and the code it was marking.
 */
async function restartedUnnoted(
  field: 'activeJobBefore' | 'completedBefore',
): Promise<{ h: Harness; first: Firearm; second: Firearm; code: string }> {
  const { h, marking } = await diedWhileMarking();
  await h.repo.updateStoredFirearm({ orderId: 'o1', seq: 1 }, (x) => {
    delete x[field];
  });
  return { ...(await restartUntilDone(h)), code: marking.code!.text };
}

describe('the loaded state', () => {
  it('is written, and announced, between allocated and marking for every firearm', async () => {
    const h = await lines.start();
    const announced: Array<[string, FirearmState]> = [];
    h.line.on('firearm', ({ firearm }) => announced.push([firearm.serial, firearm.state]));
    await h.line.submitOrder(order('o1', 2), 'http', 'erp');
    await h.line.startOrder('o1', 'operator');
    await orderDone(h, 'o1');

    for (const f of (await h.line.orderView('o1')).firearms) {
      expect(states(f)).toEqual(['queued', 'allocated', 'loaded', 'marking', 'engraved']);
      expect(announced.filter(([serial]) => serial === f.serial).map(([, s]) => s)).toEqual([
        'allocated',
        'loaded',
        'marking',
        'engraved',
      ]);
    }
  });

  it('after a restart, loads the job again when a power cut cleared it, and engraves the firearm with its code', async () => {
    let h = await lines.start();
    const died = dieAt(h, 1, 'loaded');
    await h.line.submitOrder(order('o1', 3), 'http', 'erp');
    await h.line.startOrder('o1', 'operator');
    const loaded = await died;
    h.device.powerCycle();
    h = await lines.restart(h);
    await orderDone(h, 'o1');

    const f = (await h.line.orderView('o1')).firearms[1]!;
    expect(f.state).toBe('engraved');
    expect(f.voided).toEqual([]);
    expect(f.code).toEqual(loaded.code);
    expect(states(f)).toEqual(['queued', 'allocated', 'loaded', 'loaded', 'marking', 'engraved']);
    const marks = h.device.marks;
    expect(marks.map((m) => m.outcome)).toEqual(['done', 'done', 'done']);
    expect(marks.filter((m) => m.text === loaded.code!.text)).toHaveLength(1);
  });
});

describe('a marking firearm whose job is not the engraver’s last', () => {
  it('keeps the pin when the start never took, and engraves the firearm with a new code', async () => {
    // `marking` is durable, then the controller dies before it sends the start.
    const { h: died, marking } = await diedWhileMarking();
    const { h, first, second: f } = await restartUntilDone(died);

    // As read before the load: the first firearm's job, ended DONE, the one job completed.
    expect(marking).toMatchObject({ completedBefore: 1, activeJobBefore: first.code!.jobId });
    expect(f.state).toBe('engraved');
    expect(f.voided).toEqual([
      expect.objectContaining({
        text: marking.code!.text,
        pinScrapped: false,
        reason: 'the engraver never started the job',
      }),
    ]);
    expect(f.code!.text).not.toBe(marking.code!.text);
    // Nothing of the voided code was marked, so the registry is not told of it.
    expect(h.device.marks.map((m) => m.text)).not.toContain(marking.code!.text);
    expect(h.records.filter((r) => r.event === 'voided')).toEqual([]);
  });

  it('scraps the pin when the job ran and another job was marked after it while the line was down', async () => {
    let h = await secondJobMarking();
    const marking = (await h.line.orderView('o1')).firearms[1]!;
    expect(marking).toMatchObject({ state: 'marking', completedBefore: 1 });
    h.engraver.down('controller died');
    const { device } = h;
    endMarking(device);
    device.markingTimeMs = 0;
    await runTestJob(device, 4_000_000);
    expect(device.status()).toMatchObject({ activeJob: 4_000_000, completed: 3 });

    h = await lines.restart(h);
    await orderDone(h, 'o1');
    const f = (await h.line.orderView('o1')).firearms[1]!;
    const code = marking.code!.text;
    const reason =
      'the engraver started job 4000000 after this one, and its completed jobs went from 1 to 3: it may have been marked';
    expect(f.state).toBe('engraved');
    expect(f.voided).toEqual([expect.objectContaining({ text: code, pinScrapped: true, reason })]);
    expect(f.code!.text).not.toBe(code);
    expect(h.records.filter((r) => r.event === 'voided')).toEqual([
      expect.objectContaining({ code, reason }),
    ]);
    expect(h.audit).toContainEqual(
      expect.objectContaining({ action: 'code.void', subject: `firearm:${f.serial}`, reason }),
    );
    // The voided code is never marked again; the firearm's new code is marked once.
    expect(device.marks.filter((m) => m.text === code)).toHaveLength(1);
    expect(device.marks.filter((m) => m.text === f.code!.text)).toHaveLength(1);
  });

  it('scraps the pin when the job faulted part-marked, and after a reset another job is still marking with the count unmoved', async () => {
    let h = await secondJobMarking();
    const [first, marking] = (await h.line.orderView('o1')).firearms as [Firearm, Firearm];
    expect(marking).toMatchObject({
      state: 'marking',
      completedBefore: 1,
      activeJobBefore: first.code!.jobId,
    });
    h.engraver.down('controller died');
    const { device } = h;
    // While the line is down the job faults part-marked; someone resets the engraver and starts
    // a job of their own, which has not ended: the count reads as it did before the line's start.
    device.abort();
    expect(device.status()).toMatchObject({ state: 'FAULT', fault: 3 });
    device.reset();
    startTestJob(device, 4_000_002);
    expect(device.status()).toEqual({ state: 'BUSY', fault: 0, completed: 1, activeJob: 4_000_002 });

    h = await lines.restart(h);
    const code = marking.code!.text;
    const reason = `the engraver started job 4000002 after this one (it held job ${first.code!.jobId} before this start), and its completed jobs stayed at 1: this one may have faulted part-marked and been reset before it`;
    await until(
      async () => (await h.line.orderView('o1')).firearms[1]!.voided.length === 1,
      'the code voided',
    );
    expect((await h.line.orderView('o1')).firearms[1]!.voided).toEqual([
      expect.objectContaining({ text: code, pinScrapped: true, reason }),
    ]);
    expect(h.records.filter((r) => r.event === 'voided')).toEqual([
      expect.objectContaining({ code, reason }),
    ]);

    // Once the other job ends, the firearm gets a new pin and a new code.
    device.markingTimeMs = 0;
    endMarking(device);
    await orderDone(h, 'o1');
    const f = (await h.line.orderView('o1')).firearms[1]!;
    expect(f.state).toBe('engraved');
    expect(f.code!.text).not.toBe(code);
    expect(device.marks.filter((m) => m.text === code).map((m) => m.outcome)).toEqual(['fault']);
    expect(device.marks.filter((m) => m.text === f.code!.text)).toHaveLength(1);
  });

  it('scraps the pin after a power cycle, even when the registers then read as they did before the start', async () => {
    let h = await lines.start({ markingTimeMs: 600_000 });
    await h.line.submitOrder(order('o1', 1), 'http', 'erp');
    await h.line.startOrder('o1', 'operator');
    await until(() => h.device.marks.length === 1, 'the job marking');
    const marking = (await h.line.orderView('o1')).firearms[0]!;
    // The first job after power-on: nothing started, nothing completed.
    expect(marking).toMatchObject({ state: 'marking', completedBefore: 0, activeJobBefore: 0 });
    h.engraver.down('controller died');
    const { device } = h;
    device.powerCycle();
    expect(device.status()).toEqual({ state: 'READY', fault: 0, completed: 0, activeJob: 0 });
    device.markingTimeMs = 0;

    h = await lines.restart(h);
    await orderDone(h, 'o1');
    const f = (await h.line.orderView('o1')).firearms[0]!;
    const code = marking.code!.text;
    const reason = 'engraver lost power during the job';
    expect(f.voided).toEqual([expect.objectContaining({ text: code, pinScrapped: true, reason })]);
    expect(h.records.filter((r) => r.event === 'voided')).toEqual([
      expect.objectContaining({ code, reason }),
    ]);
    expect(device.marks.filter((m) => m.text === code).map((m) => m.outcome)).toEqual(['power-lost']);
  });

  it('scraps the pin when a store written before the engraver’s job was kept cannot tell, though the count has not moved', async () => {
    // As a line that noted only the count left it.
    const { h, first, second: f, code } = await restartedUnnoted('activeJobBefore');
    const reason = `the engraver holds job ${first.code!.jobId}, its completed jobs stayed at 1, and the job it held before this start was not noted: it may have been marked`;
    expect(f.voided).toEqual([expect.objectContaining({ text: code, pinScrapped: true, reason })]);
    expect(h.records.filter((r) => r.event === 'voided').map((r) => r.code)).toEqual([code]);
  });

  it('scraps the pin when a store written before the count was kept cannot tell', async () => {
    // As an older line left it: `marking`, without the count.
    const { h, first, second: f, code } = await restartedUnnoted('completedBefore');
    const reason = `the engraver started job ${first.code!.jobId} after this one, and no count of completed jobs was noted before this start: it may have been marked`;
    expect(f.voided).toEqual([expect.objectContaining({ text: code, pinScrapped: true, reason })]);
    expect(h.records.filter((r) => r.event === 'voided').map((r) => r.code)).toEqual([code]);
  });

  it('takes a count that reads lower than the one noted as moved on: it wraps at 65536', async () => {
    const { h: died, marking } = await diedWhileMarking();
    // Noted as 65535, the count reads 2 after another job's DONE: lower, yet moved on, past the wrap.
    await died.repo.updateStoredFirearm({ orderId: 'o1', seq: 1 }, (x) => {
      x.completedBefore = 65_535;
    });
    await runTestJob(died.device, 4_000_001);
    expect(died.device.status().completed).toBe(2);
    const { second: f } = await restartUntilDone(died);

    expect(f.voided).toEqual([
      expect.objectContaining({
        text: marking.code!.text,
        pinScrapped: true,
        reason:
          'the engraver started job 4000001 after this one, and its completed jobs went from 65535 to 2: it may have been marked',
      }),
    ]);
  });
});

/** The recipes section of a configuration, read by the configuration's own matcher. */
const recipes: Config['recipes'] = {
  default: { power: 700, frequency: 40, speed: 150, passes: 2 },
  models: [
    { make: 'Acme Arms', model: 'P19', recipe: { power: 900, passes: 4 } },
    { make: 'Acme Arms', recipe: { speed: 120 } },
  ],
};

describe('recipes per make and model', () => {
  it('marks each model with its own recipe, and stores and reports the recipe it marked with', async () => {
    const h = await lines.start({ recipeFor: (make, model) => recipeFor(recipes, make, model) });
    await h.line.submitOrder(order('p19', 2, { make: 'Acme Arms', model: 'P19' }), 'http', 'erp');
    await h.line.submitOrder(order('p10', 2, { make: 'ACME arms', model: 'P10' }), 'http', 'erp');
    await h.line.submitOrder(order('g1', 1, { make: 'Gamma', model: 'G1' }), 'http', 'erp');
    const expected = {
      p19: { power: 900, frequency: 40, speed: 150, passes: 4 },
      p10: { power: 700, frequency: 40, speed: 120, passes: 2 },
      g1: { power: 700, frequency: 40, speed: 150, passes: 2 },
    };
    for (const id of Object.keys(expected)) await h.line.startOrder(id, 'operator');
    for (const id of Object.keys(expected))
      await until(async () => (await h.line.orderView(id)).order.state === 'engraved', `order ${id} done`);

    for (const [id, recipe] of Object.entries(expected)) {
      for (const f of (await h.line.orderView(id)).firearms) {
        const code = f.code!.text;
        expect(f.recipe).toEqual(recipe);
        expect(h.device.marks.filter((m) => m.text === code).map((m) => m.recipe)).toEqual([recipe]);
        const engraved = h.records.filter((r) => r.event === 'engraved' && r.code === code);
        expect(engraved.map((r) => r.event === 'engraved' && r.engraver.recipe)).toEqual([recipe]);
      }
    }
  });
});
