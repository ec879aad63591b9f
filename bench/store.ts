/**
 * Store benchmarks, each against a baseline measured in the same run:
 *  1. one durable write of a small document vs a raw open + write + fsync + close of the same bytes;
 *  2. AppendLog appends: one writer awaiting each append vs N concurrent writers (group commit),
 *     with a raw write + fdatasync per entry as the baseline;
 *  3. start-up and one document's write time in a store already holding 10k and 100k documents,
 *     vs an empty store: neither may grow with the number of documents.
 *
 * Run: npm run bench:store [-- --quick]
 */

import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendLog } from '../src/store/append-log.js';
import { type Doc, DocumentStore } from '../src/store/documents.js';

const quick = process.argv.includes('--quick');
const root = await mkdtemp(join(tmpdir(), 'stampline-bench-store-'));

interface Stats {
  median: number;
  p95: number;
  mean: number;
}

function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return {
    median: s[Math.floor(s.length / 2)]!,
    p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

const ms = (n: number) => n.toFixed(2);

async function timeEach(n: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}

/** A firearm-chunk-like document of about 250 bytes. */
function smallDoc(i: number) {
  return {
    order: `ORD-${i}`,
    firearms: [
      { serial: `SN${String(i).padStart(8, '0')}`, state: 'engraved', code: 'ABCDE-FGHIJ-KLMNO', at: i },
    ],
    recipe: { power: 80, frequency: 20, speed: 300, passes: 2 },
  };
}

async function benchDocumentWrite(): Promise<string[]> {
  const n = quick ? 50 : 300;
  const dir = join(root, 'doc-write');
  await mkdir(dir, { recursive: true });
  const bytes = Buffer.from(`${JSON.stringify(smallDoc(1))}\n`);
  const raw = await timeEach(n, async () => {
    const h = await open(join(dir, 'raw.json'), 'w');
    await h.write(bytes);
    await h.sync();
    await h.close();
  });
  const store = new DocumentStore({ dir: join(dir, 'store') });
  await store.start();
  const doc = await store.open('orders/ORD-1/firearms-0000', () => smallDoc(1));
  const durable = await timeEach(n, (i) =>
    doc.update((d) => {
      d.firearms[0]!.at = i;
    }),
  );
  await store.stop();
  const r = stats(raw);
  const d = stats(durable);
  return [
    `### 1. One durable write of a small document (${bytes.length} bytes, ${n} writes)`,
    '',
    '| | median ms | p95 ms | mean ms | × baseline (median) |',
    '|---|---:|---:|---:|---:|',
    `| baseline: open + write + fsync + close | ${ms(r.median)} | ${ms(r.p95)} | ${ms(r.mean)} | 1.00 |`,
    `| \`Doc.update\` (temp file, fsync, rename, fsync dir) | ${ms(d.median)} | ${ms(d.p95)} | ${ms(d.mean)} | ${(d.median / r.median).toFixed(2)} |`,
    '',
  ];
}

async function benchAppend(): Promise<string[]> {
  const total = quick ? 400 : 2000;
  const entry = (i: number) => ({
    id: `rec-${i}`,
    kind: 'engraved',
    serial: `SN${i}`,
    code: 'ABCDE-FGHIJ-KLMNO',
  });
  const rows: string[] = [];

  const rawDir = join(root, 'append-raw');
  await mkdir(rawDir, { recursive: true });
  const h = await open(join(rawDir, 'raw.jsonl'), 'a');
  let t = performance.now();
  for (let i = 0; i < total; i++) {
    await h.write(`${JSON.stringify(entry(i))}\n`);
    await h.datasync();
  }
  const rawRate = total / ((performance.now() - t) / 1000);
  await h.close();
  rows.push(`| baseline: write + fdatasync per entry | 1 | ${rawRate.toFixed(0)} | 1.00 | 1.0 |`);

  for (const writers of [1, 8, 32, 128]) {
    const log = new AppendLog<ReturnType<typeof entry>>({
      dir: join(root, `append-${writers}`),
      name: 'bench',
    });
    await log.start();
    // at least 20 rounds per writer, so the queue reaches its steady state
    const perWriter = Math.max(20, Math.ceil(total / writers));
    t = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) await log.append([entry(w * perWriter + i)]);
      }),
    );
    const rate = (writers * perWriter) / ((performance.now() - t) / 1000);
    const { batches, entries } = log.stats;
    await log.stop();
    rows.push(
      `| \`AppendLog.append\`, ${writers === 1 ? 'one writer awaiting each' : `${writers} concurrent writers`} | ${writers} | ${rate.toFixed(0)} | ${(rate / rawRate).toFixed(2)} | ${(entries / batches).toFixed(1)} |`,
    );
  }
  return [
    `### 2. AppendLog: appends of one entry each (at least ${total} entries per row)`,
    '',
    '| | writers | entries/s | × baseline | entries per fsync |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
}

