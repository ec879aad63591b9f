import { afterEach, describe, expect, it, vi } from 'vitest';
import { order, useLines } from './harness.js';

const lines = useLines();

afterEach(() => {
  vi.useRealTimers();
});

describe('the list of orders, newest first', () => {
  it('lists orders created in the same millisecond by id, last first, whatever order they came in, and the same after a restart', async () => {
    let h = await lines.start();
    // Only the clock is frozen: every order below but the last is created at the same instant.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-02T03:04:05.678Z'));
    for (const id of ['b', 'c', 'a']) await h.line.submitOrder(order(id, 1), 'http', 'erp');
    vi.setSystemTime(new Date('2030-01-02T03:04:05.679Z'));
    await h.line.submitOrder(order('d', 1), 'http', 'erp');
    vi.useRealTimers();
    await h.line.abortOrder('c', 'operator', 'wrong model');

    const expected = ['d', 'c', 'b', 'a'];
    expect((await h.line.listOrders()).map((o) => o.id)).toEqual(expected);
    h = await lines.restart(h);
    expect((await h.line.listOrders()).map((o) => o.id)).toEqual(expected);
  });
});
