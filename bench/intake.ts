/**
 * Order intake: taking a 100,000-firearm order, from the drop folder (CSV) and from the API (JSON).
 * Each measurement runs in a fresh child process, so that its peak memory is its own: the growth
 * of the process's peak RSS while reading and validating the file, and the heap still held by
 * the result. The baselines, measured in the same run on the same files: csv-parse alone (array
 * of arrays, default options) for the CSV, JSON.parse alone for the JSON. The zod schema applied
 * to the same JSON is shown as well: it is the alternative to the hand-written validator.
 *
 * Usage: npm run bench:intake  (BENCH_RUNS=n child processes per variant, default 5)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { sampleOrder } from '../simulators/erp/sample.js';
import { formatOrdersCsv, parseOrdersCsv } from '../src/erp/csv.js';
import { orderSchema, parseOrder } from '../src/erp/order.js';

const FIREARMS = 100_000;

const VARIANTS = {
  'csv-parse alone (baseline)': {
    file: 'csv',
    run: (b: Buffer) => {
      const records = parse(b.toString('utf8')) as unknown[];
      return { value: records, firearms: records.length - 1 };
    },
  },
  'parseOrdersCsv (drop folder)': {
    file: 'csv',
    run: (b: Buffer) => {
      const r = parseOrdersCsv(b);
      if (!r.ok) throw new Error(JSON.stringify(r.problems.slice(0, 3)));
      return { value: r.orders, firearms: r.orders[0]!.firearms.length };
    },
  },
  'JSON.parse alone (baseline)': {
    file: 'json',
    run: (b: Buffer) => {
      const value = JSON.parse(b.toString('utf8')) as { firearms: unknown[] };
      return { value, firearms: value.firearms.length };
    },
  },
  'JSON.parse + parseOrder (API)': {
    file: 'json',
    run: (b: Buffer) => {
      const r = parseOrder(JSON.parse(b.toString('utf8')));
      if (!r.ok) throw new Error(JSON.stringify(r.problems.slice(0, 3)));
      return { value: r.order, firearms: r.order.firearms.length };
    },
  },
  'JSON.parse + zod orderSchema': {
    file: 'json',
    run: (b: Buffer) => {
      const r = orderSchema.safeParse(JSON.parse(b.toString('utf8')));
      if (!r.success) throw new Error(r.error.message.slice(0, 300));
      return { value: r.data, firearms: r.data.firearms.length };
    },
  },
} as const;

type Variant = keyof typeof VARIANTS;

interface Sample {
  coldMs: number;
  warmMs: number;
  peakRssMB: number;
  retainedHeapMB: number;
  firearms: number;
}

const MB = 1024 * 1024;

/** In the child: one cold run (what the first file after start-up costs, and its peak memory), then three warm. */
function child(variant: Variant, path: string): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rss0 = process.resourceUsage().maxRSS * 1024;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const bytes = readFileSync(path);
  const result = VARIANTS[variant].run(bytes);
  const coldMs = performance.now() - t0;
  const peakRssMB = (process.resourceUsage().maxRSS * 1024 - rss0) / MB;
  gc?.();
  // Measured while the result is still referenced: what holding the parsed order costs.
  const retainedHeapMB = (process.memoryUsage().heapUsed - heap0) / MB;
  const firearms = result.firearms;
  let warmMs = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    VARIANTS[variant].run(readFileSync(path));
    warmMs = Math.min(warmMs, performance.now() - t);
  }
  const sample: Sample = { coldMs, warmMs, peakRssMB, retainedHeapMB, firearms };
  if (result.value === undefined) throw new Error('no result');
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const dir = await mkdtemp(join(tmpdir(), 'stampline-bench-intake-'));
  try {
    const order = sampleOrder({
      id: 'BENCH-100K',
      firearms: FIREARMS,
      make: 'Acme Arms',
      model: 'P-9 Compact',
      destination: '1-23-456-78-9A-12345',
    });
    const files = { csv: join(dir, 'order.csv'), json: join(dir, 'order.json') };
    await writeFile(files.csv, formatOrdersCsv([order]));
    await writeFile(files.json, JSON.stringify(order));
    const sizes = { csv: readFileSync(files.csv).length, json: readFileSync(files.json).length };

    const results = new Map<Variant, Sample[]>();
    const self = fileURLToPath(import.meta.url);
    // Interleaved, so that a burst of load from elsewhere hits every variant alike.
    for (let r = 0; r < runs; r++) {
      for (const v of Object.keys(VARIANTS) as Variant[]) {
        const out = spawnSync(
          process.execPath,
          ['--expose-gc', '--import', 'tsx', self, '--child', v, files[VARIANTS[v].file]],
          { encoding: 'utf8', maxBuffer: 1 << 20 },
        );
        if (out.status !== 0) throw new Error(`${v}: ${out.stderr}`);
        const sample = JSON.parse(out.stdout.trim().split('\n').pop()!) as Sample;
        if (sample.firearms !== FIREARMS) throw new Error(`${v}: read ${sample.firearms} firearms`);
        results.set(v, [...(results.get(v) ?? []), sample]);
        process.stderr.write('.');
      }
    }
    process.stderr.write('\n');

    const row = (v: Variant) => {
      const s = results.get(v)!;
      return {
        cold: median(s.map((x) => x.coldMs)),
        warm: median(s.map((x) => x.warmMs)),
        rss: median(s.map((x) => x.peakRssMB)),
        heap: median(s.map((x) => x.retainedHeapMB)),
      };
    };
    const base = { csv: row('csv-parse alone (baseline)'), json: row('JSON.parse alone (baseline)') };
    const lines = [
      `Order intake, ${FIREARMS} firearms: CSV ${(sizes.csv / MB).toFixed(1)} MB, JSON ${(sizes.json / MB).toFixed(1)} MB; median of ${runs} child processes each`,
      '',
      '| variant | cold (ms) | warm (ms) | warm vs baseline | peak RSS growth (MB) | retained heap (MB) |',
      '|---|---:|---:|---:|---:|---:|',
    ];
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const x = row(v);
      const b = base[VARIANTS[v].file];
      lines.push(
        `| ${v} | ${x.cold.toFixed(0)} | ${x.warm.toFixed(0)} | ${(x.warm / b.warm).toFixed(2)}× | ${x.rss.toFixed(0)} | ${x.heap.toFixed(0)} |`,
      );
    }
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    lines.push(
      '',
      `${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpu}, Node ${process.version}`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const i = process.argv.indexOf('--child');
if (i >= 0) child(process.argv[i + 1] as Variant, process.argv[i + 2]!);
else await main();
