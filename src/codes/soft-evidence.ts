/**
 * A soft read as evidence (spec §5-6a, docs/codes.md "Soft reads"): per character position the
 * likelihood of each of the 32 symbols, per symbol of the ring the likelihood of each value
 * from its five teeth, at the alignment the reader found (its teeth are counted from the sync).
 *
 * A reader's probabilities may be over-confident, so they are tempered before they are weighed,
 * never to more than the read model allows a typed mark:
 *   - a character's likelihoods are scaled to a maximum of 1 and floored at 1/KC, so no symbol
 *     is favoured over another by more than a typed character favours its symbol (KC = 589 at
 *     5 % misreads);
 *   - a tooth's probability is clamped to [ε_t, 1 − ε_t], so no tooth weighs more than a typed
 *     tooth (KT = 19 at 5 % flips).
 * A character or tooth the reader is unsure of weighs less than a typed one, in proportion to
 * its likelihoods, instead of being dropped as the hard read's `?` drops it.
 */
import { SYNC_LENGTH, TEXT_LENGTH } from './codeword.js';
import type { Weights } from './model.js';
import { N } from './rs.js';
import type { SoftRead } from './soft-read.js';

/**
 * Evidence at a fixed alignment: `w[i * 32 + v]` as in `evidence.ts`, rows scaled to a maximum
 * of 1; `touched` has a bit for each row some soft read says something about.
 */
export interface FixedEvidence {
  readonly w: Float64Array;
  touched: number;
}

/** Rows never fall below this (many soft reads of one gun cannot underflow a row to 0). */
const ROW_FLOOR = 1e-100;
/** a row whose values differ by less than this factor says nothing */
const FLAT = 1 + 1e-9;

export function emptyFixedEvidence(): FixedEvidence {
  return { w: new Float64Array(N * 32).fill(1), touched: 0 };
}

/** A character's tempered likelihoods into `out` (scaled to a maximum of 1, floored at 1/KC). */
export function temperedChar(row: readonly number[], weights: Weights, out: Float64Array): Float64Array {
  let max = 0;
  for (let v = 0; v < 32; v++) if (row[v]! > max) max = row[v]!;
  const floor = 1 / weights.kc;
  for (let v = 0; v < 32; v++) out[v] = max > 0 ? Math.max(row[v]! / max, floor) : 1;
  return out;
}

/** A tooth's tempered probability of being a tooth: clamped to [ε_t, 1 − ε_t]. */
export function temperedTooth(p: number, weights: Weights): number {
  const eps = weights.model.toothFlip;
  return Math.min(1 - eps, Math.max(eps, p));
}

const CHAR = new Float64Array(32);

/**
 * Multiplies a soft read's tempered evidence into `fixed`: its characters when `chars`, its
 * ring (the 80 teeth after the sync) when `teeth`. Rows are scaled back to a maximum of 1.
 */
export function addSoftRead(
  fixed: FixedEvidence,
  soft: SoftRead,
  weights: Weights,
  chars: boolean,
  teeth: boolean,
): void {
  const w = fixed.w;
  if (chars) {
    for (let i = 0; i < TEXT_LENGTH; i++) {
      const q = temperedChar(soft.chars[i]!, weights, CHAR);
      if (isFlat(q)) continue;
      const row = i << 5;
      for (let v = 0; v < 32; v++) w[row + v]! *= q[v]!;
      fixed.touched |= 1 << i;
    }
  }
  if (teeth) {
    for (let i = 0; i < N; i++) {
      const first = SYNC_LENGTH + 5 * i;
      let said = false;
      for (let b = 0; b < 5; b++) {
        const p = temperedTooth(soft.teeth[first + b]!, weights);
        if (p === 0.5) continue;
        said = true;
        const row = i << 5;
        const bit = 4 - b;
        for (let v = 0; v < 32; v++) w[row + v]! *= (v >> bit) & 1 ? p : 1 - p;
      }
      if (said) fixed.touched |= 1 << i;
    }
  }
  for (let i = 0; i < N; i++) scaleRow(w, i);
}

function isFlat(q: Float64Array): boolean {
  let min = q[0]!;
  let max = q[0]!;
  for (let v = 1; v < 32; v++) {
    if (q[v]! < min) min = q[v]!;
    if (q[v]! > max) max = q[v]!;
  }
  return max <= min * FLAT;
}

function scaleRow(w: Float64Array, i: number): void {
  const row = i << 5;
  let max = 0;
  for (let v = 0; v < 32; v++) if (w[row + v]! > max) max = w[row + v]!;
  for (let v = 0; v < 32; v++) w[row + v] = Math.max(w[row + v]! / max, ROW_FLOOR);
}

/** Σ log w[i][c_i] over the rows: a codeword's log weight under the fixed evidence (≤ 0). */
export function fixedLogWeight(fixed: FixedEvidence | null | undefined, symbols: ArrayLike<number>): number {
  if (!fixed || fixed.touched === 0) return 0;
  let lw = 0;
  for (let i = 0; i < N; i++) if (fixed.touched & (1 << i)) lw += Math.log(fixed.w[(i << 5) | symbols[i]!]!);
  return lw;
}
