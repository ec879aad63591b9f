/**
 * QA benchmarks, each against a baseline measured in the same run:
 *  1. start-up of the QA service over a read log of N reads, replaying the whole log (no
 *     checkpoint: indexes and statistics rebuilt) and then from the checkpoint that start-up
 *     wrote, vs only reading and parsing the same log;
 *  2. one read taken by `submit` (check, decode, durable append, policy) vs its parts alone:
 *     decoding the read, and one durable append of the same entry.
 *
 * Run: npm run bench:qa [-- --quick]   (node's --expose-gc, which the script sets, for the heap column)
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeReads, encode, parseKey } from '../src/codes/index.js';
import type { Firearm, OrderHeader } from '../src/line/model.js';
import { type QaLine, QaService } from '../src/qa/index.js';
import type { QaLogEntry } from '../src/qa/read-log.js';
import type { StoredRead } from '../src/qa/types.js';
import { AppendLog } from '../src/store/append-log.js';

const quick = process.argv.includes('--quick');
const root = await mkdtemp(join(tmpdir(), 'stampline-bench-qa-'));
const key = parseKey('00112233445566778899aabbccddeeff');

const header: OrderHeader = {
  id: 'B-1',
  make: 'Acme Arms',
  model: 'P-9 Compact',
  target: 'firing-pin',
  state: 'engraved',
  createdAt: new Date().toISOString(),
  size: 1,
  source: 'http',
};

function firearmOf(serial: string, index: number): Firearm {
  const cw = encode(42, index, key);
  return {
    serial,
    orderId: header.id,
    seq: index,
    rework: false,
    state: 'engraved',
    code: { index, text: cw.text, gear: cw.gear, jobId: index + 1, allocatedAt: header.createdAt },
    voided: [],
    recipe: { power: 500, frequency: 30, speed: 200, passes: 2 },
    history: [],
  };
}

/** A line that holds every firearm in memory and applies decisions without doing anything. */
function fakeLine(firearms: Map<string, Firearm>): QaLine {
  const find = (serial: string) => firearms.get(serial);
  return {
    async findFirearms(q) {
      const f = 'serial' in q ? find(q.serial) : undefined;
      return f ? [{ order: header, firearm: f }] : [];
    },
    async firearm(ref) {
      for (const f of firearms.values()) if (f.seq === ref.seq) return { order: header, firearm: f };
      return undefined;
    },
    async applyVerdict(ref, _code, d) {
      const f = [...firearms.values()].find((x) => x.seq === ref.seq)!;
      return { outcome: d.result === 'pass' ? 'verified' : 'rework', order: header, firearm: f };
    },
    async orderView() {
      return {
        order: header,
        counts: {
          queued: 0,
          inProgress: 0,
          engraved: 0,
          verified: 0,
          accepted: 0,
          cancelled: 0,
          voidedCodes: 0,
        },
        firearms: [],
      };
    },
    async listOrders() {
      return [header];
    },
  };
}

function sampleRead(id: number, serial: string, index: number): StoredRead {
  const cw = encode(42, index, key);
  return {
    id,
    at: new Date().toISOString(),
    by: 'alice',
    serial,
    orderId: header.id,
    code: { index, text: cw.text },
    text: cw.text,
    gear: cw.gear,
    ammo: { brand: id % 3 === 0 ? 'Wolf Steel' : 'Federal HST', lacquered: id % 3 === 0 },
    round: 1 + (id % 3),
    station: 'scope-1',
    make: header.make,
    model: header.model,
    engraverId: 'laser-1',
    recipe: '500/30/200/2',
    decode: {
      ok: true,
      text: cw.text,
      matches: true,
      confident: true,
      errors: 0,
      erasures: 1,
      uec: 0.875,
      grade: 'A',
      illegibleChars: 0,
      illegibleTeeth: 3,
    },
  };
}

