import { describe, expect, it } from 'vitest';
import { isStamplineError } from '../../src/errors.js';
import type { QaDecision } from '../../src/line/line.js';
import { type Harness, order, until, useLines } from './harness.js';

const lines = useLines();

async function doneOrder(count: number): Promise<Harness> {
  const h = await lines.start();
  await h.line.submitOrder(order('o1', count), 'http', 'erp');
  await h.line.startOrder('o1', 'operator');
  await until(async () => (await h.line.orderView('o1')).order.state === 'engraved', 'order done');
  return h;
}

const decision = (result: 'pass' | 'fail', extra: Partial<QaDecision> = {}): QaDecision => ({
  result,
  policy: 'every-case',
  grade: result === 'pass' ? 'B' : 'F',
  casings: 3,
  reason: result === 'pass' ? 'every case identifies it' : 'case 1 of 3 does not decode',
  at: new Date().toISOString(),
  by: 'alice',
  ...extra,
});

const doneMarks = (x: Harness) => x.device.marks.filter((m) => m.outcome === 'done');

describe('a QA decision applied by the line', () => {
  it('keeps a pass on the firearm and reports verified(pass); applied again, it changes nothing and resends the same record', async () => {
    const x = await doneOrder(1);
    const f = (await x.line.orderView('o1')).firearms[0]!;
    const d = decision('pass');
    const applied = await x.line.applyVerdict({ orderId: 'o1', seq: 0 }, f.code!, d);
    expect(applied.outcome).toBe('verified');
    expect(applied.firearm.qa).toEqual({
      result: 'pass',
      policy: 'every-case',
      grade: 'B',
      casings: 3,
      at: d.at,
      by: 'alice',
    });
    const stored = (await x.line.orderView('o1')).firearms[0]!;
    expect(stored.qa?.result).toBe('pass');
    expect(stored.history.at(-1)!.note).toMatch(/passed QA/);

    const again = await x.line.applyVerdict({ orderId: 'o1', seq: 0 }, f.code!, d);
    expect(again.outcome).toBe('verified');
    const verified = x.records.filter((r) => r.event === 'verified');
    expect(verified).toHaveLength(2);
    expect(verified[0]!.recordId).toBe(verified[1]!.recordId);
    expect(x.audit.filter((a) => a.action === 'qa.pass')).toHaveLength(1);
    expect((await x.line.orderView('o1')).firearms[0]!.history).toEqual(stored.history);

    const fail = await x.line
      .applyVerdict({ orderId: 'o1', seq: 0 }, f.code!, decision('fail'))
      .catch((e) => e);
    expect(isStamplineError(fail, 'QA_ALREADY_DECIDED')).toBe(true);
  });

  it('on a failure, reopens a finished order even after a restart, engraves one new pin, and a replay engraves nothing more', async () => {
    const first = await doneOrder(2);
    const f = (await first.line.orderView('o1')).firearms[1]!;
    // A fresh line: the finished order is on disk only.
    const h = await lines.restart(first);
    const d = decision('fail');
    const applied = await h.line.applyVerdict({ orderId: 'o1', seq: 1 }, f.code!, d);
    expect(applied.outcome).toBe('rework');
    expect(applied.order.state).toBe('running');
    await until(
      async () => (await h.line.orderView('o1')).order.state === 'engraved' && doneMarks(h).length === 3,
      'new pin',
    );
    const after = (await h.line.orderView('o1')).firearms[1]!;
    expect(after.code!.text).not.toBe(f.code!.text);
    expect(after.voided).toEqual([
      expect.objectContaining({
        text: f.code!.text,
        pinScrapped: true,
        reason: `failed QA: ${d.reason}`,
        qa: expect.objectContaining({ result: 'fail' }),
      }),
    ]);
    expect(h.records.map((r) => `${r.event} ${r.code === f.code!.text ? 'old' : 'new'}`)).toEqual([
      'verified old',
      'voided old',
      'engraved new',
    ]);
    const ids = h.records.slice(0, 2).map((r) => r.recordId);

    // The same decision again (a crash before the QA log recorded it): same records, no new pin.
    await h.line.applyVerdict({ orderId: 'o1', seq: 1 }, f.code!, d);
    expect(h.records.slice(3).map((r) => r.recordId)).toEqual(ids);
    expect((await h.line.orderView('o1')).order.state).toBe('engraved');
    await new Promise((r) => setTimeout(r, 100));
    expect(doneMarks(h)).toHaveLength(3);
    expect(h.audit.filter((a) => a.action === 'qa.fail')).toHaveLength(1);
    expect(h.audit.filter((a) => a.action === 'order.reopen')).toEqual([
      expect.objectContaining({ actor: 'alice', before: { state: 'engraved' }, after: { state: 'running' } }),
    ]);
  });

  it('refuses a decision on a code the firearm does not carry, or on a firearm not engraved', async () => {
    const x = await doneOrder(1);
    const f = (await x.line.orderView('o1')).firearms[0]!;
    const wrong = await x.line
      .applyVerdict(
        { orderId: 'o1', seq: 0 },
        { index: f.code!.index + 1, text: '0000000000' },
        decision('pass'),
      )
      .catch((e) => e);
    expect(isStamplineError(wrong, 'QA_NOT_ENGRAVED')).toBe(true);
    const missing = await x.line
      .applyVerdict({ orderId: 'o1', seq: 5 }, f.code!, decision('pass'))
      .catch((e) => e);
    expect(isStamplineError(missing, 'QA_UNKNOWN_FIREARM')).toBe(true);
    expect(x.records.some((r) => r.event === 'verified')).toBe(false);
  });
});
