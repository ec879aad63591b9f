import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropOrders, postOrder } from '../../simulators/erp/feeder.js';
import { sampleOrder, serialPrefixFor } from '../../simulators/erp/sample.js';
import { parseOrdersCsv } from '../../src/erp/csv.js';
import { parseOrder } from '../../src/erp/order.js';
import { isStamplineError } from '../../src/errors.js';
import { list, tempDir } from './support.js';

describe('sampleOrder', () => {
  it('makes a valid order with unique serials derived from the id', () => {
    const o = sampleOrder({ id: 'po 17/b', firearms: 1000, reworkEvery: 250 });
    const r = parseOrder(o);
    expect(r.ok && r.order).toEqual(o);
    expect(o.firearms[0]).toEqual({ serial: 'PO-17-B-000001' });
    expect(o.firearms.filter((f) => f.rework).map((f) => f.serial)).toEqual([
      'PO-17-B-000250',
      'PO-17-B-000500',
      'PO-17-B-000750',
      'PO-17-B-001000',
    ]);
  });

  it('gives orders with different ids disjoint serials', () => {
    const a = new Set(sampleOrder({ id: 'A-1', firearms: 50 }).firearms.map((f) => f.serial));
    const b = sampleOrder({ id: 'A-2', firearms: 50 }).firearms.map((f) => f.serial);
    expect(b.filter((s) => a.has(s))).toEqual([]);
  });

  it('can leave the caliber out and set every field', () => {
    const o = sampleOrder({
      id: 'X',
      firearms: 1,
      make: 'M',
      model: 'N',
      caliber: null,
      target: 'breech-face',
      destination: 'D-1',
      serialPrefix: 'Q',
    });
    expect(o).toEqual({
      id: 'X',
      make: 'M',
      model: 'N',
      target: 'breech-face',
      destination: 'D-1',
      firearms: [{ serial: 'Q-000001' }],
    });
  });

  it('refuses a prefix that would make serials too long, and a bad count', () => {
    expect(() => sampleOrder({ id: 'X', firearms: 1, serialPrefix: 'P'.repeat(26) })).toThrow(/too long/);
    expect(() => sampleOrder({ id: 'X', firearms: -1 })).toThrow(/whole number/);
    expect(serialPrefixFor('***')).toBe('SN');
  });
});

describe('dropOrders', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, remove } = await tempDir());
  });
  afterEach(() => remove());

  it('writes a complete CSV under its final name and leaves no temporary file', async () => {
    const orders = [sampleOrder({ id: 'ERP-9', firearms: 3 })];
    const path = await dropOrders({ dir, orders });
    expect(await list(dir)).toEqual(['ERP-9.csv']);
    const r = parseOrdersCsv(await readFile(path));
    expect(r.ok && r.orders).toEqual(orders);
  });

  it('never replaces a file already in the folder', async () => {
    const first = await dropOrders({ dir, orders: [sampleOrder({ id: 'A', firearms: 1 })], name: 'daily' });
    const second = await dropOrders({ dir, orders: [sampleOrder({ id: 'B', firearms: 1 })], name: 'daily' });
    expect([first, second]).toEqual([join(dir, 'daily.csv'), join(dir, 'daily-2.csv')]);
    expect(await readFile(first, 'utf8')).toContain('A-000001');
  });
});

describe('postOrder', () => {
  const received: Array<{ method?: string; url?: string; auth?: string; type?: string; body: string }> = [];
  let url: string;
  let close: () => Promise<void>;

  beforeEach(async () => {
    received.length = 0;
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        received.push({
          method: req.method,
          url: req.url,
          auth: req.headers.authorization,
          type: req.headers['content-type'],
          body,
        });
        const bad = body.includes('"id":""');
        res.writeHead(bad ? 400 : 201, { 'content-type': 'application/json' });
        res.end(bad ? JSON.stringify({ problems: [{ path: 'id', reason: 'must not be empty' }] }) : body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => server.close(() => r()));
  });
  afterEach(() => close());

  it('posts the order as JSON with the bearer token and returns the answer', async () => {
    const order = sampleOrder({ id: 'PO-1', firearms: 2 });
    const answer = await postOrder({ url, token: 'erp-secret', body: order });
    expect(answer).toEqual({ status: 201, body: order });
    expect(received).toEqual([
      {
        method: 'POST',
        url: '/api/v1/orders',
        auth: 'Bearer erp-secret',
        type: 'application/json',
        body: JSON.stringify(order),
      },
    ]);
  });

  it('returns a refusal as it came', async () => {
    const answer = await postOrder({ url, token: 't', body: '{"id":""}' });
    expect(answer).toEqual({
      status: 400,
      body: { problems: [{ path: 'id', reason: 'must not be empty' }] },
    });
  });

  it('says clearly when the line cannot be reached', async () => {
    await close();
    const err = await postOrder({ url, token: 't', body: {} }).catch((e: unknown) => e);
    expect(isStamplineError(err, 'ERP_LINE_UNREACHABLE')).toBe(true);
    expect((err as Error).message).toMatch(
      /cannot reach the line at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/orders: ECONNREFUSED/,
    );
    close = async () => {};
  });
});
