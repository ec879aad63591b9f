/**
 * Identification from case images, by degradation level: per gun, two images of two cases are
 * rendered and read; the gun is decoded from the first alone and from both. Run:
 * `npx tsx bench/reading-table.ts [guns per level] [levels...]` (nice it; about 1 s per image).
 */

import { caseImageModel } from '../simulators/case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../simulators/case-image/render.js';
import { readImageFile } from '../src/codes/image/read-image.js';
import { decodeReads, encode } from '../src/codes/index.js';
import type { SoftRead } from '../src/codes/soft-read.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
const guns = Number(process.argv[2] ?? 20);
const levels = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [0, 1, 2, 3, 4];
console.log(
  '| level | guns | chars right | teeth right | 1 image: identified | 2 images: identified | wrong |',
);
console.log(
  '| ----: | ---: | ----------: | ----------: | ------------------: | -------------------: | ----: |',
);
for (const level of levels) {
  let chars = 0;
  let teeth = 0;
  let one = 0;
  let two = 0;
  let wrong = 0;
  for (let g = 0; g < guns; g++) {
    if (g % 25 === 0)
      console.error(
        `level ${level}: gun ${g}, ${one} identified from one image, ${two} from two, ${wrong} wrong`,
      );
    const index = 50_000 + level * 1000 + g;
    const code = encode(11, index, KEY);
    const softs: (SoftRead | null)[] = [];
    for (let c = 0; c < 2; c++) {
      const file = await encodeCaseImage(renderCaseImage(code, caseImageModel(level), index * 7 + c));
      try {
        const r = await readImageFile(file);
        softs.push(r.soft);
        if (c === 0) {
          const text = code.text.replace('-', '');
          for (let n = 0; n < 10; n++) if (r.text[n] === text[n]) chars++;
          for (let t = 0; t < 88; t++) if (r.gear[t] === code.gear[t]) teeth++;
        }
      } catch {
        softs.push(null);
      }
    }
    for (const [n, set] of [
      [1, softs.slice(0, 1)],
      [2, softs],
    ] as const) {
      const reads = set.filter((s) => s !== null).map((soft) => ({ soft }));
      if (reads.length === 0) continue;
      const d = decodeReads(reads, KEY);
      if (!d.ok || !d.confident) continue;
      if (d.issuer === 11 && d.index === index) {
        if (n === 1) one++;
        else two++;
      } else wrong++;
    }
  }
  console.error(`level ${level} done`);
  const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)} %`;
  console.log(
    `| ${level} | ${guns} | ${pct(chars, 10 * guns)} | ${pct(teeth, 88 * guns)} | ${pct(one, guns)} | ${pct(two, guns)} | ${wrong} |`,
  );
}
