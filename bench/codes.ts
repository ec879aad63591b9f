/**
 * Encodes and decodes per second on one core, each decode rate beside the encode rate measured
 * in the same run (the baseline: machines here are shared, so only same-run ratios compare).
 * Every row is timed in several rounds taken in turn with the baseline's, per second of the
 * process's own CPU time (what a core of its own would do) and of wall-clock time.
 *
 * Run: npm run bench:codes
 */
import { cpus } from 'node:os';
import { decodeReadsReference } from '../src/codes/decode-reads.js';
import { decodeReads, encode, IssuedSet, type Read } from '../src/codes/index.js';
import { decodeErrata } from '../src/codes/rs.js';
import { Random } from '../src/codes/sim/random.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
const POOL = 4096;
const ROUNDS = 7;
const ROUND_MS = 250;
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const rng = new Random(2024);

const codes = Array.from({ length: POOL }, () => encode(rng.below(4096), rng.below(1 << 28), KEY));

function rotate(gear: string, r: number): string {
  return gear.slice(r) + gear.slice(0, r);
}

/**
 * Replaces `errors` symbols of the text (so rendered twice: the error cannot be set aside as
 * weak evidence) with other values and blanks `erasures` others, in both renderings.
 */
function damage(code: (typeof codes)[number], errors: number, erasures: number): Read {
  const inText = Array.from({ length: 10 }, (_, i) => i).sort(() => rng.next() - 0.5);
  const rest = Array.from({ length: 16 }, (_, i) => i).filter((i) => !inText.slice(0, errors).includes(i));
  const positions = [...inText.slice(0, errors), ...rest.sort(() => rng.next() - 0.5)];
  const symbols: Array<number | null> = [...code.symbols];
  for (let k = 0; k < errors; k++)
    symbols[positions[k]!] = (code.symbols[positions[k]!]! + 1 + rng.below(31)) & 31;
  for (let k = errors; k < errors + erasures; k++) symbols[positions[k]!] = null;
  let text = '';
  let gear = '11100100';
  symbols.forEach((v, i) => {
    if (i < 10) text += v === null ? '?' : ALPHABET[v];
    gear += v === null ? '?????' : v.toString(2).padStart(5, '0');
  });
  return { text, gear: rotate(gear, rng.below(88)) };
}

/** A case read as in the published test fires: 92.6 % of characters right, 5 % illegible; 80 % of teeth right, 3 % flipped. */
function typicalCase(code: (typeof codes)[number]): Read {
  let text = '';
  for (const ch of code.text) {
    const u = rng.next();
    text += u < 0.926 ? ch : u < 0.976 ? '?' : ALPHABET[(ALPHABET.indexOf(ch) + 1 + rng.below(31)) & 31];
  }
  let gear = '';
  for (const t of code.gear) {
    const u = rng.next();
    gear += u < 0.8 ? t : u < 0.83 ? (t === '1' ? '0' : '1') : '?';
  }
  return { text, gear: rotate(gear, rng.below(88)) };
}

const fused = codes.map((c) => [typicalCase(c), typicalCase(c), typicalCase(c)]);

type Work = () => void;

/** The work of one row over the pool, run once each as warm-up (and for the key's round table). */
function prepare(make: (i: number) => Work): Work[] {
  const work = Array.from({ length: POOL }, (_, i) => make(i));
  for (let i = 0; i < POOL; i++) work[i]!();
  return work;
}

/** CPU time this process has used, in milliseconds. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * One timed round over the pool: operations per second of this process's CPU time (what one
 * core of its own would do) and of wall-clock time (lower whenever others share the core).
 */
