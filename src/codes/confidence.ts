/**
 * How likely is it that the reads came from another code than the one decoded?
 *
 * With all codes equally likely beforehand, the odds of "another code" against the decoded
 * code c are Σ over codewords c' ≠ c of W(c') / W(c), W being the fused evidence weight. That
 * sum runs over 2^40 codewords, so it is estimated from the code's structure: RS(16, 8) is MDS,
 * so the number of codewords that differ from c on exactly a given set of w positions is
 * known (N_w below, zero for w < 9), and the values they take there are spread over the 31
 * other symbols. Each position i contributes u_i (the alternative agrees with c there) or t_i
 * (it does not: the mean weight ratio of the 31 other values), and
 *
 *     odds ≈ Σ_{w ≥ 9} N_w · e_w(u, t)
 *
 * where e_w sums, over every set S of w positions, Π_{i∈S} t_i · Π_{i∉S} u_i. At the alignment
 * decoded, u_i = 1. For a gear read, each other rotation r' is a further hypothesis, weighted
 * by how well the sync fits there; its u_i and t_i come from that read's teeth at r'.
 *
 * Because N_w ≤ 31^(w−8), the whole sum is bounded by 31^-8 · Π_i (u_i + 31 t_i), which needs
 * no dynamic programme: rotations whose bound is negligible are charged their bound and skipped.
 */
import type { Weights } from './model.js';
import type { GearObservation } from './reads.js';
import { N } from './rs.js';

const DISTANCE = 9;

/** N_w: codewords whose difference from a given codeword has support exactly a given w-set. */
export const SUPPORT_COUNT = (() => {
  const out = new Float64Array(N + 1);
  const binom = (n: number, k: number) => {
    let r = 1;
    for (let i = 0; i < k; i++) r = (r * (n - i)) / (i + 1);
    return r;
  };
  for (let w = DISTANCE; w <= N; w++) {
    let s = 0;
    for (let j = 0; j <= w - DISTANCE; j++) s += (-1) ** j * binom(w, j) * (32 ** (w - DISTANCE + 1 - j) - 1);
    out[w] = s;
  }
  return out;
})();

const INV_31_POW_8 = 31 ** -8;
const E = new Float64Array(N + 1);
const U = new Float64Array(N);
const T = new Float64Array(N);

/** Σ_{w ≥ 9} N_w e_w(U, T). */
function weightedSupportSum(): number {
  E.fill(0);
  E[0] = 1;
  for (let i = 0; i < N; i++) {
    const u = U[i]!;
    const t = T[i]!;
    for (let w = i + 1; w >= 1; w--) E[w] = E[w]! * u + E[w - 1]! * t;
    E[0] = E[0]! * u;
  }
  let sum = 0;
  for (let w = DISTANCE; w <= N; w++) sum += SUPPORT_COUNT[w]! * E[w]!;
  return sum;
}

/**
 * Odds of another codeword at the same alignment of every gear read. Rows outside `touched`
 * hold no evidence: every value is as likely as c_i there (t_i = 1).
 */
export function sameAlignmentOdds(w: Float64Array, c: ArrayLike<number>, touched = 0xffff): number {
  for (let i = 0; i < N; i++) if (touched & (1 << i)) T[i] = rowOdds(w, i, c[i]!);
  return oddsOfRows(T, touched);
}

/** t_i of row i when the decoded value is c: the mean weight of the 31 other values against c's. */
export function rowOdds(w: Float64Array, i: number, c: number): number {
  const row = i << 5;
  let sum = 0;
  for (let v = 0; v < 32; v++) sum += w[row + v]!;
  const own = w[row + c]!;
  return (sum - own) / (31 * own);
}

/**
 * Σ_{w ≥ 9} N_w e_w(1, t) over the rows in `touched`, with t_i in `t`; rows outside `touched`
 * have t_i = 1. Rows are taken in order, so equal inputs give bit-identical odds.
 */
