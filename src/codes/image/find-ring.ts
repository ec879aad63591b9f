/**
 * Finding the stamp: its centre and scale, with no hint from the user.
 *
 * 1. On a small copy (about 400 pixels across), edge pixels vote along their gradient for the
 *    centres of circles of every radius the stamp may have (a gradient Hough transform). The
 *    stamp's concentric circles (base circle, tooth ring, edge circle) pile their votes on one
 *    centre; the primer-cup edge and highlights vote elsewhere.
 * 2. The strongest few centres are judged by their radial profile of darkness against the pin
 *    face's own (base circle, ring of teeth, bare band, edge circle), over every scale: the
 *    best correlation gives centre and scale.
 * 3. At reading resolution, `refineRing` (refine-ring.ts) fits the centre and scale to a
 *    fraction of a pixel.
 */
import { GEAR_LENGTH } from '../codeword.js';
import { BASE_EDGE, R_BASE, R_EDGE, R_TOOTH } from './geometry.js';
import { boxBlur, downsample, type Raster, sample } from './raster.js';

const SCORED_FROM = 4;
const SCORED_TO = 56;

/** Expected darkness of the pin face at radius r (pin units), averaged over angle. */
function profileModel(r: number): number {
  if (r < 34) return 0.12; // the text, spread over the angles
  if (r >= BASE_EDGE && r <= R_BASE + 0.25) return 1;
  if (r > R_BASE && r <= R_TOOTH) return 0.36;
  if (r >= R_EDGE - 0.2 && r <= R_EDGE + 0.2) return 0.8;
  return 0;
}

/** Darkness relative to the local background: positive where the image is darker. */
export function darkness(img: Raster, radius: number): Raster {
  const bg = boxBlur(img, radius);
  const data = new Float32Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = bg.data[i]! - img.data[i]!;
  return { data, width: img.width, height: img.height };
}

export function houghCentres(img: Raster, rMin: number, rMax: number, count: number): [number, number][] {
  const { width, height, data } = img;
  const mag = new Float32Array(width * height);
  const gxs = new Float32Array(width * height);
  const gys = new Float32Array(width * height);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const i = y * width + x;
      const gx =
        data[i - width + 1]! +
        2 * data[i + 1]! +
        data[i + width + 1]! -
        data[i - width - 1]! -
        2 * data[i - 1]! -
        data[i + width - 1]!;
      const gy =
        data[i + width - 1]! +
        2 * data[i + width]! +
        data[i + width + 1]! -
        data[i - width - 1]! -
        2 * data[i - width]! -
        data[i - width + 1]!;
      gxs[i] = gx;
      gys[i] = gy;
      mag[i] = Math.hypot(gx, gy);
    }
  }
  const sorted = Float32Array.from(mag).sort();
  const threshold = Math.max(sorted[Math.floor(sorted.length * 0.9)]!, 1e-6);
  const acc = new Float32Array(width * height);
  for (let i = 0; i < mag.length; i++) {
    const m = mag[i]!;
    if (m < threshold) continue;
    const x = i % width;
    const y = (i - x) / width;
    const dx = gxs[i]! / m;
    const dy = gys[i]! / m;
    for (let r = rMin; r <= rMax; r++) {
      const px = Math.round(x + r * dx);
      const py = Math.round(y + r * dy);
      if (px >= 0 && py >= 0 && px < width && py < height) acc[py * width + px]! += 1;
      const qx = Math.round(x - r * dx);
      const qy = Math.round(y - r * dy);
      if (qx >= 0 && qy >= 0 && qx < width && qy < height) acc[qy * width + qx]! += 1;
    }
  }
  const smooth = boxBlur({ data: acc, width, height }, 2).data;
  const peaks: [number, number][] = [];
  const minGap = Math.max(4, Math.round(rMin / 3));
  while (peaks.length < count) {
    let best = -1;
    for (let i = 0; i < smooth.length; i++)
      if (smooth[i]! > 0 && (best < 0 || smooth[i]! > smooth[best]!)) best = i;
    if (best < 0) break;
    const x = best % width;
    const y = (best - x) / width;
    peaks.push([x + 0.5, y + 0.5]);
    for (let yy = Math.max(0, y - minGap); yy <= Math.min(height - 1, y + minGap); yy++) {
      for (let xx = Math.max(0, x - minGap); xx <= Math.min(width - 1, x + minGap); xx++)
        smooth[yy * width + xx] = 0;
    }
  }
  return peaks;
}

