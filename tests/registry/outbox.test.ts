import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { engravedRecord } from '../../simulators/registry/sample.js';
import { Outbox } from '../../src/registry/outbox.js';
import type { RegistryRecord } from '../../src/registry/record.js';

let dir: string;
const open: Outbox[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-outbox-'));
});

afterEach(async () => {
  for (const box of open.splice(0)) await box.stop();
  await rm(dir, { recursive: true, force: true });
});

async function openBox(opts: { resendAfterMs?: number; maxSegmentBytes?: number; readOnly?: boolean } = {}) {
  const box = new Outbox({ dir, ...opts });
  await box.start();
  open.push(box);
  return box;
}

async function closeBox(box: Outbox): Promise<void> {
  await box.stop();
  open.splice(open.indexOf(box), 1);
}

const ids = (items: { recordId: string }[]) => items.map((i) => i.recordId).sort();
const T0 = 1_700_000_000_000;

describe('outbox', () => {
  it('holds a record from the moment enqueue resolves, across a restart', async () => {
    const box = await openBox();
    const records = [engravedRecord(), engravedRecord()];
    await box.enqueue(records);
    const reader = await openBox({ readOnly: true });
    expect(ids(reader.pending())).toEqual(ids(records));
    await closeBox(box);
    const again = await openBox();
    expect(ids(again.pending())).toEqual(ids(records));
    expect(again.pending().map((i) => i.state)).toEqual(['waiting', 'waiting']);
  });

  it('takes a batch all or nothing and names the bad record and field', async () => {
    const box = await openBox();
    const good = engravedRecord();
    const bad = { ...engravedRecord(), code: 'ILLEGAL!!!' };
    await expect(box.enqueue([good, bad as RegistryRecord])).rejects.toMatchObject({
      code: 'REGISTRY_BAD_RECORD',
      message: expect.stringMatching(/record 1 .*code/),
    });
    await expect(box.enqueue([good, good])).rejects.toMatchObject({ code: 'REGISTRY_BAD_RECORD' });
    expect(box.depth()).toBe(0);
  });

  it('skips a record id it already holds, so a caller may enqueue again after a crash', async () => {
    const box = await openBox();
    const r = engravedRecord();
    await box.enqueue([r]);
    await box.enqueue([r]);
    expect(box.depth()).toBe(1);
  });

  it('removes a record only on accepted or duplicate', async () => {
    const box = await openBox();
    const [a, b, c] = [engravedRecord(), engravedRecord(), engravedRecord()];
    await box.enqueue([a, b, c]);
    expect(box.takeToSend(10, T0)).toHaveLength(3);
    expect(box.depth()).toBe(3);
    box.acknowledge({ recordId: a.recordId, status: 'accepted' }, T0 + 5);
    box.acknowledge({ recordId: b.recordId, status: 'duplicate' }, T0 + 7);
    expect(ids(box.pending())).toEqual([c.recordId]);
    expect(box.stats(T0 + 10)).toMatchObject({
      accepted: 1,
      duplicates: 1,
      pending: 1,
      ackLatencyMs: [5, 7],
    });
    expect(box.acknowledge({ recordId: a.recordId, status: 'accepted' })).toBe(false);
    expect(box.stats().unknownAcks).toBe(1);
  });

  it('keeps a rejected record with its reason until an operator retries or dismisses it', async () => {
    const box = await openBox();
    const [a, b] = [engravedRecord(), engravedRecord()];
    await box.enqueue([a, b]);
    box.takeToSend(10, T0);
    box.acknowledge({ recordId: a.recordId, status: 'rejected', reason: 'code-conflict' });
    box.acknowledge({ recordId: b.recordId, status: 'rejected' });
    expect(box.rejected().map((i) => [i.recordId, i.rejection?.reason])).toEqual([
      [a.recordId, 'code-conflict'],
      [b.recordId, 'no reason given'],
    ]);
    expect(box.depth()).toBe(2);
    // A rejected record is not sent again by itself.
    expect(box.takeToSend(10, T0 + 10 * box.resendAfterMs)).toEqual([]);

    await box.retry(a.recordId, 'operator');
    expect(box.get(a.recordId)?.state).toBe('waiting');
    expect(box.takeToSend(10, T0).map((s) => s.recordId)).toEqual([a.recordId]);
    await expect(box.dismiss(b.recordId, '  ')).rejects.toMatchObject({ code: 'REGISTRY_RECORD_STATE' });
    await box.dismiss(b.recordId, 'sent to the registry by hand', 'operator');
    expect(box.get(b.recordId)).toBeUndefined();

    await closeBox(box);
    const again = await openBox();
    expect(again.rejected()).toEqual([]);
    expect(ids(again.pending())).toEqual([a.recordId]);
  });

  it('refuses to retry or dismiss a record that is not rejected', async () => {
    const box = await openBox();
    const r = engravedRecord();
    await box.enqueue([r]);
    await expect(box.retry(r.recordId)).rejects.toMatchObject({ code: 'REGISTRY_RECORD_STATE' });
    await expect(box.dismiss(r.recordId, 'no')).rejects.toMatchObject({ code: 'REGISTRY_RECORD_STATE' });
    await expect(box.retry('no-such-record')).rejects.toMatchObject({ code: 'REGISTRY_RECORD_NOT_FOUND' });
  });

  it('keeps at most a window of records in flight and refills it as acks come', async () => {
    const box = await openBox();
    const records = Array.from({ length: 5 }, () => engravedRecord());
    await box.enqueue(records);
    const first = box.takeToSend(2, T0);
    expect(first.map((s) => s.recordId)).toEqual(records.slice(0, 2).map((r) => r.recordId));
    expect(box.takeToSend(2, T0 + 1)).toEqual([]);
    box.acknowledge({ recordId: records[0]!.recordId, status: 'accepted' });
    expect(box.takeToSend(2, T0 + 2).map((s) => s.recordId)).toEqual([records[2]!.recordId]);
    expect(JSON.parse(first[0]!.payload.toString())).toEqual(records[0]);
  });

  it('sends a record again with the same id after a silence, and what was in flight when the link returns', async () => {
    const box = await openBox({ resendAfterMs: 1_000 });
    const [a, b] = [engravedRecord(), engravedRecord()];
    await box.enqueue([a, b]);
    box.takeToSend(1, T0);
    expect(box.takeToSend(1, T0 + 999)).toEqual([]);
    expect(box.takeToSend(1, T0 + 1_000).map((s) => s.recordId)).toEqual([a.recordId]);
    expect(box.stats()).toMatchObject({ sent: 1, resent: 1 });
    box.requeueInFlight();
    expect(box.takeToSend(2, T0 + 1_001).map((s) => s.recordId)).toEqual([a.recordId, b.recordId]);
    expect(box.get(a.recordId)?.attempts).toBe(3);
  });

  it('deletes settled segments, and carries an old rejected record forward so history can go', async () => {
    const box = await openBox({ maxSegmentBytes: 4_096 });
    const old = engravedRecord();
    await box.enqueue([old]);
    box.acknowledge({ recordId: old.recordId, status: 'rejected', reason: 'code-conflict' });
    for (let i = 0; i < 20; i++) {
      const batch = [engravedRecord(), engravedRecord()];
      await box.enqueue(batch);
      for (const r of batch) box.acknowledge({ recordId: r.recordId, status: 'accepted' });
      await box.flush();
    }
    expect(box.segments().length).toBeGreaterThan(5);
    await box.compact();
    expect(box.segments().length).toBeLessThanOrEqual(2);
    await closeBox(box);
    const again = await openBox({ maxSegmentBytes: 4_096 });
    expect(again.rejected().map((i) => [i.recordId, i.rejection?.reason])).toEqual([
      [old.recordId, 'code-conflict'],
    ]);
    expect(again.stats().pending).toBe(0);
  });

  it('never deletes a segment that holds a live record, whatever order acks come in', async () => {
    let box = await openBox({ maxSegmentBytes: 1_024 });
    const records = Array.from({ length: 30 }, () => engravedRecord());
    for (const r of records) await box.enqueue([r]);
    const order = [...records].sort((a, b) => a.recordId.localeCompare(b.recordId));
    const live = new Set(records.map((r) => r.recordId));
    for (const [i, r] of order.entries()) {
      if (i % 3 === 2) continue;
      box.acknowledge({ recordId: r.recordId, status: 'accepted' });
      live.delete(r.recordId);
      await box.compact();
      // Reopening after every pass: what is in memory cannot hide what the disk lost.
      await closeBox(box);
      box = await openBox({ maxSegmentBytes: 1_024 });
      expect(ids(box.pending(100))).toEqual([...live].sort());
    }
  });

  it('agrees with a model of it through any sequence of enqueues, acks, operator actions, compactions and restarts', async () => {
    type Op =
      | { k: 'enqueue'; n: number }
      | { k: 'send'; window: number }
      | { k: 'ack'; pick: number; status: 'accepted' | 'duplicate' | 'rejected' }
      | { k: 'retry'; pick: number }
      | { k: 'dismiss'; pick: number }
      | { k: 'compact' }
      | { k: 'restart' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({ k: fc.constant('enqueue' as const), n: fc.integer({ min: 1, max: 4 }) }),
      },
      {
        weight: 2,
        arbitrary: fc.record({ k: fc.constant('send' as const), window: fc.integer({ min: 1, max: 6 }) }),
      },
      {
        weight: 6,
        arbitrary: fc.record({
          k: fc.constant('ack' as const),
          pick: fc.nat(),
          status: fc.constantFrom(
            'accepted' as const,
            'accepted' as const,
            'accepted' as const,
            'duplicate' as const,
            'rejected' as const,
          ),
        }),
      },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('retry' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('dismiss' as const), pick: fc.nat() }) },
      { weight: 3, arbitrary: fc.constant({ k: 'compact' as const }) },
      { weight: 2, arbitrary: fc.constant({ k: 'restart' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 60 }), async (ops) => {
        await rm(dir, { recursive: true, force: true });
        let box = await openBox({ maxSegmentBytes: 2_048 });
        const model = new Map<string, { state: 'pending' | 'rejected'; reason?: string }>();
        const pick = (n: number, state?: 'pending' | 'rejected') => {
          const keys = [...model].filter(([, v]) => state === undefined || v.state === state).map(([k]) => k);
          // Mostly the oldest, as acks come in a real flow: old segments settle and compaction has work.
          return keys.length === 0 ? undefined : keys[n % Math.min(keys.length, 3)];
        };
        for (const o of ops) {
          if (o.k === 'enqueue') {
            const records = Array.from({ length: o.n }, () => engravedRecord());
            await box.enqueue(records);
            for (const r of records) model.set(r.recordId, { state: 'pending' });
          } else if (o.k === 'send') {
            box.takeToSend(o.window);
          } else if (o.k === 'ack') {
            const id = pick(o.pick, o.pick % 4 === 0 ? undefined : 'pending');
            if (id === undefined) continue;
            box.acknowledge({ recordId: id, status: o.status, reason: `reason ${o.pick}` });
            const m = model.get(id)!;
            if (o.status !== 'rejected') model.delete(id);
            else if (m.state === 'pending') model.set(id, { state: 'rejected', reason: `reason ${o.pick}` });
          } else if (o.k === 'retry') {
            const id = pick(o.pick, 'rejected');
            if (id === undefined) continue;
            await box.retry(id);
            model.set(id, { state: 'pending' });
          } else if (o.k === 'dismiss') {
            const id = pick(o.pick, 'rejected');
            if (id === undefined) continue;
            await box.dismiss(id, 'test');
            model.delete(id);
          } else if (o.k === 'compact') {
            await box.compact();
          } else {
            await closeBox(box);
            box = await openBox({ maxSegmentBytes: 2_048 });
          }
          const expectedPending = [...model].filter(([, v]) => v.state === 'pending').map(([k]) => k);
          const expectedRejected = [...model].filter(([, v]) => v.state === 'rejected');
          expect(ids(box.pending(10_000))).toEqual(expectedPending.sort());
          expect(
            box
              .rejected()
              .map((i) => [i.recordId, i.rejection?.reason])
              .sort(),
          ).toEqual(expectedRejected.map(([k, v]) => [k, v.reason]).sort());
        }
        await closeBox(box);
      }),
      { numRuns: 40 },
    );
  });

  it('after a crash, holds every record not acknowledged (an ack lost in the crash only causes a resend)', async () => {
    const records = Array.from({ length: 40 }, () => engravedRecord());
    const acked = new Set(records.slice(0, 20).map((r) => r.recordId));
    const script = `
      const { Outbox } = await import(${JSON.stringify(new URL('../../src/registry/outbox.ts', import.meta.url).href)});
      const box = new Outbox({ dir: ${JSON.stringify(dir)} });
      await box.start();
      const records = ${JSON.stringify(records)};
      await box.enqueue(records);
      box.takeToSend(1000);
      for (const id of ${JSON.stringify([...acked])}) box.acknowledge({ recordId: id, status: 'accepted' });
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: 'inherit',
    });
    const [, signal] = await once(child, 'exit');
    expect(signal).toBe('SIGKILL');
    const box = await openBox();
    const held = new Set(ids(box.pending(1_000)));
    for (const r of records) if (!acked.has(r.recordId)) expect(held.has(r.recordId)).toBe(true);
    for (const id of held) expect(records.some((r) => r.recordId === id)).toBe(true);
  });
});
