/**
 * The retained MQTT status carries the line's active alarms: kept fields of the spec (online,
 * version, since) and `alarms`, published again when an alarm is raised or cleared, and found by
 * whoever subscribes later, since it is retained.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlarmService } from '../../src/alarms/service.js';
import { watchAlarms } from '../../src/alarms/watch.js';
import { RegistryReporter } from '../../src/registry/reporter.js';
import { aedesTarget, type BrokerTarget, waitFor } from '../registry/brokers.js';
import { fakeLine } from '../support/fake-line.js';

let dir: string;
let broker: BrokerTarget;
let reporter: RegistryReporter;
let alarms: AlarmService;
let unwatch: () => void;
const STATUS = 'microstamp/v1/7/L1/status';

interface Status {
  online: boolean;
  version?: string;
  since?: string;
  alarms?: Array<{ kind: string; severity: string; since: string }>;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stampline-alarm-status-'));
  broker = await aedesTarget();
  reporter = new RegistryReporter({
    dataDir: dir,
    issuer: 7,
    line: 'L1',
    version: '9.9.9',
    mqtt: { url: broker.url, clientId: 'line-L1', reconnectMinMs: 100, reconnectMaxMs: 200 },
  });
  await reporter.start();
  alarms = new AlarmService({ dataDir: dir });
  await alarms.start();
  // A line that is running, with its engraver ready and plenty of codes.
  const idle = fakeLine({}, 50_000).status();
  const line = fakeLine({
    status: () => ({
      ...idle,
      engraver: {
        ...idle.engraver,
        connected: true,
        status: { state: 'READY', fault: 0, completed: 0, activeJob: 0 },
      },
    }),
  });
  unwatch = watchAlarms(alarms, { line, codesLeft: () => 50_000, reporter });
  await waitFor('the link to be up', () => reporter.link.isUp);
});

afterEach(async () => {
  unwatch();
  await reporter.stop();
  await alarms.stop();
  await broker.stop();
  await rm(dir, { recursive: true, force: true });
});

async function eventually(what: string, cond: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Subscribes afresh and returns the retained status the broker holds. */
async function retained(): Promise<Status> {
  const client = await mqtt.connectAsync(broker.url, { clientId: `watcher-${Math.random()}` });
  try {
    const got = new Promise<Status>((resolve) =>
      client.on('message', (_t, payload) => resolve(JSON.parse(payload.toString()) as Status)),
    );
    await client.subscribeAsync(STATUS, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

describe('the retained registry status', () => {
  it('carries the active alarms beside online, version and since, and follows their raise and clear', async () => {
    await eventually('the first status', async () => (await retained()).online === true);
    const first = await retained();
    expect(first).toEqual({ online: true, version: '9.9.9', since: expect.any(String), alarms: [] });

    await alarms.observe({ kind: 'engraver', connected: true, state: 'FAULT', fault: 3 });
    await alarms.observe({ kind: 'codes', left: 12 });
    let now: Status = first;
    await eventually('the alarms in the status', async () => {
      now = await retained();
      return now.alarms?.length === 2;
    });
    const raised = alarms.active();
    expect(now.alarms).toEqual(
      raised.map((a) => ({ kind: a.kind, severity: a.severity, since: a.raisedAt })),
    );
    expect(now.alarms!.map((a) => a.kind)).toEqual(['engraver-fault', 'codes-low']);
    // the time the line came online stays that of the connection
    expect(now.since).toBe(first.since);

    await alarms.observe({ kind: 'engraver', connected: true, state: 'READY', fault: 0 });
    await eventually('the fault to leave the status', async () => {
      now = await retained();
      return now.alarms?.length === 1;
    });
    expect(now.alarms).toEqual([expect.objectContaining({ kind: 'codes-low' })]);
  });

  it('says offline, as the spec has it, on a clean stop', async () => {
    await alarms.observe({ kind: 'codes', left: 1 });
    await reporter.stop();
    expect(await retained()).toEqual({ online: false });
  });
});
