import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { buildApp } from '../../src/api/app.js';
import { type Harness, makeDir, removeDir, startLine, until } from '../line/harness.js';

const ERP = 'erp-token-0123456789';
const OPERATOR = 'operator-token-0123456789';

let h: Harness;
let app: FastifyInstance;
let dir: string;
let device: EngraverDevice;

beforeEach(async () => {
  dir = await makeDir();
  device = new EngraverDevice({ markingTimeMs: 0 });
  h = await startLine(dir, device);
  app = buildApp({
    line: h.line,
    tokens: { erp: ERP, operator: OPERATOR },
    health: () => ({ ok: true, checks: {} }),
    version: 'test',
  });
});

afterEach(async () => {
  await app.close();
  await h.stop();
  device.close();
  await removeDir(dir);
});

const order = (id: string, serials: string[]) => ({
  id,
  make: 'Acme',
  model: 'P1',
  firearms: serials.map((serial) => ({ serial })),
});
const post = (url: string, body: unknown, token?: string) =>
  app.inject({
    method: 'POST',
    url,
    payload: body as object,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

describe('POST /api/v1/orders', () => {
  it('stores a valid order and answers 201 with the order as stored', async () => {
    const res = await post('/api/v1/orders', order('A-1', ['S1', 'S2']), ERP);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: 'A-1',
      make: 'Acme',
      model: 'P1',
      target: 'firing-pin',
      state: 'queued',
      size: 2,
    });
  });

  it('answers 400 with every problem, naming field and reason, and stores nothing', async () => {
    const res = await post(
      '/api/v1/orders',
      {
        id: '',
        make: 'Acme',
        firearms: [{ serial: 'ok-lower' }, { serial: 'S1' }, { serial: 'S1' }],
        target: 'barrel',
      },
      ERP,
    );
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('ORDER_INVALID');
    const paths = body.problems.map((p: { path: string }) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['id', 'model', 'target', 'firearms[0].serial', 'firearms[2].serial']),
    );
    for (const p of body.problems) expect(p.reason).toEqual(expect.any(String));
    expect((await app.inject({ method: 'GET', url: '/api/v1/orders' })).json().all).toEqual([]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      payload: '{"id": "x", ',
      headers: { authorization: `Bearer ${ERP}`, 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
  });

  it('answers 409 for an order id or a serial it already holds, leaving the stored order as it was', async () => {
    expect((await post('/api/v1/orders', order('A-1', ['S1', 'S2']), ERP)).statusCode).toBe(201);
    const before = (await app.inject({ method: 'GET', url: '/api/v1/orders/A-1' })).json();

    const sameId = await post('/api/v1/orders', order('A-1', ['S9']), ERP);
    expect(sameId.statusCode).toBe(409);
    expect(sameId.json().error.code).toBe('ORDER_EXISTS');

    const sameSerial = await post('/api/v1/orders', order('A-2', ['S3', 'S2']), ERP);
    expect(sameSerial.statusCode).toBe(409);
    expect(sameSerial.json().error).toMatchObject({ code: 'SERIAL_EXISTS' });
    expect(sameSerial.json().error.message).toContain('S2');

    expect((await app.inject({ method: 'GET', url: '/api/v1/orders/A-1' })).json()).toEqual(before);
    expect((await app.inject({ method: 'GET', url: '/api/v1/orders/A-2' })).statusCode).toBe(404);
  });

  it('refuses a missing or wrong token, and the operator token is not the ERP token', async () => {
    expect((await post('/api/v1/orders', order('A-1', ['S1']))).statusCode).toBe(401);
    expect((await post('/api/v1/orders', order('A-1', ['S1']), 'wrong-token')).statusCode).toBe(403);
    expect((await post('/api/v1/orders/A-1/start', {}, ERP)).statusCode).toBe(403);
  });
});

describe('operator actions on an order', () => {
  it('starts an order, which then runs to done, and refuses actions that do not fit its state', async () => {
    await post('/api/v1/orders', order('A-1', ['S1', 'S2', 'S3']), ERP);
    const started = await post('/api/v1/orders/A-1/start', {}, OPERATOR);
    expect(started.statusCode).toBe(200);
    expect(started.json().state).toBe('running');
    await until(
      async () =>
        (await app.inject({ method: 'GET', url: '/api/v1/orders/A-1' })).json().order.state === 'done',
      'done',
    );

    const view = (await app.inject({ method: 'GET', url: '/api/v1/orders/A-1' })).json();
    expect(view.counts.engraved).toBe(3);
    expect(view.firearms.map((f: { code: { text: string } }) => f.code.text)).toHaveLength(3);

    const again = await post('/api/v1/orders/A-1/pause', {}, OPERATOR);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ORDER_STATE');
  });

  it('answers 404 for an order it does not hold', async () => {
    const res = await post('/api/v1/orders/NOPE/start', {}, OPERATOR);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ORDER_NOT_FOUND');
    expect((await app.inject({ method: 'GET', url: '/api/v1/orders/NOPE' })).statusCode).toBe(404);
  });

  it('shows the line: engraver link and state, and the active orders with their counts', async () => {
    await post('/api/v1/orders', order('A-1', ['S1']), ERP);
    const line = (await app.inject({ method: 'GET', url: '/api/v1/line' })).json();
    expect(line.engraver.connected).toBe(true);
    expect(line.activeOrders[0]).toMatchObject({ id: 'A-1', state: 'queued', counts: { queued: 1 } });
  });
});
