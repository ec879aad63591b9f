/**
 * Server-sent events: a client sees the line's state at once and every change after, streams
 * are kept open with comments, and a stream ends with its client and with the app.
 */
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { engravedRecord } from '../../simulators/registry/sample.js';
import { until } from '../line/harness.js';
import { apiFor, type Caller, engrave, useStation } from './support.js';

const s = useStation({
  per: 'test',
  markingTimeMs: 0,
  outbox: true,
  api: { heartbeatMs: 50, closeGraceMs: 200 },
});

interface Frame {
  event?: string;
  id?: string;
  // biome-ignore lint/suspicious/noExplicitAny: events carry whatever JSON the line sends
  data?: any;
  comment?: string;
}

/** An open event stream, read as it arrives. */
async function subscribe(who: Caller = 'user operator') {
  const res = await s.api.app.inject({
    method: 'GET',
    url: '/api/v1/events',
    headers: s.api.as(who),
    payloadAsStream: true,
  });
  const stream = res.stream() as Readable;
  let text = '';
  let ended = false;
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  stream.on('end', () => {
    ended = true;
  });
  stream.on('close', () => {
    ended = true;
  });
  const frames = (): Frame[] =>
    text
      .split('\n\n')
      .slice(0, -1)
      .map((block) => {
        const f: Frame = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) f.comment = line.slice(1).trim();
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('id: ')) f.id = line.slice(4);
          else if (line.startsWith('data: ')) f.data = JSON.parse(line.slice(6));
        }
        return f;
      });
  return {
    status: res.statusCode,
    headers: res.headers,
    frames,
    events: (name: string) => frames().filter((f) => f.event === name),
    ended: () => ended,
    close: () => stream.destroy(),
  };
}

describe('GET /api/v1/events', () => {
  it('sends the line at once, then the order, its firearms and the outbox as they change', async () => {
    const sub = await subscribe();
    expect(sub.status).toBe(200);
    expect(sub.headers['content-type']).toContain('text/event-stream');
    await until(() => sub.events('line').length > 0, 'the first snapshot');
    expect(sub.frames().find((f) => f.event)).toMatchObject({
      event: 'line',
      data: { engraver: { connected: true }, activeOrders: [] },
    });
    expect(sub.events('outbox')[0]?.data).toEqual({ depth: 0, rejected: 0, oldestPendingAt: null });

    await engrave(s, 'A-1', ['S1', 'S2']);
    await until(() => sub.events('order').some((f) => f.data.order.state === 'engraved'), 'the order done');
    const engraved = sub
      .events('firearm')
      .filter((f) => f.data.firearm.state === 'engraved')
      .map((f) => f.data.firearm.serial);
    expect(engraved).toEqual(['S1', 'S2']);
    expect(sub.events('order').map((f) => f.data.order.state)).toEqual(['queued', 'running', 'engraved']);
    await until(() => sub.events('line').length > 1, 'a snapshot after the change');

    const queuedFrom = Date.now();
    await s.outbox.enqueue([engravedRecord()]);
    await until(() => sub.events('outbox').some((f) => f.data.depth === 1), 'the outbox event');
    // the oldest record's age is the Line screen's: when it was queued
    const oldest = sub.events('outbox').find((f) => f.data.depth === 1)!.data.oldestPendingAt;
    expect(Date.parse(oldest)).toBeGreaterThanOrEqual(queuedFrom - 1);
    expect(Date.parse(oldest)).toBeLessThanOrEqual(Date.now());

    const ids = sub.frames().flatMap((f) => (f.id ? [Number(f.id)] : []));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    sub.close();
  });

  it('follows an outbox without events of its own by looking at its depth', async () => {
    let depth = 0;
    await s.api.close();
    s.api = await apiFor(s.h.line, join(s.dir, 'auth-2'), {
      outbox: {
        depth: () => depth,
        pending: () => [],
        rejected: () => [],
        retry: async () => {},
        dismiss: async () => {},
      },
      outboxPollMs: 20,
    });
    const sub = await subscribe();
    await until(() => sub.events('outbox').length > 0, 'the first outbox event');
    depth = 3;
    await until(() => sub.events('outbox').some((f) => f.data.depth === 3), 'the new depth');
    sub.close();
  });

  it('sends each QA read with its verdict', async () => {
    const code = (await engrave(s, 'A-1', ['S1'])).get('S1')!;
    const sub = await subscribe('token erp');
    await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/qa/reads',
      headers: s.api.as('user qa'),
      payload: { serial: 'S1', ...code, ammo: { brand: 'Federal', lacquered: false } },
    });
    await until(() => sub.events('qa').length > 0, 'the qa event');
    expect(sub.events('qa')[0]!.data).toMatchObject({
      serial: 'S1',
      read: { by: 'quentin', code: { text: code.text } },
      verdict: { status: 'pending' },
      outcome: 'pending',
    });
    sub.close();
  });

  it('keeps a quiet stream open with comments', async () => {
    const sub = await subscribe();
    await until(() => sub.frames().filter((f) => f.comment === 'heartbeat').length >= 2, 'two heartbeats');
    sub.close();
  });

  it('stops listening to the line when the client goes', async () => {
    await s.api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = s.api.app.server.address() as { port: number };
    const before = s.h.line.listenerCount('firearm');
    const gone = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`, {
      headers: s.api.as('user operator'),
      signal: gone.signal,
    });
    await res.body!.getReader().read();
    expect(s.h.line.listenerCount('firearm')).toBe(before + 1);
    gone.abort();
    await until(() => s.h.line.listenerCount('firearm') === before, 'the listener gone');
  });

  it('ends every stream when the app closes, so the daemon can stop', async () => {
    const subs = [await subscribe(), await subscribe('token qa')];
    await until(() => subs.every((x) => x.events('line').length > 0), 'both streams open');
    await s.api.app.close();
    await until(() => subs.every((x) => x.ended()), 'both streams ended');
  });

  it('ends a stream over a real socket when the app closes', async () => {
    await s.api.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = s.api.app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/events`, {
      headers: s.api.as('user qa'),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('retry:');
    await s.api.app.close();
    for (;;) if ((await reader.read()).done) break;
  });
});
