/**
 * Each character cell → a likelihood over the 32 symbols, by template matching.
 *
 * The cell is sampled on the template grid (`templates.ts`) through the stamp's geometry, a
 * little beyond it so the glyph may sit up to half a glyph unit off (an imperfect fit of the
 * ring, a pin not quite round). For each symbol and offset the samples are fitted as
 * contrast × template + background (least squares, contrast ≥ 0); the symbol's residual is its
 * best over the offsets. Under Gaussian noise the log-likelihood of a symbol is minus its
 * residual over 2σ², with σ² taken from the best symbol's residual; neighbouring samples are
 * not independent (the image is smoothed to the grid, the impression blurred), so the residuals
 * are divided by `SAMPLES_PER_DOF`, fitted on simulated images of levels 0 to 3 so that a symbol
 * given probability p is right about p of the time (docs/reading.md, reliability). A cell with
 * no glyph left fits every template equally badly and comes out near uniform: no confident
 * guess where the mark did not transfer.
 */
import { GLYPH_SCALE, glyphOrigin, type StampGeometry, toImage } from './geometry.js';
import { type Raster, sample } from './raster.js';
import { CELL_COLS, CELL_MARGIN, CELL_ROWS, CELL_SIZE, CELL_STEP, type GlyphTemplate } from './templates.js';

const SHIFT = 2; // grid steps each way: ±0.5 glyph units
/** Fitted by maximum likelihood of the true symbols on 30 images per level (16.1 to 16.9 at levels 1-3). */
export const SAMPLES_PER_DOF = 17;
const COLS = CELL_COLS + 2 * SHIFT;
const ROWS = CELL_ROWS + 2 * SHIFT;

export interface CellRead {
  /** natural log of the likelihood of each symbol, the best 0 */
  logLikelihood: Float64Array;
  /** the best symbol's residual (sum of squares over the cell's samples), for choosing the blur */
  residual: number;
  /** how strongly the best symbol stands out of the background: contrast / noise */
  signal: number;
  /** log-likelihood ratio of the best symbol against no glyph at all (for choosing orientation) */
  evidence: number;
  /** the offset of the best fit, in glyph units */
  dx: number;
  dy: number;
}

/** Samples of cell n's grid, widened by SHIFT steps on each side; darkness (1 − intensity). */
function sampleCell(img: Raster, g: StampGeometry, n: number, out: Float32Array): boolean {
  const [ox, oy] = glyphOrigin(n);
  let missing = 0;
  for (let r = 0; r < ROWS; r++) {
    for (let c = 0; c < COLS; c++) {
      const gx = (c - SHIFT) * CELL_STEP - CELL_MARGIN;
      const gy = (r - SHIFT) * CELL_STEP - CELL_MARGIN;
      const [x, y] = toImage(g, ox + gx * GLYPH_SCALE, oy + gy * GLYPH_SCALE);
      const v = sample(img, x, y);
      if (Number.isNaN(v)) missing++;
      out[r * COLS + c] = Number.isNaN(v) ? Number.NaN : 1 - v;
    }
  }
  if (missing === 0) return true;
  if (missing > out.length / 4) return false;
  let sum = 0;
  let n2 = 0;
  for (const v of out) {
    if (!Number.isNaN(v)) {
      sum += v;
      n2++;
    }
  }
  for (let i = 0; i < out.length; i++) if (Number.isNaN(out[i]!)) out[i] = sum / n2;
  return true;
}

const scratch = new Float32Array(COLS * ROWS);
const residual = new Float64Array(32);
const contrast = new Float64Array(32);

/**
 * The likelihoods of cell n against one set of templates. `shifts` true tries every offset up
 * to half a glyph unit; false tries the offset `at` only (in glyph units; the centred position
 * by default), to judge orientation or blur cheaply.
 */
export function readCell(
  img: Raster,
  g: StampGeometry,
  n: number,
  TEMPLATES: readonly GlyphTemplate[],
  shifts = true,
  at: readonly [number, number] = [0, 0],
): CellRead {
  const logLikelihood = new Float64Array(TEMPLATES.length);
  if (!sampleCell(img, g, n, scratch))
    return { logLikelihood, residual: Number.NaN, signal: 0, evidence: 0, dx: 0, dy: 0 };
  residual.fill(Number.POSITIVE_INFINITY);
  let bestDx = 0;
  let blank = 0;
  let bestDy = 0;
  let bestOverall = Number.POSITIVE_INFINITY;
  const fx = Math.round(at[0] / CELL_STEP);
  const fy = Math.round(at[1] / CELL_STEP);
  const [x0, x1, y0, y1] = shifts ? [-SHIFT, SHIFT, -SHIFT, SHIFT] : [fx, fx, fy, fy];
  for (let sy = y0; sy <= y1; sy++) {
    for (let sx = x0; sx <= x1; sx++) {
      let sum = 0;
      let sum2 = 0;
      for (let r = 0; r < CELL_ROWS; r++) {
        const base = (r + SHIFT + sy) * COLS + SHIFT + sx;
        for (let c = 0; c < CELL_COLS; c++) {
          const v = scratch[base + c]!;
          sum += v;
          sum2 += v * v;
        }
      }
      const sxx = sum2 - (sum * sum) / CELL_SIZE;
      if (sx === fx && sy === fy) blank = sxx;
      for (let t = 0; t < TEMPLATES.length; t++) {
        const tpl = TEMPLATES[t]!;
        const tv = tpl.values;
        let sxt = 0;
        for (let r = 0, k = 0; r < CELL_ROWS; r++) {
          const base = (r + SHIFT + sy) * COLS + SHIFT + sx;
          for (let c = 0; c < CELL_COLS; c++, k++) sxt += scratch[base + c]! * tv[k]!;
        }
        const cov = sxt - sum * tpl.mean;
        const rss = cov > 0 ? sxx - (cov * cov) / tpl.spread : sxx;
        if (rss < residual[t]!) {
          residual[t] = rss;
          contrast[t] = cov > 0 ? cov / tpl.spread : 0;
        }
        if (rss < bestOverall) {
          bestOverall = rss;
          bestDx = sx * CELL_STEP;
          bestDy = sy * CELL_STEP;
        }
      }
    }
  }
  let best = 0;
  for (let t = 1; t < TEMPLATES.length; t++) if (residual[t]! < residual[best]!) best = t;
  const sigma2 = Math.max(residual[best]! / (CELL_SIZE - 2), 1e-8);
  for (let t = 0; t < TEMPLATES.length; t++) {
    logLikelihood[t] = -(residual[t]! - residual[best]!) / (2 * sigma2 * SAMPLES_PER_DOF);
  }
  return {
    logLikelihood,
    residual: residual[best]!,
    signal: contrast[best]! / Math.sqrt(sigma2),
    evidence: (blank - residual[best]!) / (2 * sigma2 * SAMPLES_PER_DOF),
    dx: bestDx,
    dy: bestDy,
  };
}
