/**
 * Line benchmarks, each against a baseline measured in the same run:
 *  1. firearms per second through the whole line (durable store, Modbus TCP driver, simulated
 *     engraver with zero marking time, durable outbox) vs the fewest raw modbus-serial calls
 *     that run the same job cycle;
 *  3. the time of one firearm's durable write, and the daemon's start-up time and memory, with
 *     10,000, 100,000 and 1,000,000 firearms already in the store, in finished orders of 100,000
 *     and in finished orders of 10 (100,000 orders at 1,000,000 firearms), with the order
 *     catalogue and without it (rebuilt from every header file), vs a raw durable write of the
 *     same bytes, and vs `stampline --version` for start-up;
 *  4. taking a 100,000-firearm CSV order through the line: time and peak memory (vs parsing and
 *     validating the file alone).
 * Part 2 (the outbox flushing to Mosquitto) is `npm run bench:outbox`.
 *
 * Run: npm run bench:line [-- --quick] [-- --no-csv]   (--quick stops at 100,000 firearms of
 *      history; --no-csv leaves out part 4)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { EngraverDevice } from '../simulators/engraver/device.js';
import { ModbusTcpServer } from '../simulators/engraver/modbus-tcp-server.js';
import { createEngraver, type Engraver } from '../src/engraver/index.js';
import { ModbusClient } from '../src/engraver/modbus/client.js';
import { parseOrdersCsv } from '../src/erp/csv.js';
import type { RecordSink } from '../src/line/line.js';
import type { Firearm, OrderHeader } from '../src/line/model.js';
import { CHUNK_SIZE, LineRepository, orderCatalogueSegment } from '../src/line/repository.js';
import { SHARDS, shardOf } from '../src/line/serial-index.js';
import { createLineServices, type LineServices } from '../src/line-services.js';
import { Outbox } from '../src/registry/outbox.js';
import { ServiceStack } from '../src/service-stack.js';
import { DocumentStore } from '../src/store/documents.js';
import { writeFileDurable } from '../src/store/durable.js';
import { safeName } from '../src/store/names.js';

const BIN = resolve(import.meta.dirname, '../bin/stampline.js');
const KEY = '00112233445566778899aabbccddeeff';
const RECIPE = { power: 500, frequency: 30, speed: 200, passes: 2 };
const quick = process.argv.includes('--quick');
const mode = process.argv[2];
const audit = { async record() {} };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function firearm(orderId: string, seq: number, serial: string, state: Firearm['state']): Firearm {
  return {
    serial,
    orderId,
    seq,
    rework: false,
    state,
    voided: [],
    history: [{ at: '2026-01-01T00:00:00.000Z', state }],
    ...(state === 'engraved'
      ? {
          code: {
            index: seq,
            text: '0AM4HYR2DZ',
            gear: '1'.repeat(88),
            jobId: seq + 1,
            allocatedAt: '2026-01-01T00:00:00.000Z',
          },
          recipe: { power: 500, frequency: 30, speed: 200, passes: 2 },
          engravedAt: '2026-01-01T00:00:00.000Z',
          reported: true,
        }
      : {}),
  };
}

/**
 * A line on `dir` with a fixed recipe and quiet logs, built as the daemon builds its own, as every
 * part of this benchmark uses it.
 */
function benchLine(dir: string, blockSize: number, engraver: Engraver, sink: RecordSink): LineServices {
  return createLineServices(
    {
      dataDir: dir,
      issuer: { number: 1, key: KEY, indexBlock: { start: 0, size: blockSize } },
      records: {
        issuer: 1,
        line: 'bench',
        certifiedBy: { kind: 'manufacturer', licence: 'L' },
        engraverId: 'e',
      },
      recipeFor: () => RECIPE,
      mirror: true,
      jobTimeoutMs: 10_000,
    },
    { engraver, sink, audit },
  );
}

