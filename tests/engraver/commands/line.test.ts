/**
 * The line on a command marker that keeps no count of completed markings: when a link drop hides
 * the end of a marking, the line cannot prove the pin was marked, so it voids the code, sets the
 * pin aside and says why in the firearm's void and the audit trail, then gives the firearm a new
 * code on a new pin.
 */
import { afterEach, expect, it } from 'vitest';
import { EngraverDevice } from '../../../simulators/engraver/device.js';
import { makeDir, order, removeDir, startLineWith, until } from '../../line/harness.js';
import { openMarkerRig, withoutCounter } from './rigs.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const task of cleanups.splice(0).reverse()) await task().catch(() => undefined);
});

it('voids the code and sets the pin aside when a marker without a counter was not watched to the end of its marking', async () => {
  const rig = await openMarkerRig(withoutCounter('kv-marker'), 'commands-tcp', { markingTimeMs: 1500 });
  cleanups.push(() => rig.close());
  const dir = await makeDir();
  cleanups.push(() => removeDir(dir));
  const h = await startLineWith(rig.engraver, dir, new EngraverDevice());
  cleanups.push(() => h.stop());
  await h.line.submitOrder(order('o1', 1), 'http', 'erp');
  await h.line.startOrder('o1', 'operator');
  await until(() => rig.device.marks.length === 1, 'the first marking');
  rig.server.faults.dropLink();
  await until(async () => (await h.line.orderView('o1')).order.state === 'engraved', 'the order done');

  const f = (await h.line.orderView('o1')).firearms[0]!;
  expect(f.state).toBe('engraved');
  expect(f.voided).toEqual([
    expect.objectContaining({
      pinScrapped: true,
      reason: expect.stringMatching(/keeps no count of completed markings.*pin set aside for inspection/),
    }),
  ]);
  expect(h.records.filter((r) => r.event === 'voided')).toHaveLength(1);
  const voids = h.audit.filter((e) => e.action === 'code.void') as { reason?: string }[];
  expect(voids).toEqual([expect.objectContaining({ reason: f.voided[0]!.reason })]);
  // The pin set aside was marked; the new code went on a new pin.
  expect(rig.device.marks.map((m) => m.text)).toEqual([f.voided[0]!.text, f.code!.text]);
}, 60_000);
