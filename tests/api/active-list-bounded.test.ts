/**
 * However many orders are queued, the answers that carry the active orders stay small: the order
 * list, the line and the event stream's snapshot carry counts and a bounded first page, and the
 * rest is paged through the order list like every other order.
 */
import type { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVE_PAGE } from '../../src/api/schemas/line.js';
import { until } from '../line/harness.js';
import { useStation } from './support.js';

const s = useStation({ per: 'file', markingTimeMs: 0 });

const QUEUED = ACTIVE_PAGE * 2 + 7;
/** The firearms an order's counts account for: queued, at the engraver, or engraved. */
const firearmsOf = (c: { queued: number; inProgress: number; engraved: number }) =>
  c.queued + c.inProgress + c.engraved;
const idOf = (i: number) => `Q-${String(i).padStart(4, '0')}`;

beforeAll(async () => {
  const orders = [];
  for (let i = 0; i < QUEUED; i++) {
    orders.push({
      id: idOf(i),
      make: 'Acme',
      model: 'P1',
      target: 'firing-pin' as const,
      firearms: [{ serial: `SN-${i}` }, { serial: `SN-${i}-B` }],
    });
  }
  await s.h.line.submitOrders(orders, 'http', 'erp');
  // One order at work: it is shown before the queue however old it is.
  await s.h.line.startOrder(idOf(QUEUED - 1), 'olga');
  await s.h.line.pauseOrder(idOf(QUEUED - 1), 'olga', 'test');
}, 120_000);

async function get(url: string) {
  const res = await s.api.app.inject({ method: 'GET', url, headers: s.api.as('user operator') });
  expect(res.statusCode, res.body).toBe(200);
  return res;
}

describe('the active orders, with many queued', () => {
  it('GET /api/v1/orders?limit=1 carries one order, a bounded first page of the active ones and their total', async () => {
    const res = await get('/api/v1/orders?limit=1');
    const body = res.json();
    expect(body.all).toHaveLength(1);
    // paused right after its start: its first firearm may have been taken up before the pause
    expect(body.all[0].id).toBe(idOf(QUEUED - 1));
    expect(firearmsOf(body.all[0].counts)).toBe(2);
    expect(body.active).toHaveLength(ACTIVE_PAGE);
    expect(body.activeTotal).toBe(QUEUED);
    expect(body.active[0]).toMatchObject({ id: idOf(QUEUED - 1), state: 'paused' });
    expect(firearmsOf(body.active[0].counts)).toBe(2);
    expect(body.active[1]).toMatchObject({ id: idOf(0), state: 'queued' });
  });

  it('every active order can be paged through with its counts', async () => {
    const seen = new Set<string>();
    let before: string | null = null;
    do {
      const q = new URLSearchParams({ limit: '40', state: 'queued,running,paused,faulted' });
      if (before) q.set('before', before);
      const body = (await get(`/api/v1/orders?${q}`)).json();
      for (const o of body.all) {
        expect(o.counts, o.id).toBeDefined();
        seen.add(o.id);
      }
      before = body.next;
    } while (before !== null);
    expect(seen.size).toBe(QUEUED);
  });

  it('GET /api/v1/line carries at most a page of them, the total and the count by state', async () => {
    const body = (await get('/api/v1/line')).json();
    expect(body.activeOrders).toHaveLength(ACTIVE_PAGE);
    expect(body.activeTotal).toBe(QUEUED);
    expect(body.activeByState).toEqual({ running: 0, faulted: 0, paused: 1, queued: QUEUED - 1 });
  });

  it("the event stream's first snapshot is as small", async () => {
    const res = await s.api.app.inject({
      method: 'GET',
      url: '/api/v1/events',
      headers: s.api.as('user operator'),
      payloadAsStream: true,
    });
    const stream = res.stream() as Readable;
    let text = '';
    stream.on('data', (c: Buffer) => {
      text += c.toString('utf8');
    });
    await until(async () => /event: line\n(?:id: .*\n)?data: .*\n\n/.test(text), 'the line snapshot');
    stream.destroy();
    const data = /event: line\n(?:id: .*\n)?data: (.*)\n\n/.exec(text)![1]!;
    const line = JSON.parse(data);
    expect(line.activeOrders).toHaveLength(ACTIVE_PAGE);
    expect(line.activeTotal).toBe(QUEUED);
    // A page of small orders, not the queue: the answer must not grow with it.
    expect(data.length).toBeLessThan(ACTIVE_PAGE * 1000);
  });
});
