/**
 * What the line does when the engraver refuses a job, over each real transport to the simulated
 * engraver: a rejected start (fault 4 over Modbus, the same fault or a NAK over ASCII) voids the
 * code, keeps the pin, and halts the line until an operator resets the engraver; a load refused
 * because the engraver is busy is waited out and voids nothing. The refusals are played on the
 * device itself, at the moment the line's job reaches it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type EngraverDevice,
  type LoadedJob,
  ModbusDeviceBusy,
  REG,
} from '../../simulators/engraver/device.js';
import type { Engraver } from '../../src/engraver/types.js';
import type { EngraverTransport } from '../../src/engraver/url.js';
import type { Firearm, OrderState } from '../../src/line/model.js';
import { openRig, type Rig, TRANSPORTS } from '../engraver/support/rigs.js';
import { requireCommands } from '../support/tools.js';
import { type Harness, makeDir, order, removeDir, startLineWith, until } from './harness.js';

/**
 * Runs `before` when the line's next job reaches the device (a register write over Modbus, a
 * `$JOB` over ASCII), and `after` once the device has taken it. Only the first job is touched;
 * the answer tells whether the device refused it as busy.
 */
function onNextLoad(
  device: EngraverDevice,
  hooks: { before?: () => void; after?: () => void },
): { refusedBusy?: boolean } {
  const writeHolding = device.writeHolding.bind(device);
  const loadJob = device.loadJob.bind(device);
  const seen: { refusedBusy?: boolean } = {};
  let armed = true;
  const around = <T>(load: () => T): T => {
    if (!armed) return load();
    armed = false;
    hooks.before?.();
    let result: T;
    try {
      result = load();
    } catch (err) {
      seen.refusedBusy = err instanceof ModbusDeviceBusy;
      throw err;
    }
    seen.refusedBusy = result === 'BUSY';
    hooks.after?.();
    return result;
  };
  device.writeHolding = (address: number, values: readonly number[]) =>
    around(() => writeHolding(address, values));
  device.loadJob = (job: LoadedJob) => around(() => loadJob(job));
  return seen;
}