function round(work: Work[]): { cpu: number; wall: number } {
  let n = 0;
  const start = performance.now();
  const startCpu = cpuMs();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let k = 0; k < 256; k++) work[(n + k) % POOL]!();
    n += 256;
    elapsed = cpuMs() - startCpu;
  }
  return { cpu: (n * 1000) / elapsed, wall: (n * 1000) / (performance.now() - start) };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function mustDecode(reads: Read[], confident: boolean, uec?: number): Work {
  const check = decodeReads(reads, KEY);
  if (!check.ok || check.confident !== confident || (uec !== undefined && check.uec !== uec)) {
    throw new Error(`benchmark input does not decode as intended: ${JSON.stringify(reads)}`);
  }
  return () => {
    decodeReads(reads, KEY);
  };
}

const rows: Array<{ name: string; make: (i: number) => Work }> = [
  {
    name: 'algebraic RS decode alone, 2 errors + 4 erasures (no reads, no confidence)',
    make: (i) => {
      const word = Uint8Array.from(codes[i]!.symbols);
      const erased = new Uint8Array(16);
      const positions = Array.from({ length: 16 }, (_, j) => j).sort(() => rng.next() - 0.5);
      for (let k = 0; k < 2; k++) word[positions[k]!]! ^= 1 + rng.below(31);
      for (let k = 2; k < 6; k++) erased[positions[k]!] = 1;
      const out = new Uint8Array(16);
      if (decodeErrata(word, erased, out) !== 2)
        throw new Error('benchmark input does not decode as intended');
      return () => {
        decodeErrata(word, erased, out);
      };
    },
  },
  {
    name: 'clean text read',
    make: (i) => mustDecode([{ text: codes[i]!.text }], false),
  },
  {
    name: 'clean text+gear read',
    make: (i) => mustDecode([{ text: codes[i]!.text, gear: rotate(codes[i]!.gear, rng.below(88)) }], true),
  },
  {
    name: 'clean text+gear read by the full search (decodeReadsReference, no shortcut)',
    make: (i) => {
      const reads = [{ text: codes[i]!.text, gear: rotate(codes[i]!.gear, rng.below(88)) }];
      mustDecode(reads, true);
      return () => {
        decodeReadsReference(reads, KEY);
      };
    },
  },
  {
    name: 'text+gear read, every mark right, 5 % of teeth illegible',
    make: (i) => {
      const gear = [...codes[i]!.gear].map((t) => (rng.next() < 0.05 ? '?' : t)).join('');
      return mustDecode([{ text: codes[i]!.text, gear: rotate(gear, rng.below(88)) }], true);
    },
  },
  {
    name: 'text+gear read at the correction limit (2 errors, 4 erasures)',
    make: (i) => mustDecode([damage(codes[i]!, 2, 4)], false, 0),
  },
  {
    name: 'three typical cases fused (published test-fire rates)',
    make: (i) => () => {
      decodeReads(fused[i]!, KEY);
    },
  },
];

const encodeWork = prepare((i) => {
  const { issuer, index } = codes[i]!;
  return () => {
    encode(issuer, index, KEY);
  };
});
const works = rows.map((row) => prepare(row.make));

// Rounds of every row in turn, so that a change in the machine's load falls on all of them
// alike; a row's ratio is the median of its ratios to the encode round just before it.
const encodeRates: Array<{ cpu: number; wall: number }> = [];
const rates: Array<Array<{ cpu: number; wall: number }>> = rows.map(() => []);
const ratios: number[][] = rows.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  const baseline = round(encodeWork);
  encodeRates.push(baseline);
  works.forEach((work, k) => {
    const rate = round(work);
    rates[k]!.push(rate);
    ratios[k]!.push(rate.cpu / baseline.cpu);
  });
}

const show = (x: number) => Math.round(x).toLocaleString('en');
const cell = (rs: Array<{ cpu: number; wall: number }>) =>
  `${show(median(rs.map((r) => r.cpu)))} | ${show(median(rs.map((r) => r.wall)))}`;
