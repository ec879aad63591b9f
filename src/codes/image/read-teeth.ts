/**
 * The ring of 88 teeth → where the teeth are and the probability that each slot holds a tooth.
 *
 * The ring is unwrapped to polar samples: darkness across the teeth (radius 41..45) against a
 * background taken just inside the base circle and in the bare band before the edge circle.
 * The teeth's angular phase is the phase of that signal's 88th Fourier component (the teeth
 * repeat 88 times round); each slot is then averaged over the middle of its angle.
 *
 * A slot's value is modelled as Gaussian about a gap level or a tooth level, fitted over the
 * ring (two classes split by Otsu's threshold). Where the impression did not transfer, a tooth
 * looks like a gap, so the tooth level is scaled by the local depth of the edge circle, a
 * stroke the pin marks at every angle: where the edge circle is missing, tooth and gap levels
 * meet and the slot's probability goes to ½ instead of a confident "gap".
 */
import { GEAR_LENGTH } from '../codeword.js';
import { R_EDGE } from './geometry.js';
import { type Raster, sample } from './raster.js';

export interface RingSignal {
  /** image angle (radians clockwise from up) of the centre of slot 0; slot j is at phase + j·step */
  phase: number;
  /** each slot's darkness above the ring's background */
  values: Float64Array;
  /** each slot's depth of transfer, 1 typical, 0 nothing transferred */
  depth: Float64Array;
  /** each slot's probability of being a tooth */
  probability: Float64Array;
}

const STEP = (2 * Math.PI) / GEAR_LENGTH;
const PER_SLOT = 8;
const TOOTH_RADII = [41, 42, 43, 44, 45];
const BG_RADII = [38.4, 47.3];
const CALIBRATION = 2;
/**
 * A tooth is never surer than this: on simulated images of level 3, teeth given 99.5 % were
 * right 98.2 % of the time (docs/reading.md, reliability).
 */
const SUREST = 0.99;

export function readTeeth(img: Raster, cx: number, cy: number, scale: number): RingSignal {
  const at = (r: number, a: number) =>
    1 - sample(img, cx + r * scale * Math.sin(a), cy - r * scale * Math.cos(a));
  const n = GEAR_LENGTH * PER_SLOT;
  const raw = new Float64Array(n);
  const bg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = ((i + 0.5) * 2 * Math.PI) / n;
    let s = 0;
    for (const r of TOOTH_RADII) s += at(r, a);
    raw[i] = s / TOOTH_RADII.length;
    bg[i] = (at(BG_RADII[0]!, a) + at(BG_RADII[1]!, a)) / 2;
  }
  const bgSmooth = circularMean(bg, 2 * PER_SLOT);
  let c = 0;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = ((i + 0.5) * 2 * Math.PI) / n;
    const v = raw[i]! - bgSmooth[i]!;
    if (Number.isNaN(v)) continue;
    c += v * Math.cos(GEAR_LENGTH * a);
    s += v * Math.sin(GEAR_LENGTH * a);
  }
  const phase = (Math.atan2(s, c) / GEAR_LENGTH + STEP) % STEP;

  const values = new Float64Array(GEAR_LENGTH);
  const edge = new Float64Array(GEAR_LENGTH);
  for (let j = 0; j < GEAR_LENGTH; j++) {
    let sum = 0;
    let count = 0;
    let e = 0;
    for (let d = -2; d <= 2; d++) {
      const a = phase + j * STEP + (d * 0.25 * STEP) / 2;
      for (const r of TOOTH_RADII) {
        const v = at(r, a);
        if (!Number.isNaN(v)) {
          sum += v;
          count++;
        }
      }
      e += at(R_EDGE, a) - at(R_EDGE + 1.2, a) / 2 - at(R_EDGE - 1.2, a) / 2;
    }
    const slotBg = bgSmooth[Math.floor(((phase + j * STEP) / (2 * Math.PI)) * n) % n]!;
    values[j] = count > 0 ? sum / count - slotBg : Number.NaN;
    edge[j] = e / 5;
  }
  const depth = edgeDepth(edge);
  return { phase, values, depth, probability: toothProbabilities(values, depth) };
}

function circularMean(x: Float64Array, half: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    let k = 0;
    for (let d = -half; d <= half; d++) {
      const v = x[(i + d + n) % n]!;
      if (!Number.isNaN(v)) {
        s += v;
        k++;
      }
    }
    out[i] = k > 0 ? s / k : Number.NaN;
  }
  return out;
}

/** Local depth of the edge circle, over three slots, relative to its typical depth round the ring. */
function edgeDepth(edge: Float64Array): Float64Array {
  const local = circularMean(edge, 1);
  const sorted = [...local].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  const typical = sorted[Math.floor(sorted.length * 0.75)] ?? 0;
  const depth = new Float64Array(GEAR_LENGTH);
  for (let j = 0; j < GEAR_LENGTH; j++) {
    const v = local[j]!;
    depth[j] = typical > 0 && !Number.isNaN(v) ? Math.max(0, Math.min(1, v / typical)) : 1;
  }
  return depth;
}

function toothProbabilities(values: Float64Array, depth: Float64Array): Float64Array {
  const p = new Float64Array(GEAR_LENGTH).fill(0.5);
  const valid = [...values].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (valid.length < GEAR_LENGTH / 2) return p;
  // Otsu's threshold over the slots of good depth
  const good = [...values].filter((v, j) => !Number.isNaN(v) && depth[j]! > 0.6).sort((a, b) => a - b);
  const xs = good.length >= 16 ? good : valid;
  let best = -1;
  let split = 1;
  const total = xs.reduce((a, b) => a + b, 0);
  let left = 0;
  for (let k = 1; k < xs.length; k++) {
    left += xs[k - 1]!;
    const m0 = left / k;
    const m1 = (total - left) / (xs.length - k);
    const between = k * (xs.length - k) * (m1 - m0) ** 2;
    if (between > best) {
      best = between;
      split = k;
    }
  }
  const lo = xs.slice(0, split);
  const hi = xs.slice(split);
  const m0 = lo.reduce((a, b) => a + b, 0) / lo.length;
  const m1 = hi.reduce((a, b) => a + b, 0) / hi.length;
  const ss = lo.reduce((a, b) => a + (b - m0) ** 2, 0) + hi.reduce((a, b) => a + (b - m1) ** 2, 0);
  const sigma2 = Math.max(ss / Math.max(1, xs.length - 2), 1e-10);
  for (let j = 0; j < GEAR_LENGTH; j++) {
    const v = values[j]!;
    if (Number.isNaN(v)) continue;
    const top = m0 + (m1 - m0) * depth[j]!;
    const llr = ((v - m0) ** 2 - (v - top) ** 2) / (2 * sigma2 * CALIBRATION);
    p[j] = Math.min(SUREST, Math.max(1 - SUREST, 1 / (1 + Math.exp(-llr))));
  }
  return p;
}
