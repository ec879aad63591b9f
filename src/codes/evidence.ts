/**
 * Fusing reads into per-symbol evidence: `w[i * 32 + v]` is the likelihood ratio of value v at
 * position i given every read, with the weights of `model.ts`. Also the alignment of a gear
 * read against a known codeword, and the score of a codeword against all reads.
 */
import { GEAR_LENGTH, SYNC_BITS, SYNC_LENGTH, TEXT_LENGTH } from './codeword.js';
import { popcount5, type Weights } from './model.js';
import type { GearObservation, TextObservation } from './reads.js';
import { N } from './rs.js';
import type { FixedEvidence } from './soft-evidence.js';

export const EVIDENCE_SIZE = N * 32;

export function addText(w: Float64Array, obs: TextObservation, weights: Weights): void {
  const kc = weights.kc;
  for (let i = 0; i < TEXT_LENGTH; i++) {
    const v = obs[i]!;
    if (v >= 0) w[(i << 5) | v]! *= kc;
  }
}

export function addGear(w: Float64Array, g: GearObservation, rotation: number, weights: Weights): void {
  const gw = weights.gearWeight;
  for (let i = 0; i < N; i++) {
    const win = g.windowOf(i, rotation);
    if (win < 32) continue; // no legible tooth in this symbol
    const base = win << 5;
    const row = i << 5;
    for (let v = 0; v < 32; v++) w[row + v]! *= gw[base + v]!;
  }
}

/** Scales each row so that its heaviest value weighs 1, which keeps many reads from overflowing. */
export function normaliseRows(w: Float64Array): void {
  for (let row = 0; row < EVIDENCE_SIZE; row += 32) {
    let max = 0;
    for (let v = 0; v < 32; v++) if (w[row + v]! > max) max = w[row + v]!;
    if (max === 1) continue;
    const inv = 1 / max;
    for (let v = 0; v < 32; v++) w[row + v]! *= inv;
  }
}

/** Rows can grow by this factor (as a natural log) before they are scaled back. */
const HEADROOM = 300;

/**
 * Evidence of all text reads plus the gear reads at the given rotations (a rotation < 0 leaves
 * that gear read out), on top of the soft reads' `fixed` evidence when given. Rows are scaled
 * back whenever they could approach overflow; only ratios within a row carry meaning. Returns
 * the positions some read touched, one bit each.
 */
export function buildEvidence(
  w: Float64Array,
  texts: readonly TextObservation[],
  gears: readonly GearObservation[],
  rotations: ArrayLike<number>,
  weights: Weights,
  fixed?: FixedEvidence | null,
): number {
  let growth = 0;
  let touched = 0;
  if (fixed) {
    // rows at most 1: no headroom used
    w.set(fixed.w);
    touched = fixed.touched;
  } else {
    w.fill(1);
  }
  for (let k = 0; k < texts.length; k++) {
    const t = texts[k]!;
    addText(w, t, weights);
    for (let i = 0; i < TEXT_LENGTH; i++) if (t[i]! >= 0) touched |= 1 << i;
    growth += weights.logKc;
    if (growth > HEADROOM) {
      normaliseRows(w);
      growth = 0;
    }
  }
  if (growth > HEADROOM / 3) normaliseRows(w);
  return addGears(w, touched, gears, rotations, weights);
}

/**
 * Adds gear reads at the given rotations (< 0: left out) to evidence whose rows are at most
 * e^100 (as buildEvidence leaves them); returns the touched positions.
 */
export function addGears(
  w: Float64Array,
  touched: number,
  gears: readonly GearObservation[],
  rotations: ArrayLike<number>,
  weights: Weights,
): number {
  let growth = HEADROOM / 3;
  for (let k = 0; k < gears.length; k++) {
    const r = rotations[k]!;
    if (r < 0) continue;
    const g = gears[k]!;
    addGear(w, g, r, weights);
    for (let i = 0; i < N; i++) if (g.window[r + SYNC_LENGTH + 5 * i]! >= 32) touched |= 1 << i;
    growth += 5 * weights.logKt;
    if (growth > HEADROOM) {
      normaliseRows(w);
      growth = 0;
    }
  }
  return touched;
}

/** The 88 teeth of a codeword as read on a case: sync, then c0..c15 MSB first. */
export function gearTeeth(symbols: ArrayLike<number>, out: Int8Array): Int8Array {
  for (let b = 0; b < SYNC_LENGTH; b++) out[b] = (SYNC_BITS >> (SYNC_LENGTH - 1 - b)) & 1;
  for (let i = 0; i < N; i++) {
    const s = symbols[i]!;
    const o = SYNC_LENGTH + 5 * i;
    out[o] = (s >> 4) & 1;
    out[o + 1] = (s >> 3) & 1;
    out[o + 2] = (s >> 2) & 1;
    out[o + 3] = (s >> 1) & 1;
    out[o + 4] = s & 1;
  }
  return out;
}

/**
 * The rotation at which a gear read agrees best with a codeword, and how many legible teeth
 * disagree there. The best-fitting sync is tried first, then the rotations whose legible sync
 * teeth all agree, then the rest, each in order and each given up as soon as it cannot do
 * better than the best so far; a rotation with no disagreement ends the search. Of the
 * rotations with the fewest disagreements, the first in that order is the answer.
 */
export function alignGear(
  g: GearObservation,
  symbols: ArrayLike<number>,
): { rotation: number; mismatches: number } {
  let bestRotation = g.bestSyncRotation;
  let bestMismatches = mismatchesAt(g, bestRotation, symbols, GEAR_LENGTH + 1);
  for (let pass = 0; pass < 2 && bestMismatches > 0; pass++) {
    for (let r = 0; r < GEAR_LENGTH && bestMismatches > 0; r++) {
      if (r === g.bestSyncRotation || (g.syncMismatch(r) === 0) !== (pass === 0)) continue;
      const mm = mismatchesAt(g, r, symbols, bestMismatches);
      if (mm < bestMismatches) {
        bestMismatches = mm;
        bestRotation = r;
      }
    }
  }
  return { rotation: bestRotation, mismatches: bestMismatches };
}

const POPCOUNT5 = Uint8Array.from({ length: 32 }, (_, x) => popcount5(x));

/**
 * Legible teeth of `g` at rotation r that disagree with the codeword `symbols`: its sync teeth,
 * then five teeth at a time from the read's windows. Exact below `stop`; at or above it, the
 * count is only known to be at least `stop`.
 */
function mismatchesAt(g: GearObservation, r: number, symbols: ArrayLike<number>, stop: number): number {
  let mm = g.syncMismatch(r);
  const window = g.window;
  for (let i = 0; i < N && mm < stop; i++) {
    const w = window[r + SYNC_LENGTH + 5 * i]!;
    mm += POPCOUNT5[(w ^ symbols[i]!) & (w >> 5)]!;
  }
  return mm;
}

/** Matching legible characters of every text read against a codeword. */
export function textMatches(texts: readonly TextObservation[], symbols: ArrayLike<number>): number {
  let m = 0;
  for (const t of texts) for (let i = 0; i < TEXT_LENGTH; i++) if (t[i] === symbols[i]) m++;
  return m;
}
