/**
 * An event stream lives no longer than the identity it was opened with: a logout, a disabled
 * user or an expired session ends it at the next heartbeat or event, a bearer token's goes on.
 */
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { Auth } from '../../src/api/auth/index.js';
import { changeUser } from '../../src/api/auth/users.js';
import { UsersFile } from '../../src/api/auth/users-file.js';
import { fakeLine } from '../support/fake-line.js';
import { FAST_HASH, FakeClock, login, PASSWORD, seedUsers, TOKENS, tempDataDir } from './auth-support.js';

interface Setup {
  app: FastifyInstance;
  auth: Auth;
  clock: FakeClock;
  dataDir: string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<Setup> {
  const data = await tempDataDir();
  cleanups.push(data.remove);
  await seedUsers(data.dir, [
    { name: 'ada', role: 'admin', password: PASSWORD },
    { name: 'ana', role: 'operator', password: PASSWORD },
  ]);
  const clock = new FakeClock();
  const auth = new Auth({
    dataDir: data.dir,
    tokens: TOKENS,
    sessionTtlMinutes: 30,
    hashParams: FAST_HASH,
    now: clock.now,
    pollMs: 20,
  });
  await auth.start();
  cleanups.push(() => auth.stop());
  const app = buildApp({
    line: fakeLine(),
    auth,
    health: () => ({ ok: true, checks: {} }),
    version: 'test',
    processMetrics: false,
    heartbeatMs: 20,
    closeGraceMs: 200,
  });
  await app.ready();
  cleanups.push(() => app.close());
  return { app, auth, clock, dataDir: data.dir };
}

/** Opens a stream and follows it. */
async function open(app: FastifyInstance, headers: Record<string, string>) {
  const res = await app.inject({ method: 'GET', url: '/api/v1/events', headers, payloadAsStream: true });
  expect(res.statusCode).toBe(200);
  const stream = res.stream() as Readable;
  let text = '';
  let ended = false;
  stream.on('data', (c: Buffer) => {
    text += c.toString('utf8');
  });
  for (const e of ['end', 'close', 'error']) {
    stream.on(e, () => {
      ended = true;
    });
  }
  return {
    ended: () => ended,
    heartbeats: () => text.split(': heartbeat').length - 1,
    text: () => text,
    stop: () => stream.destroy(),
  };
}

const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 10 });

describe('an event stream opened with a session', () => {
  it('ends after the user logs out, and says why', async () => {
    const s = await setup();
    const cookie = await login(s.app, 'ana', PASSWORD);
    const stream = await open(s.app, { cookie });
    await waitFor(() => expect(stream.heartbeats()).toBeGreaterThan(0));
    expect(stream.ended()).toBe(false);
    const out = await s.app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie },
      payload: {},
    });
    expect(out.statusCode).toBe(204);
    await waitFor(() => expect(stream.ended()).toBe(true));
    expect(stream.text()).toContain('session ended');
  });

  it('ends after an admin disables the user', async () => {
    const s = await setup();
    const admin = await login(s.app, 'ada', PASSWORD);
    const cookie = await login(s.app, 'ana', PASSWORD);
    const stream = await open(s.app, { cookie });
    await waitFor(() => expect(stream.heartbeats()).toBeGreaterThan(0));
    const res = await s.app.inject({
      method: 'PATCH',
      url: '/api/v1/users/ana',
      headers: { cookie: admin },
      payload: { disabled: true },
    });
    expect(res.statusCode).toBe(200);
    await waitFor(() => expect(stream.ended()).toBe(true));
  });

  it('ends after the user is disabled on the command line', async () => {
    const s = await setup();
    const cookie = await login(s.app, 'ana', PASSWORD);
    const stream = await open(s.app, { cookie });
    await waitFor(() => expect(stream.heartbeats()).toBeGreaterThan(0));
    await new UsersFile(s.dataDir).update((doc) =>
      changeUser(doc, 'ana', { disabled: true }, 'cli:test', new Date()),
    );
    await waitFor(() => expect(stream.ended()).toBe(true));
  });

  it('ends once the session has expired, the stream itself not keeping it alive', async () => {
    const s = await setup();
    const cookie = await login(s.app, 'ana', PASSWORD);
    const stream = await open(s.app, { cookie });
    await waitFor(() => expect(stream.heartbeats()).toBeGreaterThan(0));
    s.clock.advance(31 * 60_000);
    await waitFor(() => expect(stream.ended()).toBe(true));
  });

  it('of another user goes on, as does one opened with a bearer token', async () => {
    const s = await setup();
    const ana = await login(s.app, 'ana', PASSWORD);
    const ada = await login(s.app, 'ada', PASSWORD);
    const anas = await open(s.app, { cookie: ana });
    const adas = await open(s.app, { cookie: ada });
    const token = await open(s.app, { authorization: `Bearer ${TOKENS.operator}` });
    await s.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: ana }, payload: {} });
    await waitFor(() => expect(anas.ended()).toBe(true));
    const [a, t] = [adas.heartbeats(), token.heartbeats()];
    await waitFor(() => {
      expect(adas.heartbeats()).toBeGreaterThan(a + 2);
      expect(token.heartbeats()).toBeGreaterThan(t + 2);
    });
    expect(adas.ended() || token.ended()).toBe(false);
    adas.stop();
    token.stop();
  });
});
