/**
 * Refining the stamp's centre and scale at reading resolution: rays from the coarse centre find
 * the base circle's inner edge and the edge circle at each angle; a least-squares fit of two
 * concentric circles to those points, dropping the worst-fitting ones (missing sectors,
 * highlights) twice, gives the centre to a fraction of a pixel and the scale from both radii.
 */
import { BASE_EDGE, R_EDGE } from './geometry.js';
import { type Raster, sample } from './raster.js';

export interface RingFit {
  cx: number;
  cy: number;
  scale: number;
  /** correlation of the radial profile with the pin face's, -1..1 */
  profileScore: number;
  /** share of rays whose edges agreed with the fitted circles */
  edgeSupport: number;
}

const RAYS = 180;

/** Refines centre and scale at reading resolution from the two circles' edges. */
export function refineRing(img: Raster, cx0: number, cy0: number, scale0: number): RingFit {
  let cx = cx0;
  let cy = cy0;
  let scale = scale0;
  let support = 0;
  for (let pass = 0; pass < 3; pass++) {
    const pts: { x: number; y: number; circle: 0 | 1 }[] = [];
    for (let a = 0; a < RAYS; a++) {
      const t = (2 * Math.PI * (a + 0.5)) / RAYS;
      const dx = Math.sin(t);
      const dy = -Math.cos(t);
      const at = (r: number) => 1 - sample(img, cx + r * scale * dx, cy + r * scale * dy);
      // the base circle's inner edge: the steepest rise of darkness outward
      let bestRise = 0;
      let bestR = -1;
      for (let r = BASE_EDGE - 2; r <= BASE_EDGE + 2; r += 0.1) {
        const rise = at(r + 0.3) - at(r - 0.3);
        if (rise > bestRise) {
          bestRise = rise;
          bestR = r;
        }
      }
      if (bestR > 0) pts.push({ x: cx + bestR * scale * dx, y: cy + bestR * scale * dy, circle: 0 });
      // the edge circle: the darkest point of its thin stroke against the bare band inside it
      let bestPeak = 0;
      let peakR = -1;
      for (let r = R_EDGE - 1.5; r <= R_EDGE + 1.5; r += 0.1) {
        const peak = at(r) - 0.5 * (at(r - 1) + at(r + 1));
        if (peak > bestPeak) {
          bestPeak = peak;
          peakR = r;
        }
      }
      if (peakR > 0) pts.push({ x: cx + peakR * scale * dx, y: cy + peakR * scale * dy, circle: 1 });
    }
    let use = pts;
    let fit = fitConcentric(use);
    for (let trim = 0; trim < 2 && fit; trim++) {
      const f = fit;
      const res = use.map((p) =>
        Math.abs(Math.hypot(p.x - f.cx, p.y - f.cy) - (p.circle === 0 ? f.r0 : f.r1)),
      );
      const cut = [...res].sort((a, b) => a - b)[Math.floor(res.length * 0.7)]!;
      use = use.filter((_, i) => res[i]! <= Math.max(cut, 0.3 * scale));
      fit = fitConcentric(use);
    }
    if (!fit) break;
    const s0 = fit.r0 / BASE_EDGE;
    const s1 = fit.r1 / R_EDGE;
    // a fit far from where the profile put the stamp found something else: keep the profile's
    if (Math.hypot(fit.cx - cx0, fit.cy - cy0) > 3 * scale0 || Math.abs(s0 / scale0 - 1) > 0.1) break;
    cx = fit.cx;
    cy = fit.cy;
    scale = Math.abs(s1 / s0 - 1) < 0.03 ? (s0 + s1) / 2 : s0;
    support =
      use.filter(
        (p) => Math.abs(Math.hypot(p.x - cx, p.y - cy) - (p.circle === 0 ? fit.r0 : fit.r1)) < 0.4 * scale,
      ).length /
      (2 * RAYS);
  }
  return { cx, cy, scale, profileScore: 0, edgeSupport: support };
}

/** Least squares for x² + y² = 2a·x + 2b·y + c_k on circle k: a common centre, two radii. */
function fitConcentric(
  pts: readonly { x: number; y: number; circle: 0 | 1 }[],
): { cx: number; cy: number; r0: number; r1: number } | null {
  const m = [
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ];
  let n0 = 0;
  let n1 = 0;
  for (const p of pts) {
    const row = [2 * p.x, 2 * p.y, p.circle === 0 ? 1 : 0, p.circle === 1 ? 1 : 0];
    const z = p.x * p.x + p.y * p.y;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) m[i]![j]! += row[i]! * row[j]!;
      m[i]![4]! += row[i]! * z;
    }
    if (p.circle === 0) n0++;
    else n1++;
  }
  if (n0 < 6 || n1 < 6) return null;
  for (let c = 0; c < 4; c++) {
    let piv = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[piv]![c]!)) piv = r;
    [m[c], m[piv]] = [m[piv]!, m[c]!];
    const d = m[c]![c]!;
    if (Math.abs(d) < 1e-12) return null;
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / d;
      for (let k = c; k < 5; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const a = m[0]![4]! / m[0]![0]!;
  const b = m[1]![4]! / m[1]![1]!;
  const c0 = m[2]![4]! / m[2]![2]!;
  const c1 = m[3]![4]! / m[3]![3]!;
  const q0 = c0 + a * a + b * b;
  const q1 = c1 + a * a + b * b;
  if (q0 <= 0 || q1 <= 0) return null;
  return { cx: a, cy: b, r0: Math.sqrt(q0), r1: Math.sqrt(q1) };
}
