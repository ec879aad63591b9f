/**
 * The systematic RS(16, 8) code of spec §3 and its errors-and-erasures decoder
 * (Berlekamp-Massey initialised with the erasure locator, Chien search, Forney).
 *
 * Symbol j of a codeword is the coefficient of x^(15 - j): c0 is the highest degree. Its error
 * locator is therefore X_j = α^(15 - j). The code is RS(31, 23) shortened to 16 symbols, so a
 * locator root outside the 16 real positions is a decoding failure, not a correction.
 *
 * Everything here works on caller-supplied typed arrays and module-level scratch space: the
 * decoder is called in loops of millions and must not allocate.
 */
import { EXP, INV, LOG, MUL } from './gf32.js';

export const N = 16;
export const K = 8;
export const PARITY = N - K;

/** g(x) = (x − α^1)…(x − α^8), highest degree first: `1 8 21 15 6 2 26 18 5`. */
export const GENERATOR: readonly number[] = (() => {
  let g = [1];
  for (let i = 1; i <= PARITY; i++) {
    const root = EXP[i]!;
    const next = new Array<number>(g.length + 1).fill(0);
    for (let d = 0; d < g.length; d++) {
      next[d]! ^= g[d]!;
      next[d + 1]! ^= MUL[(g[d]! << 5) | root]!;
    }
    g = next;
  }
  return g;
})();

/** The parity of `data` by dividing m(x)·x^8 by g(x), symbol by symbol. */
function divideParity(data: ArrayLike<number>, out: Uint8Array): void {
  const p = new Uint8Array(PARITY + 1);
  for (let i = 0; i < K; i++) {
    const fb = data[i]! ^ p[0]!;
    for (let k = 0; k < PARITY; k++) p[k] = p[k + 1]! ^ MUL[(fb << 5) | GENERATOR[k + 1]!]!;
  }
  out.set(p.subarray(0, PARITY));
}

/**
 * The parity is linear in the data, so it is the XOR of each data symbol's own parity: of
 * value v at position j, packed 5 bits per parity symbol, c8..c11 in PARITY_LO[j * 32 + v]
 * and c12..c15 in PARITY_HI. Eight look-ups instead of 64 products.
 */
const PARITY_LO = new Uint32Array(K * 32);
const PARITY_HI = new Uint32Array(K * 32);
{
  const unit = new Uint8Array(K);
  const p = new Uint8Array(PARITY);
  for (let j = 0; j < K; j++) {
    for (let v = 0; v < 32; v++) {
      unit.fill(0);
      unit[j] = v;
      divideParity(unit, p);
      PARITY_LO[(j << 5) | v] = p[0]! | (p[1]! << 5) | (p[2]! << 10) | (p[3]! << 15);
      PARITY_HI[(j << 5) | v] = p[4]! | (p[5]! << 5) | (p[6]! << 10) | (p[7]! << 15);
    }
  }
}

/** Writes the 8 parity symbols of `data[0..7]` into `out[outOffset..outOffset+7]`. */
export function computeParity(data: ArrayLike<number>, out: Uint8Array | number[], outOffset = K): void {
  let lo = 0;
  let hi = 0;
  for (let j = 0; j < K; j++) {
    const slot = (j << 5) | data[j]!;
    lo ^= PARITY_LO[slot]!;
    hi ^= PARITY_HI[slot]!;
  }
  out[outOffset] = lo & 31;
  out[outOffset + 1] = (lo >>> 5) & 31;
  out[outOffset + 2] = (lo >>> 10) & 31;
  out[outOffset + 3] = lo >>> 15;
  out[outOffset + 4] = hi & 31;
  out[outOffset + 5] = (hi >>> 5) & 31;
  out[outOffset + 6] = (hi >>> 10) & 31;
  out[outOffset + 7] = hi >>> 15;
}

/** The codeword `m0..m7, c8..c15` of 8 data symbols. */
export function encodeSymbols(data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(N);
  for (let i = 0; i < K; i++) out[i] = data[i]!;
  computeParity(data, out);
  return out;
}