/** Writes a read log of `firearms` × 3 reads, each firearm decided. */
async function writeLog(dir: string, firearms: number): Promise<void> {
  const log = new AppendLog<QaLogEntry>({ dir: join(dir, 'qa'), name: 'reads' });
  await log.start();
  let id = 0;
  let batch: QaLogEntry[] = [];
  for (let n = 0; n < firearms; n++) {
    const serial = `SN-${String(n).padStart(8, '0')}`;
    const ids: number[] = [];
    for (let c = 0; c < 3; c++) {
      const read = sampleRead(++id, serial, n);
      ids.push(read.id);
      batch.push({ type: 'read', seq: n, read });
    }
    const r = batch.at(-1) as { read: StoredRead };
    batch.push({
      type: 'decision',
      at: r.read.at,
      by: 'alice',
      serial,
      orderId: header.id,
      seq: n,
      code: r.read.code,
      verdict: { status: 'pass', policy: 'every-case', casings: 3, needed: 3, grade: 'A', reason: 'bench' },
      readIds: ids,
    });
    if (batch.length >= 4000) {
      await log.append(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await log.append(batch);
  await log.stop();
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

const rows: string[] = [];

// ---- 1. start-up -----------------------------------------------------------------------------
for (const firearms of quick ? [10_000] : [10_000, 100_000]) {
  const dir = join(root, `start-${firearms}`);
  await writeLog(dir, firearms);
  const reads = firearms * 3;
  const [baseline] = await timed(async () => {
    const log = new AppendLog<QaLogEntry>({ dir: join(dir, 'qa'), name: 'reads', readOnly: true });
    await log.start();
    let n = 0;
    for await (const b of log.readBatches()) n += b.length;
    await log.stop();
    return n;
  });
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const service = () =>
    new QaService({
      line: fakeLine(new Map()),
      policy: { kind: 'every-case', cases: 3, minGrade: 'C' },
      key,
      dataDir: dir,
      engraverId: 'laser-1',
    });
  const heapKept = () => {
    global.gc?.();
    return global.gc
      ? `${Math.max(0, (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024).toFixed(0)} MiB`
      : 'n/a (run with --expose-gc)';
  };
  // No checkpoint yet: the whole log is replayed (and a checkpoint written, awaited by stop).
  const full = service();
  const [startMs] = await timed(() => full.start());
  const fullHeap = heapKept();
  if (full.lastStart().checkpoint !== null) throw new Error('expected a full replay');
  await full.stop();
  global.gc?.();
  const warm = service();
  const [checkpointMs] = await timed(() => warm.start());
  const warmHeap = heapKept();
  const info = warm.lastStart();
  if (info.checkpoint === null) throw new Error('expected a start from the checkpoint');
  await warm.stop();
  rows.push(
    `| start-up, ${reads.toLocaleString('en')} reads, full replay | ${baseline.toFixed(0)} ms (read and parse the log) | ${startMs.toFixed(0)} ms | ${(startMs / baseline).toFixed(2)} | ${(startMs / (reads / 1e6)).toFixed(0)} ms per million reads; heap kept +${fullHeap} |`,
    `| start-up, ${reads.toLocaleString('en')} reads, from the checkpoint | ${baseline.toFixed(0)} ms (read and parse the log) | ${checkpointMs.toFixed(0)} ms | ${(checkpointMs / baseline).toFixed(2)} | ${info.replayedEntries.toLocaleString('en')} log entries read after the checkpoint; heap kept +${warmHeap} |`,
  );
}

// ---- 2. one read -----------------------------------------------------------------------------
{
  const n = quick ? 50 : 300;
  const dir = join(root, 'submit');
  const firearms = new Map<string, Firearm>();
  for (let i = 0; i < n; i++) firearms.set(`SN-${i}`, firearmOf(`SN-${i}`, i));
  const qa = new QaService({
    line: fakeLine(firearms),
    policy: { kind: 'every-case', cases: 3, minGrade: 'C' },
    key,
    dataDir: dir,
    engraverId: 'laser-1',
  });
  await qa.start();
  const inputs = [...firearms.values()].map((f) => ({
    serial: f.serial,
    text: `${f.code!.text.slice(0, 9)}?`,
    gear: f.code!.gear.slice(30) + f.code!.gear.slice(0, 30),
    ammo: { brand: 'Federal HST', lacquered: false },
  }));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const decode: number[] = [];
  for (const i of inputs) decode.push((await timed(async () => decodeReads([i], key)))[0]);
  const log = new AppendLog<QaLogEntry>({ dir: join(root, 'raw'), name: 'reads' });
  await log.start();
  const append: number[] = [];
  for (let i = 0; i < n; i++) {
    const entry: QaLogEntry = { type: 'read', seq: i, read: sampleRead(i + 1, `SN-${i}`, i) };
    append.push((await timed(() => log.append([entry])))[0]);
  }
  await log.stop();
  const submit: number[] = [];
  for (const i of inputs) submit.push((await timed(() => qa.submit(i, 'alice')))[0]);
  await qa.stop();
  const base = median(decode) + median(append);
  rows.push(
    `| one read (submit), median of ${n} | ${base.toFixed(2)} ms (decode ${median(decode).toFixed(2)} + durable append ${median(append).toFixed(2)}) | ${median(submit).toFixed(2)} ms | ${(median(submit) / base).toFixed(2)} | check, lookup, policy and bookkeeping on top of its parts |`,
  );
}

await rm(root, { recursive: true, force: true });

const cpu = cpus()[0]?.model ?? 'unknown CPU';
let disk = '';
try {
  disk = execFileSync('df', ['-T', tmpdir()], { encoding: 'utf8' }).split('\n')[1]?.split(/\s+/)[1] ?? '';
} catch {}
console.log(
  `QA benchmarks, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpu}, node ${process.version}${disk ? `, ${disk} temp dir` : ''}${quick ? ' (quick)' : ''}\n`,
);
console.log('| measure | baseline (same run) | QA | ratio | note |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of rows) console.log(r);