/** The best scale for a centre, by correlating its radial profile with the pin face's. */
function bestScale(
  dark: Raster,
  cx: number,
  cy: number,
  sMin: number,
  sMax: number,
): { scale: number; score: number } {
  const rMax = Math.ceil(SCORED_TO * sMax) + 1;
  const bins = rMax * 2;
  const profile = new Float64Array(bins);
  const counts = new Float64Array(bins);
  const angles = 180;
  for (let a = 0; a < angles; a++) {
    const t = (2 * Math.PI * a) / angles;
    const dx = Math.sin(t);
    const dy = -Math.cos(t);
    for (let b = 0; b < bins; b++) {
      const r = (b + 0.5) / 2;
      const v = sample(dark, cx + r * dx, cy + r * dy);
      if (Number.isNaN(v)) continue;
      profile[b]! += v;
      counts[b]! += 1;
    }
  }
  for (let b = 0; b < bins; b++) profile[b] = counts[b]! > angles / 3 ? profile[b]! / counts[b]! : Number.NaN;
  let best = { scale: sMin, score: -2 };
  for (let s = sMin; s <= sMax; s *= 1.01) {
    let n = 0;
    let sm = 0;
    let sp = 0;
    let smm = 0;
    let spp = 0;
    let smp = 0;
    const from = Math.floor(SCORED_FROM * s * 2);
    const to = Math.min(bins - 1, Math.ceil(SCORED_TO * s * 2));
    for (let b = from; b <= to; b++) {
      const p = profile[b]!;
      if (Number.isNaN(p)) continue;
      const m = profileModel((b + 0.5) / 2 / s);
      n++;
      sm += m;
      sp += p;
      smm += m * m;
      spp += p * p;
      smp += m * p;
    }
    if (n < 8) continue;
    const cov = smp - (sm * sp) / n;
    const vm = smm - (sm * sm) / n;
    const vp = spp - (sp * sp) / n;
    const score = vm > 0 && vp > 0 ? cov / Math.sqrt(vm * vp) : -1;
    if (score > best.score) best = { scale: s, score };
  }
  return best;
}

const TOOTH_MID = (R_BASE + R_TOOTH) / 2;
const ANGLES = 3 * GEAR_LENGTH;
const COS88 = Float64Array.from({ length: ANGLES }, (_, a) =>
  Math.cos((GEAR_LENGTH * 2 * Math.PI * a) / ANGLES),
);
const SIN88 = Float64Array.from({ length: ANGLES }, (_, a) =>
  Math.sin((GEAR_LENGTH * 2 * Math.PI * a) / ANGLES),
);
const COS_REF1 = Float64Array.from({ length: ANGLES }, (_, a) => Math.cos((77 * 2 * Math.PI * a) / ANGLES));
const SIN_REF1 = Float64Array.from({ length: ANGLES }, (_, a) => Math.sin((77 * 2 * Math.PI * a) / ANGLES));
const COS_REF2 = Float64Array.from({ length: ANGLES }, (_, a) => Math.cos((101 * 2 * Math.PI * a) / ANGLES));
const SIN_REF2 = Float64Array.from({ length: ANGLES }, (_, a) => Math.sin((101 * 2 * Math.PI * a) / ANGLES));
const RAY_X = Float64Array.from({ length: ANGLES }, (_, a) => Math.sin((2 * Math.PI * a) / ANGLES));
const RAY_Y = Float64Array.from({ length: ANGLES }, (_, a) => -Math.cos((2 * Math.PI * a) / ANGLES));

