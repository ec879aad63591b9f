/**
 * Arithmetic in GF(32) with primitive polynomial x^5 + x^2 + 1 (0x25) and α = 2 (spec §1).
 *
 * The decoder runs millions of times in simulations, so every operation is a table look-up:
 * a full 32 × 32 product table (1 KiB) and exp/log tables. EXP is doubled so that
 * `EXP[LOG[a] + LOG[b]]` needs no reduction modulo 31.
 */

export const FIELD_SIZE = 32;
export const FIELD_ORDER = 31; // order of the multiplicative group
export const PRIMITIVE_POLY = 0x25;

export const EXP = new Uint8Array(2 * FIELD_ORDER + 2);
export const LOG = new Uint8Array(FIELD_SIZE); // LOG[0] is meaningless and never used
export const MUL = new Uint8Array(FIELD_SIZE * FIELD_SIZE);
export const INV = new Uint8Array(FIELD_SIZE); // INV[0] is meaningless and never used

(function buildTables() {
  let a = 1;
  for (let i = 0; i < FIELD_ORDER; i++) {
    EXP[i] = a;
    LOG[a] = i;
    a <<= 1;
    if (a & FIELD_SIZE) a ^= PRIMITIVE_POLY;
  }
  for (let i = FIELD_ORDER; i < EXP.length; i++) EXP[i] = EXP[i - FIELD_ORDER]!;
  for (let x = 1; x < FIELD_SIZE; x++) {
    for (let y = 1; y < FIELD_SIZE; y++) MUL[x * FIELD_SIZE + y] = EXP[LOG[x]! + LOG[y]!]!;
    INV[x] = EXP[FIELD_ORDER - LOG[x]!]!;
  }
})();

export function gfMul(a: number, b: number): number {
  return MUL[(a << 5) | b]!;
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero in GF(32)');
  return MUL[(a << 5) | INV[b]!]!;
}

/** α^e for any integer e (negative exponents allowed). */
export function gfPow(e: number): number {
  return EXP[((e % FIELD_ORDER) + FIELD_ORDER) % FIELD_ORDER]!;
}