/** Stops what a benchmark started, last first; a stop that fails is told and fails the run. */
function benchStack(): ServiceStack {
  return new ServiceStack((step, err) => {
    console.error(`cannot stop ${step}: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}

// ---- 1. throughput --------------------------------------------------------------------------

async function rawJobCycles(port: number, n: number): Promise<number> {
  const client = new ModbusClient();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(1);
  client.setTimeout(1000);
  const block = new Array(24).fill(0);
  const t = performance.now();
  for (let job = 1; job <= n; job++) {
    block[0] = job >>> 16;
    block[1] = job & 0xffff;
    block[2] = 10;
    for (let r = 3; r < 8; r++) block[r] = 0x4142; // "ABABABABAB"
    block[17] = 88;
    block[20] = 500;
    block[21] = 30;
    block[22] = 200;
    block[23] = 2;
    await client.writeRegisters(10, block);
    await client.writeCoil(0, true);
    for (;;) {
      const r = await client.readHoldingRegisters(1, 5);
      if (r.data[0] === 2 && ((r.data[3]! << 16) | r.data[4]!) === job) break;
      if (r.data[0] === 3) throw new Error(`raw job ${job} faulted with ${r.data[1]}`);
    }
  }
  const elapsed = performance.now() - t;
  client.close(() => {});
  return (n / elapsed) * 1000;
}

async function lineThroughput(n: number): Promise<{ line: number; raw: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-bench-line-'));
  const device = new EngraverDevice({ markingTimeMs: 0 });
  const server = new ModbusTcpServer({ device, port: 0, host: '127.0.0.1' });
  await server.start();
  const raw = await rawJobCycles(server.port, n);

  const stack = benchStack();
  const outbox = new Outbox({ dir: join(dir, 'outbox') } as ConstructorParameters<typeof Outbox>[0]);
  await stack.start(
    'outbox',
    () => outbox.start(),
    () => outbox.stop(),
  );
  const engraver = createEngraver(`modbus-tcp://127.0.0.1:${server.port}?unit=1`, { pollIntervalMs: 1 });
  const services = benchLine(dir, 1_000_000, engraver, { report: (records) => outbox.enqueue(records) });
  const { line } = services;
  await services.start(stack);
  await line.submitOrder(
    {
      id: 'bench',
      make: 'Acme',
      model: 'P1',
      target: 'firing-pin',
      firearms: Array.from({ length: n }, (_, i) => ({ serial: `B-${i}` })),
    },
    'http',
    'bench',
  );
  const t = performance.now();
  await line.startOrder('bench', 'bench');
  await new Promise<void>((res) => {
    const check = () => {
      if (line.status().activeOrders.length === 0) res();
      else setTimeout(check, 5);
    };
    check();
  });
  const elapsed = performance.now() - t;
  await stack.stopAll();
  await server.stop();
  device.close();
  await rm(dir, { recursive: true, force: true });
  return { line: (n / elapsed) * 1000, raw };
}

// ---- 3. history ------------------------------------------------------------------------------

/**
 * Writes a store holding `total` engraved firearms in finished orders of `perOrder`, quickly (no
 * fsync), with the order catalogue the line writes as it retires them.
 */
async function buildHistory(dir: string, total: number, perOrder: number): Promise<void> {
  const docs = join(dir, 'docs');
  const shards: string[][] = Array.from({ length: SHARDS }, () => []);
  const orders = Math.ceil(total / perOrder);
  const catalogue: string[] = new Array(orders);
  const t0 = Date.parse('2026-01-01T00:00:00.000Z');
  const writeOrder = async (o: number) => {
    const id = `HIST-${o}`;
    const size = Math.min(perOrder, total - o * perOrder);
    const base = join(docs, 'orders', safeName(id));
    await mkdir(base, { recursive: true });
    for (let c = 0; c * CHUNK_SIZE < size; c++) {
      const firearms: Firearm[] = [];
      for (let i = c * CHUNK_SIZE; i < Math.min(size, (c + 1) * CHUNK_SIZE); i++) {
        const serial = `H${o}-${i}`;
        firearms.push(firearm(id, i, serial, 'engraved'));
        shards[shardOf(serial)]!.push(`${serial}\t${id}\n`);
      }
      await writeFile(
        join(base, `firearms-${String(c).padStart(5, '0')}.json`),
        JSON.stringify({ firearms }),
      );
    }
    const header: OrderHeader = {
      id,
      make: 'Acme',
      model: 'P1',
      caliber: '9mm',
      target: 'firing-pin',
      state: 'engraved',
      createdAt: new Date(t0 + o * 60_000).toISOString(),
      startedAt: new Date(t0 + o * 60_000 + 1_000).toISOString(),
      finishedAt: new Date(t0 + o * 60_000 + 50_000).toISOString(),
      size,
      source: 'http',
    };
    await writeFile(join(base, 'header.json'), JSON.stringify(header));
    catalogue[o] = `${JSON.stringify(header)}\n`;
  };
  // Many small orders are written a group at a time: one file after another would take minutes.
  for (let o = 0; o < orders; o += 64) {
    await Promise.all(Array.from({ length: Math.min(64, orders - o) }, (_, k) => writeOrder(o + k)));
  }
  await mkdir(join(dir, 'serials'), { recursive: true });
  for (let n = 0; n < SHARDS; n++) {
    await writeFile(join(dir, 'serials', `${n.toString(16).padStart(2, '0')}.tsv`), shards[n]!.join(''));
  }
  await mkdir(join(docs, 'line'), { recursive: true });
  await writeFile(join(docs, 'line', 'allocator.json'), JSON.stringify({ reserved: [[0, total]] }));
  await writeFile(orderCatalogueSegment(docs), catalogue.join(''));
}

async function firearmWriteTime(dir: string): Promise<{ line: number; raw: number }> {
  const store = new DocumentStore({ dir: join(dir, 'docs') });
  await store.start();
  const repo = new LineRepository(store, join(dir, 'serials'));
  await repo.start();
  // The firearms name their order, as the line writes them (start-up checks that they do).
  const id = `W-${Date.now()}`;
  const order = await repo.createOrder(
    {
      id,
      make: 'Acme',
      model: 'P1',
      target: 'firing-pin',
      state: 'queued',
      createdAt: new Date().toISOString(),
      size: CHUNK_SIZE,
      source: 'http',
    },
    Array.from({ length: CHUNK_SIZE }, (_, i) => firearm(id, i, `${id}-${i}`, 'queued')),
  );
  const lineTimes: number[] = [];
  const rawTimes: number[] = [];
  const bytes = JSON.stringify(order.chunks[0]!.data);
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await repo.updateFirearm(order, i, (f) => {
      f.state = 'allocated';
      f.history.push({ at: new Date().toISOString(), state: 'allocated' });
    });
    lineTimes.push(performance.now() - t);
    const r = performance.now();
    await writeFileDurable(join(dir, 'raw.json'), bytes);
    rawTimes.push(performance.now() - r);
  }
  await repo.stop();
  await store.stop();
  return { line: median(lineTimes), raw: median(rawTimes) };
}

/**
 * Starts the daemon on `dir`: the time to its first `/healthz` answer, its peak memory then, and
 * the time until it lists every order (finished orders are read after it starts serving).
 */
async function startupOf(
  dir: string,
): Promise<{ ms: number; rssMb: number; listedMs: number; listed: number }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const config = join(dir, 'line.yaml');
  await writeFile(
    config,
    stringify({
      line: { id: 'bench', dataDir: dir },
      issuer: {
        number: 1,
        kind: 'manufacturer',
        licence: 'L',
        key: KEY,
        indexBlock: { start: 0, size: 10_000_000 },
      },
      http: { host: '127.0.0.1', port },
      auth: { erpToken: 'bench-erp-token-0001' },
      engraver: { url: 'modbus-tcp://127.0.0.1:1?unit=1', id: 'e' },
      mqtt: { url: 'mqtt://127.0.0.1:1' },
      log: { level: 'warn' },
    }),
  );
  const t = performance.now();
  const child = spawn(process.execPath, [BIN, 'start', '--config', config], { stdio: 'ignore' });
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {}
    if (child.exitCode !== null) throw new Error('daemon exited during start-up');
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = performance.now() - t;
  const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const answer = await fetch(`http://127.0.0.1:${port}/api/v1/orders`, {
    headers: { authorization: 'Bearer bench-erp-token-0001' },
  });
  if (!answer.ok) throw new Error(`the order list answered ${answer.status}`);
  // The list is paged: the pages after the first are asked for until `next` is null.
  let page = (await answer.json()) as { all: unknown[]; next: string | null };
  let listed = page.all.length;
  while (page.next) {
    const more = await fetch(
      `http://127.0.0.1:${port}/api/v1/orders?limit=1000&before=${encodeURIComponent(page.next)}`,
      { headers: { authorization: 'Bearer bench-erp-token-0001' } },
    );
    if (!more.ok) throw new Error(`the order list answered ${more.status}`);
    page = (await more.json()) as { all: unknown[]; next: string | null };
    listed += page.all.length;
  }
  const listedMs = performance.now() - t;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { ms, rssMb: hwm / 1024, listedMs, listed };
}

function versionTime(): number {
  const t = performance.now();
  execFileSync(process.execPath, [BIN, '--version']);
  return performance.now() - t;
}

// ---- 4. a 100,000-firearm CSV order --------------------------------------------------------

function csvOrder(n: number): string {
  const rows = ['order_id,make,model,caliber,serial,target,destination'];
  for (let i = 0; i < n; i++) rows.push(`BIG-1,Acme,P1,9mm,BIG-${String(i).padStart(6, '0')},firing-pin,`);
  return `${rows.join('\n')}\n`;
}

/** Runs in a child process so that its peak memory is its own. */
async function csvChild(which: 'line' | 'parse'): Promise<void> {
  const text = csvOrder(100_000);
  const baseRss = process.memoryUsage().rss;
  const t = performance.now();
  const parsed = parseOrdersCsv(text);
  if (!parsed.ok) throw new Error('bench CSV is invalid');
  let dir: string | undefined;
  if (which === 'line') {
    dir = await mkdtemp(join(tmpdir(), 'stampline-bench-csv-'));
    // The order is taken by a line that is not started: the store and the orders are.
    const stack = benchStack();
    const services = benchLine(dir, 1000, createEngraver('modbus-tcp://127.0.0.1:1?unit=1'), {
      async report() {},
    });
    await services.startStore(stack);
    await services.startOrders(stack);
    await services.line.submitOrders(parsed.orders, 'drop-folder', 'bench');
    await stack.stopAll();
  }
  const ms = performance.now() - t;
  const status = await readFile('/proc/self/status', 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  if (dir) await rm(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ ms, peakMb: hwm / 2 ** 20, baseMb: baseRss / 2 ** 20 }));
}