/**
 * The strength of the teeth's 88-fold repetition round (cx, cy), at every radius from rMin to
 * rMax: the ring of teeth is the one thing in the image that repeats 88 times round a centre,
 * and only at the right centre (within about a pixel) do its teeth add up in phase.
 */
export function toothRepetition(
  img: Raster,
  cx: number,
  cy: number,
  rMin: number,
  rMax: number,
  arcs: number,
): Float64Array {
  const out = new Float64Array(rMax + 1);
  const per = ANGLES / arcs;
  const values = new Float64Array(ANGLES);
  for (let r = rMin; r <= rMax; r++) {
    let n = 0;
    for (let a = 0; a < ANGLES; a++) {
      const v = sample(img, cx + r * RAY_X[a]!, cy + r * RAY_Y[a]!);
      values[a] = Number.isNaN(v) ? 0 : v;
      if (!Number.isNaN(v)) n++;
    }
    if (n < ANGLES / 2) continue;
    let signal = 0;
    let reference = 0;
    for (let k = 0; k < arcs; k++) {
      const from = Math.round(k * per);
      const to = Math.round((k + 1) * per);
      let mean = 0;
      for (let a = from; a < to; a++) mean += values[a]!;
      mean /= to - from;
      signal += magnitude(values, from, to, mean, COS88, SIN88);
      if (arcs > 1) {
        reference +=
          magnitude(values, from, to, mean, COS_REF1, SIN_REF1) +
          magnitude(values, from, to, mean, COS_REF2, SIN_REF2);
      }
    }
    // broadband edges (the cup's, a highlight's) repeat at every frequency; teeth at 88 only
    out[r] = arcs > 1 ? signal / (reference / 2 + 1e-6 * n) : signal / n;
  }
  return out;
}

function magnitude(
  values: Float64Array,
  from: number,
  to: number,
  mean: number,
  cos: Float64Array,
  sin: Float64Array,
): number {
  let c = 0;
  let s = 0;
  for (let a = from; a < to; a++) {
    const v = values[a]! - mean;
    c += v * cos[a]!;
    s += v * sin[a]!;
  }
  return Math.hypot(c, s);
}

/** The `count` strongest local maxima of a profile, at least 5 % of their radius apart. */
export function topRadii(profile: Float64Array, rMin: number, rMax: number, count: number): number[] {
  const out: number[] = [];
  const order = [];
  for (let r = rMin; r <= rMax; r++) order.push(r);
  order.sort((a, b) => profile[b]! - profile[a]!);
  for (const r of order) {
    if (out.length >= count) break;
    if (out.every((q) => Math.abs(q - r) > 0.05 * q)) out.push(r);
  }
  return out;
}

export interface CoarseRing {
  cx: number;
  cy: number;
  scale: number;
  /** correlation of the radial profile with the pin face's, -1..1 */
  score: number;
}

/**
 * Places where the stamp may lie (in the pixels of `work`), the likeliest first; empty when
 * nothing like the stamp is there.
 */
