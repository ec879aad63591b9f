import { afterEach, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { decodeReads } from '../../src/codes/index.js';
import { isStamplineError } from '../../src/errors.js';
import { type Harness, KEY, makeDir, order, removeDir, startLine, until } from './harness.js';

let h: Harness | undefined;
const dirs: string[] = [];
const devices: EngraverDevice[] = [];

async function fresh(markingTimeMs = 0, options: Parameters<typeof startLine>[2] = {}) {
  const dir = await makeDir();
  dirs.push(dir);
  const device = new EngraverDevice({ markingTimeMs });
  devices.push(device);
  h = await startLine(dir, device, options);
  return h;
}

afterEach(async () => {
  await h?.stop().catch(() => {});
  h = undefined;
  for (const d of devices.splice(0)) d.close();
  for (const d of dirs.splice(0)) await removeDir(d);
});

const doneMarks = (device: EngraverDevice) => device.marks.filter((m) => m.outcome === 'done');

describe('an order on the line', () => {
  it('engraves every firearm once, with unique codes that decode to the allocated index, and reports each', async () => {
    const { line, device, records } = await fresh();
    await line.submitOrder(order('o1', 20), 'http', 'erp');
    await line.startOrder('o1', 'operator');
    await until(async () => (await line.orderView('o1')).order.state === 'engraved', 'order done');

    const view = await line.orderView('o1');
    expect(view.firearms.every((f) => f.state === 'engraved')).toBe(true);
    const texts = view.firearms.map((f) => f.code!.text);
    expect(new Set(texts).size).toBe(20);
    // The engraver marked each code exactly once, mirrored, with the gear ring.
    expect(device.marks).toHaveLength(20);
    expect(
      doneMarks(device)
        .map((m) => m.text)
        .sort(),
    ).toEqual([...texts].sort());
    expect(device.marks.every((m) => m.mirror && m.gear.length === 88)).toBe(true);
    for (const f of view.firearms) {
      const decoded = decodeReads([{ text: f.code!.text, gear: f.code!.gear }], KEY);
      expect(decoded.ok && decoded.index).toBe(f.code!.index);
    }
    // One engraved record per firearm, with the recipe used.
    expect(records.filter((r) => r.event === 'engraved')).toHaveLength(20);
    expect(new Set(records.map((r) => r.recordId)).size).toBe(20);
    const first = records[0]!;
    expect(first.event === 'engraved' && first.engraver.recipe).toEqual({
      power: 500,
      frequency: 30,
      speed: 200,
      passes: 2,
    });
  });

  it('refuses an order id or a serial it already holds, and changes nothing stored', async () => {
    const { line } = await fresh();
    await line.submitOrder(order('o1', 3), 'http', 'erp');
    const before = await line.orderView('o1');

    const again = await line.submitOrder(order('o1', 1), 'http', 'erp').catch((e) => e);
    expect(isStamplineError(again, 'ORDER_EXISTS')).toBe(true);

    const clash = order('o2', 2);
    clash.firearms[1] = { serial: 'O1-0001' };
    const err = await line.submitOrder(clash, 'http', 'erp').catch((e) => e);
    expect(isStamplineError(err, 'SERIAL_EXISTS')).toBe(true);
    expect(err.message).toContain('O1-0001');
    await expect(line.orderView('o2')).rejects.toThrow(/no order o2/);
    expect(await line.orderView('o1')).toEqual(before);
  });

  it('accepts an engraved serial again only when the order marks it as a rework', async () => {
    const { line } = await fresh();
    await line.submitOrder(order('o1', 1), 'http', 'erp');
    await line.startOrder('o1', 'operator');
    await until(async () => (await line.orderView('o1')).order.state === 'engraved', 'first order done');

    const plain = await line
      .submitOrder({ ...order('o2', 0), firearms: [{ serial: 'O1-0000' }] }, 'http', 'erp')
      .catch((e) => e);
    expect(isStamplineError(plain, 'SERIAL_EXISTS')).toBe(true);
    const rework = await line.submitOrder(
      { ...order('o3', 0), firearms: [{ serial: 'O1-0000', rework: true }] },
      'http',
      'erp',
    );
    expect(rework.state).toBe('queued');
  });

  it('pauses, resumes and aborts on the operator’s word, cancelling what was not begun', async () => {
    const { line, device } = await fresh(30);
    await line.submitOrder(order('o1', 50), 'http', 'erp');
    await line.startOrder('o1', 'operator');
    await until(() => device.marks.length >= 2, 'two marks');
    await line.pauseOrder('o1', 'operator', 'lunch');
    const atPause = device.marks.length;
    await new Promise((r) => setTimeout(r, 200));
    // At most the job in flight at the pause finishes.
    expect(device.marks.length).toBeLessThanOrEqual(atPause + 1);

    await expect(line.pauseOrder('o1', 'operator')).rejects.toThrow(/paused/);
    await line.resumeOrder('o1', 'operator');
    await until(() => device.marks.length >= atPause + 3, 'marking resumes');
    await line.abortOrder('o1', 'operator', 'customer cancelled');
    await until(async () => (await line.orderView('o1')).counts.inProgress === 0, 'in-flight job settled');
    const view = await line.orderView('o1');
    expect(view.order.state).toBe('aborted');
    expect(view.counts.engraved + view.counts.cancelled).toBe(50);
    expect(view.counts.engraved).toBe(doneMarks(device).length);
  });
});

describe('engraver faults', () => {
  it('scraps the pin of a job that faults mid-marking, voids its code, pauses the order until reset, then re-engraves with a new code', async () => {
    const { line, device, records } = await fresh(20);
    await line.submitOrder(order('o1', 4), 'http', 'erp');
    device.faultNextJob(3, 0.5);
    await line.startOrder('o1', 'operator');
    await until(async () => (await line.orderView('o1')).order.state === 'faulted', 'order faulted');

    const faulted = await line.orderView('o1');
    const victim = faulted.firearms.find((f) => f.voided.length > 0)!;
    expect(victim.state).toBe('queued');
    expect(victim.voided[0]).toMatchObject({ pinScrapped: true, fault: 3 });
    const voided = records.find((r) => r.event === 'voided')!;
    expect(voided.code).toBe(victim.voided[0]!.text);

    await line.resetEngraver('operator');
    await until(
      async () => (await line.orderView('o1')).order.state === 'engraved',
      'order done after reset',
    );
    const done = await line.orderView('o1');
    const again = done.firearms.find((f) => f.serial === victim.serial)!;
    expect(again.state).toBe('engraved');
    expect(again.code!.text).not.toBe(victim.voided[0]!.text);
    // The voided code was never marked again.
    expect(device.marks.filter((m) => m.text === victim.voided[0]!.text)).toHaveLength(1);
  });
});

describe("the engraver's state as the line shows it", () => {
  it('is the state last read, with its time: FAULT after a faulted job, told at once, and never a stale DONE', async () => {
    const { line, device } = await fresh(20);
    await line.submitOrder(order('o1', 2), 'http', 'erp');
    const told: Array<{ state?: string; statusAt?: string }> = [];
    line.on('engraver', (e: { status?: { state: string }; statusAt?: string }) =>
      told.push({ state: e.status?.state, statusAt: e.statusAt }),
    );
    device.faultNextJob(3, 0.5);
    const before = Date.now();
    await line.startOrder('o1', 'operator');
    await until(async () => (await line.orderView('o1')).order.state === 'faulted', 'order faulted');

    const shown = line.status().engraver;
    expect(shown.status).toMatchObject({ state: 'FAULT', fault: 3 });
    expect(Date.parse(shown.statusAt!)).toBeGreaterThanOrEqual(before - 1);
    expect(told.at(-1)).toMatchObject({ state: 'FAULT' });

    await line.resetEngraver('operator');
    await until(
      async () => (await line.orderView('o1')).order.state === 'engraved',
      'order done after reset',
    );
    expect(line.status().engraver.status!.state).toBe('DONE');
    expect(Date.parse(line.status().engraver.statusAt!)).toBeGreaterThanOrEqual(Date.parse(shown.statusAt!));
  });
});

describe('recovery after a restart', () => {
  it('finishes a job that was marking when the controller died, without marking it again', async () => {
    const first = await fresh(300);
    await first.line.submitOrder(order('o1', 3), 'http', 'erp');
    await first.line.startOrder('o1', 'operator');
    await until(() => first.device.marks.length === 1, 'first job marking');
    // The controller dies: its link goes dead and it is never heard from again.
    first.engraver.down('controller died');
    const device = first.device;
    h = await startLine(first.dir, device);
    await until(
      async () => (await h!.line.orderView('o1')).order.state === 'engraved',
      'order done after restart',
    );
    expect(device.marks.map((m) => m.outcome)).toEqual(['done', 'done', 'done']);
    expect(new Set(device.marks.map((m) => m.text)).size).toBe(3);
  });

  it('voids the code of a job cut off by a power cut and engraves the firearm again with a new code', async () => {
    const first = await fresh(300);
    await first.line.submitOrder(order('o1', 2), 'http', 'erp');
    await first.line.startOrder('o1', 'operator');
    await until(() => first.device.marks.length === 1, 'first job marking');
    first.engraver.down('controller died');
    first.device.powerCycle();
    h = await startLine(first.dir, first.device);
    await until(
      async () => (await h!.line.orderView('o1')).order.state === 'engraved',
      'order done after restart',
    );
    const outcomes = first.device.marks.map((m) => m.outcome);
    expect(outcomes).toEqual(['power-lost', 'done', 'done']);
    const view = await h.line.orderView('o1');
    const cut = view.firearms.find((f) => f.voided.length === 1)!;
    expect(cut.voided[0]).toMatchObject({ text: first.device.marks[0]!.text, pinScrapped: true });
    expect(h.records.some((r) => r.event === 'voided' && r.code === cut.voided[0]!.text)).toBe(true);
  });

  it('never hands out an index twice across restarts', async () => {
    const first = await fresh();
    await first.line.submitOrder(order('o1', 3), 'http', 'erp');
    await first.line.startOrder('o1', 'operator');
    await until(async () => (await first.line.orderView('o1')).order.state === 'engraved', 'first order');
    const used1 = (await first.line.orderView('o1')).firearms.map((f) => f.code!.index);
    await first.stop();
    h = await startLine(first.dir, first.device);
    await h.line.submitOrder(order('o2', 3), 'http', 'erp');
    await h.line.startOrder('o2', 'operator');
    await until(async () => (await h!.line.orderView('o2')).order.state === 'engraved', 'second order');
    const used2 = (await h.line.orderView('o2')).firearms.map((f) => f.code!.index);
    expect(used2.some((i) => used1.includes(i))).toBe(false);
    expect(Math.min(...used2)).toBeGreaterThan(Math.max(...used1));
  });
});