function runCsvChild(which: 'line' | 'parse'): { ms: number; peakMb: number; baseMb: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, `csv-${which}`], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out);
}

// ---- main ------------------------------------------------------------------------------------

if (mode === 'csv-line' || mode === 'csv-parse') {
  await csvChild(mode === 'csv-line' ? 'line' : 'parse');
} else {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `# bench:line — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpu}, node ${process.version}\n`,
  );

  const n = quick ? 100 : 300;
  const tp = await lineThroughput(n);
  console.log('## 1. Firearms per second through the whole line (Modbus TCP, zero marking time)\n');
  console.log(
    table(
      ['what', 'per second', 'ratio to raw'],
      [
        ['raw modbus-serial job cycle (write block, start coil, poll)', tp.raw.toFixed(0), '1.00'],
        [
          'whole line: allocate, durable states, driver, outbox',
          tp.line.toFixed(0),
          (tp.line / tp.raw).toFixed(2),
        ],
      ],
    ),
  );

  console.log('\n## 3. One firearm durable write, and start-up, by history\n');
  const sizes = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
  const rows: Array<Array<string | number>> = [];
  const version = median([versionTime(), versionTime(), versionTime()]);
  for (const perOrder of [100_000, 10]) {
    for (const size of sizes) {
      const dir = await mkdtemp(join(tmpdir(), 'stampline-bench-hist-'));
      await buildHistory(dir, size, perOrder);
      const write = await firearmWriteTime(dir);
      const startup = await startupOf(dir);
      // As after an upgrade from a store without a catalogue: every header file is read once.
      await rm(orderCatalogueSegment(join(dir, 'docs')));
      const rebuild = await startupOf(dir);
      const orders = Math.ceil(size / perOrder) + 1;
      for (const run of [startup, rebuild])
        if (run.listed !== orders) throw new Error(`listed ${run.listed} orders of ${orders}`);
      rows.push([
        size.toLocaleString('en'),
        Math.ceil(size / perOrder).toLocaleString('en'),
        write.line.toFixed(2),
        write.raw.toFixed(2),
        startup.ms.toFixed(0),
        version.toFixed(0),
        startup.rssMb.toFixed(0),
        startup.listedMs.toFixed(0),
        rebuild.ms.toFixed(0),
        rebuild.listedMs.toFixed(0),
      ]);
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(
    table(
      [
        'firearms stored',
        'finished orders',
        'firearm write, median ms',
        'raw durable write of the chunk, ms',
        'start-up to /healthz, ms',
        '`stampline --version`, ms',
        'start-up peak RSS, MB',
        'every order listed, ms',
        'without the catalogue: start-up to /healthz, ms',
        'every order listed (catalogue rebuilt), ms',
      ],
      rows,
    ),
  );

  // --no-csv leaves out part 4 (minutes on a loaded machine) when only parts 1 and 3 are wanted.
  if (process.argv.includes('--no-csv')) process.exit(0);
  console.log('\n## 4. A 100,000-firearm CSV order\n');
  const parse = runCsvChild('parse');
  const whole = runCsvChild('line');
  console.log(
    table(
      ['what', 'time, s', 'peak RSS, MB'],
      [
        ['parse and validate the file (baseline)', (parse.ms / 1000).toFixed(2), parse.peakMb.toFixed(0)],
        [
          'parse, validate, check serials and store the order',
          (whole.ms / 1000).toFixed(2),
          whole.peakMb.toFixed(0),
        ],
      ],
    ),
  );
}
