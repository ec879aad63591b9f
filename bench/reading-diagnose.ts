/**
 * Where the reader goes wrong, image by image: for each simulated image the true and found
 * centre, scale, rotation and mirror, and for calibration each character's and tooth's
 * probability of its best symbol and whether that symbol is right. Run:
 * `npx tsx bench/reading-diagnose.ts N LEVEL [first-seed] [--json FILE]` (nice it).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { caseImageModel } from '../simulators/case-image/model.js';
import { renderCaseImage } from '../simulators/case-image/render.js';
import { ALPHABET } from '../src/codes/alphabet.js';
import { readRaster } from '../src/codes/image/read-image.js';
import { encode } from '../src/codes/index.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const [nArg, levelArg, seedArg] = args.filter((_, i) => jsonAt < 0 || (i !== jsonAt && i !== jsonAt + 1));
const n = Number(nArg ?? 10);
const level = Number(levelArg ?? 2);
const first = Number(seedArg ?? 0);
const rows: unknown[] = [];
let misses = 0;
let ms = 0;
for (let k = first; k < first + n; k++) {
  const index = 50_000 + level * 1000 + k;
  const code = encode(11, index, KEY);
  const seed = index * 7;
  // rendering is the slow half: keep each image for the next run
  const cache = `/tmp/reading-diagnose/${level}-${seed}.json`;
  mkdirSync('/tmp/reading-diagnose', { recursive: true });
  const image = existsSync(cache)
    ? (JSON.parse(readFileSync(cache, 'utf8'), (key, v) =>
        key === 'pixels' ? Uint8Array.from(Buffer.from(v, 'base64')) : v,
      ) as ReturnType<typeof renderCaseImage>)
    : renderCaseImage(code, caseImageModel(level), seed);
  if (!existsSync(cache))
    writeFileSync(cache, JSON.stringify({ ...image, pixels: Buffer.from(image.pixels).toString('base64') }));
  const data = new Float32Array(image.pixels.length);
  for (let i = 0; i < data.length; i++) data[i] = image.pixels[i]! / 255;
  const p = image.placement;
  const t0 = performance.now();
  let row: Record<string, unknown> = { k, seed, level };
  try {
    const r = readRaster({ data, width: image.width, height: image.height });
    ms += performance.now() - t0;
    const g = r.geometry;
    const dc = Math.hypot(g.cx - p.cx, g.cy - p.cy);
    const turn = Math.abs(((g.rotation - p.rotation + 540) % 360) - 180);
    const text = code.text.replace('-', '');
    const chars = r.soft.chars.map((rowP, c) => {
      let b = 0;
      for (let v = 1; v < 32; v++) if (rowP[v]! > rowP[b]!) b = v;
      return { p: rowP[b]!, right: ALPHABET[b] === text[c], pTrue: rowP[ALPHABET.indexOf(text[c]!)]! };
    });
    const teeth = r.soft.teeth.map((q, t) => ({ p: q, truth: code.gear[t] === '1' }));
    const ok = dc < 0.5 * p.scale && turn < 1.5 && g.mirrored === p.mirror;
    if (!ok) misses++;
    row = {
      ...row,
      ok,
      dc: +dc.toFixed(2),
      dscale: +(g.scale / p.scale - 1).toFixed(4),
      turn: +turn.toFixed(2),
      mirror: g.mirrored === p.mirror,
      margin: r.orientationMargin,
      text: r.text,
      truth: text,
      chars,
      teeth,
      soft: r.soft.chars,
    };
  } catch (err) {
    misses++;
    row = { ...row, ok: false, error: (err as Error).message };
  }
  rows.push(row);
  const { chars: _c, teeth: _t, soft: _s, ...brief } = row as Record<string, unknown>;
  console.log(JSON.stringify(brief));
}
console.log(`level ${level}: ${n - misses}/${n} placed right, ${(ms / n).toFixed(0)} ms per read`);
// reliability: of the marks given probability p for their likeliest value, how many are right
const EDGES = [0, 0.5, 0.7, 0.9, 0.97, 0.99, 1.0001];
function reliability(what: string, marks: { p: number; right: boolean }[]) {
  console.log(`| ${what}: p of the likeliest | marks | mean p | right |`);
  for (let b = 0; b + 1 < EDGES.length; b++) {
    const inBin = marks.filter((m) => m.p >= EDGES[b]! && m.p < EDGES[b + 1]!);
    if (inBin.length === 0) continue;
    const meanP = inBin.reduce((a, m) => a + m.p, 0) / inBin.length;
    const right = inBin.filter((m) => m.right).length / inBin.length;
    console.log(
      `| ${EDGES[b]}-${Math.min(1, EDGES[b + 1]!)} | ${inBin.length} | ${(100 * meanP).toFixed(1)} % | ${(100 * right).toFixed(1)} % |`,
    );
  }
}
type Row = { chars?: { p: number; right: boolean }[]; teeth?: { p: number; truth: boolean }[] };
reliability(
  `level ${level} characters`,
  (rows as Row[]).flatMap((r) => r.chars ?? []),
);
reliability(
  `level ${level} teeth`,
  (rows as Row[]).flatMap((r) =>
    (r.teeth ?? []).map((t) => ({ p: Math.max(t.p, 1 - t.p), right: t.p >= 0.5 === t.truth })),
  ),
);
if (jsonFile) writeFileSync(jsonFile, JSON.stringify(rows));