const lines = [
  '| operation | per second of CPU time | per second of wall-clock time | × encode rate |',
  '|---|---:|---:|---:|',
  `| encode (baseline) | ${cell(encodeRates)} | 1.00 |`,
];
rows.forEach((row, k) => {
  lines.push(`| decode: ${row.name} | ${cell(rates[k]!)} | ${median(ratios[k]!).toFixed(3)} |`);
});
const confident = fused.filter((reads) => decodeReads(reads, KEY).confident).length;

console.log(lines.join('\n'));
console.log();
console.log(
  `${new Date().toISOString().slice(0, 10)} · ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'} · Node ${process.version} · one core, median of ${ROUNDS} rounds of ${ROUND_MS} ms per row, rows taken in turn, over ${POOL} distinct codes`,
);
console.log(`three typical cases fused: ${((100 * confident) / POOL).toFixed(1)} % identified`);

// Identification against 10,000,000 issued codes (spec §6a): per-query latency, median and
// 90th percentile in CPU time, beside the plain decode of the same reads in the same run; and
// the memory of the set. The pool's codes are issued, with 10,000,000 − 4096 random others
// spread over all 4096 issuers, as a registry's would be.
const ISSUED = 10_000_000;
const heapBefore = process.memoryUsage();
const buildStart = performance.now();
const issued = new IssuedSet();
for (const c of codes) issued.addCodeword(c.symbols);
for (let n = codes.length; n < ISSUED; n++) issued.addData(rng.below(4096), rng.below(1 << 28));
const issuedSize = issued.size; // settles (sorts) the set
const buildMs = performance.now() - buildStart;
const heapAfter = process.memoryUsage();
const singles = codes.map((c) => [typicalCase(c)]);

/** CPU milliseconds of each call, over the pool (after one warm-up pass). */
function latencies(call: (i: number) => void): number[] {
  for (let i = 0; i < POOL; i++) call(i);
  const out: number[] = [];
  for (let i = 0; i < POOL; i++) {
    const t = process.cpuUsage();
    call(i);
    const d = process.cpuUsage(t);
    out.push((d.user + d.system) / 1000);
  }
  return out;
}
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;
const latencyRows: Array<[string, Read[][]]> = [
  ['one typical case', singles],
  ['three typical cases fused', fused],
];
const latencyLines = [
  '| query | plain decode, median ms | against 10,000,000 issued, median ms | plain, 90th pct ms | issued, 90th pct ms | identified, plain | identified, issued |',
  '|---|---:|---:|---:|---:|---:|---:|',
];
for (const [name, reads] of latencyRows) {
  const plain = latencies((i) => decodeReads(reads[i]!, KEY));
  const withIssued = latencies((i) => decodeReads(reads[i]!, KEY, { issued }));
  const idPlain = reads.filter((r) => decodeReads(r, KEY).confident).length;
  const idIssued = reads.filter((r) => decodeReads(r, KEY, { issued }).confident).length;
  latencyLines.push(
    `| ${name} | ${pct(plain, 0.5).toFixed(3)} | ${pct(withIssued, 0.5).toFixed(3)} | ${pct(plain, 0.9).toFixed(3)} | ${pct(withIssued, 0.9).toFixed(3)} | ${((100 * idPlain) / POOL).toFixed(1)} % | ${((100 * idIssued) / POOL).toFixed(1)} % |`,
  );
}
console.log();
console.log(latencyLines.join('\n'));
console.log();
console.log(
  `issued set: ${issuedSize.toLocaleString('en')} codes, ${(issued.bytes / 2 ** 20).toFixed(1)} MiB of code lists, ` +
    `heap +${((heapAfter.heapUsed + heapAfter.arrayBuffers - heapBefore.heapUsed - heapBefore.arrayBuffers) / 2 ** 20).toFixed(1)} MiB, ` +
    `RSS ${(heapAfter.rss / 2 ** 20).toFixed(0)} MiB for the whole process; built and sorted in ${(buildMs / 1000).toFixed(1)} s`,
);
