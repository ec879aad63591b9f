/**
 * A daemon whose start fails part-way stops what it had started, last first, without being
 * asked: the data folder's lock is let go, so the line can be started again at once.
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../simulators/broker/mosquitto.js';
import { type Config, parseConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/logger.js';
import { makeDir, removeDir } from '../line/harness.js';

let dir: string;
let config: Config;
const daemons: Daemon[] = [];

function daemon(hooks: ConstructorParameters<typeof Daemon>[2] = {}): { d: Daemon; logged: () => string[] } {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, done) {
      text += chunk;
      done();
    },
  });
  const d = new Daemon(config, createLogger({ level: 'info', pretty: false }, out), hooks);
  daemons.push(d);
  return {
    d,
    logged: () =>
      text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
  };
}

beforeEach(async () => {
  dir = await makeDir();
  // Links down: nothing listens on these ports, which the daemon shows and retries.
  const dead = await freePort();
  config = parseConfig({
    line: { id: 'start-failure', dataDir: dir },
    issuer: {
      number: 7,
      licence: 'FFL-TEST-0001',
      key: '00112233445566778899aabbccddeeff',
      indexBlock: { start: 0, size: 1000 },
    },
    http: { host: '127.0.0.1', port: 0 },
    auth: { erpToken: 'start-failure-erp-token-0001' },
    engraver: { url: `modbus-tcp://127.0.0.1:${dead}?unit=1`, id: 'test-laser', requestTimeoutMs: 500 },
    mqtt: { url: `mqtt://127.0.0.1:${dead}`, protocolVersion: 4, reconnectMs: 200 },
  });
});

afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop();
  await removeDir(dir);
});

describe('a daemon whose start fails', () => {
  it('stops what it had started in the reverse order, and the line starts again on the same folder', async () => {
    const seen: string[] = [];
    const { d, logged } = daemon({
      beforeConnect: async (x) => {
        // A simulator started before the failure: stopped with the rest, while the audit trail
        // (started before it) still takes entries.
        x.onStop(async () => {
          const audited = await x
            .audit!.record({ actor: 'test', action: 'test.probe', subject: 'stop' })
            .then(
              () => 'audit still open',
              () => 'audit already closed',
            );
          seen.push(`simulator stopped, ${audited}`);
        });
        throw new Error('the simulated engraver cannot listen');
      },
    });
    await expect(d.start()).rejects.toThrow('the simulated engraver cannot listen');
    expect(seen).toEqual(['simulator stopped, audit still open']);
    // The audit trail was stopped after the simulator.
    await expect(
      d.audit!.record({ actor: 'test', action: 'test.probe', subject: 'after' }),
    ).rejects.toThrow();
    expect(logged()).toContain('stopped');
    expect(logged()).not.toContain('error while stopping');
    // Asking again changes nothing.
    await d.stop();

    // The store's lock and the folder are free: a second daemon starts on it and serves.
    const again = daemon();
    await again.d.start();
    const res = await fetch(`${again.d.address!.url}/healthz`);
    expect(res.status).toBe(200);
  });
});
