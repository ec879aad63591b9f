import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { type Harness, makeDir, removeDir, startLine, until } from '../line/harness.js';
import { apiFor, type Caller, type TestApi } from './support.js';

let h: Harness;
let api: TestApi;
let app: FastifyInstance;
let dir: string;
let device: EngraverDevice;

beforeEach(async () => {
  dir = await makeDir();
  device = new EngraverDevice({ markingTimeMs: 0 });
  h = await startLine(dir, device);
  api = await apiFor(h.line, join(dir, 'auth'));
  app = api.app;
});

afterEach(async () => {
  await api.close();
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
const post = (url: string, body: unknown, who?: Caller) =>
  app.inject({ method: 'POST', url, payload: body as object, headers: who ? api.as(who) : {} });
const get = (url: string, who: Caller = 'user operator') =>
  app.inject({ method: 'GET', url, headers: api.as(who) });

describe('POST /api/v1/orders', () => {
  it('stores a valid order and answers 201 with the order as stored', async () => {
    const res = await post('/api/v1/orders', order('A-1', ['S1', 'S2']), 'token erp');
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
      'token erp',
    );
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('ORDER_INVALID');
    const paths = body.problems.map((p: { path: string }) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['id', 'model', 'target', 'firearms[0].serial', 'firearms[2].serial']),
    );
    for (const p of body.problems) expect(p.reason).toEqual(expect.any(String));
    expect((await get('/api/v1/orders')).json().all).toEqual([]);
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      payload: '{"id": "x", ',
      headers: { ...api.as('token erp'), 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
  });

  it('answers 409 for an order id or a serial it already holds, leaving the stored order as it was', async () => {
    expect((await post('/api/v1/orders', order('A-1', ['S1', 'S2']), 'token erp')).statusCode).toBe(201);
    const before = (await get('/api/v1/orders/A-1')).json();

    const sameId = await post('/api/v1/orders', order('A-1', ['S9']), 'token erp');
    expect(sameId.statusCode).toBe(409);
    expect(sameId.json().error.code).toBe('ORDER_EXISTS');

    const sameSerial = await post('/api/v1/orders', order('A-2', ['S3', 'S2']), 'token erp');
    expect(sameSerial.statusCode).toBe(409);
    expect(sameSerial.json().error).toMatchObject({ code: 'SERIAL_EXISTS' });
    expect(sameSerial.json().error.message).toContain('S2');

    expect((await get('/api/v1/orders/A-1')).json()).toEqual(before);
    expect((await get('/api/v1/orders/A-2')).statusCode).toBe(404);
  });

  it('refuses a caller without identity, and the ERP may submit but not start an order', async () => {
    const anonymous = await post('/api/v1/orders', order('A-1', ['S1']));
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('AUTH_REQUIRED');
    expect((await post('/api/v1/orders', order('A-1', ['S1']), 'token erp')).statusCode).toBe(201);
    const start = await post('/api/v1/orders/A-1/start', {}, 'token erp');
    expect(start.statusCode).toBe(403);
    expect(start.json().error.code).toBe('AUTH_FORBIDDEN');
  });

  it('records who sent an order: source `ui` and the user name for a person, `http` and the role for a machine', async () => {
    expect((await post('/api/v1/orders', order('A-1', ['S1']), 'user operator')).json().source).toBe('ui');
    expect((await post('/api/v1/orders', order('A-2', ['S2']), 'token erp')).json().source).toBe('http');
    expect(h.audit.filter((e) => e.action === 'order.create').map((e) => [e.subject, e.actor])).toEqual([
      ['order:A-1', 'olga'],
      ['order:A-2', 'erp'],
    ]);
  });
});

describe('operator actions on an order', () => {
  it('starts an order, which then runs to done, and refuses actions that do not fit its state', async () => {
    await post('/api/v1/orders', order('A-1', ['S1', 'S2', 'S3']), 'token erp');
    const started = await post('/api/v1/orders/A-1/start', {}, 'token operator');
    expect(started.statusCode).toBe(200);
    expect(started.json().state).toBe('running');
    await until(async () => (await get('/api/v1/orders/A-1')).json().order.state === 'engraved', 'done');

    const view = (await get('/api/v1/orders/A-1')).json();
    expect(view.counts.engraved).toBe(3);
    expect(view.firearms.map((f: { code: { text: string } }) => f.code.text)).toHaveLength(3);

    const again = await post('/api/v1/orders/A-1/pause', {}, 'token operator');
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ORDER_STATE');
  });

  it('shows an engraved order on the line with its QA backlog until QA has passed it, then lists it complete', async () => {
    await post('/api/v1/orders', order('A-1', ['S1', 'S2']), 'token erp');
    await post('/api/v1/orders/A-1/start', {}, 'token operator');
    await until(async () => {
      const line = (await get('/api/v1/line')).json();
      return line.activeOrders.length === 0 && line.backlog.engravedTotal === 1;
    }, 'A-1 engraved and waiting for QA');

    const line = (await get('/api/v1/line')).json();
    expect(line.backlog.awaitingQa).toBe(2);
    expect(line.backlog.engravedOrders).toEqual([
      expect.objectContaining({
        id: 'A-1',
        state: 'engraved',
        counts: expect.objectContaining({ engraved: 2, verified: 0, accepted: 0 }),
      }),
    ]);
    const listed = (await get('/api/v1/orders?state=engraved')).json().all;
    expect(listed.map((o: { id: string; counts?: object }) => [o.id, o.counts])).toEqual([
      ['A-1', expect.objectContaining({ engraved: 2, verified: 0 })],
    ]);

    // QA passes both (this line's records are taken as accepted once out of the sink)
    for (const f of (await get('/api/v1/orders/A-1')).json().firearms) {
      await h.line.applyVerdict({ orderId: 'A-1', seq: f.seq }, f.code, {
        result: 'pass',
        policy: 'every-case',
        grade: 'B',
        casings: 3,
        reason: 'every case grades C or better',
        at: new Date().toISOString(),
        by: 'alice',
      });
    }
    await h.line.settledCompletion();
    const view = (await get('/api/v1/orders/A-1')).json();
    expect(view.order.state).toBe('complete');
    expect(view.order.completedAt).toEqual(expect.any(String));
    expect(view.counts).toMatchObject({ engraved: 2, verified: 2, accepted: 2 });
    expect((await get('/api/v1/line')).json().backlog).toEqual({
      awaitingQa: 0,
      engravedOrders: [],
      engravedTotal: 0,
    });
    expect((await get('/api/v1/orders?state=complete')).json().all.map((o: { id: string }) => o.id)).toEqual([
      'A-1',
    ]);
    const old = await get('/api/v1/orders?state=done');
    expect(old.statusCode).toBe(400);
    expect(old.body).toContain('not an order state: done');
    expect(old.body).toContain('engraved, complete');
  });

  it('answers 404 for an order it does not hold', async () => {
    const res = await post('/api/v1/orders/NOPE/start', {}, 'token operator');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ORDER_NOT_FOUND');
    expect((await get('/api/v1/orders/NOPE')).statusCode).toBe(404);
  });

  it('shows the line: engraver link and state, and the active orders with their counts', async () => {
    await post('/api/v1/orders', order('A-1', ['S1']), 'token erp');
    const line = (await get('/api/v1/line')).json();
    expect(line.engraver.connected).toBe(true);
    expect(line.activeOrders[0]).toMatchObject({ id: 'A-1', state: 'queued', counts: { queued: 1 } });
  });
});

describe('pause, resume and abort', () => {
  it('pause and abort keep the reason on the order; the audit trail names the user', async () => {
    device.markingTimeMs = 200;
    await post('/api/v1/orders', order('A-1', ['S1', 'S2', 'S3', 'S4']), 'token erp');
    await post('/api/v1/orders/A-1/start', {}, 'user operator');
    const paused = await post('/api/v1/orders/A-1/pause', { reason: 'lunch' }, 'user supervisor');
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ state: 'paused', reason: 'lunch' });
    const resumed = await post('/api/v1/orders/A-1/resume', {}, 'token operator');
    expect(resumed.json().state).toBe('running');
    const aborted = await post('/api/v1/orders/A-1/abort', { reason: 'wrong model' }, 'user admin');
    expect(aborted.json()).toMatchObject({ state: 'aborted', reason: 'wrong model' });
    const actions = h.audit.filter((e) => e.subject === 'order:A-1').map((e) => [e.action, e.actor]);
    expect(actions).toEqual(
      expect.arrayContaining([
        ['order.start', 'olga'],
        ['order.pause', 'sam'],
        ['order.resume', 'operator'],
        ['order.abort', 'ada'],
      ]),
    );
  });
});