export function findRingCandidates(work: Raster): CoarseRing[] {
  const half = Math.min(work.width, work.height) / 2;
  // the edge circle spans from about a sixth of the frame to all of it
  const sMin = (0.15 * half) / R_EDGE;
  const sMax = (1.05 * half) / R_EDGE;
  const smoothed = boxBlur(work, 1);
  // votes are cast on a half-size copy, flattened so that lighting and highlights cast few
  const small = downsample(work, 2);
  const flat = darkness(small, Math.max(2, Math.round(half / 40)));
  const centres = houghCentres(
    flat,
    Math.floor((BASE_EDGE * sMin) / 2),
    Math.ceil((R_EDGE * sMax) / 2),
    8,
  ).map(([x, y]): [number, number] => [2 * x, 2 * y]);
  const rMin = Math.floor(TOOTH_MID * sMin);
  const rMax = Math.ceil(TOOTH_MID * sMax);
  const found: { cx: number; cy: number; radius: number; strength: number }[] = [];
  for (const [hx, hy] of centres) {
    // a vote peak may be several pixels off: the arcs' repetition, summed without phase, still
    // shows the teeth's radius; a search round the peak on the whole circle's repetition, which
    // adds up only within a pixel of the centre, then finds the centre
    const arcs = toothRepetition(work, hx, hy, rMin, rMax, 16);
    const whole = toothRepetition(work, hx, hy, rMin, rMax, 1);
    const radii = new Set([...topRadii(arcs, rMin, rMax, 3), ...topRadii(whole, rMin, rMax, 2)]);
    for (const radius of radii) {
      const lo = Math.max(rMin, radius - 2);
      const hi = Math.min(rMax, radius + 2);
      const strengthAt = (x: number, y: number) => {
        const rep = toothRepetition(work, x, y, lo, hi, 1);
        let s = 0;
        for (let r = lo; r <= hi; r++) s += rep[r]!;
        return s;
      };
      let cx = hx;
      let cy = hy;
      let strength = strengthAt(cx, cy);
      for (let dy = -6; dy <= 6; dy += 1.5) {
        for (let dx = -6; dx <= 6; dx += 1.5) {
          const v = strengthAt(hx + dx, hy + dy);
          if (v > strength) {
            strength = v;
            cx = hx + dx;
            cy = hy + dy;
          }
        }
      }
      const climb = () => {
        for (const step of [0.75, 0.375]) {
          for (let moved = true, guard = 0; moved && guard < 8; guard++) {
            moved = false;
            for (const [dx, dy] of [
              [step, 0],
              [-step, 0],
              [0, step],
              [0, -step],
            ] as const) {
              const v = strengthAt(cx + dx, cy + dy);
              if (v > strength) {
                strength = v;
                cx += dx;
                cy += dy;
                moved = true;
              }
            }
          }
        }
      };
      climb();
      // off the centre by d, the teeth add up as J0(2π d / period): round the true centre lies
      // a ring of side peaks 0.61 periods away, where a climb may stop; look across it
      const across = (0.61 * 2 * Math.PI * radius) / GEAR_LENGTH;
      for (let jump = 0; jump < 2; jump++) {
        let to: [number, number] | null = null;
        let toStrength = strength;
        for (let k = 0; k < 16; k++) {
          const x = cx + across * Math.cos((k * Math.PI) / 8);
          const y = cy + across * Math.sin((k * Math.PI) / 8);
          const v = strengthAt(x, y);
          if (v > toStrength) {
            toStrength = v;
            to = [x, y];
          }
        }
        if (!to) break;
        [cx, cy] = to;
        strength = toStrength;
        climb();
      }
      found.push({ cx, cy, radius, strength });
    }
  }
  // the repetition finds the teeth, the radial profile (base circle, teeth, edge circle at
  // their radii) tells the true centre from a near miss
  const dark = darkness(smoothed, Math.max(3, Math.round(half / 12)));
  const out: CoarseRing[] = [];
  for (const f of found.sort((a, b) => b.strength - a.strength).slice(0, 8)) {
    const s0 = f.radius / TOOTH_MID;
    const { scale, score } = bestScale(dark, f.cx, f.cy, s0 * 0.88, s0 * 1.12);
    out.push({ cx: f.cx, cy: f.cy, scale, score });
  }
  return out.sort((a, b) => b.score - a.score);
}

/** The likeliest centre and scale (in the pixels of `work`), or null when nothing like the stamp is there. */
export function findRingCoarse(work: Raster): CoarseRing | null {
  return findRingCandidates(work)[0] ?? null;
}
