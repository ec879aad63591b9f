/**
 * List decoding beyond the unique radius, on the fused evidence `w[i * 32 + v]` (spec §6a).
 *
 * RS(16, 8) is MDS: any 8 positions determine a codeword, and the codeword is linear in the
 * values there. So the 8 most reliable positions J are taken as an information set, and the
 * codewords are enumerated through their values on J, best first: every assignment whose cost
 * on J (−log of its weight against each row's heaviest value) is at most L, for a growing L.
 * A codeword's cost is its cost on J plus its cost on the other 8 positions, which is never
 * negative, so the enumeration up to L holds every codeword of cost at most L: nothing heavier
 * than the best issued codeword found can be missed once L has passed its cost.
 *
 * The codewords not enumerated are accounted for by the uniform estimate: the weight of the
 * assignments on J left out is known exactly (the product of the row sums on J, less what was
 * enumerated), and their values on the other positions are taken as uniform, as an MDS code
 * spreads them. Each codeword is one incremental step of eight table look-ups, so tens of
 * thousands of candidates cost a few milliseconds.
 */
import { MUL } from './gf32.js';
import { decodeErrata, K, N } from './rs.js';

/** Enumeration stops after this many assignments; what is left is estimated. */
export const MAX_LEAVES = 40_000;
/** Issued codewords this much less likely than the best issued one (as −log) are not kept. */
export const KEEP_COST = 28;
const MAX_KEPT = 64;
/** Costs above this underflow as weights and can matter to nothing. */
const MAX_COST = 700;

export class ListDecoder {
  /** cost[i * 32 + v] = log(max weight of row i) − log(w[i * 32 + v]) ≥ 0 */
  readonly cost = new Float64Array(N * 32);
  /** the information set, most reliable first, and the other positions */
  readonly J = new Uint8Array(K);
  readonly R = new Uint8Array(N - K);
  /** per depth k, the values of row J[k] by increasing cost, and those costs */
  private readonly order = new Uint8Array(K * 32);
  private readonly orderCost = new Float64Array(K * 32);
  private readonly orderWeight = new Float64Array(K * 32);
  /** contrib[(k * 32 + a) * 8 + r]: value a at J[k] adds this to position R[r] */
  private readonly contrib = new Uint8Array(K * 32 * 8);
  /** the rest symbols after depth k: partial[k * 8 + r] */
  private readonly partial = new Uint8Array((K + 1) * 8);
  private readonly assign = new Uint8Array(K);
  private readonly word = new Uint8Array(N);
  private readonly erased = new Uint8Array(N);
  private readonly out = new Uint8Array(N);

  /** log of the product over J of (row sum / row max): the whole mass on J, as −cost */
  logTotalJ = 0;
  /** log of the product over the other rows of (row sum / row max) / 32 */
  logRestMean = 0;
  /** the least cost on J of an assignment the last run left out (the next level to run) */
  nextLimit = Number.POSITIVE_INFINITY;
  /** the least cost of any codeword enumerated in the last run */
  minCost = Number.POSITIVE_INFINITY;
  /** the sum over enumerated assignments of exp(−cost on J) */
  enumMass = 0;
  leaves = 0;
  /** the last run stopped at MAX_LEAVES */
  truncated = false;

  /** kept issued codewords, cheapest first after `run` */
  kept = 0;
  readonly keptSymbols: Uint8Array[] = Array.from({ length: MAX_KEPT }, () => new Uint8Array(N));
  readonly keptCost = new Float64Array(MAX_KEPT);
  /** Σ exp(−cost) over every issued codeword enumerated (kept or not) */
  issuedMass = 0;
  /** Σ exp(−cost) over enumerated codewords not listed as issued (see IssuedCodes.unlisted) */
  unlistedMass = 0;
  /** the least cost of an issued codeword enumerated */
  bestIssuedCost = Number.POSITIVE_INFINITY;

  private has: (c: Uint8Array) => boolean = () => false;
  private limit = 0;
  private keepCut = Number.POSITIVE_INFINITY;

  /** Prepares the costs, the information set and its basis for evidence `w`. */
  prepare(w: Float64Array): void {
    const cost = this.cost;
    const reliability = new Float64Array(N);
    let logRest = 0;
    for (let i = 0; i < N; i++) {
      const row = i << 5;
      let max = 0;
      for (let v = 0; v < 32; v++) if (w[row + v]! > max) max = w[row + v]!;
      const logMax = Math.log(max);
      let second = Number.POSITIVE_INFINITY;
      let best = -1;
      for (let v = 0; v < 32; v++) {
        const c = logMax - Math.log(w[row + v]!);
        cost[row + v] = Math.max(c, 0);
        if (c <= 0 && best < 0) best = v;
        else if (cost[row + v]! < second) second = cost[row + v]!;
      }
      reliability[i] = second;
    }
    // the 8 most reliable positions; equal reliability in position order
    const byReliability = Array.from({ length: N }, (_, i) => i).sort(
      (a, b) => reliability[b]! - reliability[a]! || a - b,
    );
    for (let k = 0; k < K; k++) this.J[k] = byReliability[k]!;
    const inJ = new Uint8Array(N);
    for (let k = 0; k < K; k++) inJ[this.J[k]!] = 1;
    let r = 0;
    for (let i = 0; i < N; i++) if (!inJ[i]) this.R[r++] = i;

    let logTotal = 0;
    for (let k = 0; k < K; k++) {
      const row = this.J[k]! << 5;
      const values = Array.from({ length: 32 }, (_, v) => v).sort(
        (a, b) => cost[row + a]! - cost[row + b]! || a - b,
      );
      let sum = 0;
      for (let n = 0; n < 32; n++) {
        this.order[k * 32 + n] = values[n]!;
        this.orderCost[k * 32 + n] = cost[row + values[n]!]!;
        this.orderWeight[k * 32 + n] = Math.exp(-cost[row + values[n]!]!);
        sum += Math.exp(-cost[row + values[n]!]!);
      }
      logTotal += Math.log(sum);
    }
    this.logTotalJ = logTotal;
    for (let m = 0; m < N - K; m++) {
      const row = this.R[m]! << 5;
      let sum = 0;
      for (let v = 0; v < 32; v++) sum += Math.exp(-cost[row + v]!);
      logRest += Math.log(sum / 32);
    }
    this.logRestMean = logRest;

    // basis: the codeword with 1 at J[k] and 0 at the rest of J
    this.erased.fill(1);
    for (let k = 0; k < K; k++) this.erased[this.J[k]!] = 0;
    for (let k = 0; k < K; k++) {
      this.word.fill(0);
      this.word[this.J[k]!] = 1;
      decodeErrata(this.word, this.erased, this.out);
      for (let a = 0; a < 32; a++) {
        for (let m = 0; m < N - K; m++)
          this.contrib[(k * 32 + a) * 8 + m] = MUL[(a << 5) | this.out[this.R[m]!]!]!;
      }
    }
  }

