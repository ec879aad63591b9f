/**
 * The daemon wires the alarms: a torn last entry of the audit trail or of the QA read log, cut
 * off at start, is an alarm an operator sees through the API, with the engraver and registry up
 * nothing else is; and the alarms active when the daemon stopped are active after its restart.
 */
import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../simulators/broker/mosquitto.js';
import { startSimulators } from '../../simulators/embedded.js';
import { type Config, parseConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { makeDir, removeDir, until } from '../line/harness.js';

const ERP = 'alarm-daemon-erp-token-0001';
let dir: string;
let config: Config;
let daemon: Daemon | undefined;

function start(): Promise<Daemon> {
  const quiet = new Writable({ write: (_chunk, _enc, done) => done() });
  const d = new Daemon(config, createLogger({ level: 'warn', pretty: false }, quiet), {
    beforeConnect: async (x) => {
      await startSimulators(x);
    },
  });
  daemon = d;
  return d.start().then(() => d);
}

async function tear(folder: string): Promise<void> {
  const files = (await readdir(folder)).filter((f) => f.endsWith('.jsonl')).sort();
  await appendFile(join(folder, files.at(-1)!), '{"torn":');
}

beforeEach(async () => {
  dir = await makeDir();
  const [enginePort, brokerPort] = [await freePort(), await freePort()];
  config = parseConfig({
    line: { id: 'alarm-test', dataDir: dir },
    issuer: {
      number: 7,
      licence: 'FFL-TEST-0001',
      key: '00112233445566778899aabbccddeeff',
      indexBlock: { start: 0, size: 5000 },
    },
    http: { host: '127.0.0.1', port: 0 },
    auth: { erpToken: ERP },
    engraver: {
      url: `modbus-tcp://127.0.0.1:${enginePort}?unit=1`,
      id: 'test-laser',
      requestTimeoutMs: 1000,
    },
    mqtt: { url: `mqtt://127.0.0.1:${brokerPort}`, protocolVersion: 4, reconnectMs: 200 },
    simulators: {
      engraver: { enabled: true, transport: 'modbus-tcp', port: enginePort, markingTimeMs: 10 },
      broker: { enabled: true, port: brokerPort },
      registry: { enabled: true },
    },
  });
});

afterEach(async () => {
  await daemon?.stop();
  await removeDir(dir);
});

describe('the daemon and its alarms', () => {
  it('raises a store-repair alarm for each log it repaired at start, and keeps it across a restart until acknowledged', async () => {
    let d = await start();
    await until(() => d.reporter!.link.isUp && d.engraver!.connected, 'the links to be up', 60_000);
    expect(d.alarms!.active()).toEqual([]);
    await d.audit!.record({ actor: 'test', action: 'test.entry', subject: 'test:1' });
    await d.stop();
    await tear(join(dir, 'audit'));
    await tear(join(dir, 'qa'));

    d = await start();
    const res = await fetch(`${d.address!.url}/api/v1/alarms`, {
      headers: { authorization: `Bearer ${ERP}` },
    });
    const body = (await res.json()) as { active: Array<{ kind: string; key: string; message: string }> };
    const repairs = body.active.filter((a) => a.kind === 'store-repair');
    expect(repairs.map((a) => a.key).sort()).toEqual([
      'store-repair:QA read log',
      'store-repair:audit trail',
    ]);
    expect(repairs.find((a) => a.key === 'store-repair:audit trail')!.message).toMatch(
      /audit trail.*torn last entry/,
    );

    // not acknowledged: still there after another restart, though nothing was torn this time
    await d.stop();
    d = await start();
    expect(d.alarms!.active().filter((a) => a.kind === 'store-repair')).toHaveLength(2);
    const [first] = d.alarms!.active();
    await d.alarms!.acknowledge(first!.id, 'sam');
    expect(d.alarms!.active().filter((a) => a.kind === 'store-repair')).toHaveLength(1);
  }, 120_000);
});
