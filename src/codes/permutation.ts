/**
 * The 4-round balanced Feistel permutation of the 28-bit index (spec §2) and its inverse.
 * Consecutive indexes must give unrelated codes, and the registry must get the index back.
 */
import type { KeyContext } from './key.js';

const HALF_MASK = 0x3fff;
export const INDEX_MAX = 0x0fffffff;

export function permuteIndex(index: number, ctx: KeyContext): number {
  let L = (index >>> 14) & HALF_MASK;
  let R = index & HALF_MASK;
  for (let r = 0; r < 4; r++) {
    const next = L ^ ctx.round(r, R);
    L = R;
    R = next;
  }
  return (L << 14) | R;
}

export function unpermuteIndex(permuted: number, ctx: KeyContext): number {
  let L = (permuted >>> 14) & HALF_MASK;
  let R = permuted & HALF_MASK;
  for (let r = 3; r >= 0; r--) {
    // forward round: L' = R, R' = L ^ F(R)  =>  R = L', L = R' ^ F(L')
    const prevL = R ^ ctx.round(r, L);
    R = L;
    L = prevL;
  }
  return (L << 14) | R;
}