  /**
   * Enumerates every codeword whose cost on J is at most `limit`, keeping the issued ones.
   * Past MAX_LEAVES assignments the limit drops to `fallback` (the last limit that was
   * enumerated in full), so the enumeration stays complete up to that. Returns the cost up to
   * which it is complete.
   */
  run(limit: number, fallback: number, has: (c: Uint8Array) => boolean): number {
    this.limit = limit;
    this.fallback = fallback;
    this.has = has;
    this.minCost = Number.POSITIVE_INFINITY;
    this.nextLimit = Number.POSITIVE_INFINITY;
    this.enumMass = 0;
    this.leaves = 0;
    this.kept = 0;
    this.issuedMass = 0;
    this.unlistedMass = 0;
    this.bestIssuedCost = Number.POSITIVE_INFINITY;
    this.keepCut = Number.POSITIVE_INFINITY;
    this.partial.fill(0, 0, 8);
    this.truncated = false;
    this.descend(0, 0, 1);
    this.sortKept();
    return this.limit;
  }

  private fallback = 0;

  private descend(k: number, acc: number, weight: number): void {
    const base = k * 32;
    for (let n = 0; n < 32; n++) {
      const c = acc + this.orderCost[base + n]!;
      if (c > this.limit) {
        if (c < this.nextLimit) this.nextLimit = c;
        break;
      }
      const wc = weight * this.orderWeight[base + n]!;
      const a = this.order[base + n]!;
      this.assign[k] = a;
      const from = k * 8;
      const to = from + 8;
      const add = (base + a) * 8;
      for (let m = 0; m < 8; m++) this.partial[to + m] = this.partial[from + m]! ^ this.contrib[add + m]!;
      if (k + 1 < K) {
        this.descend(k + 1, c, wc);
      } else {
        if (++this.leaves > MAX_LEAVES && !this.truncated) {
          this.truncated = true;
          this.limit = this.fallback;
          if (c > this.limit) continue;
        }
        this.leaf(c, wc);
      }
    }
  }

  private leaf(costJ: number, weightJ: number): void {
    this.enumMass += weightJ;
    const rest = K * 8;
    let total = costJ;
    for (let m = 0; m < 8; m++) total += this.cost[(this.R[m]! << 5) | this.partial[rest + m]!]!;
    if (total < this.minCost) this.minCost = total;
    if (total > this.keepCut || total > MAX_COST) return;
    const word = this.word;
    for (let k = 0; k < K; k++) word[this.J[k]!] = this.assign[k]!;
    for (let m = 0; m < 8; m++) word[this.R[m]!] = this.partial[rest + m]!;
    if (!this.has(word)) {
      this.unlistedMass += Math.exp(-total);
      return;
    }
    this.issuedMass += Math.exp(-total);
    if (total < this.bestIssuedCost) {
      this.bestIssuedCost = total;
      this.keepCut = total + KEEP_COST;
    }
    this.keep(word, total);
  }

  private keep(word: Uint8Array, total: number): void {
    let slot = this.kept;
    if (slot === MAX_KEPT) {
      // replace the costliest kept
      let worst = 0;
      for (let j = 1; j < MAX_KEPT; j++) if (this.keptCost[j]! > this.keptCost[worst]!) worst = j;
      if (this.keptCost[worst]! <= total) return;
      slot = worst;
    } else {
      this.kept++;
    }
    this.keptSymbols[slot]!.set(word);
    this.keptCost[slot] = total;
  }

  private sortKept(): void {
    // insertion sort by cost (a handful of entries); drop those past the final cut
    for (let a = 1; a < this.kept; a++) {
      const c = this.keptCost[a]!;
      const s = this.keptSymbols[a]!;
      let b = a;
      while (b > 0 && this.keptCost[b - 1]! > c) {
        this.keptCost[b] = this.keptCost[b - 1]!;
        this.keptSymbols[b] = this.keptSymbols[b - 1]!;
        b--;
      }
      this.keptCost[b] = c;
      this.keptSymbols[b] = s;
    }
    while (this.kept > 0 && this.keptCost[this.kept - 1]! > this.keepCut) this.kept--;
  }

  /**
   * The uniform estimate of Σ W(c') / W(c) over the codewords not enumerated, for a codeword
   * c of cost `cost`: the mass on J left out, times the mean weight of the other rows.
   */
  tailOdds(cost: number): number {
    const total = Math.exp(this.logTotalJ);
    const left = total - this.enumMass;
    if (!(left > total * 1e-15)) return 0;
    return Math.exp(Math.log(left) + this.logRestMean + cost);
  }
}
