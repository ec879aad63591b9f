/** The audit trail for supervisors: filtered and paged reads, a time window, and the chain check. */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../src/store/audit.js';
import { makeDir, removeDir } from '../line/harness.js';
import { fakeLine } from '../support/fake-line.js';
import { apiFor, type TestApi } from './support.js';

let dir: string;
let trail: AuditTrail;
let api: TestApi;
let clock = Date.parse('2026-03-01T08:00:00Z');

beforeEach(async () => {
  dir = await makeDir();
  clock = Date.parse('2026-03-01T08:00:00Z');
  trail = new AuditTrail({ dataDir: join(dir, 'trail'), now: () => new Date(clock) });
  await trail.start();
  // Users log in at 08:00; the line's own entries follow, an hour apart.
  api = await apiFor(fakeLine(), join(dir, 'auth'), { audit: trail });
  for (const [hour, actor, action, subject] of [
    [9, 'olga', 'order.start', 'order:A-1'],
    [10, 'line', 'code.void', 'firearm:S1'],
    [11, 'sam', 'order.pause', 'order:A-1'],
    [12, 'olga', 'order.resume', 'order:A-1'],
  ] as const) {
    clock = Date.parse(`2026-03-01T${String(hour).padStart(2, '0')}:00:00Z`);
    await trail.record({ actor, action, subject });
  }
});

afterEach(async () => {
  await api.close();
  await trail.stop();
  await removeDir(dir);
});

const audit = async (query: string) => {
  const res = await api.app.inject({
    method: 'GET',
    url: `/api/v1/audit${query}`,
    headers: api.as('user supervisor'),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().entries as Array<{ seq: number; actor: string; action: string; time: string }>;
};

describe('GET /api/v1/audit', () => {
  it('answers entries newest first, filtered by actor, action or subject', async () => {
    const all = await audit('');
    expect(all.map((e) => e.action).slice(0, 4)).toEqual([
      'order.resume',
      'order.pause',
      'code.void',
      'order.start',
    ]);
    expect(
      all
        .filter((e) => e.action === 'session.login')
        .map((e) => e.actor)
        .sort(),
    ).toEqual(['ada', 'olga', 'quentin', 'sam']);
    expect((await audit('?actor=olga')).map((e) => e.action)).toEqual([
      'order.resume',
      'order.start',
      'session.login',
    ]);
    expect((await audit('?action=order.pause')).map((e) => e.actor)).toEqual(['sam']);
    expect((await audit('?subject=order%3AA-1&limit=2')).map((e) => e.action)).toEqual([
      'order.resume',
      'order.pause',
    ]);
  });

  it('bounds the time with from and to, and pages back with before', async () => {
    const window = await audit('?from=2026-03-01T09:30:00Z&to=2026-03-01T11:00:00Z');
    expect(window.map((e) => e.action)).toEqual(['order.pause', 'code.void']);
    expect((await audit('?from=2026-03-01T11:30:00Z')).map((e) => e.action)).toEqual(['order.resume']);

    const first = await audit('?limit=3');
    const next = await audit(`?limit=3&before=${first.at(-1)!.seq}`);
    expect(next[0]!.seq).toBe(first.at(-1)!.seq - 1);
    expect([...first, ...next].map((e) => e.seq)).toEqual([
      ...new Set([...first, ...next].map((e) => e.seq)),
    ]);
  });

  it('refuses a window that ends before it starts, naming from', async () => {
    const res = await api.app.inject({
      method: 'GET',
      url: '/api/v1/audit?from=2026-03-02&to=2026-03-01',
      headers: api.as('user supervisor'),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().problems.map((p: { path: string }) => p.path)).toEqual(['from']);
  });
});

describe('GET /api/v1/audit/verify', () => {
  it('says the trail verifies, and names the first entry changed behind its back', async () => {
    const verify = async () =>
      (
        await api.app.inject({ method: 'GET', url: '/api/v1/audit/verify', headers: api.as('user admin') })
      ).json();
    const entries = await audit('?limit=1000');
    const ok = await verify();
    expect(ok).toMatchObject({
      ok: true,
      count: entries.length,
      head: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const pause = entries.find((e) => e.action === 'order.pause')!;

    const folder = join(dir, 'trail', 'audit');
    const [segment] = (await readdir(folder)).filter((f) => f.endsWith('.jsonl'));
    const file = join(folder, segment!);
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      text.replace('"actor":"sam","action":"order.pause"', '"actor":"olga","action":"order.pause"'),
    );
    expect(await verify()).toMatchObject({
      ok: false,
      count: pause.seq - 1,
      firstBad: { seq: pause.seq, reason: expect.stringContaining('hash') },
    });
  });
});
