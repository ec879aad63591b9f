/**
 * One conformance suite for registry reporting, run against every broker and protocol the line
 * supports: what the contract (spec/registry-mqtt.md) promises must hold on each of them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RegistryMode, SimulatedRegistry } from '../../simulators/registry/registry.js';
import { engravedRecord, verifiedRecord } from '../../simulators/registry/sample.js';
import { RegistryReporter, type RegistryReporterOptions } from '../../src/registry/reporter.js';
import { requireCommands } from '../support/tools.js';
import { aedesTarget, type BrokerTarget, makeCertificates, mosquittoTarget, waitFor } from './brokers.js';

const ISSUER = 1234;
const hasMosquitto = requireCommands('mosquitto', 'mosquitto_passwd', 'openssl');

interface TargetSpec {
  name: string;
  enabled: boolean;
  make(dir: string): Promise<BrokerTarget>;
}

const targets: TargetSpec[] = [
  { name: 'aedes, MQTT 3.1.1', enabled: true, make: () => aedesTarget() },
  {
    name: 'Mosquitto, MQTT 3.1.1',
    enabled: hasMosquitto,
    make: (dir) => mosquittoTarget({ dir, protocolVersion: 4 }),
  },
  {
    name: 'Mosquitto, MQTT 5',
    enabled: hasMosquitto,
    make: (dir) => mosquittoTarget({ dir, protocolVersion: 5 }),
  },
  {
    name: 'Mosquitto over TLS with client certificates, MQTT 5',
    enabled: hasMosquitto,
    make: async (dir) => mosquittoTarget({ dir, protocolVersion: 5, tls: await makeCertificates(dir) }),
  },
  {
    name: 'Mosquitto with user names and passwords, MQTT 3.1.1',
    enabled: hasMosquitto,
    make: (dir) =>
      mosquittoTarget({
        dir,
        protocolVersion: 4,
        users: { line: ['line', 'line-secret'], registry: ['registry', 'registry-secret'] },
      }),
  },
];

let serial = 0;
const nextId = () => `${process.pid}-${++serial}`;

describe.each(targets.filter((t) => t.enabled))('registry reporting over $name', (spec) => {
  let dir: string;
  let target: BrokerTarget;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stampline-registry-'));
    target = await spec.make(join(dir, 'broker'));
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    await target.start();
  });

  afterAll(async () => {
    await target?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** One line (its own topics, client id and data folder) and the registry it reports to. */
  async function rig(mode: RegistryMode = { kind: 'normal' }) {
    const id = nextId();
    const line = `line-${id}`;
    const dataDir = join(dir, line);
    const registry = new SimulatedRegistry({
      mqtt: {
        url: target.url,
        protocolVersion: target.protocolVersion,
        clientId: `registry-${id}`,
        ...target.registry,
      },
      file: join(dir, `registry-${id}.jsonl`),
      mode,
    });
    await registry.start();
    cleanups.push(() => registry.stop());
    const options = (extra: Partial<RegistryReporterOptions> = {}): RegistryReporterOptions => ({
      dataDir,
      issuer: ISSUER,
      line,
      version: '9.9.9-test',
      mqtt: {
        url: target.url,
        protocolVersion: target.protocolVersion,
        clientId: `stampline-${id}`,
        reconnectMinMs: 100,
        reconnectMaxMs: 1_000,
        ...target.line,
      },
      resendAfterMs: 30_000,
      ...extra,
    });
    const reporter = async (extra: Partial<RegistryReporterOptions> = {}) => {
      const r = new RegistryReporter(options(extra));
      await r.start();
      cleanups.push(() => r.stop());
      await waitFor('the link to come up', () => r.link.isUp);
      return r;
    };
    const records = (n: number) => Array.from({ length: n }, () => engravedRecord({ issuer: ISSUER, line }));
    const arrivals = (recordId: string) => registry.received().filter((a) => a.recordId === recordId).length;
    return { line, registry, reporter, records, arrivals, options };
  }

  async function observe(topic: string): Promise<{ client: MqttClient; messages: unknown[] }> {
    const client = await mqtt.connectAsync(target.url, {
      protocolVersion: target.protocolVersion,
      clientId: `observer-${nextId()}`,
      ...target.registry,
    });
    cleanups.push(() => client.endAsync(true));
    const messages: unknown[] = [];
    client.on('message', (_t, payload) => messages.push(JSON.parse(payload.toString())));
    await client.subscribeAsync(topic, { qos: 1 });
    return { client, messages };
  }

  it('delivers records to the registry and removes each only when its ack says accepted', async () => {
    const { registry, reporter, records, arrivals } = await rig({ kind: 'silent' });
    const line = await reporter({ resendAfterMs: 1_000 });
    const batch = records(5);
    await line.report(batch);
    await waitFor('the registry to hear every record', () => batch.every((r) => arrivals(r.recordId) >= 1));
    // The broker has them all (PUBACK), but nothing is acknowledged: the outbox keeps them.
    expect(line.outbox.depth()).toBe(5);
    registry.setMode({ kind: 'normal' });
    await waitFor('every record to be acknowledged', () => line.outbox.depth() === 0);
    expect(
      registry
        .bindings()
        .map((b) => b.code)
        .sort(),
    ).toEqual(batch.map((r) => r.code).sort());
    expect(line.outbox.stats()).toMatchObject({ accepted: 5, pending: 0, rejected: 0 });
  }, 60_000);

  it('treats a duplicate as accepted', async () => {
    const { registry, reporter, records } = await rig();
    const [known, fresh] = records(2);
    registry.book.add(known!);
    const line = await reporter();
    await line.report([known!, fresh!]);
    await waitFor('both records to be settled', () => line.outbox.depth() === 0);
    expect(line.outbox.stats()).toMatchObject({ accepted: 1, duplicates: 1 });
    expect(registry.sent().map((a) => [a.recordId, a.status])).toEqual(
      expect.arrayContaining([
        [known!.recordId, 'duplicate'],
        [fresh!.recordId, 'accepted'],
      ]),
    );
  }, 60_000);

  it('keeps a rejected record with its reason for an operator, who can retry or dismiss it', async () => {
    const { registry, reporter, records } = await rig();
    const line = await reporter();
    const [first, clash] = records(2);
    const conflicting = { ...clash!, code: first!.code };
    await line.report([first!]);
    await waitFor('the first record to be accepted', () => line.outbox.depth() === 0);
    await line.report([conflicting]);
    await waitFor('the conflicting record to be rejected', () => line.outbox.rejected().length === 1);
    expect(line.outbox.rejected()[0]).toMatchObject({
      recordId: conflicting.recordId,
      rejection: { reason: 'code-conflict' },
    });

    registry.setMode({ kind: 'reject', reason: 'registry closed for maintenance' });
    const [later] = records(1);
    await line.report([later!]);
    await waitFor('the record to be rejected', () => line.outbox.rejected().length === 2);
    expect(line.outbox.get(later!.recordId)?.rejection?.reason).toBe('registry closed for maintenance');
    expect(line.outbox.depth()).toBe(2);

    registry.setMode({ kind: 'normal' });
    await line.outbox.retry(later!.recordId, 'operator');
    await line.outbox.dismiss(conflicting.recordId, 'pin scrapped; code reported voided by hand', 'operator');
    await waitFor('the retried record to be accepted', () => line.outbox.depth() === 0);
    expect(
      registry
        .bindings()
        .map((b) => b.code)
        .sort(),
    ).toEqual([first!.code, later!.code].sort());
  }, 60_000);

  it('sends a record again with the same id after a silence', async () => {
    const { registry, reporter, records, arrivals } = await rig({ kind: 'silent' });
    const line = await reporter({ resendAfterMs: 300 });
    const [record] = records(1);
    await line.report([record!]);
    await waitFor('the record to be sent twice', () => arrivals(record!.recordId) >= 2);
    registry.setMode({ kind: 'normal' });
    await waitFor('the record to be acknowledged', () => line.outbox.depth() === 0);
    expect(line.outbox.stats().resent).toBeGreaterThanOrEqual(1);
    expect(registry.bindings()).toHaveLength(1);
    expect(registry.recordsFor(record!.firearm.serial).map((r) => r.recordId)).toEqual([record!.recordId]);
  }, 60_000);

  it('keeps records in the outbox while the broker is away and delivers each exactly once when it is back', async () => {
    const { registry, reporter, records } = await rig();
    const line = await reporter({ resendAfterMs: 1_000 });
    const before = records(10);
    await line.report(before);
    await target.stop();
    await waitFor('the link to go down', () => !line.link.isUp);
    expect(line.status().link.state).toBe('down');
    const during = records(20);
    for (const r of during) await line.report([r]);
    expect(line.outbox.depth()).toBeGreaterThanOrEqual(20);
    await target.start();
    await waitFor('every record to be acknowledged', () => line.outbox.depth() === 0, 60_000);
    const all = [...before, ...during];
    const accepted = registry
      .sent()
      .filter((a) => a.status === 'accepted')
      .map((a) => a.recordId);
    expect(accepted.sort()).toEqual(all.map((r) => r.recordId).sort());
    const bindings = registry.bindings();
    expect(bindings).toHaveLength(30);
    expect(new Set(bindings.map((b) => b.firearm.serial)).size).toBe(30);
  }, 120_000);

  it('sends again after a restart what the registry had not acknowledged', async () => {
    const { registry, reporter, records, arrivals } = await rig({ kind: 'silent' });
    const first = await reporter();
    const batch = records(5);
    await first.report(batch);
    await waitFor('the registry to hear every record', () => batch.every((r) => arrivals(r.recordId) >= 1));
    await first.stop();
    registry.setMode({ kind: 'normal' });
    const second = await reporter();
    expect(second.outbox.depth()).toBe(5);
    await waitFor('every record to be acknowledged', () => second.outbox.depth() === 0);
    expect(registry.bindings()).toHaveLength(5);
  }, 60_000);

  it('reports verified records after engraved ones for the same firearm', async () => {
    const { registry, reporter, records } = await rig();
    const line = await reporter();
    const [engraved] = records(1);
    await line.report([verifiedRecord(engraved!), engraved!]);
    await waitFor('both records to be acknowledged', () => line.outbox.depth() === 0);
    expect(registry.recordsFor(engraved!.firearm.serial).map((r) => r.event)).toEqual([
      'engraved',
      'verified',
    ]);
    expect(registry.bindings()[0]).toMatchObject({ code: engraved!.code, verified: 'pass' });
  }, 60_000);

  it('publishes a retained online status, offline on a clean stop, and its last will when killed', async () => {
    const { reporter, options, line: lineId } = await rig();
    const statusTopic = `microstamp/v1/${ISSUER}/${lineId}/status`;
    const watcher = await observe(statusTopic);
    const line = await reporter();
    await waitFor('the online status', () => watcher.messages.length >= 1);
    expect(watcher.messages.at(-1)).toMatchObject({ online: true, version: '9.9.9-test' });
    expect(Date.parse((watcher.messages.at(-1) as { since: string }).since)).not.toBeNaN();

    await line.stop();
    await waitFor('the offline status', () => watcher.messages.length >= 2);
    expect(watcher.messages.at(-1)).toEqual({ online: false });
    const late = await observe(statusTopic);
    await waitFor('the retained status', () => late.messages.length >= 1);
    expect(late.messages[0]).toEqual({ online: false });

    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'reporter-child.ts'), JSON.stringify(options())],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    await waitFor('the child line to come up', () => out.includes('up'));
    await waitFor('the child online status', () => (watcher.messages.at(-1) as { online: boolean }).online);
    const seen = watcher.messages.length;
    child.kill('SIGKILL');
    await once(child, 'exit');
    await waitFor('the last will', () => watcher.messages.length > seen);
    expect(watcher.messages.at(-1)).toEqual({ online: false });
    const afterWill = await observe(statusTopic);
    await waitFor('the retained last will', () => afterWill.messages.length >= 1);
    expect(afterWill.messages[0]).toEqual({ online: false });
  }, 60_000);
});
