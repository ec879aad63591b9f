/**
 * The 32 glyphs of the pin's font (`glyphs.ts`) as templates on the grid the reader samples
 * each character cell on: the darkness of a round-capped stroke of the pin's width seen through
 * a Gaussian blur, by distance from the stroke's centre line. An impression may be sharp or
 * soft, so there is one set of templates per blur in `TEMPLATE_BLURS`; the reader takes the set
 * that fits the ten cells best. The reader knows exactly what each symbol looks like, so it
 * matches these rather than recognising shapes in general.
 */
import { ALPHABET } from '../alphabet.js';
import { GLYPHS } from '../glyphs.js';
import { GLYPH_SCALE } from '../svg.js';

/** Grid step and margins in glyph units (a glyph is 4 × 6). */
export const CELL_STEP = 0.25;
export const CELL_MARGIN = 0.75;
export const CELL_COLS = Math.round((4 + 2 * CELL_MARGIN) / CELL_STEP) + 1;
export const CELL_ROWS = Math.round((6 + 2 * CELL_MARGIN) / CELL_STEP) + 1;
export const CELL_SIZE = CELL_COLS * CELL_ROWS;

/** half the stroke width, in glyph units: the pin's strokes are 0.8 pin units wide */
const HALF_STROKE = 0.4 / GLYPH_SCALE;
/**
 * The blurs (Gaussian sigma, pin units) of the template sets: from a sharp impression seen
 * through the reader's own smoothing to a soft, shallow one.
 */
export const TEMPLATE_BLURS = [0.3, 0.45, 0.6, 0.8, 1.05] as const;

type Segment = [number, number, number, number];

function segments(path: string): Segment[] {
  const out: Segment[] = [];
  const tokens = path.match(/[MLZ]|-?\d*\.?\d+/g) ?? [];
  let start: [number, number] = [0, 0];
  let at: [number, number] = [0, 0];
  for (let i = 0; i < tokens.length; ) {
    const cmd = tokens[i++]!;
    if (cmd === 'Z') {
      out.push([at[0], at[1], start[0], start[1]]);
      at = start;
      continue;
    }
    const p: [number, number] = [Number(tokens[i++]), Number(tokens[i++])];
    if (cmd === 'M') start = p;
    else out.push([at[0], at[1], p[0], p[1]]);
    at = p;
  }
  return out;
}

function distance(x: number, y: number, [x0, y0, x1, y1]: Segment): number {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / len2)) : 0;
  return Math.hypot(x - x0 - t * dx, y - y0 - t * dy);
}

export interface GlyphTemplate {
  readonly values: Float32Array;
  readonly mean: number;
  /** sum of squared deviations from the mean */
  readonly spread: number;
}

/** The standard normal distribution function (Abramowitz and Stegun 26.2.17, error < 1e-7). */
function phi(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const d = 0.3989422804014327 * Math.exp((-x * x) / 2);
  const q =
    d * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - q : q;
}

function build(ch: string, blur: number): GlyphTemplate {
  const sigma = blur / GLYPH_SCALE;
  const segs = segments(GLYPHS[ch]!);
  const values = new Float32Array(CELL_SIZE);
  let sum = 0;
  for (let r = 0; r < CELL_ROWS; r++) {
    for (let c = 0; c < CELL_COLS; c++) {
      const x = c * CELL_STEP - CELL_MARGIN;
      const y = r * CELL_STEP - CELL_MARGIN;
      let d = Number.POSITIVE_INFINITY;
      for (const s of segs) d = Math.min(d, distance(x, y, s));
      // across a straight stroke blurred by sigma; at the centre line of a join it is a little low
      const v = phi((HALF_STROKE - d) / sigma) - phi((-HALF_STROKE - d) / sigma);
      values[r * CELL_COLS + c] = v;
      sum += v;
    }
  }
  const mean = sum / CELL_SIZE;
  let spread = 0;
  for (const v of values) spread += (v - mean) ** 2;
  return { values, mean, spread };
}

/** Per blur of `TEMPLATE_BLURS`, the templates in alphabet order (template v is the symbol of value v). */
export const TEMPLATE_SETS: readonly (readonly GlyphTemplate[])[] = TEMPLATE_BLURS.map((blur) =>
  [...ALPHABET].map((ch) => build(ch, blur)),
);
