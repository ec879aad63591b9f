/**
 * The API handles a few requests at a time and lets the rest wait, so that no burst of requests
 * holds the event loop from the engraver's replies; health probes and event streams never wait.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { fairShare } from '../../src/api/fair-share.js';
import { StamplineError } from '../../src/errors.js';

function app(opts: Parameters<typeof fairShare>[1]) {
  const a = Fastify();
  fairShare(a, opts);
  a.setErrorHandler((err, _req, reply) =>
    err instanceof StamplineError
      ? reply.status(err.status).send({ error: err.toJSON() })
      : reply.status(500).send({ error: { code: 'INTERNAL' } }),
  );
  let now = 0;
  let most = 0;
  const gates: Array<() => void> = [];
  a.get('/work', async () => {
    now++;
    most = Math.max(most, now);
    await new Promise<void>((r) => gates.push(r));
    now--;
    return { ok: true };
  });
  a.get('/healthz', async () => ({ ok: true }));
  return {
    a,
    most: () => most,
    running: () => now,
    openAll: () => {
      for (const g of gates.splice(0)) g();
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('turns at the API', () => {
  it('runs at most `concurrent` handlers at once, and every request is answered', async () => {
    const t = app({ concurrent: 2 });
    const all = Array.from({ length: 10 }, () => t.a.inject({ method: 'GET', url: '/work' }));
    const done = Promise.all(all);
    for (let k = 0; k < 10; k++) {
      await settle();
      expect(t.running()).toBeLessThanOrEqual(2);
      t.openAll();
    }
    const answers = await done;
    expect(answers.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    expect(t.most()).toBe(2);
  });

  it('answers /healthz at once while every turn is taken', async () => {
    const t = app({ concurrent: 1 });
    const held = [t.a.inject({ method: 'GET', url: '/work' }), t.a.inject({ method: 'GET', url: '/work' })];
    await settle();
    const health = await t.a.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    while (t.running() > 0 || t.most() === 0) {
      t.openAll();
      await settle();
    }
    t.openAll();
    await Promise.all(held);
  });

  it('refuses with 503 API_BUSY beyond the requests that may wait', async () => {
    const t = app({ concurrent: 1, waiting: 1 });
    const first = t.a.inject({ method: 'GET', url: '/work' });
    await settle();
    const second = t.a.inject({ method: 'GET', url: '/work' });
    await settle();
    const third = await t.a.inject({ method: 'GET', url: '/work' });
    expect(third.statusCode).toBe(503);
    expect(third.json().error.code).toBe('API_BUSY');
    for (let k = 0; k < 3; k++) {
      t.openAll();
      await settle();
    }
    expect((await first).statusCode).toBe(200);
    expect((await second).statusCode).toBe(200);
  });
});