/**
 * Contribution of value r at position j to the syndromes S_1..S_8, packed 5 bits each:
 * S_1..S_4 in SYN_LO[j * 32 + r], S_5..S_8 in SYN_HI. A syndrome vector is then 16 XORs.
 */
const SYN_LO = new Uint32Array(N * 32);
const SYN_HI = new Uint32Array(N * 32);
for (let j = 0; j < N; j++) {
  for (let r = 1; r < 32; r++) {
    let lo = 0;
    let hi = 0;
    for (let k = 1; k <= PARITY; k++) {
      const s = EXP[(LOG[r]! + k * (N - 1 - j)) % 31]!;
      if (k <= 4) lo |= s << (5 * (k - 1));
      else hi |= s << (5 * (k - 5));
    }
    SYN_LO[j * 32 + r] = lo;
    SYN_HI[j * 32 + r] = hi;
  }
}

const parityScratch = new Uint8Array(N);

/** True when the 16 symbols form a codeword. */
export function isCodeword(word: ArrayLike<number>): boolean {
  computeParity(word, parityScratch);
  for (let i = K; i < N; i++) if (parityScratch[i] !== word[i]) return false;
  return true;
}

// Scratch space of the decoder (degree ≤ 8 polynomials, lowest degree first, with headroom).
const S = new Uint8Array(PARITY);
const lambda = new Uint8Array(PARITY + 2);
const prev = new Uint8Array(PARITY + 2);
const temp = new Uint8Array(PARITY + 2);
const omega = new Uint8Array(PARITY);

/** log of X_j^-1 = α^(j - 15), for position j */
const INV_LOCATOR_LOG = Uint8Array.from({ length: N }, (_, j) => (j - 15 + 31) % 31);
/** log of X_j^-i, for position j and power i = 0..9: CHIEN_EXP[j * 10 + i] */
const CHIEN_EXP = Uint8Array.from({ length: N * (PARITY + 2) }, (_, k) => {
  const j = Math.floor(k / (PARITY + 2));
  const i = k % (PARITY + 2);
  return (INV_LOCATOR_LOG[j]! * i) % 31;
});
const lambdaLog = new Uint8Array(PARITY + 2); // 255 for a zero coefficient
const rootAt = new Uint8Array(N);

function evalAtLog(poly: Uint8Array, degree: number, xLog: number): number {
  // Horner from the highest coefficient: sum poly[i] x^i with x = α^xLog
  let acc = 0;
  for (let i = degree; i >= 0; i--) {
    acc = acc === 0 ? poly[i]! : EXP[LOG[acc]! + xLog]! ^ poly[i]!;
  }
  return acc;
}

/**
 * Decodes `received` (16 symbols; values at erased positions are ignored) with the positions
 * flagged non-zero in `erased` treated as erasures. On success writes the codeword to `out` and
 * returns the number of errors corrected (erasures filled are not counted); returns -1 when
 * 2e + f > 8 or the word cannot be decoded. `out` may be `received`.
 */
