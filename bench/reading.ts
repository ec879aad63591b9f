/**
 * Reading a case image: the whole read (decode, find, read) of 2000 × 2000 images beside the
 * time sharp takes to decode the same file alone. Run: `npx tsx bench/reading.ts` (nice it).
 */
import { cpus } from 'node:os';
import sharp from 'sharp';
import { caseImageModel } from '../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../simulators/case-image/render.js';
import { readImageFile } from '../src/codes/image/read-image.js';
import { encode } from '../src/codes/index.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
const files: Buffer[] = [];
for (let i = 0; i < 4; i++) {
  const image = renderCaseImage(encode(9, 1000 + i, KEY), caseImageModel(1, { size: 2000 }), 100 + i);
  files.push(await encodeCaseImage(image));
}
async function time(fn: (f: Buffer) => Promise<unknown>): Promise<number> {
  for (const f of files) await fn(f); // warm-up
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) {
    for (const f of files) {
      const t = performance.now();
      await fn(f);
      runs.push(performance.now() - t);
    }
  }
  runs.sort((a, b) => a - b);
  return runs[Math.floor(runs.length / 2)]!;
}
sharp.concurrency(1);
const decodeOnly = await time((f) => sharp(f).greyscale().raw().toBuffer());
const read = await time((f) => readImageFile(f));
console.log(`node ${process.version}, ${cpus().length} cores, ${cpus()[0]?.model}`);
console.log('| 2000 × 2000 PNG, level 1 | median ms |');
console.log('| ------------------------ | --------: |');
console.log(`| sharp decode alone       | ${decodeOnly.toFixed(0).padStart(9)} |`);
console.log(`| whole read               | ${read.toFixed(0).padStart(9)} |`);