export function oddsOfRows(t: ArrayLike<number>, touched: number): number {
  // u_i = 1 everywhere, so E(z) = Π (1 + t_i z) over touched rows, untouched rows contributing
  // (1 + z)^m at the end. E_k += E_(k−1)·t_i for k from the degree down, in locals (E_0 = 1).
  let e1 = 0;
  let e2 = 0;
  let e3 = 0;
  let e4 = 0;
  let e5 = 0;
  let e6 = 0;
  let e7 = 0;
  let e8 = 0;
  let e9 = 0;
  let e10 = 0;
  let e11 = 0;
  let e12 = 0;
  let e13 = 0;
  let e14 = 0;
  let e15 = 0;
  let e16 = 0;
  let degree = 0;
  let untouched = 0;
  for (let i = 0; i < N; i++) {
    if (!(touched & (1 << i))) {
      untouched++;
      continue;
    }
    const ti = t[i]!;
    degree++;
    if (degree >= 16) e16 = e16 + e15 * ti;
    if (degree >= 15) e15 = e15 + e14 * ti;
    if (degree >= 14) e14 = e14 + e13 * ti;
    if (degree >= 13) e13 = e13 + e12 * ti;
    if (degree >= 12) e12 = e12 + e11 * ti;
    if (degree >= 11) e11 = e11 + e10 * ti;
    if (degree >= 10) e10 = e10 + e9 * ti;
    if (degree >= 9) e9 = e9 + e8 * ti;
    if (degree >= 8) e8 = e8 + e7 * ti;
    if (degree >= 7) e7 = e7 + e6 * ti;
    if (degree >= 6) e6 = e6 + e5 * ti;
    if (degree >= 5) e5 = e5 + e4 * ti;
    if (degree >= 4) e4 = e4 + e3 * ti;
    if (degree >= 3) e3 = e3 + e2 * ti;
    if (degree >= 2) e2 = e2 + e1 * ti;
    e1 = e1 + ti;
  }
  E[0] = 1;
  E[1] = e1;
  E[2] = e2;
  E[3] = e3;
  E[4] = e4;
  E[5] = e5;
  E[6] = e6;
  E[7] = e7;
  E[8] = e8;
  E[9] = e9;
  E[10] = e10;
  E[11] = e11;
  E[12] = e12;
  E[13] = e13;
  E[14] = e14;
  E[15] = e15;
  E[16] = e16;
  let odds = 0;
  for (let k = DISTANCE; k <= N; k++) {
    // coefficient of z^k in E(z)·(1 + z)^untouched
    let coef = 0;
    for (let j = Math.max(0, k - degree); j <= untouched && j <= k; j++)
      coef += BINOMIAL[untouched * 17 + j]! * E[k - j]!;
    odds += SUPPORT_COUNT[k]! * coef;
  }
  return odds;
}

const BINOMIAL = (() => {
  const b = new Float64Array(17 * 17);
  for (let n = 0; n <= 16; n++) {
    b[n * 17] = 1;
    for (let k = 1; k <= n; k++)
      b[n * 17 + k] = b[(n - 1) * 17 + k - 1]! + (k <= n - 1 ? b[(n - 1) * 17 + k]! : 0);
  }
  return b;
})();

const Q = new Float64Array(N * 32);
const ROW_BASE = new Float64Array(N);
const EXCEPTIONS = new Int16Array(N * 5); // up to 4 exceptional values per row, -1 terminated
const GENERAL = new Uint8Array(N);
const OWN = new Float64Array(N); // Q_i(c_i)
const TOP = new Int8Array(N * 3); // the three heaviest values of a general row
const FOURTH = new Float64Array(N); // and the weight of its fourth heaviest
const D = new Float64Array(N);