/** Fills a store folder with `count` documents laid out as orders of 100 firearm chunks (setup only: no fsync). */
async function populate(dir: string, count: number): Promise<void> {
  const perFolder = 100;
  const folders = Math.ceil(count / perFolder);
  const text = `${JSON.stringify(smallDoc(0))}\n`;
  let next = 0;
  const worker = async () => {
    for (let f = next++; f < folders; f = next++) {
      const folder = join(dir, 'orders', `ORD-${f}`);
      await mkdir(folder, { recursive: true });
      for (let j = 0; j < perFolder && f * perFolder + j < count; j++) {
        await writeFile(join(folder, `firearms-${String(j).padStart(4, '0')}.json`), text);
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
}

async function benchHistory(): Promise<string[]> {
  const sizes = quick ? [0, 10_000] : [0, 10_000, 100_000];
  const n = quick ? 50 : 300;
  type Small = ReturnType<typeof smallDoc>;
  const setups: {
    size: number;
    store: DocumentStore;
    startMs: number;
    docs: Doc<Small>[];
    samples: number[];
  }[] = [];
  for (const size of sizes) {
    const dir = join(root, `history-${size}`);
    const t0 = performance.now();
    await populate(dir, size);
    process.stderr.write(
      `  store of ${size} documents filled in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
  // Filling leaves the page cache full of unwritten files; flush them and let the journal
  // settle, so the writes measured below do not pay for the setup's writeback.
  execFileSync('sync');
  await new Promise((r) => setTimeout(r, 3000));
  for (const size of sizes) {
    const store = new DocumentStore({ dir: join(root, `history-${size}`) });
    const ts = performance.now();
    await store.start();
    const startMs = performance.now() - ts;
    // one existing document of an old order, and one new order's document
    const docs = [
      await store.open<Small>('orders/ORD-0/firearms-0000', () => smallDoc(0)),
      await store.open<Small>('orders/ORD-NEW/firearms-0000', () => smallDoc(1)),
    ];
    setups.push({ size, store, startMs, docs, samples: [] });
  }
  // Round-robin over the stores, so the noise of a shared machine falls on all of them alike.
  for (let i = 0; i < n; i++) {
    for (const s of setups) {
      const t = performance.now();
      await s.docs[i % 2]!.update((d) => {
        d.firearms[0]!.at = i;
      });
      s.samples.push(performance.now() - t);
    }
  }
  const rows: string[] = [];
  const base = stats(setups[0]!.samples);
  for (const s of setups) {
    await s.store.stop();
    const st = stats(s.samples);
    rows.push(
      `| ${s.size.toLocaleString('en')} | ${ms(s.startMs)} | ${ms(st.median)} | ${ms(st.p95)} | ${(st.median / base.median).toFixed(2)} |`,
    );
  }
  return [
    `### 3. One document's durable write in a store already holding N documents (${n} writes each, interleaved)`,
    '',
    '| documents held | `start()` ms | write median ms | write p95 ms | × empty store (median) |',
    '|---:|---:|---:|---:|---:|',
    ...rows,
    '',
  ];
}

try {
  const out: string[] = [
    `Machine: ${cpus().length} CPUs, ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, data in ${tmpdir()}`,
    '',
  ];
  out.push(...(await benchDocumentWrite()));
  out.push(...(await benchAppend()));
  out.push(...(await benchHistory()));
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await rm(root, { recursive: true, force: true });
}
