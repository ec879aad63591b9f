/**
 * The 32 glyphs of the pin's font (`glyphs.ts`) as templates on the grid the reader samples
 * each character cell on: darkness 0..1 by distance from the strokes, blurred about as much as
 * an impression is. The reader knows exactly what each symbol looks like, so it matches these
 * rather than recognising shapes in general.
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
const SOFTNESS = 0.22;

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

function build(ch: string): GlyphTemplate {
  const segs = segments(GLYPHS[ch]!);
  const values = new Float32Array(CELL_SIZE);
  let sum = 0;
  for (let r = 0; r < CELL_ROWS; r++) {
    for (let c = 0; c < CELL_COLS; c++) {
      const x = c * CELL_STEP - CELL_MARGIN;
      const y = r * CELL_STEP - CELL_MARGIN;
      let d = Number.POSITIVE_INFINITY;
      for (const s of segs) d = Math.min(d, distance(x, y, s));
      const v = 1 / (1 + Math.exp((d - HALF_STROKE) / (SOFTNESS / 2)));
      values[r * CELL_COLS + c] = v;
      sum += v;
    }
  }
  const mean = sum / CELL_SIZE;
  let spread = 0;
  for (const v of values) spread += (v - mean) ** 2;
  return { values, mean, spread };
}

/** Templates in alphabet order (template v is the symbol of value v). */
export const TEMPLATES: readonly GlyphTemplate[] = [...ALPHABET].map(build);
