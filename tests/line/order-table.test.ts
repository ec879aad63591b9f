/**
 * An order's states are moved by one table: what an operator may do from each state, and what
 * the line itself does (a fault, a halt, the end, a rework). A move the table does not allow is
 * refused with ORDER_STATE, naming the states it needs, and changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { isStamplineError } from '../../src/errors.js';
import type { OrderState } from '../../src/line/model.js';
import { nextOrderState, ORDER_MOVES, type OrderMove } from '../../src/line/orders.js';
import { order, useLines } from './harness.js';

const lines = useLines();
const STATES: OrderState[] = ['queued', 'running', 'paused', 'faulted', 'aborted', 'engraved', 'complete'];
const MOVES = Object.keys(ORDER_MOVES) as OrderMove[];

describe('the order table', () => {
  it('lets a finished order out only by a rework (or its end written again), and nothing back to queued', () => {
    for (const move of MOVES) {
      for (const from of STATES) {
        const to = nextOrderState(from, move);
        if (to === undefined) continue;
        expect(to, `${move} from ${from}`).not.toBe('queued');
        if (from === 'aborted') expect(move).toBe('reopen');
        if (from === 'engraved') expect(['reopen', 'finish', 'complete']).toContain(move);
        if (from === 'complete') expect(move).toBe('complete');
        if (move === 'complete') expect(to).toBe('complete');
      }
    }
    expect(nextOrderState('engraved', 'reopen')).toBe('running');
    expect(nextOrderState('engraved', 'complete')).toBe('complete');
    // only an engraved order completes: one still at work has pins to mark
    for (const from of ['queued', 'running', 'paused', 'faulted', 'aborted'] as const)
      expect(nextOrderState(from, 'complete'), from).toBeUndefined();
    expect(nextOrderState('complete', 'reopen')).toBeUndefined();
    expect(nextOrderState('aborted', 'reopen')).toBe('paused');
    expect(nextOrderState('paused', 'fault')).toBeUndefined();
  });

  it('refuses an operator move the table does not allow, naming what it needs, and changes nothing', async () => {
    const h = await lines.start();
    await h.line.submitOrder(order('o1', 1), 'http', 'erp');
    const entries = h.audit.length;
    let error: unknown;
    try {
      await h.line.pauseOrder('o1', 'operator');
    } catch (err) {
      error = err;
    }
    expect(isStamplineError(error, 'ORDER_STATE')).toBe(true);
    expect((error as Error).message).toBe('order o1 is queued; pause needs it to be running or faulted');
    expect((await h.line.orderView('o1')).order.state).toBe('queued');
    expect(h.audit.length).toBe(entries);

    await h.line.abortOrder('o1', 'operator');
    await expect(h.line.startOrder('o1', 'operator')).rejects.toThrow(/order o1 is aborted/);
  });
});