/** A job of someone else's, marking for `ms` on the device, as `stampline engraver test-job` starts it. */
function startTestJob(device: EngraverDevice, jobId: number, ms: number): void {
  const markingTimeMs = device.markingTimeMs;
  device.markingTimeMs = ms;
  const job = { text: 'TEST', gear: '', mirror: false, breechFace: false };
  const recipe = { power: 100, frequency: 30, speed: 200, passes: 1 };
  expect(device.loadJob({ jobId, ...job, recipe })).toBeUndefined();
  expect(device.go(jobId)).toBeUndefined();
  device.markingTimeMs = markingTimeMs;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** A line on a driver over `transport` to a simulated engraver; `orderStates` as announced. */
async function start(
  transport: EngraverTransport,
): Promise<{ rig: Rig; h: Harness<Engraver>; orderStates: OrderState[] }> {
  const rig = await openRig(transport, { markingTimeMs: 0 });
  cleanups.push(() => rig.close());
  const dir = await makeDir();
  cleanups.push(() => removeDir(dir));
  const h = await startLineWith(rig.engraver, dir, rig.device);
  cleanups.push(() => h.stop());
  const orderStates: OrderState[] = [];
  h.line.on('order', ({ order }) => orderStates.push(order.state));
  return { rig, h, orderStates };
}

/** Waits until the order is announced in `state` (a finished order is announced last). */
function reaches(orderStates: OrderState[], state: OrderState): Promise<void> {
  return until(() => orderStates.at(-1) === state, `the order ${state}`);
}

async function firearm(h: Harness<Engraver>, seq: number): Promise<Firearm> {
  return (await h.line.orderView('o1')).firearms[seq]!;
}

describe.each(TRANSPORTS)('the line over %s', (transport) => {
  const runnable = transport === 'modbus-tcp' || requireCommands('socat');

  it.runIf(runnable)(
    'a job the engraver rejects (fault 4) voids its code and keeps the pin; the line halts until an operator resets the engraver, then the pin gets a new code',
    async () => {
      const { rig, h, orderStates } = await start(transport);
      const { device } = rig;
      // The registers the line wrote are spoiled before its start (a text longer than 16): the
      // engraver rejects the job with fault 4 and marks nothing.
      onNextLoad(device, { after: () => device.writeHolding(REG.textLength, [17]) });
      await h.line.submitOrder(order('o1', 2), 'http', 'erp');
      await h.line.startOrder('o1', 'operator');
      await reaches(orderStates, 'faulted');

      const rejected = await firearm(h, 0);
      const code = rejected.voided[0]?.text;
      expect(rejected.state).toBe('queued');
      expect(rejected.voided).toEqual([
        expect.objectContaining({ fault: 4, pinScrapped: false, reason: 'engraver fault 4 (job rejected)' }),
      ]);
      expect(device.status()).toMatchObject({ state: 'FAULT', fault: 4 });
      expect(h.line.status().halted).toMatchObject({ fault: 4 });
      // Nothing was marked, so the registry hears nothing of the code.
      expect(device.marks).toEqual([]);
      expect(h.records.filter((r) => r.event === 'voided')).toEqual([]);
      expect((await firearm(h, 1)).state).toBe('queued');

      await h.line.resetEngraver('operator');
      await reaches(orderStates, 'engraved');
      const f = await firearm(h, 0);
      expect(f.state).toBe('engraved');
      expect(f.code!.text).not.toBe(code);
      expect(f.voided.map((v) => v.text)).toEqual([code]);
      expect(device.marks.map((m) => m.text)).toEqual([f.code!.text, (await firearm(h, 1)).code!.text]);
      expect(orderStates).toEqual(['queued', 'running', 'faulted', 'running', 'engraved']);
      expect(h.audit.map((e) => e.action)).toEqual(
        expect.arrayContaining(['code.void', 'order.fault', 'engraver.reset', 'order.resume']),
      );
    },
    60_000,
  );

  it.runIf(runnable)(
    'a load refused because the engraver is busy with someone else’s job is waited out, and voids nothing',
    async () => {
      const { rig, h, orderStates } = await start(transport);
      const { device } = rig;
      const load = onNextLoad(device, { before: () => startTestJob(device, 4_000_000, 500) });
      await h.line.submitOrder(order('o1', 2), 'http', 'erp');
      await h.line.startOrder('o1', 'operator');
      await reaches(orderStates, 'engraved');

      expect(load.refusedBusy).toBe(true);
      const firearms = (await h.line.orderView('o1')).firearms;
      for (const f of firearms) {
        expect(f.voided).toEqual([]);
        expect(f.history.map((e) => e.state)).toEqual([
          'queued',
          'allocated',
          'loaded',
          'marking',
          'engraved',
        ]);
      }
      // The other job ended before the line's first job was loaded again and marked, once.
      expect(device.marks.map((m) => [m.text, m.outcome])).toEqual([
        ['TEST', 'done'],
        [firearms[0]!.code!.text, 'done'],
        [firearms[1]!.code!.text, 'done'],
      ]);
      expect(orderStates).toEqual(['queued', 'running', 'engraved']);
      expect(h.audit.map((e) => e.action)).not.toContain('code.void');
    },
    60_000,
  );
});

describe('the line over ascii-serial', () => {
  it.runIf(requireCommands('socat'))(
    'a start the engraver refuses without a fault (NAK NOJOB) voids the code and keeps the pin, and halts the line until an operator resets the engraver',
    async () => {
      const { rig, h, orderStates } = await start('ascii-serial');
      const { device } = rig;
      // Someone changes the loaded job's id: the line's $GO names a job the engraver does not hold.
      onNextLoad(device, { after: () => device.writeHolding(REG.jobIdLo, [0xfff0]) });
      const marking: Firearm[] = [];
      h.line.on('firearm', ({ firearm }) => {
        if (firearm.state === 'marking') marking.push(structuredClone(firearm));
      });
      await h.line.submitOrder(order('o1', 2), 'http', 'erp');
      await h.line.startOrder('o1', 'operator');
      await reaches(orderStates, 'faulted');

      const refused = await firearm(h, 0);
      const voided = refused.voided[0]!;
      expect(refused.state).toBe('queued');
      // The first job after power-on: activeJob 0 as noted before the start, and as read after
      // the refusal, costs no pin.
      expect(marking[0]).toMatchObject({ seq: 0, activeJobBefore: 0, completedBefore: 0 });
      expect(voided).toMatchObject({ pinScrapped: false, reason: 'the engraver never started the job' });
      expect(h.line.status().halted?.reason).toMatch(
        new RegExp(`^the engraver refused to start job ${voided.jobId}: .*NOJOB`),
      );
      expect(device.status().state).not.toBe('FAULT');
      expect(device.marks).toEqual([]);
      expect(h.records.filter((r) => r.event === 'voided')).toEqual([]);

      await h.line.resetEngraver('operator');
      await reaches(orderStates, 'engraved');
      const f = await firearm(h, 0);
      expect(f.state).toBe('engraved');
      expect(f.code!.text).not.toBe(voided.text);
      expect(device.marks.map((m) => m.text)).not.toContain(voided.text);
      expect(orderStates).toEqual(['queued', 'running', 'faulted', 'running', 'engraved']);
    },
    60_000,
  );
});
