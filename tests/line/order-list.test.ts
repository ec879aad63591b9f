import { afterEach, describe, expect, it, vi } from 'vitest';
import { order, until, useLines } from './harness.js';

const lines = useLines();

afterEach(() => {
  vi.restoreAllMocks();
});

/** Orders are listed by creation time: each is created in a millisecond of its own. */
async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() === now) await new Promise((r) => setTimeout(r, 1));
}

describe('the list of orders', () => {
  it('answers from memory, newest first, following every change of state, and the same after a restart', async () => {
    let h = await lines.start();
    await h.line.submitOrder(order('o1', 2), 'http', 'erp');
    await h.line.startOrder('o1', 'operator');
    await until(async () => (await h.line.orderView('o1')).order.state === 'engraved', 'o1 done');
    await nextMillisecond();
    await h.line.submitOrder(order('o2', 1), 'http', 'erp');
    await nextMillisecond();
    await h.line.submitOrder(order('o3', 1), 'drop-folder', 'erp');
    await h.line.abortOrder('o3', 'operator', 'wrong model');

    h = await lines.restart(h);
    await h.line.startOrder('o2', 'operator');
    await h.line.pauseOrder('o2', 'operator', 'lunch');

    const reads = [
      vi.spyOn(h.store, 'folders'),
      vi.spyOn(h.store, 'open'),
      vi.spyOn(h.store, 'exists'),
      vi.spyOn(h.repo, 'listOrders'),
    ];
    const listed = await h.line.listOrders();
    for (const spy of reads) expect(spy).not.toHaveBeenCalled();
    vi.restoreAllMocks();

    expect(listed.map((o) => [o.id, o.state])).toEqual([
      ['o3', 'aborted'],
      ['o2', 'paused'],
      ['o1', 'engraved'],
    ]);
    expect(listed.find((o) => o.id === 'o2')).toMatchObject({ reason: 'lunch', source: 'http' });
    // what is on disk, field for field
    expect(listed).toEqual(await h.repo.listOrders());
  });
});
