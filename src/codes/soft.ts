/**
 * Decoding from per-symbol evidence: `w[i * 32 + v]` is the weight (a likelihood ratio) of
 * value v at position i, fused from every read.
 *
 * The hard decision at each position is its heaviest value; a position whose heaviest value
 * is tied (no evidence, or evidence that does not single out one value) is an erasure. The
 * algebraic decoder runs on that word first. In a thorough decode, when it fails, or corrects
 * errors short of the limit, further trials follow, each a plain errors-and-erasures decode:
 *   - GMD: also erase the least reliable positions, one reliability level at a time
 *     (positions of equal reliability are erased together, so the outcome never depends on
 *     the order of equally trusted symbols);
 *   - Chase: swap up to three of the least reliable positions to their runner-up value, where
 *     some read supports that value;
 *   - pins: set the 1-3 most constrained erased positions (say, a gear symbol with one
 *     illegible tooth: two values tie) to each combination of their tied values.
 * Every distinct codeword found is a candidate with its weight; the caller ranks them.
 *
 * The trials are only a search. A candidate's errors and erasures are always counted against
 * the evidence (`account`), whatever trial found it, so a codeword with 2e + f ≤ 8 is unique
 * at a given alignment of the reads, as spec §3 promises.
 */
import { computeParity, decodeErrata, K, N, PARITY } from './rs.js';

export const MAX_CANDIDATES = 16;
const TIE = 1 + 1e-9;
const MAX_PIN_TRIALS = 64;
/** erased positions with more tied values than this constrain too little to pin */
const MAX_TIES = 8;

export class CandidateList {
  count = 0;
  readonly symbols: Uint8Array[] = Array.from({ length: MAX_CANDIDATES }, () => new Uint8Array(N));
  readonly errors = new Int8Array(MAX_CANDIDATES);
  readonly erasures = new Int8Array(MAX_CANDIDATES);
  /** sum over positions of log w[i][c_i] under the evidence the list was built from */
  readonly logWeight = new Float64Array(MAX_CANDIDATES);

  clear(): void {
    this.count = 0;
  }

  find(word: ArrayLike<number>): number {
    outer: for (let k = 0; k < this.count; k++) {
      const s = this.symbols[k]!;
      for (let j = 0; j < N; j++) if (s[j] !== word[j]) continue outer;
      return k;
    }
    return -1;
  }

  /** Index of the heaviest candidate, or -1. */
  best(): number {
    let best = -1;
    for (let k = 0; k < this.count; k++) {
      if (best < 0 || this.logWeight[k]! > this.logWeight[best]!) best = k;
    }
    return best;
  }
}

/** Scratch state of one decoder; one per thread is enough (decoding is synchronous). */
export class SoftDecoder {
  readonly hard = new Uint8Array(N);
  readonly erased = new Uint8Array(N);
  /** heaviest / runner-up weight at each position (1 = tie) */
  readonly reliability = new Float64Array(N);
  /** weight of the heaviest value at each position */
  readonly rowMax = new Float64Array(N);
  baseErasures = 0;

  private readonly word = new Uint8Array(N);
  private readonly trialErased = new Uint8Array(N);
  private readonly out = new Uint8Array(N);
  private readonly order = new Uint8Array(N);
  private readonly ties = new Uint8Array(N);

  /**
   * Fills `list` with the candidates the evidence `w` leads to. A quick decode (for trying
   * out alignments) stops after the plain decode; a thorough one runs every trial.
   */
  decode(w: Float64Array, list: CandidateList, touched = 0xffff, thorough = true): void {
    list.clear();
    this.decide(w, touched);
    const f0 = this.baseErasures;
    if (f0 <= PARITY) {
      let e: number;
      if (this.cleanData()) {
        this.record(w, list, this.out);
        e = 0;
      } else {
        e = this.trial(w, list, this.hard, this.erased);
      }
      if (!thorough) return;
      if (e >= 0) {
        // A codeword that agrees with every decisive symbol and with the partial evidence of
        // every erased one leaves nothing to weigh; one at the limit (2e + f = 8) can never
        // be confident, so rivals would change nothing.
        const weight = 2 * list.errors[0]! + list.erasures[0]!;
        if ((e === 0 && list.errors[0] === 0) || weight === PARITY) return;
      }
      this.gmd(w, list);
      this.chase(w, list);
    } else if (!thorough) {
      return;
    }
    this.pin(w, list);
  }