/**
 * Odds that gear read `g` is not at rotation `rotation` but another code explains the reads
 * with `g` at some other rotation. `others` is the evidence of every other read (rows scaled
 * freely; rows outside `othersTouched` hold none); `limit` stops the sum early once it is
 * certain to exceed it.
 */
export function otherRotationOdds(
  others: Float64Array,
  c: ArrayLike<number>,
  g: GearObservation,
  rotation: number,
  weights: Weights,
  limit: number,
  othersTouched = 0xffff,
): number {
  const gw = weights.gearWeight;
  const sums = weights.gearWeightSum;
  const windows = g.window;
  let prodD = 1;
  let prodMaxT = 1;
  for (let i = 0; i < N; i++) {
    const touched = (othersTouched & (1 << i)) !== 0;
    const maxT = prepareRow(others, i, touched, c[i]!, windows[rotation + 8 + 5 * i]!, weights);
    prodD *= D[i]!;
    prodMaxT *= maxT;
  }
  const syncHere = g.syncMatch[rotation]!;
  const negligible = (limit * 1e-3) / 88;
  const bound = otherRotationsBound(g.syncMatch, rotation, weights, prodD, prodMaxT);
  if (bound <= limit * 1e-3) return bound;
  const rotationBound = (INV_31_POW_8 * prodMaxT) / prodD;
  let odds = 0;
  for (let r = 0; r < 88; r++) {
    if (r === rotation) continue;
    const sync = syncFactor(weights, g.syncMatch[r]! - syncHere);
    if (sync * rotationBound <= negligible) {
      odds += sync * rotationBound;
      continue;
    }
    // Exact row sums for simple rows; for general rows first a bound from their three
    // heaviest values, made exact only if the rotation cannot be dismissed on the bound.
    let prodT = 1;
    let exact = true;
    for (let i = 0; i < N; i++) {
      const win = windows[r + 8 + 5 * i]!;
      const base = win << 5;
      const row = i << 5;
      let t: number;
      if (GENERAL[i]) {
        let heavy = 0;
        let heavyG = 0;
        for (let k = i * 3; k < i * 3 + 3; k++) {
          const x = TOP[k]!;
          const gx = gw[base + x]!;
          heavy += Q[row + x]! * gx;
          heavyG += gx;
        }
        t = heavy + FOURTH[i]! * (sums[win >> 5]! - heavyG);
        exact = false;
      } else {
        const q0 = ROW_BASE[i]!;
        t = q0 * sums[win >> 5]!;
        for (let k = i * 5; EXCEPTIONS[k]! >= 0; k++) {
          const x = EXCEPTIONS[k]!;
          t += (Q[row + x]! - q0) * gw[base + x]!;
        }
      }
      T[i] = t;
      prodT *= t;
    }
    if (!exact && (sync * INV_31_POW_8 * prodT) / prodD > negligible) {
      prodT = 1;
      for (let i = 0; i < N; i++) {
        if (GENERAL[i]) {
          const base = windows[r + 8 + 5 * i]! << 5;
          const row = i << 5;
          let t = 0;
          for (let v = 0; v < 32; v++) t += Q[row + v]! * gw[base + v]!;
          T[i] = t;
        }
        prodT *= T[i]!;
      }
    }
    const bound = (sync * INV_31_POW_8 * prodT) / prodD;
    if (bound <= negligible) {
      odds += bound;
      continue;
    }
    for (let i = 0; i < N; i++) {
      const agree = OWN[i]! * gw[(windows[r + 8 + 5 * i]! << 5) | c[i]!]!;
      const total = T[i]!;
      U[i] = agree / D[i]!;
      T[i] = (total - agree) / (31 * D[i]!);
    }
    odds += sync * weightedSupportSum();
    if (!(odds <= limit)) return odds;
  }
  return odds;
}

/**
 * Prepares row i of the others' evidence for otherRotationOdds: Q (the row scaled to a
 * maximum of 1), whether it is one base value with a few exceptions (then a row sum costs
 * O(exceptions)), and D_i = Q(c)·G_i(c) for the gear window at the decoded rotation. Returns
 * the largest row sum any window could give, the row's factor of the bound on every rotation.
 */
