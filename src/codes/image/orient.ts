/**
 * Rotation and mirror: where the sync lies in the ring and whether the impression reads
 * backwards. Each of the 176 placements of the sync (88 rotations, mirrored or not) is scored
 * by the log-likelihood of the sync under the teeth's probabilities; the best few are judged
 * again with the text (how much better the best glyph fits each cell than no glyph). The margin
 * of the best over the next says how surely the stamp has been placed.
 */
import { GEAR_LENGTH, SYNC, TEXT_LENGTH } from '../codeword.js';
import { GLYPH_SCALE, type StampGeometry } from './geometry.js';
import { boxBlur, type Raster } from './raster.js';
import { type RingSignal, readTeeth } from './read-teeth.js';
import { readCell } from './read-text.js';
import type { RingFit } from './refine-ring.js';
import { CELL_STEP, TEMPLATE_SETS } from './templates.js';

export interface Orientation {
  geometry: StampGeometry;
  /** natural log: how much better the chosen rotation and mirror explain the image than the next best */
  margin: number;
  /** the ring's signal and the slot of the sync's first tooth */
  signal: RingSignal;
  j0: number;
  /** the image the text is read from (smoothed to the text's sampling grid) */
  textImg: Raster;
}

const STEP = (2 * Math.PI) / GEAR_LENGTH;
const SYNC_TEETH = [...SYNC].map(Number);
/** Template set used to judge orientation (a middling blur). */
/** How many of the placements the sync likes best are judged by the text (the sync may lie in a missing sector). */
const JUDGED = 48;
const JUDGING = TEMPLATE_SETS[Math.floor(TEMPLATE_SETS.length / 2)]!;

export function orient(mid: Raster, ring: RingFit): Orientation {
  const signal = readTeeth(mid, ring.cx, ring.cy, ring.scale);
  const p = signal.probability;
  const deg = (a: number) => ((((a * 180) / Math.PI) % 360) + 360) % 360;
  const candidates: { mirrored: boolean; j0: number; score: number }[] = [];
  for (const mirrored of [false, true]) {
    for (let j0 = 0; j0 < GEAR_LENGTH; j0++) {
      let score = 0;
      for (let t = 0; t < SYNC_TEETH.length; t++) {
        const j = (((mirrored ? j0 - t : j0 + t) % GEAR_LENGTH) + GEAR_LENGTH) % GEAR_LENGTH;
        score += Math.log(SYNC_TEETH[t] ? p[j]! : 1 - p[j]!);
      }
      candidates.push({ mirrored, j0, score });
    }
  }
  candidates.sort((a, b) => b.score - a.score);
  const geometryOf = (c: { mirrored: boolean; j0: number }): StampGeometry => ({
    cx: ring.cx,
    cy: ring.cy,
    scale: ring.scale,
    mirrored: c.mirrored,
    rotation: deg(signal.phase + (c.mirrored ? c.j0 + 0.5 : c.j0 - 0.5) * STEP),
  });
  // the text is sampled on a grid of a quarter glyph unit, a few pixels apart: smoothing the
  // image first lets every pixel count, not only those the grid falls on
  const gridPixels = CELL_STEP * GLYPH_SCALE * ring.scale;
  const textImg = gridPixels >= 1.5 ? boxBlur(mid, Math.max(1, Math.round(gridPixels / 2 - 0.5))) : mid;
  // the text tells orientation and mirror apart far better than 8 sync teeth: judge the best few by both
  let best = candidates[0]!;
  let bestTotal = Number.NEGATIVE_INFINITY;
  let secondTotal = Number.NEGATIVE_INFINITY;
  for (const c of candidates.slice(0, JUDGED)) {
    const g = geometryOf(c);
    let text = 0;
    for (let n = 0; n < TEXT_LENGTH; n++) text += readCell(textImg, g, n, JUDGING, false).evidence;
    const total = c.score + text;
    if (total > bestTotal) {
      secondTotal = bestTotal;
      bestTotal = total;
      best = c;
    } else if (total > secondTotal) secondTotal = total;
  }
  return { geometry: geometryOf(best), margin: bestTotal - secondTotal, signal, j0: best.j0, textImg };
}