  /** Hard decisions and reliabilities; rows outside `touched` are known to hold no evidence. */
  decide(w: Float64Array, touched = 0xffff): void {
    let f = 0;
    for (let i = 0; i < N; i++) {
      const row = i << 5;
      if (!(touched & (1 << i))) {
        this.hard[i] = 0;
        this.rowMax[i] = w[row]!;
        this.erased[i] = 1;
        this.reliability[i] = 1;
        f++;
        continue;
      }
      let best = 0;
      let bestW = w[row]!;
      let secondW = 0;
      for (let v = 1; v < 32; v++) {
        const x = w[row + v]!;
        if (x > secondW) {
          if (x > bestW) {
            secondW = bestW;
            bestW = x;
            best = v;
          } else {
            secondW = x;
          }
        }
      }
      this.hard[i] = best;
      this.rowMax[i] = bestW;
      const rel = bestW / secondW;
      if (rel <= TIE) {
        this.erased[i] = 1;
        this.reliability[i] = 1;
        f++;
      } else {
        this.erased[i] = 0;
        this.reliability[i] = rel;
      }
    }
    this.baseErasures = f;
  }

  /** The unique runner-up value at a decisive position, if some read supports it; else -1. */
  private runnerUp(w: Float64Array, i: number): number {
    const row = i << 5;
    const best = this.hard[i]!;
    let second = -1;
    let secondW = 0;
    let thirdW = 0;
    let minW = w[row]!;
    for (let v = 0; v < 32; v++) {
      const x = w[row + v]!;
      if (x < minW) minW = x;
      if (v === best) continue;
      if (x > secondW) {
        thirdW = secondW;
        secondW = x;
        second = v;
      } else if (x > thirdW) {
        thirdW = x;
      }
    }
    return secondW > thirdW * TIE && secondW > minW * TIE ? second : -1;
  }

  /** How many values tie for the heaviest at an erased position. */
  private tieCount(w: Float64Array, i: number): number {
    const row = i << 5;
    const top = this.rowMax[i]!;
    let ties = 0;
    for (let v = 0; v < 32; v++) if (w[row + v]! * TIE >= top) ties++;
    return ties;
  }

  /**
   * Errors and erasures of codeword `c` against the evidence last decided: a position where
   * `c` takes a value the evidence ranks below another is an error; a position without one
   * best-supported value, where `c` takes one of the best-supported values, is an erasure
   * filled. Returns 2e + f and sets `lastErrors` and `lastErasures`.
   */
  account(w: Float64Array, c: ArrayLike<number>): number {
    let e = 0;
    let f = 0;
    for (let i = 0; i < N; i++) {
      if (w[(i << 5) | c[i]!]! * TIE < this.rowMax[i]!) e++;
      else if (this.erased[i]) f++;
    }
    this.lastErrors = e;
    this.lastErasures = f;
    return 2 * e + f;
  }

  lastErrors = 0;
  lastErasures = 0;

  /**
   * The errors and erasures to report for codeword `c` against the evidence last decided, as
   * the algebraic decoder sees them: a position without one best-supported value is an
   * erasure filled (whichever value fills it), a decisive position where `c` differs is an
   * error corrected. Of the GMD levels, where level k also sets aside the k least reliable
   * groups of decisive positions as erasures, the one with the least 2e + f is reported: a
   * symbol known only from weak evidence (one gear read, say) that turns out wrong is then an
   * erasure filled, as a reader that flags its doubtful symbols would report it. Positions of
   * equal reliability are set aside together, so equally trusted symbols are never told apart.
   * Sets `lastErrors` and `lastErasures`.
   */
  accountReported(c: ArrayLike<number>): void {
    let e = 0;
    let f = 0;
    for (let i = 0; i < N; i++) {
      if (this.erased[i]) f++;
      else if (c[i] !== this.hard[i]) e++;
    }
    let bestE = e;
    let bestF = f;
    if (e > 0) {
      const n = this.sortByReliability();
      let k = 0;
      while (k < n) {
        const level = this.reliability[this.order[k]!]!;
        let end = k;
        while (end < n && this.reliability[this.order[end]!]! <= level * TIE) end++;
        for (let m = k; m < end; m++) {
          if (c[this.order[m]!] !== this.hard[this.order[m]!]) e--;
          f++;
        }
        if (f > PARITY) break;
        if (2 * e + f < 2 * bestE + bestF) {
          bestE = e;
          bestF = f;
        }
        k = end;
      }
    }
    this.lastErrors = bestE;
    this.lastErasures = bestF;
  }

  /** One errors-and-erasures decode; records its codeword. Returns the errors, or -1. */
  private trial(w: Float64Array, list: CandidateList, word: Uint8Array, erased: Uint8Array): number {
    const e = decodeErrata(word, erased, this.out);
    if (e >= 0) this.record(w, list, this.out);
    return e;
  }

  /** Adds a codeword found elsewhere to the list, weighed against the evidence last decided. */
  consider(w: Float64Array, list: CandidateList, codeword: Uint8Array): void {
    this.record(w, list, codeword);
  }