export function prepareRow(
  others: Float64Array,
  i: number,
  touched: boolean,
  c: number,
  window: number,
  weights: Weights,
): number {
  const gw = weights.gearWeight;
  const sums = weights.gearWeightSum;
  const row = i << 5;
  if (!touched) {
    // no other read says anything here: every value weighs the same
    GENERAL[i] = 0;
    EXCEPTIONS[i * 5] = -1;
    ROW_BASE[i] = 1;
    OWN[i] = 1;
    D[i] = gw[(window << 5) | c]!;
    return sums[31]!;
  }
  let max = 0;
  let min = Number.POSITIVE_INFINITY;
  for (let v = 0; v < 32; v++) {
    const x = others[row + v]!;
    if (x > max) max = x;
    if (x < min) min = x;
  }
  const inv = 1 / max;
  let exceptions = 0;
  let excess = 0;
  for (let v = 0; v < 32; v++) {
    const x = others[row + v]!;
    const q = x * inv;
    Q[row + v] = q;
    if (x !== min) {
      if (exceptions < 4) EXCEPTIONS[i * 5 + exceptions] = v;
      exceptions++;
      excess += q - min * inv;
    }
  }
  GENERAL[i] = exceptions > 4 ? 1 : 0;
  if (exceptions <= 4) EXCEPTIONS[i * 5 + exceptions] = -1;
  else topThree(i);
  const q0 = min * inv;
  ROW_BASE[i] = q0;
  const own = Q[row + c]!;
  OWN[i] = own;
  D[i] = own * gw[(window << 5) | c]!;
  return q0 * sums[31]! + excess * weights.ktPow[5]!;
}

/** D_i of the row prepareRow last prepared at position i. */
export function preparedOwnWeight(i: number): number {
  return D[i]!;
}

/**
 * A bound on the odds of every rotation of a gear read other than `rotation` together, from
 * the read's sync fit at every rotation and the products over rows of D_i and of prepareRow's
 * results: each rotation's odds are at most its sync factor times 31^-8 · Π maxT_i / Π D_i.
 */
export function otherRotationsBound(
  syncMatch: Int8Array,
  rotation: number,
  weights: Weights,
  prodD: number,
  prodMaxT: number,
): number {
  const kt = weights.ktSigned;
  const offset = 8 - syncMatch[rotation]!;
  const rotationBound = (INV_31_POW_8 * prodMaxT) / prodD;
  let syncSum = 0;
  for (let r = 0; r < 88; r++) if (r !== rotation) syncSum += kt[syncMatch[r]! + offset]!;
  return syncSum * rotationBound;
}

/** Fills TOP and FOURTH for row i of Q. */
function topThree(i: number): void {
  const row = i << 5;
  let a = -1;
  let b = -1;
  let c = -1;
  let qa = -1;
  let qb = -1;
  let qc = -1;
  let qd = 0;
  for (let v = 0; v < 32; v++) {
    const q = Q[row + v]!;
    if (q > qa) {
      qd = qc;
      c = b;
      qc = qb;
      b = a;
      qb = qa;
      a = v;
      qa = q;
    } else if (q > qb) {
      qd = qc;
      c = b;
      qc = qb;
      b = v;
      qb = q;
    } else if (q > qc) {
      qd = qc;
      c = v;
      qc = q;
    } else if (q > qd) {
      qd = q;
    }
  }
  TOP[i * 3] = a;
  TOP[i * 3 + 1] = b;
  TOP[i * 3 + 2] = c;
  FOURTH[i] = qd;
}

/** KT^d for a difference d of agreeing sync teeth (−8..8). */
function syncFactor(weights: Weights, d: number): number {
  return weights.ktSigned[d + 8]!;
}
