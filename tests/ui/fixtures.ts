/**
 * A fastify app with the UI plugin and what the real app puts around it: an identity from a
 * test header (in place of the session cookie) and the API's JSON error shape. The certificate
 * source is a fake holding a few records, some with text that must be escaped.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { USER_ROLES, type UserRole } from '../../src/api/auth/types.js';
import { type CertificateSource, uiPlugin } from '../../src/api/ui/index.js';
import { encode } from '../../src/codes/index.js';
import { StamplineError } from '../../src/errors.js';
import type { Firearm, OrderHeader } from '../../src/line/model.js';
import type { FirearmRecord, Verdict } from '../../src/qa/types.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
export const HOSTILE = '<script>alert("x")</script> & \'Co\'';

export function code(index: number) {
  const c = encode(42, index, KEY);
  return { index, text: c.text, gear: c.gear, jobId: index + 1, allocatedAt: '2026-03-01T08:00:00.000Z' };
}

export function orderHeader(over: Partial<OrderHeader> = {}): OrderHeader {
  return {
    id: 'ORD-1',
    make: 'Acme',
    model: 'P1',
    caliber: '9mm',
    target: 'firing-pin',
    destination: 'FFL-1-23-456',
    state: 'engraved',
    createdAt: '2026-03-01T07:00:00.000Z',
    size: 3,
    source: 'ui',
    ...over,
  };
}

export function firearm(serial: string, seq: number, over: Partial<Firearm> = {}): Firearm {
  return {
    serial,
    orderId: 'ORD-1',
    seq,
    rework: false,
    state: 'engraved',
    code: code(seq),
    voided: [],
    engravedAt: '2026-03-01T09:00:00.000Z',
    history: [{ at: '2026-03-01T07:00:00.000Z', state: 'queued' }],
    ...over,
  };
}

export function verdict(status: Verdict['status'], grade: Verdict['grade'] = 'B'): Verdict {
  return {
    status,
    policy: 'every-case',
    casings: status === 'pending' ? 1 : 3,
    needed: 3,
    grade,
    reason: status === 'pass' ? 'all 3 cases decoded to the code' : 'waiting for cases',
  };
}

export class FakeSource implements CertificateSource {
  readonly issuer = { number: 42, kind: 'engraver' as const, licence: 'LIC-<b>7</b>' };
  readonly lineId = 'line-1';
  readonly records = new Map<string, FirearmRecord>();
  readonly orders = new Map<string, OrderHeader>();
  calls: string[] = [];

  add(record: FirearmRecord): void {
    this.records.set(record.firearm.serial, record);
    this.orders.set(record.order.id, record.order);
  }

  async firearm(serial: string): Promise<FirearmRecord> {
    this.calls.push(`firearm:${serial}`);
    const r = this.records.get(serial);
    if (!r) throw new StamplineError('QA_UNKNOWN_FIREARM', `no firearm ${serial} on this line`, { serial });
    return r;
  }

  async order(id: string): Promise<{ order: OrderHeader; firearms: FirearmRecord[] }> {
    this.calls.push(`order:${id}`);
    const order = this.orders.get(id);
    if (!order) throw new StamplineError('ORDER_NOT_FOUND', `no order ${id}`, { orderId: id });
    return { order, firearms: [...this.records.values()].filter((r) => r.order.id === id) };
  }
}

/** `x-test-role: qa` logs the request in as a user of that role; no header, no identity. */
export async function buildUiApp(source: CertificateSource): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (req) => {
    const role = req.headers['x-test-role'];
    if (typeof role === 'string' && (USER_ROLES as readonly string[]).includes(role)) {
      req.identity = { kind: 'user', name: `${role}-user`, role: role as UserRole };
    }
  });
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof StamplineError) return reply.status(err.status).send({ error: err.toJSON() });
    return reply.status(500).send({ error: { code: 'INTERNAL', message: String(err), context: {} } });
  });
  await uiPlugin(app, { certificates: source, now: () => new Date('2026-03-02T10:30:00.000Z') });
  await app.ready();
  return app;
}
