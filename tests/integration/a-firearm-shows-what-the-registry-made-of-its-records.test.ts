/**
 * A firearm's records as the registry stands with them, seen through the line's views: queued
 * (since when) while the registry is silent, accepted (when, with which answer) once it acks,
 * rejected (why) until an operator retries or dismisses. `reported` means accepted: never while a
 * record still sits in the outbox. The line, the real outbox and link, an embedded broker and the
 * simulated registry, as the daemon wires them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { SimulatedRegistry } from '../../simulators/registry/registry.js';
import type { Firearm } from '../../src/line/model.js';
import { RegistryReporter } from '../../src/registry/reporter.js';
import { type Harness, order, startLine, until } from '../line/harness.js';
import { aedesTarget, type BrokerTarget } from '../registry/brokers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function rig() {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-registry-status-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const broker: BrokerTarget = await aedesTarget();
  cleanups.push(() => broker.stop());
  const registry = new SimulatedRegistry({
    mqtt: { url: broker.url, clientId: 'registry-status-registry' },
    file: join(dir, 'registry.jsonl'),
    mode: { kind: 'silent' },
  });
  await registry.start();
  cleanups.push(() => registry.stop());
  let h: Harness | undefined;
  const reporter = new RegistryReporter({
    dataDir: dir,
    issuer: 1,
    line: 'line-1',
    version: '9.9.9-test',
    mqtt: { url: broker.url, clientId: 'registry-status-line', reconnectMinMs: 100, reconnectMaxMs: 1_000 },
    resendAfterMs: 500,
    beforeSettle: (settlements) => h!.line.noteSettled(settlements),
  });
  await reporter.start();
  cleanups.push(() => reporter.stop());
  const device = new EngraverDevice({ markingTimeMs: 0 });
  cleanups.push(async () => device.close());
  h = await startLine(dir, device, { sink: reporter });
  cleanups.push(() => h!.stop());
  const firearm = async (orderId: string, seq = 0): Promise<Firearm> =>
    (await h!.line.orderView(orderId)).firearms[seq]!;
  return { h, registry, reporter, firearm };
}

describe("a firearm's records at the registry", () => {
  it('are queued while the registry is silent and accepted once it answers; reported means accepted', async () => {
    const { h, registry, firearm } = await rig();
    await h.line.submitOrder(order('o1', 1), 'http', 'erp');
    const before = Date.now();
    await h.line.startOrder('o1', 'operator');
    // Engraved first, then its record queued: the firearm has no record at the registry in between.
    await until(async () => (await firearm('o1')).registry?.state === 'queued', 'the record queued');

    const queued = await firearm('o1');
    expect(queued.reported).toBe(false);
    expect(queued.registry!.state).toBe('queued');
    expect(queued.registry!.records).toEqual([
      {
        recordId: expect.any(String),
        event: 'engraved',
        code: queued.code!.text,
        state: 'queued',
        since: expect.any(String),
      },
    ]);
    expect(Date.parse(queued.registry!.records[0]!.since!)).toBeGreaterThanOrEqual(before - 1);

    registry.setMode({ kind: 'normal' });
    await until(async () => (await firearm('o1')).reported === true, 'the record accepted');
    const accepted = await firearm('o1');
    expect(accepted.registry).toEqual({
      state: 'accepted',
      records: [
        {
          recordId: queued.registry!.records[0]!.recordId,
          event: 'engraved',
          code: queued.code!.text,
          state: 'accepted',
          at: expect.any(String),
          ack: 'accepted',
        },
      ],
    });
    // Kept on the firearm itself: the outbox has let the record go.
    const stored = await h.repo.firearm({ orderId: 'o1', seq: 0 });
    expect(stored!.firearm.settled).toEqual([
      expect.objectContaining({ recordId: queued.registry!.records[0]!.recordId, outcome: 'accepted' }),
    ]);
  }, 60_000);

  it('are rejected with the reason until an operator dismisses them, and then say who and why', async () => {
    const { h, registry, reporter, firearm } = await rig();
    registry.setMode({ kind: 'reject', reason: 'code-conflict' });
    await h.line.submitOrder(order('o2', 1), 'http', 'erp');
    await h.line.startOrder('o2', 'operator');
    await until(async () => (await firearm('o2')).registry?.state === 'rejected', 'the record rejected');
    const rejected = (await firearm('o2')).registry!.records[0]!;
    expect(rejected).toMatchObject({ state: 'rejected', reason: 'code-conflict', event: 'engraved' });
    expect((await firearm('o2')).reported).toBe(false);

    await reporter.outbox.dismiss(rejected.recordId, 'bound by hand at the registry', 'supervisor:ada');
    const dismissed = await firearm('o2');
    expect(dismissed.registry!.records).toEqual([
      expect.objectContaining({
        recordId: rejected.recordId,
        state: 'dismissed',
        reason: 'bound by hand at the registry',
        by: 'supervisor:ada',
      }),
    ]);
    expect(dismissed.reported).toBe(false);
  }, 60_000);

  it('stay held in the outbox when the firearm cannot be told, and are accepted once it can', async () => {
    const { h, registry, reporter, firearm } = await rig();
    const noteSettled = h.line.noteSettled.bind(h.line);
    let refuse = true;
    h.line.noteSettled = async (s) => {
      if (refuse) throw new Error('disk full');
      return noteSettled(s);
    };
    await h.line.submitOrder(order('o3', 1), 'http', 'erp');
    await h.line.startOrder('o3', 'operator');
    await until(async () => (await firearm('o3')).state === 'engraved', 'the pin engraved');
    registry.setMode({ kind: 'normal' });
    await until(
      async () =>
        reporter.outbox.stats().duplicates + reporter.outbox.stats().accepted === 0 &&
        registry.bindings().length === 1,
      'the registry to bind the code',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(reporter.outbox.depth()).toBe(1);
    expect((await firearm('o3')).registry!.state).toBe('queued');

    refuse = false;
    await until(async () => (await firearm('o3')).reported === true, 'the record accepted on a resend');
    expect(reporter.outbox.depth()).toBe(0);
    expect((await firearm('o3')).registry!.records[0]!.ack).toBe('duplicate');
  }, 60_000);
});
