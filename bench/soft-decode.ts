/**
 * Soft against hard decoding of case images, by degradation level: per gun, two cases are
 * rendered and read (`simulators/case-image`, `src/codes/image`), and the gun is decoded from
 * the first image and from both, once with the soft reads as evidence and once with only the
 * hard reads derived from them (`hardRead`, commit at 97 %). Also a calibration table of the
 * reader's character probabilities. Run (nice it; about 1 s per image on a quiet machine):
 *
 *   npx tsx bench/soft-decode.ts [--guns N] [--levels 2,3] [--reads FILE] [--issued N]
 *
 * With `--reads FILE` the reads are kept in FILE and taken from it when it exists, so the
 * decode can be measured again without rendering and reading the images again. With
 * `--issued N` the soft reads are also identified against N issued codes (spec §6a): every
 * gun's code and random others over all 4096 issuers.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { caseImageModel } from '../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../simulators/case-image/render.js';
import { ALPHABET } from '../src/codes/alphabet.js';
import { readImageFile } from '../src/codes/image/read-image.js';
import { decodeReads, encode, IssuedSet, type Read } from '../src/codes/index.js';
import { hardRead, type SoftRead } from '../src/codes/soft-read.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
const ISSUER = 11;

interface Gun {
  level: number;
  index: number;
  text: string;
  gear: string;
  /** one per case; null where the reader found no stamp */
  softs: (SoftRead | null)[];
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1]! : fallback;
}

const gunsPerLevel = Number(option('--guns', '20'));
const levels = option('--levels', '2,3').split(',').map(Number);
const readsFile = option('--reads', '');
const issuedCount = Number(option('--issued', '0'));

async function readGuns(): Promise<Gun[]> {
  if (readsFile && existsSync(readsFile)) return JSON.parse(readFileSync(readsFile, 'utf8')) as Gun[];
  const guns: Gun[] = [];
  for (const level of levels) {
    for (let g = 0; g < gunsPerLevel; g++) {
      const index = 50_000 + level * 1000 + g;
      const code = encode(ISSUER, index, KEY);
      const softs: (SoftRead | null)[] = [];
      for (let c = 0; c < 2; c++) {
        const file = await encodeCaseImage(renderCaseImage(code, caseImageModel(level), index * 7 + c));
        try {
          softs.push((await readImageFile(file)).soft);
        } catch {
          softs.push(null);
        }
      }
      guns.push({ level, index, text: code.text.replace('-', ''), gear: code.gear, softs });
    }
  }
  if (readsFile) writeFileSync(readsFile, JSON.stringify(guns));
  return guns;
}

const guns = await readGuns();
let issued: IssuedSet | undefined;
if (issuedCount > 0) {
  issued = new IssuedSet();
  for (const gun of guns) issued.addIndex(ISSUER, gun.index, KEY);
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed;
  };
  for (let n = guns.length; n < issuedCount; n++) issued.addData(next() % 4096, next() >>> 4);
  console.log(`issued set: ${issued.size.toLocaleString('en')} codes\n`);
}
const issuedHead = issued ? ' against issued: identified | wrong | median ms |' : '';
const issuedRule = issued ? ' ---: | ---: | ---: |' : '';
const pct = (x: number, of: number) => (of === 0 ? '-' : `${((100 * x) / of).toFixed(1)} %`);

console.log(
  '| level | guns | images | hard: identified | hard: wrong | soft: identified | soft: wrong | soft: median ms |' +
    issuedHead,
);
console.log(
  '| ----: | ---: | -----: | ---------------: | ----------: | ---------------: | ----------: | --------------: |' +
    issuedRule,
);
for (const level of [...new Set(guns.map((g) => g.level))]) {
  const ofLevel = guns.filter((g) => g.level === level);
  for (const images of [1, 2]) {
    const tally = { hard: 0, hardWrong: 0, soft: 0, softWrong: 0, issued: 0, issuedWrong: 0 };
    const ms: number[] = [];
    const issuedMs: number[] = [];
    for (const gun of ofLevel) {
      const softs = gun.softs.slice(0, images).filter((s): s is SoftRead => s !== null);
      if (softs.length === 0) continue;
      for (const kind of ['hard', 'soft'] as const) {
        const reads: Read[] = softs.map((soft) => (kind === 'soft' ? { soft } : hardRead(soft)));
        const t0 = performance.now();
        const d = decodeReads(reads, KEY);
        if (kind === 'soft') ms.push(performance.now() - t0);
        if (!d.ok || !d.confident) continue;
        if (d.issuer === ISSUER && d.index === gun.index) tally[kind]++;
        else if (kind === 'soft') tally.softWrong++;
        else tally.hardWrong++;
      }
      if (issued) {
        const t0 = performance.now();
        const d = decodeReads(
          softs.map((soft) => ({ soft })),
          KEY,
          { issued },
        );
        issuedMs.push(performance.now() - t0);
        if (d.ok && d.confident) {
          if (d.issuer === ISSUER && d.index === gun.index) tally.issued++;
          else tally.issuedWrong++;
        }
      }
    }
    issuedMs.sort((a, b) => a - b);
    ms.sort((a, b) => a - b);
    const n = ofLevel.length;
    console.log(
      `| ${level} | ${n} | ${images} | ${pct(tally.hard, n)} | ${tally.hardWrong} | ${pct(tally.soft, n)} | ${tally.softWrong} | ${(ms[ms.length >> 1] ?? 0).toFixed(1)} |${issued ? ` ${pct(tally.issued, n)} | ${tally.issuedWrong} | ${(issuedMs[issuedMs.length >> 1] ?? 0).toFixed(1)} |` : ''}`,
    );
  }
}

// Calibration: characters and teeth binned by the probability the reader gave its best guess.
const bins = [0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0001];
console.log('\n| mark | best guess p | count | right |');
console.log('| ---- | -----------: | ----: | ----: |');
const chars = bins.slice(1).map(() => ({ n: 0, right: 0 }));
const teeth = bins.slice(1).map(() => ({ n: 0, right: 0 }));
for (const gun of guns) {
  for (const soft of gun.softs) {
    if (!soft) continue;
    for (let n = 0; n < 10; n++) {
      const row = soft.chars[n]!;
      const total = row.reduce((a, b) => a + b, 0);
      let best = 0;
      for (let v = 1; v < 32; v++) if (row[v]! > row[best]!) best = v;
      const p = row[best]! / total;
      const bin = bins.findIndex((b, k) => p >= b && p < bins[k + 1]!);
      chars[bin]!.n++;
      if (ALPHABET[best] === gun.text[n]) chars[bin]!.right++;
    }
    for (let t = 0; t < 88; t++) {
      const q = soft.teeth[t]!;
      const p = Math.max(q, 1 - q);
      const bin = bins.findIndex((b, k) => p >= b && p < bins[k + 1]!);
      teeth[bin]!.n++;
      if ((q >= 0.5 ? '1' : '0') === gun.gear[t]) teeth[bin]!.right++;
    }
  }
}
for (const [name, table] of [
  ['character', chars],
  ['tooth', teeth],
] as const) {
  table.forEach((b, k) => {
    if (b.n > 0)
      console.log(`| ${name} | ${bins[k]}–${Math.min(1, bins[k + 1]!)} | ${b.n} | ${pct(b.right, b.n)} |`);
  });
}
