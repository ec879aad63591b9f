/**
 * API load against the engraver link: the line's job cycle (durable store, Modbus TCP driver,
 * simulated engraver with zero marking time in a process of its own, as a real engraver is) with
 * 2,000 orders queued, measured twice in the same run:
 *  - unloaded: nothing but the line;
 *  - loaded: 50 clients on loopback, in a process of their own, each sending GETs back to back
 *    (the order list as the UI and the ERP ask for it, the line, health), with two event streams
 *    open; and in both phases one client that only probes /healthz.
 * Printed: API requests per second, /healthz latency, the time to start an order, the job cycle
 * (the time between two firearms engraved) p50/p99/max, and how often the engraver link dropped
 * (it must never).
 *
 * Run: npx tsx bench/api-load.ts [-- --orders 2000 --jobs 300 --clients 50]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { EngraverDevice } from '../simulators/engraver/device.js';
import { ModbusTcpServer } from '../simulators/engraver/modbus-tcp-server.js';
import { buildApp } from '../src/api/app.js';
import { Auth } from '../src/api/auth/index.js';
import { createEngraver } from '../src/engraver/index.js';
import { createLineServices } from '../src/line-services.js';
import { ServiceStack } from '../src/service-stack.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};

/** The simulated engraver runs here when this file is started as its child. */
async function engraverChild(): Promise<void> {
  const device = new EngraverDevice({ markingTimeMs: 0 });
  const server = new ModbusTcpServer({ device, port: 0, host: '127.0.0.1' });
  await server.start();
  process.stdout.write(`${server.port}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await server.stop();
    device.close();
    process.exit(0);
  });
}

/**
 * The 50 clients run here, in a process of their own as real clients do, so that the daemon's
 * process does only the daemon's work. They load until stdin closes, then print what they did.
 */
async function loadChild(): Promise<void> {
  const base = args[args.indexOf('--load-child') + 1]!;
  const clients = option('clients', 50);
  const headers = { authorization: `Bearer ${TOKEN}` };
  let stop = false;
  let requests = 0;
  let failures = 0;
  const urls = [
    '/api/v1/orders?limit=1',
    '/api/v1/line',
    '/api/v1/orders',
    '/api/v1/orders?state=queued&limit=50',
    '/healthz',
  ];
  const streams: AbortController[] = [];
  for (let k = 0; k < 2; k++) {
    const ac = new AbortController();
    streams.push(ac);
    fetch(`${base}/api/v1/events`, { headers, signal: ac.signal })
      .then(async (res) => {
        for await (const _ of res.body ?? []) if (stop) break;
      })
      .catch(() => {});
  }
  const workers = Array.from({ length: clients }, async (_, c) => {
    for (let k = c; !stop; k++) {
      const res = await fetch(`${base}${urls[k % urls.length]}`, { headers }).catch(() => undefined);
      if (!res || res.status >= 500) failures++;
      await res?.arrayBuffer();
      requests++;
    }
  });
  // Ready once every client has had answers: the load is at its pace.
  while (requests < clients * 4) await new Promise((r) => setTimeout(r, 20));
  process.stdout.write('ready\n');
  process.stdin.resume();
  let started = 0;
  process.stdin.on('data', (c: Buffer) => {
    // "mark": the measured window starts now.
    if (c.toString().includes('mark')) started = requests;
  });
  await new Promise<void>((resolve) => process.stdin.on('end', () => resolve()));
  const served = requests - started;
  stop = true;
  for (const ac of streams) ac.abort();
  await Promise.all(workers);
  process.stdout.write(`${JSON.stringify({ requests: served, failures })}\n`);
  process.exit(0);
}

const ORDERS = option('orders', 2000);
const JOBS = option('jobs', 300);
const CLIENTS = option('clients', 50);
const KEY = '00112233445566778899aabbccddeeff';
const TOKEN = 'bench-operator-token-0123456789';
const progress = (msg: string) =>
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const ms = (n: number) => (Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n.toFixed(1));

function table(head: string[], rows: Array<Array<string | number>>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: Array<string | number>) =>
    `| ${cells.map((c, i) => String(c).padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

async function startEngraverProcess(): Promise<{ port: number; stop(): void }> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--engraver-child'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      const m = /^(\d+)\n/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`the engraver simulator exited with ${code}`)));
  });
  return { port, stop: () => child.stdin.end() };
}

async function startLoad(
  base: string,
): Promise<{ mark(): void; stop(): Promise<{ requests: number; failures: number }> }> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--load-child', base, '--clients', String(CLIENTS)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let text = '';
  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  child.stdout.on('data', (c: Buffer) => {
    text += c.toString();
    if (text.startsWith('ready\n')) ready();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await Promise.race([isReady, exited]);
  return {
    mark: () => child.stdin.write('mark\n'),
    async stop() {
      child.stdin.end();
      await exited;
      return JSON.parse(text.trim().split('\n').at(-1) ?? '{}');
    },
  };
}

interface Phase {
  name: string;
  cycles: number[];
  drops: number;
  requests: number;
  seconds: number;
  health: number[];
  startMs: number;
  failures: number;
  /** event-loop delay of the daemon's process, ms */
  lagP99: number;
  lagMax: number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-bench-api-load-'));
  const sim = await startEngraverProcess();
  const engraver = createEngraver(`modbus-tcp://127.0.0.1:${sim.port}?unit=1`, {});
  // Built and stopped as the daemon builds and stops its line.
  const services = createLineServices(
    {
      dataDir: dir,
      issuer: { number: 1, key: KEY, indexBlock: { start: 0, size: 1_000_000 } },
      records: {
        issuer: 1,
        line: 'bench',
        certifiedBy: { kind: 'manufacturer', licence: 'L' },
        engraverId: 'e',
      },
      recipeFor: () => ({ power: 500, frequency: 30, speed: 200, passes: 2 }),
      mirror: true,
      jobTimeoutMs: 10_000,
    },
    { engraver, sink: { async report() {} }, audit: { async record() {} } },
  );
  const stack = new ServiceStack((step, err) => {
    console.error(`cannot stop ${step}: ${(err as Error).message}`);
    process.exitCode = 1;
  });
  await services.startStore(stack);
  await services.startOrders(stack);
  await stack.start(
    'engraver',
    () => engraver.start(),
    () => engraver.stop(),
  );
  await engraver.whenConnected(5000);
  const { line } = services;
  await stack.start(
    'line',
    () => line.start(),
    () => line.stop(),
  );
  const auth = new Auth({
    dataDir: join(dir, 'auth'),
    tokens: { operator: TOKEN },
    sessionTtlMinutes: 60,
  });
  await stack.start(
    'auth',
    () => auth.start(),
    () => auth.stop(),
  );
  const app = buildApp({
    line,
    auth,
    health: () => ({ ok: engraver.connected, checks: { engraver: engraver.connected } }),
    version: 'bench',
    processMetrics: false,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const headers = { authorization: `Bearer ${TOKEN}` };

  let drops = 0;
  engraver.onLink((e) => {
    if (e.kind === 'down') drops++;
  });
  let lastEngraved = 0;
  let cycles: number[] = [];
  line.on('firearm', ({ firearm }) => {
    if (firearm.state !== 'engraved') return;
    const t = performance.now();
    if (lastEngraved > 0) cycles.push(t - lastEngraved);
    lastEngraved = t;
  });

  for (let start = 0; start < ORDERS; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(ORDERS, start + 500); i++) {
      batch.push({
        id: `Q-${i}`,
        make: 'Acme Arms',
        model: `Model ${i % 17}`,
        target: 'firing-pin' as const,
        destination: 'DL-1-23-456',
        firearms: [{ serial: `Q-${i}-A` }, { serial: `Q-${i}-B` }, { serial: `Q-${i}-C` }],
      });
    }
    await line.submitOrders(batch, 'http', 'bench');
    progress(`${Math.min(ORDERS, start + 500)} orders queued`);
  }

  async function runOrder(id: string): Promise<number> {
    await line.submitOrder(
      {
        id,
        make: 'Acme',
        model: 'P1',
        target: 'firing-pin',
        firearms: Array.from({ length: JOBS }, (_, i) => ({ serial: `${id}-${i}` })),
      },
      'http',
      'bench',
    );
    lastEngraved = 0;
    cycles = [];
    const done = new Promise<void>((resolve) => {
      const onOrder = ({ order }: { order: { id: string; state: string } }) => {
        if (order.id === id && (order.state === 'engraved' || order.state === 'aborted')) {
          line.off('order', onOrder);
          resolve();
        }
      };
      line.on('order', onOrder);
    });
    const t = performance.now();
    const res = await fetch(`${base}/api/v1/orders/${id}/start`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{}',
    });
    const startMs = performance.now() - t;
    if (res.status !== 200) throw new Error(`start ${id}: ${res.status} ${await res.text()}`);
    await done;
    return startMs;
  }

  async function phase(name: string, loaded: boolean): Promise<Phase> {
    const before = drops;
    let stop = false;
    const health: number[] = [];
    const load = loaded ? await startLoad(base) : undefined;
    const probe = (async () => {
      while (!stop) {
        const t = performance.now();
        const res = await fetch(`${base}/healthz`).catch(() => undefined);
        await res?.arrayBuffer();
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const t = performance.now();
    load?.mark();
    const startMs = await runOrder(`work-${name}`);
    const seconds = (performance.now() - t) / 1000;
    lag.disable();
    const done = await load?.stop();
    stop = true;
    await probe;
    return {
      name,
      cycles: [...cycles],
      drops: drops - before,
      requests: done?.requests ?? 0,
      seconds,
      health,
      startMs,
      failures: done?.failures ?? 0,
      lagP99: lag.percentile(99) / 1e6,
      lagMax: lag.max / 1e6,
    };
  }

  progress('unloaded phase');
  const unloaded = await phase('unloaded', false);
  progress('loaded phase');
  const results = [unloaded, await phase('loaded', true)];

  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(
    `\nAPI load vs the engraver link: ${ORDERS} orders queued, ${JOBS} jobs per phase, ${CLIENTS} clients\n` +
      `${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpu}, Node ${process.version}\n`,
  );
  console.log(
    table(
      [
        'phase',
        'API req/s',
        'failed',
        '/healthz p50 ms',
        '/healthz p99 ms',
        '/healthz max ms',
        'start ms',
        'job cycle p50 ms',
        'job cycle p99 ms',
        'job cycle max ms',
        'loop delay p99 ms',
        'loop delay max ms',
        'link drops',
      ],
      results.map((r) => [
        r.name,
        r.requests === 0 ? '-' : Math.round(r.requests / r.seconds),
        r.failures,
        ms(pct(r.health, 50)),
        ms(pct(r.health, 99)),
        ms(Math.max(...r.health)),
        ms(r.startMs),
        ms(pct(r.cycles, 50)),
        ms(pct(r.cycles, 99)),
        ms(Math.max(...r.cycles)),
        ms(r.lagP99),
        ms(r.lagMax),
        r.drops,
      ]),
    ),
  );
  const [{ length: bytesOne }, { length: bytesLine }] = await Promise.all([
    fetch(`${base}/api/v1/orders?limit=1`, { headers }).then((r) => r.text()),
    fetch(`${base}/api/v1/line`, { headers }).then((r) => r.text()),
  ]);
  console.log(
    `\nanswer sizes: GET /api/v1/orders?limit=1 ${bytesOne} bytes, GET /api/v1/line ${bytesLine} bytes`,
  );

  await app.close();
  await stack.stopAll();
  sim.stop();
  await rm(dir, { recursive: true, force: true });
  const lost = results.reduce((n, r) => n + r.drops, 0);
  if (lost > 0) {
    console.error(`the engraver link dropped ${lost} time(s)`);
    process.exitCode = 1;
  }
}

if (process.argv.includes('--engraver-child')) await engraverChild();
else if (process.argv.includes('--load-child')) await loadChild();
else await main();
