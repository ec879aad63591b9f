/**
 * Writes a small line data folder with the code of the tree it runs in: the real daemon with its
 * engraver simulated and its broker down. Order A (3 firearms) and order B (2) are engraved, so
 * their records wait in the outbox; order C (2) is queued; A's firearms have test-fire reads (two
 * pass; nothing is read on the third, whose code is voided and which is engraved again with a
 * new one). Every order is done or queued when it stops, so a start on a copy changes nothing
 * but what a start always writes. The audit trail holds every step.
 *
 * `scripts/make-data-fixture.sh` runs it at a release to make `tests/fixtures/format-N/`, the
 * data an upgrade from that release starts from. It imports only `src/` and `simulators/`, whose
 * surface it uses has not changed since format 1, so it runs on the older release as well.
 *
 *   npx tsx tests/support/write-line-data.ts OUT_DIR
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { freePort } from '../../simulators/broker/mosquitto.js';
import { startSimulators } from '../../simulators/embedded.js';
import { parseConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';

/** The issuer key the fixture was written with (a test key, not a secret). */
export const FIXTURE_KEY = '000102030405060708090a0b0c0d0e0f';
export const FIXTURE_ISSUER = 1;
export const FIXTURE_INDEX_START = 1000;
export const FIXTURE_OPERATOR_TOKEN = 'fixture-operator-token-0001';

const FEDERAL = { brand: 'Federal HST', lacquered: false };

function newOrder(id: string, count: number) {
  return {
    id,
    make: 'Acme',
    model: 'P1',
    target: 'firing-pin' as const,
    firearms: Array.from({ length: count }, (_, i) => ({ serial: `${id}-${String(i).padStart(4, '0')}` })),
  };
}

async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The daemon the fixture was written with (engraver simulated, broker down), on `dataDir`, not
 * started. A test starts the same one on a copy of the fixture.
 */
export async function lineDaemon(dataDir: string): Promise<Daemon> {
  const [enginePort, dead] = [await freePort(), await freePort()];
  const config = parseConfig({
    line: { id: 'fixture-line', dataDir },
    issuer: {
      number: FIXTURE_ISSUER,
      licence: 'FFL-FIXTURE-01',
      key: FIXTURE_KEY,
      indexBlock: { start: FIXTURE_INDEX_START, size: 100_000 },
    },
    http: { host: '127.0.0.1', port: 0 },
    auth: { erpToken: 'fixture-erp-token-00000001', operatorToken: FIXTURE_OPERATOR_TOKEN },
    engraver: { url: `modbus-tcp://127.0.0.1:${enginePort}?unit=1`, id: 'eng-1', requestTimeoutMs: 1000 },
    mqtt: { url: `mqtt://127.0.0.1:${dead}`, protocolVersion: 4, reconnectMs: 200 },
    qa: { policy: { kind: 'every-case', cases: 1, minGrade: 'C' } },
    simulators: {
      engraver: { enabled: true, transport: 'modbus-tcp', port: enginePort, markingTimeMs: 5 },
    },
  });
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  return new Daemon(config, createLogger({ level: 'info', pretty: false }, quiet), {
    beforeConnect: async (d) => {
      await startSimulators(d);
    },
  });
}

export async function writeLineData(dataDir: string): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  if ((await readdir(dataDir)).length > 0) throw new Error(`${dataDir} is not empty`);
  const daemon = await lineDaemon(dataDir);
  await daemon.start();
  // `done` in releases before engraved and complete were told apart, `engraved` since
  const finished = (state: string) => state === 'done' || state === 'engraved' || state === 'complete';
  try {
    const line = daemon.line!;
    for (const [id, count] of [
      ['A', 3],
      ['B', 2],
    ] as const) {
      await line.submitOrder(newOrder(id, count), 'http', 'erp');
      await line.startOrder(id, 'operator:ana');
      await until(async () => finished((await line.orderView(id)).order.state), `order ${id} done`);
    }
    await line.submitOrder(newOrder('C', 2), 'http', 'erp');

    const qa = daemon.qa!;
    const view = await line.orderView('A');
    const firearms = view.firearms;
    for (const f of firearms.slice(0, 2)) {
      const code = f.code!;
      await qa.submit(
        { serial: f.serial, text: code.text, gear: code.gear, ammo: FEDERAL, round: 1 },
        'qa:ben',
      );
    }
    // Nothing read: the code is voided and the firearm engraved again with a new one.
    await qa.submit({ serial: firearms[2]!.serial, text: '??????????', ammo: FEDERAL, round: 1 }, 'qa:ben');
    await until(async () => {
      const again = (await line.orderView('A')).firearms[2]!;
      return again.state === 'engraved' && again.voided.length === 1;
    }, 'the failed firearm engraved again');
    await until(async () => finished((await line.orderView('A')).order.state), 'order A done again');
  } finally {
    await daemon.stop();
  }
  // What a copy of a stopped line's data holds: no locks, no users (their password hashes).
  await rm(join(dataDir, 'auth'), { recursive: true, force: true });
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.name.endsWith('.lock') || e.name.endsWith('.tmp')) await rm(path);
    }
  };
  await walk(dataDir);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: tsx tests/support/write-line-data.ts OUT_DIR');
    process.exit(2);
  }
  writeLineData(out).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
