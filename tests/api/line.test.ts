/** The line's status and the operator's engraver reset after a fault. */
import { describe, expect, it } from 'vitest';
import { FAULT } from '../../src/engraver/types.js';
import { until } from '../line/harness.js';
import { submitOrder, useStation } from './support.js';

const s = useStation({ per: 'test', markingTimeMs: 20 });

describe('an engraver fault', () => {
  it('shows on the line, and a reset by an operator lets the order finish; the trail names the operator', async () => {
    const { app, as } = s.api;
    await submitOrder(s, 'A-1', ['S1', 'S2']);
    s.device.faultNextJob(FAULT.INTERLOCK_OPEN);
    await app.inject({
      method: 'POST',
      url: '/api/v1/orders/A-1/start',
      headers: as('user operator'),
      payload: {},
    });
    const line = async () =>
      (await app.inject({ method: 'GET', url: '/api/v1/line', headers: as('token erp') })).json();
    await until(async () => (await line()).activeOrders[0]?.state === 'faulted', 'the order faulted');
    expect((await line()).halted).toMatchObject({
      fault: FAULT.INTERLOCK_OPEN,
      reason: expect.stringContaining('interlock'),
    });

    const reset = await app.inject({
      method: 'POST',
      url: '/api/v1/engraver/reset',
      headers: as('user operator'),
      payload: {},
    });
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toMatchObject({ state: 'READY', fault: 0 });
    await until(async () => (await line()).activeOrders.length === 0, 'the order done');
    expect((await line()).halted).toBeUndefined();
    expect(s.h.audit.filter((e) => e.action === 'engraver.reset').map((e) => e.actor)).toEqual(['olga']);
  });
});
