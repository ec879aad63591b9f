/**
 * The session and user routes refuse a caller without the right before reading the body, as
 * the other routes do, and read at most a small body from anyone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_BODY_LIMIT } from '../../src/api/auth/routes.js';
import { errorBody, login, PASSWORD, type Rig, rig, TOKENS } from './auth-support.js';

let r: Rig;
let admin: string;
let operator: string;

beforeAll(async () => {
  r = await rig([
    { name: 'ada', role: 'admin', password: PASSWORD },
    { name: 'ana', role: 'operator', password: PASSWORD },
  ]);
  admin = await login(r.app, 'ada', PASSWORD);
  operator = await login(r.app, 'ana', PASSWORD);
});

afterAll(async () => {
  await r?.close();
});

const writes = [
  ['POST', '/api/v1/users'],
  ['PATCH', '/api/v1/users/ana'],
] as const;

/** More than the app reads from anyone (fastify's default limit in the test app is 1 MiB). */
const huge = JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) });

describe('the user routes refuse before reading the body', () => {
  for (const [method, url] of writes) {
    it(`${method} ${url}: 403 for a forbidden caller, whatever the body`, async () => {
      for (const headers of [{ cookie: operator }, { authorization: `Bearer ${TOKENS.erp}` }]) {
        for (const payload of ['{"broken json', huge]) {
          const res = await r.app.inject({
            method,
            url,
            headers: { ...headers, 'content-type': 'application/json' },
            payload,
          });
          expect(res.statusCode).toBe(403);
          expect(errorBody(res).error.code).toBe('AUTH_FORBIDDEN');
        }
      }
    });

    it(`${method} ${url}: 401 without an identity, whatever the body`, async () => {
      const res = await r.app.inject({
        method,
        url,
        headers: { 'content-type': 'application/json' },
        payload: '{"broken json',
      });
      expect(res.statusCode).toBe(401);
      expect(errorBody(res).error.code).toBe('AUTH_REQUIRED');
    });

    it(`${method} ${url}: an admin may send at most ${AUTH_BODY_LIMIT} bytes`, async () => {
      const res = await r.app.inject({
        method,
        url,
        headers: { cookie: admin, 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'bob', role: 'qa', password: 'p'.repeat(AUTH_BODY_LIMIT) }),
      });
      expect(res.statusCode).toBe(413);
    });
  }

  it('GET /api/v1/session without an identity is 401 before anything else', async () => {
    const res = await r.app.inject({ method: 'GET', url: '/api/v1/session' });
    expect(res.statusCode).toBe(401);
  });
});

describe('logging in', () => {
  it(`reads at most ${AUTH_BODY_LIMIT} bytes`, async () => {
    const res = await r.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { username: 'ada', password: 'p'.repeat(AUTH_BODY_LIMIT) },
    });
    expect(res.statusCode).toBe(413);
  });

  it('still takes an ordinary login', async () => {
    await expect(login(r.app, 'ada', PASSWORD)).resolves.toMatch(/^stampline_session=/);
  });
});