  private record(w: Float64Array, list: CandidateList, codeword: Uint8Array): void {
    if (list.find(codeword) >= 0 || list.count === MAX_CANDIDATES) return;
    const k = list.count++;
    list.symbols[k]!.set(codeword);
    // two rows at a time: rows stay within e^±300, so a product of two cannot leave the range
    let lw = 0;
    for (let j = 0; j < N; j += 2)
      lw += Math.log(w[(j << 5) | codeword[j]!]! * w[((j + 1) << 5) | codeword[j + 1]!]!);
    list.logWeight[k] = lw;
    this.account(w, codeword);
    list.errors[k] = this.lastErrors;
    list.erasures[k] = this.lastErasures;
  }

  /**
   * The common case of a good read: every data symbol decisive, and the parity they imply
   * agrees with every decisive parity symbol. Then that codeword has no errors and at most 8
   * erasures, so it is the decode, with no algebra needed.
   */
  private cleanData(): boolean {
    for (let j = 0; j < K; j++) if (this.erased[j]) return false;
    computeParity(this.hard, this.out);
    for (let j = 0; j < K; j++) this.out[j] = this.hard[j]!;
    for (let j = K; j < N; j++) if (!this.erased[j] && this.out[j] !== this.hard[j]) return false;
    return true;
  }

  /** Decisive positions from least to most reliable; returns how many. */
  private sortByReliability(): number {
    let n = 0;
    for (let i = 0; i < N; i++) {
      if (this.erased[i]) continue;
      let k = n++;
      while (k > 0 && this.reliability[this.order[k - 1]!]! > this.reliability[i]!) {
        this.order[k] = this.order[k - 1]!;
        k--;
      }
      this.order[k] = i;
    }
    return n;
  }

  private gmd(w: Float64Array, list: CandidateList): void {
    const n = this.sortByReliability();
    this.trialErased.set(this.erased);
    let f = this.baseErasures;
    let k = 0;
    while (k < n) {
      // the whole group of positions as reliable as order[k]
      const level = this.reliability[this.order[k]!]!;
      let end = k;
      while (end < n && this.reliability[this.order[end]!]! <= level * TIE) end++;
      f += end - k;
      if (f > PARITY) return;
      for (let m = k; m < end; m++) this.trialErased[this.order[m]!] = 1;
      this.trial(w, list, this.hard, this.trialErased);
      k = end;
    }
  }

  private chase(w: Float64Array, list: CandidateList): void {
    const n = this.sortByReliability();
    const swappable: number[] = [];
    const swapValue: number[] = [];
    for (let k = 0; k < n && swappable.length < 3; k++) {
      const i = this.order[k]!;
      const v = this.runnerUp(w, i);
      if (v >= 0) {
        swappable.push(i);
        swapValue.push(v);
      }
    }
    const combos = 1 << swappable.length;
    for (let mask = 1; mask < combos; mask++) {
      this.word.set(this.hard);
      for (let b = 0; b < swappable.length; b++) {
        if (mask & (1 << b)) {
          this.word[swappable[b]!] = swapValue[b]!;
        }
      }
      this.trial(w, list, this.word, this.erased);
    }
  }

  /**
   * Pins the 1, 2 or 3 most constrained erased positions to each combination of their tied
   * values: one combination is right, and each right pin removes an erasure. With more than 8
   * erasures, at least the excess must be pinned.
   */
  private pin(w: Float64Array, list: CandidateList): void {
    const f0 = this.baseErasures;
    const pins: number[] = [];
    const ties = this.ties;
    for (let i = 0; i < N; i++) {
      if (!this.erased[i]) continue;
      ties[i] = this.tieCount(w, i);
      if (ties[i]! > MAX_TIES) continue;
      let k = pins.length;
      pins.push(i);
      while (k > 0 && ties[pins[k - 1]!]! > ties[i]!) {
        pins[k] = pins[k - 1]!;
        k--;
      }
      pins[k] = i;
    }
    for (let need = Math.max(1, f0 - PARITY); need <= Math.min(3, pins.length); need++) {
      const chosen = pins.slice(0, need);
      const choices = chosen.map((i) => {
        const row = i << 5;
        const top = w[row + this.hard[i]!]!;
        const values: number[] = [];
        for (let v = 0; v < 32; v++) if (w[row + v]! * TIE >= top) values.push(v);
        return values;
      });
      let total = 1;
      for (const c of choices) total *= c.length;
      if (total > MAX_PIN_TRIALS) return;
      this.trialErased.set(this.erased);
      for (const i of chosen) this.trialErased[i] = 0;
      this.word.set(this.hard);
      for (let t = 0; t < total; t++) {
        let rest = t;
        for (let p = 0; p < chosen.length; p++) {
          const c = choices[p]!;
          this.word[chosen[p]!] = c[rest % c.length]!;
          rest = Math.floor(rest / c.length);
        }
        this.trial(w, list, this.word, this.trialErased);
      }
    }
  }
}
