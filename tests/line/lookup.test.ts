import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CodeIndex } from '../../src/line/code-index.js';
import { order, until, useLines } from './harness.js';

const lines = useLines();

describe('finding a firearm', () => {
  it('by serial and by code, current or voided, after a restart', async () => {
    const first = await lines.start({ markingTimeMs: 20 });
    await first.line.submitOrder(order('o1', 3), 'http', 'erp');
    first.device.faultNextJob(3, 0.5);
    await first.line.startOrder('o1', 'operator');
    await until(async () => (await first.line.orderView('o1')).order.state === 'faulted', 'order faulted');
    await first.line.resetEngraver('operator');
    await until(async () => (await first.line.orderView('o1')).order.state === 'engraved', 'order done');
    const view = await first.line.orderView('o1');

    // A fresh line on the same folder: nothing of the order is in memory.
    const h = await lines.restart(first);
    for (const f of view.firearms) {
      const bySerial = await h.line.findFirearms({ serial: f.serial });
      expect(bySerial.map((s) => [s.order.id, s.firearm.serial, s.firearm.code?.text])).toEqual([
        ['o1', f.serial, f.code!.text],
      ]);
      const byCode = await h.line.findFirearms({ code: f.code!.text });
      expect(byCode.map((s) => s.firearm.serial)).toEqual([f.serial]);
    }
    const victim = view.firearms.find((f) => f.voided.length === 1)!;
    const byVoided = await h.line.findFirearms({ code: victim.voided[0]!.text });
    expect(byVoided).toHaveLength(1);
    expect(byVoided[0]!.firearm.serial).toBe(victim.serial);
    expect(byVoided[0]!.firearm.code!.text).not.toBe(victim.voided[0]!.text);

    expect(await h.line.findFirearms({ serial: 'NO-SUCH' })).toEqual([]);
    expect(await h.line.findFirearms({ code: '0000000000' })).toEqual([]);
  });

  it('finds every order that held a serial, oldest first', async () => {
    const { line } = await lines.start();
    await line.submitOrder(order('o1', 1), 'http', 'erp');
    await line.startOrder('o1', 'operator');
    await until(async () => (await line.orderView('o1')).order.state === 'engraved', 'first order');
    await line.submitOrder(
      { ...order('o2', 0), firearms: [{ serial: 'O1-0000', rework: true }] },
      'http',
      'erp',
    );
    const found = await line.findFirearms({ serial: 'O1-0000' });
    expect(found.map((s) => [s.order.id, s.firearm.state])).toEqual([
      ['o1', 'engraved'],
      ['o2', 'queued'],
    ]);
  });

  it('passes over a code index entry whose firearm never got the code (a crash between the writes)', async () => {
    const { line, dir } = await lines.start();
    await line.submitOrder(order('o1', 1), 'http', 'erp');
    const idx = new CodeIndex(join(dir, 'codes'));
    idx.start();
    await idx.add([{ code: '00E96PY4NY', orderId: 'o1', seq: 0, serial: 'O1-0000' }]);
    expect(await line.findFirearms({ code: '00E96PY4NY' })).toEqual([]);
    expect((await readdir(join(dir, 'codes'))).length).toBeGreaterThan(0);
  });
});
