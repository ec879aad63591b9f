/**
 * The line's identification, each against a baseline measured in the same run:
 *  1. building the line's issued set from a code index of N codes (`LineIdentifier`, the first
 *     query's wait after start-up): time and heap kept, vs reading the index's files and nothing else;
 *  2. one identification (`LineIdentifier.identify`, the firearm lookup left out) against that
 *     set, one clean text read and three fused text reads with three characters illegible each,
 *     median, vs the plain decode of the same reads.
 *
 * Run: npx tsx --expose-gc bench/identify-line.ts [-- --quick]   (--quick: 100,000 codes, else 1,000,000)
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeReads, encode, parseKey } from '../src/codes/index.js';
import { CodeIndex, scanCodes } from '../src/line/code-index.js';
import { LineIdentifier } from '../src/line/identify.js';

const KEY = parseKey('00112233445566778899aabbccddeeff');
const ISSUER = 7;
const N = process.argv.includes('--quick') ? 100_000 : 1_000_000;
const QUERIES = 200;

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heap = () => {
  gc();
  return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(x < 1 ? 3 : x < 10 ? 2 : 0)} ms`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-bench-identify-'));
  try {
    const codesDir = join(dir, 'codes');
    const index = new CodeIndex(codesDir);
    index.start();
    const texts: string[] = [];
    for (let start = 0; start < N; start += 100_000) {
      const batch = [];
      for (let i = start; i < Math.min(N, start + 100_000); i++) {
        const c = encode(ISSUER, i, KEY);
        if (i % Math.floor(N / QUERIES) === 0) texts.push(c.text);
        batch.push({ code: c.text, seq: i % 128, serial: `SN-${i}`, orderId: `o-${Math.floor(i / 128)}` });
      }
      await index.add(batch);
    }

    // 1. the issued set
    let t = performance.now();
    let bytes = 0;
    for (const f of await readdir(codesDir)) bytes += (await readFile(join(codesDir, f))).length;
    const readOnly = performance.now() - t;
    const before = heap();
    t = performance.now();
    const identifier = new LineIdentifier({
      key: KEY,
      issuer: ISSUER,
      source: { codes: () => scanCodes(codesDir), firearmsWithCode: async () => [] },
    });
    const size = await identifier.size();
    const build = performance.now() - t;
    const kept = heap() - before;

    // 2. queries: one clean text read (no ring); three text reads each with three illegible
    const one = texts.map((x) => [{ text: x }]);
    const three = texts.map((x) => [
      { text: `???${x.slice(3)}` },
      { text: `${x.slice(0, 3)}???${x.slice(6)}` },
      { text: `${x.slice(0, 7)}???` },
    ]);
    const timed = async (
      fn: (reads: Array<{ text: string }>) => unknown,
      set: Array<Array<{ text: string }>>,
    ) => {
      const times: number[] = [];
      for (const reads of set) {
        const s = performance.now();
        await fn(reads);
        times.push(performance.now() - s);
      }
      return median(times);
    };
    const plain = (reads: Array<{ text: string }>) => decodeReads(reads, KEY);
    const ident = (reads: Array<{ text: string }>) => identifier.identify({ reads });
    await timed(ident, one.slice(0, 10)); // warm-up
    // the firearm lookup is left out, so an identification shows as the confident best candidate
    let identified = 0;
    for (const [n, reads] of one.entries()) {
      const a = await identifier.identify({ reads });
      if (a.decode.confident && a.candidates[0]?.text === texts[n]) identified++;
    }
    const rows = [
      [
        'issued set from the code index',
        `${ms(readOnly)} (read ${(bytes / 2 ** 20).toFixed(0)} MiB of index)`,
        ms(build),
        (build / readOnly).toFixed(2),
        `${size.toLocaleString('en-GB')} codes; heap kept ${(kept / 2 ** 20).toFixed(1)} MiB`,
      ],
      [
        'identify, 1 clean text read, median',
        `${ms(await timed(plain, one))} (plain decode)`,
        ms(await timed(ident, one)),
        '',
        `${identified} of ${one.length} identified`,
      ],
      [
        'identify, 3 fused reads, median',
        `${ms(await timed(plain, three))} (plain decode)`,
        ms(await timed(ident, three)),
        '',
        '',
      ],
    ];
    // the plain decode of a clean read takes microseconds: its ratio says little, so it is left out
    rows[2]![3] = (Number.parseFloat(rows[2]![2]!) / Number.parseFloat(rows[2]![1]!)).toFixed(1);
    process.stdout.write(
      `${N.toLocaleString('en-GB')} codes, ${cpus().length} cores, ${cpus()[0]?.model}, Node ${process.version}\n\n`,
    );
    process.stdout.write('| measure | baseline (same run) | line | ratio | note |\n|---|---|---|---|---|\n');
    for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
