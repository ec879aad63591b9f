/**
 * A line's data folder with some history, made by the real daemon with its engraver simulated and
 * its broker down: a finished order whose records wait in the outbox, and an unfinished one still
 * queued. Tests copy it, damage the copy and start a daemon on it.
 */
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { freePort } from '../../../simulators/broker/mosquitto.js';
import { startSimulators } from '../../../simulators/embedded.js';
import { parseConfig } from '../../../src/config/index.js';
import { Daemon } from '../../../src/daemon.js';
import type { Firearm } from '../../../src/line/model.js';
import { firearmsOf } from '../../../src/line/repository.js';
import { createLogger } from '../../../src/logger.js';
import { KEY, order, until } from '../../line/harness.js';

export const ISSUER = 1;
export const OPERATOR_TOKEN = 'store-test-operator-token-0001';

/** One line the daemon logged, parsed. */
export interface Logged {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface TestDaemon {
  daemon: Daemon;
  logged(): Logged[];
}

/** A daemon on `dataDir` with a simulated engraver and its broker down, not started. */
export async function testDaemon(dataDir: string, engraver = true): Promise<TestDaemon> {
  const [enginePort, dead] = [await freePort(), await freePort()];
  const config = parseConfig({
    line: { id: 'store-test', dataDir },
    issuer: {
      number: ISSUER,
      licence: 'FFL-TEST-0001',
      key: KEY,
      indexBlock: { start: 1000, size: 100_000 },
    },
    http: { host: '127.0.0.1', port: 0 },
    auth: { erpToken: 'store-test-erp-token-0001', operatorToken: OPERATOR_TOKEN },
    engraver: { url: `modbus-tcp://127.0.0.1:${enginePort}?unit=1`, id: 'eng-1', requestTimeoutMs: 1000 },
    mqtt: { url: `mqtt://127.0.0.1:${dead}`, protocolVersion: 4, reconnectMs: 200 },
    simulators: {
      engraver: { enabled: engraver, transport: 'modbus-tcp', port: enginePort, markingTimeMs: 5 },
    },
  });
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += chunk;
      done();
    },
  });
  const daemon = new Daemon(config, createLogger({ level: 'info', pretty: false }, out), {
    beforeConnect: async (d) => {
      await startSimulators(d);
    },
  });
  return {
    daemon,
    logged: () =>
      text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Logged),
  };
}

/** Starts a daemon; if the start is refused, stops what it started and rethrows. */
export async function startDaemon(dataDir: string, engraver = true): Promise<TestDaemon> {
  const t = await testDaemon(dataDir, engraver);
  try {
    await t.daemon.start();
  } catch (err) {
    await t.daemon.stop();
    throw err;
  }
  return t;
}

/** Runs an order to its end on a started daemon. */
export async function engrave(d: Daemon, id: string, count: number, serials?: string[]): Promise<void> {
  const o = order(id, count);
  if (serials) o.firearms = serials.map((serial) => ({ serial }));
  await d.line!.submitOrder(o, 'http', 'erp');
  await d.line!.startOrder(id, 'operator');
  await until(
    async () => (await d.line!.orderView(id)).order.state === 'engraved',
    `order ${id} done`,
    30_000,
  );
}

/**
 * A data folder holding order A (3 firearms, engraved, records owed to the registry), order B
 * (2 firearms, engraved) and order C (2 firearms, queued). Made once per test file.
 */
export async function makeHistory(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-history-'));
  const { daemon } = await startDaemon(dir);
  try {
    await engrave(daemon, 'A', 3);
    await engrave(daemon, 'B', 2);
    await daemon.line!.submitOrder(order('C', 2), 'http', 'erp');
  } finally {
    await daemon.stop();
  }
  return dir;
}

export async function copyOf(history: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-damaged-'));
  await cp(history, dir, { recursive: true });
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every file the store keeps (no locks, no temporary files), relative to the data folder. */
export async function storeFiles(dataDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (!e.name.endsWith('.lock') && !e.name.endsWith('.tmp') && e.name !== '.lock') found.push(path);
    }
  };
  for (const top of ['docs', 'audit', 'outbox', 'serials', 'codes', 'qa']) {
    if (await stat(join(dataDir, top)).catch(() => undefined)) await walk(join(dataDir, top));
  }
  found.push(join(dataDir, 'store.json'));
  return found.map((f) => relative(dataDir, f)).sort();
}

/** Every firearm of every order the daemon holds, finished or not. */
export async function allFirearms(d: Daemon): Promise<Firearm[]> {
  const out: Firearm[] = [];
  for (const h of await d.line!.listOrders()) {
    const o = await d.repo!.order(h.id);
    if (o) out.push(...firearmsOf(o));
  }
  return out;
}
