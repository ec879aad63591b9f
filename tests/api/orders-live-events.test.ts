import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type LiveEvent, LiveEvents } from '../../src/api/events.js';
import { fakeLine } from '../support/fake-line.js';

const hubs: LiveEvents[] = [];
afterEach(() => {
  for (const h of hubs.splice(0)) h.close();
});

describe('the live events of the outbox', () => {
  it('reach every stream even when one stream throws, and nothing throws out of the timer', async () => {
    let depth = 0;
    const outbox = new EventEmitter();
    const hub = new LiveEvents({
      line: fakeLine(),
      outbox: Object.assign(outbox, {
        depth: () => depth,
        pending: () => [],
        rejected: () => [],
        retry: async () => {},
        dismiss: async () => {},
      }),
      coalesceMs: 1,
    });
    hubs.push(hub);
    const seen: LiveEvent[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.prependListener('uncaughtException', onUncaught);
    try {
      hub.subscribe(() => {
        throw new Error('this stream is broken');
      });
      hub.subscribe((e) => seen.push(e));
      depth = 3;
      outbox.emit('enqueued');
      const deadline = Date.now() + 10_000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(seen.map((e) => [e.name, JSON.parse(e.data)])).toEqual([
      ['outbox', { depth: 3, rejected: 0, oldestPendingAt: null }],
    ]);
  });
});
