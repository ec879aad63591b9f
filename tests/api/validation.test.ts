/**
 * Bad input on every route is refused with 400 and a problem naming the field, in the one error
 * shape of the API; so are fastify's own refusals, and nothing unforeseen leaks its details.
 */
import { describe, expect, it } from 'vitest';
import { ROUTES } from './route-table.js';
import { useStation } from './support.js';

const s = useStation({ per: 'file', markingTimeMs: 0 });

/** Routes whose refusal of bad input has a code of its own (spec and issue 5). */
const CODE: Record<string, string> = {
  '/api/v1/orders': 'ORDER_INVALID',
  '/api/v1/qa/reads': 'QA_INVALID_READ',
  '/api/v1/identify': 'IDENTIFY_INVALID_READS',
};

const withBadInput = ROUTES.filter((r) => r.bad).map((r) => [`${r.method} ${r.route}`, r] as const);

describe('bad input', () => {
  it.each(withBadInput)('%s names the bad field', async (_name, r) => {
    const bad = r.bad!;
    const res = await s.api.app.inject({
      method: r.method,
      url: bad.url ?? r.url,
      headers: s.api.as('user admin'),
      ...(bad.body !== undefined ? { payload: bad.body as object } : {}),
    });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe(CODE[r.route] ?? 'INVALID_INPUT');
    expect(body.error.message).toEqual(expect.any(String));
    const problem = body.problems.find((p: { path: string }) => p.path === bad.field);
    expect(problem, JSON.stringify(body.problems)).toBeDefined();
    expect(problem.reason.length).toBeGreaterThan(3);
  });

  it('names every bad field of one request, and a field that is not part of the input', async () => {
    const res = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/qa/reads',
      headers: s.api.as('user qa'),
      payload: { serial: 'S 1', ammo: { brand: '', lacquered: 'no' }, colour: 'red' },
    });
    expect(res.statusCode).toBe(400);
    const paths = res.json().problems.map((p: { path: string }) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['serial', 'ammo.brand', 'ammo.lacquered', 'colour']));
  });

  it('says a missing field is required', async () => {
    const res = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/outbox/00000000-0000-4000-8000-000000000000/dismiss',
      headers: s.api.as('user supervisor'),
      payload: {},
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().problems).toEqual([{ path: 'reason', reason: expect.stringMatching(/^required/) }]);
  });

  it('refuses a body that is not JSON, or not JSON at all, in the same shape', async () => {
    const broken = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { ...s.api.as('token erp'), 'content-type': 'application/json' },
      payload: '{"id": "x", ',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error).toMatchObject({ code: 'INVALID_INPUT', message: expect.any(String) });

    const text = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { ...s.api.as('token erp'), 'content-type': 'text/csv' },
      payload: 'order_id,make\n',
    });
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('INVALID_INPUT');
  });

  it('answers an unknown route with 404 NOT_FOUND naming it', async () => {
    const res = await s.api.app.inject({
      method: 'GET',
      url: '/api/v1/nothing-here?x=1',
      headers: s.api.as('user admin'),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toEqual({
      code: 'NOT_FOUND',
      message: 'no route GET /api/v1/nothing-here',
      context: {},
    });
  });
});

describe('unforeseen failures', () => {
  it('answer 500 INTERNAL without the details, which stay in the log', async () => {
    const original = s.h.line.summary.bind(s.h.line);
    s.h.line.summary = () => {
      throw new Error('secret path /var/lib/stampline/key');
    };
    try {
      const res = await s.api.app.inject({
        method: 'GET',
        url: '/api/v1/line',
        headers: s.api.as('user operator'),
      });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: { code: 'INTERNAL', message: 'internal error', context: {} } });
      expect(res.body).not.toContain('secret');
    } finally {
      s.h.line.summary = original;
    }
  });

  it('keep a catalogue error as it is: status, code, message and context', async () => {
    const res = await s.api.app.inject({
      method: 'GET',
      url: '/api/v1/orders/NOPE',
      headers: s.api.as('user operator'),
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({
      error: { code: 'ORDER_NOT_FOUND', message: 'no order NOPE', context: { orderId: 'NOPE' } },
    });
  });
});
