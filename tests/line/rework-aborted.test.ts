import { describe, expect, it } from 'vitest';
import type { EngraverDevice } from '../../simulators/engraver/device.js';
import type { OrderHeader } from '../../src/line/model.js';
import { order, QA_FAIL, until, useLines } from './harness.js';

const lines = useLines();

/** Ends the job the device is marking now, as if its marking time had run out. */
function endMarking(device: EngraverDevice): void {
  device.finishMarking();
}

describe('a QA failure in an aborted order that still has a job marking', () => {
  it('pauses the order with the reason, audits and announces the reopening, and the firearm gets a new pin once resumed, also after a restart', async () => {
    let h = await lines.start();
    const { device } = h;
    await h.line.submitOrder(order('o1', 2), 'http', 'erp');
    // The second job marks until the test ends it.
    const slow = device.on((e) => {
      if (e.kind === 'done') {
        device.markingTimeMs = 600_000;
        slow();
      }
    });
    await h.line.startOrder('o1', 'operator');
    await until(
      async () => (await h.line.orderView('o1')).firearms[1]!.state === 'marking',
      'the second firearm marking',
    );
    await h.line.abortOrder('o1', 'operator', 'customer cancelled');
    const first = (await h.line.orderView('o1')).firearms[0]!;
    expect(first.state).toBe('engraved');

    const announced: OrderHeader[] = [];
    h.line.on('order', (e) => announced.push(structuredClone(e.order)));
    const applied = await h.line.applyVerdict({ orderId: 'o1', seq: 0 }, first.code!, QA_FAIL);
    expect(applied.outcome).toBe('rework');
    const reason = `rework: firearm ${first.serial} failed QA`;
    expect(applied.order).toMatchObject({ state: 'paused', reason });
    expect(announced).toEqual([expect.objectContaining({ id: 'o1', state: 'paused', reason })]);
    expect(h.audit.filter((a) => a.action === 'order.reopen')).toEqual([
      expect.objectContaining({
        actor: 'alice',
        subject: 'order:o1',
        before: { state: 'aborted' },
        after: { state: 'paused' },
        reason,
      }),
    ]);

    // The job that was marking ends; the order waits for an operator, across a restart.
    device.markingTimeMs = 0;
    endMarking(device);
    await until(
      async () => (await h.line.orderView('o1')).firearms[1]!.state === 'engraved',
      'the second job recorded',
    );
    h = await lines.restart(h);
    const view = await h.line.orderView('o1');
    expect(view.order.state).toBe('paused');
    expect(h.line.status().activeOrders.map((o) => o.id)).toEqual(['o1']);

    await h.line.resumeOrder('o1', 'operator');
    await until(
      async () => (await h.line.orderView('o1')).order.state === 'engraved',
      'the order done again',
    );
    const reworked = (await h.line.orderView('o1')).firearms[0]!;
    expect(reworked.state).toBe('engraved');
    expect(reworked.code!.text).not.toBe(first.code!.text);
  });
});
