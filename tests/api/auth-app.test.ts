/** Access control inside the API as the daemon builds it (src/api/app.ts), not a test double of it. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { Auth } from '../../src/api/auth/index.js';
import { fakeLine } from '../support/fake-line.js';
import { FAST_HASH, login, PASSWORD, seedUsers, TOKENS, tempDataDir } from './auth-support.js';

let app: FastifyInstance;
let auth: Auth;
let remove: () => Promise<void>;

beforeAll(async () => {
  const data = await tempDataDir();
  remove = data.remove;
  await seedUsers(data.dir, [
    { name: 'ada', role: 'admin', password: PASSWORD },
    { name: 'ana', role: 'operator', password: PASSWORD },
  ]);
  auth = new Auth({ dataDir: data.dir, tokens: TOKENS, sessionTtlMinutes: 30, hashParams: FAST_HASH });
  await auth.start();
  app = buildApp({
    line: fakeLine(),
    auth,
    health: () => ({ ok: true, checks: {} }),
    version: 'test',
    processMetrics: false,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await auth?.stop();
  await remove?.();
});

describe('the access routes in the API', () => {
  it('log in and manage users, with bad input named field by field', async () => {
    const cookie = await login(app, 'ada', PASSWORD);
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { cookie },
      payload: { name: 'Bad Name', role: 'boss', password: 'short' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_INPUT');
    expect(
      bad
        .json()
        .problems.map((p: { path: string }) => p.path)
        .sort(),
    ).toEqual(['name', 'password', 'role']);
    const good = await app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { cookie },
      payload: { name: 'bob', role: 'qa', password: 'long enough password' },
    });
    expect(good.statusCode).toBe(201);
  });

  it('feed the guards of the other routes: a session is a user, a token a machine', async () => {
    const ana = await login(app, 'ana', PASSWORD);
    const asOperator = await app.inject({ method: 'GET', url: '/api/v1/audit', headers: { cookie: ana } });
    expect(asOperator.statusCode).toBe(403);
    expect(asOperator.json().error.message).toContain('user ana (operator)');
    const asErp = await app.inject({
      method: 'GET',
      url: '/api/v1/audit',
      headers: { authorization: `Bearer ${TOKENS.erp}` },
    });
    expect(asErp.statusCode).toBe(403);
    expect(asErp.json().error.message).toContain('the erp token');
    const nobody = await app.inject({ method: 'GET', url: '/api/v1/audit' });
    expect(nobody.statusCode).toBe(401);
  });

  it('refuse a change sent with the session cookie that is not JSON', async () => {
    const ana = await login(app, 'ana', PASSWORD);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/engraver/reset',
      headers: { cookie: ana, 'content-type': 'text/plain' },
      payload: 'reset',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('AUTH_JSON_REQUIRED');
  });

  it('are in the OpenAPI document, login open and the others not', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/session', '/api/v1/users', '/api/v1/users/{name}']),
    );
    expect(doc.paths['/api/v1/session'].post.security).toEqual([]);
    expect(
      doc.paths['/api/v1/users'].post.requestBody.content['application/json'].schema.properties,
    ).toHaveProperty('password');
  });
});
