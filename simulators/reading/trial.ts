/**
 * One gun of `stampline sim identify --images` (docs/reading.md): its code, 1 to `cases` cases
 * each rendered by the case-image simulator at a degradation level and read by the image
 * reader, and the same gun's cases read as typed reads of scenario (a) of `sim identify`, each
 * set decoded from its first n cases (n = 1..cases) with no issued set. Each gun has its own
 * random stream, so a table does not depend on how guns are shared among workers.
 */
import { readImageFile } from '../../src/codes/image/read-image.js';
import { decodeReads, encode, GEAR_LENGTH, type Read, TEXT_LENGTH } from '../../src/codes/index.js';
import { SCENARIOS } from '../../src/codes/sim/model.js';
import { Random } from '../../src/codes/sim/random.js';
import { isStamplineError } from '../../src/errors.js';
import { caseImageModel } from '../case-image/model.js';
import { encodeCaseImage, renderCaseImage } from '../case-image/render.js';
import { fireCase } from '../testfire/model.js';

/** Any key will do: the reader's and the decoder's work do not depend on it. */
export const SIM_KEY = '5374616d706c696e652073696d756c61';
export const MAX_IMAGE_CASES = 3;

export interface GunTask {
  level: number;
  /** the gun's number in its row, from 0 */
  gun: number;
  seed: number;
  cases: number;
  /** image width and height in pixels; default the simulator's (800) */
  size?: number;
}

export interface GunResult {
  level: number;
  images: number;
  /** images where no stamp was found */
  noStamp: number;
  /** characters and teeth of the hard reads that are right (a `?` is not), over every image */
  charsRight: number;
  teethRight: number;
  /** per n = 1..cases: decoded confidently to the gun's code, or confidently to another */
  fromImages: { identified: boolean[]; wrong: boolean[] };
  typed: { identified: boolean[]; wrong: boolean[] };
}

function judge(reads: Read[], issuer: number, index: number): { identified: boolean; wrong: boolean } {
  if (reads.length === 0) return { identified: false, wrong: false };
  const d = decodeReads(reads, SIM_KEY);
  if (!d.ok || !d.confident) return { identified: false, wrong: false };
  const right = d.issuer === issuer && d.index === index;
  return { identified: right, wrong: !right };
}

export async function runGun(task: GunTask): Promise<GunResult> {
  const rng = new Random(task.seed, task.level * 10_000_000 + task.gun);
  const issuer = rng.below(4096);
  const index = rng.below(2 ** 28);
  const code = encode(issuer, index, SIM_KEY);
  const text = code.text.replace('-', '');
  const model = caseImageModel(task.level, task.size !== undefined ? { size: task.size } : {});
  const result: GunResult = {
    level: task.level,
    images: 0,
    noStamp: 0,
    charsRight: 0,
    teethRight: 0,
    fromImages: { identified: [], wrong: [] },
    typed: { identified: [], wrong: [] },
  };
  const soft: Read[] = [];
  const typed: Read[] = [];
  for (let c = 0; c < task.cases; c++) {
    const file = await encodeCaseImage(renderCaseImage(code, model, rng.below(2 ** 31)));
    result.images++;
    try {
      const r = await readImageFile(file, `gun ${task.gun} case ${c + 1}`);
      soft.push({ soft: r.soft });
      for (let n = 0; n < TEXT_LENGTH; n++) if (r.text[n] === text[n]) result.charsRight++;
      for (let t = 0; t < GEAR_LENGTH; t++) if (r.gear[t] === code.gear[t]) result.teethRight++;
    } catch (err) {
      if (!isStamplineError(err, 'IMAGE_NO_STAMP')) throw err;
      result.noStamp++;
    }
    typed.push(fireCase(code, SCENARIOS.a!, rng));
    const fromImages = judge(soft, issuer, index);
    result.fromImages.identified.push(fromImages.identified);
    result.fromImages.wrong.push(fromImages.wrong);
    const fromTyped = judge(typed, issuer, index);
    result.typed.identified.push(fromTyped.identified);
    result.typed.wrong.push(fromTyped.wrong);
  }
  return result;
}

/** A row of the table: one level, one number of cases per gun. */
export interface ImageRow {
  level: number;
  cases: number;
  guns: number;
  images: number;
  noStamp: number;
  /** share of characters and teeth read right, over the images of the level */
  charsRight: number;
  teethRight: number;
  identified: number;
  wrong: number;
  typedIdentified: number;
  typedWrong: number;
}

/** The rows of a level's guns: n = 1..cases. */
export function rowsOf(level: number, guns: readonly GunResult[], cases: number): ImageRow[] {
  const images = guns.reduce((s, g) => s + g.images, 0);
  const sum = (f: (g: GunResult) => number) => guns.reduce((s, g) => s + f(g), 0);
  return Array.from({ length: cases }, (_, n) => ({
    level,
    cases: n + 1,
    guns: guns.length,
    images,
    noStamp: sum((g) => g.noStamp),
    charsRight: images === 0 ? 0 : sum((g) => g.charsRight) / (images * TEXT_LENGTH),
    teethRight: images === 0 ? 0 : sum((g) => g.teethRight) / (images * GEAR_LENGTH),
    identified: sum((g) => (g.fromImages.identified[n] ? 1 : 0)),
    wrong: sum((g) => (g.fromImages.wrong[n] ? 1 : 0)),
    typedIdentified: sum((g) => (g.typed.identified[n] ? 1 : 0)),
    typedWrong: sum((g) => (g.typed.wrong[n] ? 1 : 0)),
  }));
}

const pct = (k: number, n: number) => (n === 0 ? '–' : `${((100 * k) / n).toFixed(1)} %`);

export function imageMarkdownTable(rows: readonly ImageRow[]): string {
  const lines = [
    '| level | cases per gun | guns | chars right | teeth right | identified from images | **wrong** (images) | typed reads, scenario (a): identified | **wrong** (typed) |',
    '| ----: | ------------: | ---: | ----------: | ----------: | ---------------------: | -----------------: | -----------------------------------: | ----------------: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.level} | ${r.cases} | ${r.guns} | ${pct(r.charsRight, 1)} | ${pct(r.teethRight, 1)} | ${pct(r.identified, r.guns)} | **${r.wrong}** | ${pct(r.typedIdentified, r.guns)} | **${r.typedWrong}** |`,
    );
  }
  return lines.join('\n');
}
