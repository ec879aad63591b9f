/**
 * `stampline start` exits non-zero with a clear reason when it cannot run (a bad setting, a port
 * in use, a store held by another daemon), and starts anyway when only its links are down: an
 * engraver or broker that cannot be reached is shown as down and retried. SIGTERM stops it
 * cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort, until } from '../support/line-rig.js';

const BIN = resolve(import.meta.dirname, '../../bin/stampline.js');
const dirs: string[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function config(
  overrides: Record<string, unknown> = {},
): Promise<{ dir: string; file: string; port: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-start-'));
  dirs.push(dir);
  const port = await freePort();
  const deadPort = await freePort();
  const base = {
    line: { id: 'start-test', dataDir: join(dir, 'data') },
    issuer: {
      number: 3,
      kind: 'manufacturer',
      licence: 'L-1',
      key: 'ffeeddccbbaa99887766554433221100',
      indexBlock: { start: 0, size: 1000 },
    },
    http: { host: '127.0.0.1', port },
    auth: { erpToken: 'erp-token-0123456789', operatorToken: 'operator-token-0123456789' },
    engraver: { url: `modbus-tcp://127.0.0.1:${deadPort}?unit=1`, id: 'laser' },
    mqtt: { url: `mqtt://127.0.0.1:${deadPort}` },
    log: { level: 'info' },
    ...overrides,
  };
  const file = join(dir, 'line.yaml');
  await writeFile(file, stringify(base));
  return { dir, file, port };
}

function run(file: string) {
  const child = spawn(process.execPath, [BIN, 'start', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b) => {
    out += b;
  });
  child.stderr.on('data', (b) => {
    out += b;
  });
  const exit = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, exit, output: () => out };
}

describe('stampline start', () => {
  it('refuses an invalid configuration, listing every problem by its path', async () => {
    const { file } = await config({
      http: { port: 'eighty' },
      engraver: { url: 'ftp://laser', id: 'laser' },
    });
    const r = run(file);
    expect(await r.exit).toBe(2);
    expect(r.output()).toContain('http.port');
    expect(r.output()).toContain('engraver.url');
  });

  it('refuses to start when its HTTP port is in use, and says so before touching the engraver or the broker', async () => {
    // Listeners in the places of the engraver and the broker count who connects: a second
    // daemon that connected to the broker with the running line's client id would knock the
    // running line off it.
    const connections = { engraver: 0, broker: 0 };
    const listen = async (which: keyof typeof connections): Promise<number> => {
      const s = createServer((socket) => {
        connections[which]++;
        socket.destroy();
      });
      servers.push(s);
      await new Promise<void>((res) => s.listen(0, '127.0.0.1', () => res()));
      return (s.address() as { port: number }).port;
    };
    const engraverPort = await listen('engraver');
    const brokerPort = await listen('broker');
    const { file, port } = await config({
      engraver: { url: `modbus-tcp://127.0.0.1:${engraverPort}?unit=1`, id: 'laser' },
      mqtt: { url: `mqtt://127.0.0.1:${brokerPort}` },
    });
    const blocker = createServer();
    servers.push(blocker);
    await new Promise<void>((res) => blocker.listen(port, '127.0.0.1', () => res()));
    const r = run(file);
    expect(await r.exit).not.toBe(0);
    expect(r.output()).toMatch(/port is in use/);
    expect(connections).toEqual({ engraver: 0, broker: 0 });
  });

  it('starts with its engraver and broker unreachable, shows both links down, and stops cleanly on SIGTERM', async () => {
    const { file, port } = await config();
    const r = run(file);
    const health = await until(async () => {
      try {
        return (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
          ok: boolean;
          checks: { engraver: { connected: boolean }; registry: { link: { state: string } } };
        };
      } catch {
        return undefined;
      }
    }, 'the API to answer');
    expect(health.ok).toBe(true);
    expect(health.checks.engraver.connected).toBe(false);
    expect(health.checks.registry.link.state).not.toBe('up');

    // A second daemon on the same data folder is refused: two writers would corrupt the store.
    const second = await config();
    const secondFile = join(second.dir, 'line.yaml');
    const cfg = parse(await readFile(file, 'utf8'));
    cfg.http.port = second.port;
    await writeFile(secondFile, stringify(cfg));
    const r2 = run(secondFile);
    expect(await r2.exit).not.toBe(0);
    expect(r2.output()).toMatch(/locked/i);

    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
    expect(r.output()).toContain('stopped');
  }, 30_000);
});