export function decodeErrata(
  received: ArrayLike<number>,
  erased: ArrayLike<number>,
  out: Uint8Array,
): number {
  let f = 0;
  for (let j = 0; j < N; j++) {
    if (erased[j]) {
      f++;
      out[j] = 0;
    } else {
      out[j] = received[j]!;
    }
  }
  if (f > PARITY) return -1;

  // Syndromes S_k = r(α^k), k = 1..8
  let lo = 0;
  let hi = 0;
  for (let j = 0; j < N; j++) {
    const slot = (j << 5) | out[j]!;
    lo ^= SYN_LO[slot]!;
    hi ^= SYN_HI[slot]!;
  }
  if ((lo | hi) === 0) return 0; // already a codeword; erased positions hold 0, which is consistent
  for (let k = 0; k < 4; k++) {
    S[k] = (lo >>> (5 * k)) & 31;
    S[k + 4] = (hi >>> (5 * k)) & 31;
  }

  // Erasure locator Γ(x) = Π (1 + X_j x)
  lambda.fill(0);
  lambda[0] = 1;
  let deg = 0;
  for (let j = 0; j < N; j++) {
    if (!erased[j]) continue;
    const xLog = 15 - j;
    deg++;
    for (let d = deg; d >= 1; d--) {
      const c = lambda[d - 1]!;
      if (c !== 0) lambda[d]! ^= EXP[LOG[c]! + xLog]!;
    }
  }
  prev.set(lambda);
  let L = f;

  // Berlekamp-Massey with the errata locator started at Γ (Blahut's form).
  for (let r = f + 1; r <= PARITY; r++) {
    let delta = 0;
    for (let i = 0; i <= L; i++) {
      const li = lambda[i]!;
      const si = r - i - 1 >= 0 ? S[r - i - 1]! : 0;
      if (li !== 0 && si !== 0) delta ^= MUL[(li << 5) | si]!;
    }
    // prev <- x * prev
    for (let d = PARITY + 1; d >= 1; d--) prev[d] = prev[d - 1]!;
    prev[0] = 0;
    if (delta === 0) continue;
    const dShift = delta << 5;
    for (let d = 0; d <= PARITY + 1; d++) temp[d] = lambda[d]! ^ MUL[dShift | prev[d]!]!;
    if (2 * L <= r + f - 1) {
      const inv = INV[delta]! << 5;
      for (let d = 0; d <= PARITY + 1; d++) prev[d] = MUL[inv | lambda[d]!]!;
      L = r + f - L;
    }
    lambda.set(temp);
  }

  let degree = PARITY + 1;
  while (degree > 0 && lambda[degree] === 0) degree--;
  if (degree !== L || 2 * L - f > PARITY) return -1;

  // Chien search over the 16 real positions; a locator without exactly `degree` roots there
  // means the word is not decodable (the common case when trying out wrong alignments).
  for (let i = 0; i <= degree; i++) lambdaLog[i] = lambda[i] === 0 ? 255 : LOG[lambda[i]!]!;
  let roots = 0;
  for (let j = 0; j < N; j++) {
    const base = j * (PARITY + 2);
    let acc = 0;
    for (let i = 0; i <= degree; i++) {
      const l = lambdaLog[i]!;
      if (l !== 255) acc ^= EXP[l + CHIEN_EXP[base + i]!]!;
    }
    if (acc === 0) rootAt[roots++] = j;
  }
  if (roots !== degree) return -1;

  // Ω(x) = S(x) Λ(x) mod x^8
  for (let k = 0; k < PARITY; k++) {
    let acc = 0;
    for (let i = 0; i <= k && i <= degree; i++) {
      const li = lambda[i]!;
      const si = S[k - i]!;
      if (li !== 0 && si !== 0) acc ^= MUL[(li << 5) | si]!;
    }
    omega[k] = acc;
  }

  // Forney for each root.
  let errors = 0;
  for (let n = 0; n < roots; n++) {
    const j = rootAt[n]!;
    const base = j * (PARITY + 2);
    // Λ'(x) = sum over odd i of Λ_i x^(i-1) (characteristic 2)
    let dAcc = 0;
    for (let i = 1; i <= degree; i += 2) {
      const l = lambdaLog[i]!;
      if (l !== 255) dAcc ^= EXP[l + CHIEN_EXP[base + i - 1]!]!;
    }
    if (dAcc === 0) return -1;
    const num = evalAtLog(omega, PARITY - 1, INV_LOCATOR_LOG[j]!);
    const value = num === 0 ? 0 : EXP[LOG[num]! + 31 - LOG[dAcc]!]!;
    if (value !== 0) {
      out[j]! ^= value;
      if (!erased[j]) errors++;
    }
  }
  if (roots !== degree) return -1;
  if (2 * errors + f > PARITY) return -1;
  lo = 0;
  hi = 0;
  for (let j = 0; j < N; j++) {
    const slot = (j << 5) | out[j]!;
    lo ^= SYN_LO[slot]!;
    hi ^= SYN_HI[slot]!;
  }
  if ((lo | hi) !== 0) return -1;
  return errors;
}
