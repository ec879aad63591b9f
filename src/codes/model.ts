/**
 * The read model the decoder weighs evidence with: how often a legible character is misread
 * and how often a legible tooth is read flipped. A misread character is taken to be any of the
 * other 31 symbols with equal probability.
 *
 * Evidence is kept as likelihood ratios, not probabilities: a legible character multiplies its
 * symbol's weight by KC = (1 − ε)·31/ε against every other value, a legible tooth multiplies
 * the weight of every value whose bit agrees by KT = (1 − ε)/ε. Illegible characters and teeth
 * multiply nothing, because whether a mark is legible does not depend on which code it carries.
 */
import { StamplineError } from '../errors.js';

export interface ReadModel {
  /** probability that a legible character is read as another character */
  readonly charMisread: number;
  /** probability that a legible tooth is read as a gap or a gap as a tooth */
  readonly toothFlip: number;
}

/**
 * The defaults are about twice the rates of the published test fires (2.4 % of characters
 * misread out of 95 % legible; 3 % of teeth flipped out of 83 % legible): a model that expects
 * more misreads than the line sees trades a few identifications for safety against stamps
 * worse than the published ones.
 */
export const DEFAULT_READ_MODEL: ReadModel = { charMisread: 0.05, toothFlip: 0.05 };

export class Weights {
  readonly kc: number;
  readonly kt: number;
  readonly logKc: number;
  readonly logKt: number;
  /** KT^m for m = 0..8 */
  readonly ktPow: Float64Array;
  /** KT^d for d = −8..8, at index d + 8 */
  readonly ktSigned: Float64Array;
  /** weight of value v given a 5-bit window: GEAR_WEIGHT[(mask << 5 | bits) << 5 | v] */
  readonly gearWeight: Float64Array;
  /** sum over v of the window weight, by mask: (1 + KT)^legible · 2^(5 − legible) */
  readonly gearWeightSum: Float64Array;

  constructor(readonly model: ReadModel) {
    this.kc = ((1 - model.charMisread) * 31) / model.charMisread;
    this.kt = (1 - model.toothFlip) / model.toothFlip;
    this.logKc = Math.log(this.kc);
    this.logKt = Math.log(this.kt);
    this.ktPow = Float64Array.from({ length: 9 }, (_, m) => this.kt ** m);
    this.ktSigned = Float64Array.from({ length: 17 }, (_, d) => this.kt ** (d - 8));
    this.gearWeight = new Float64Array(32 * 32 * 32);
    this.gearWeightSum = new Float64Array(32);
    for (let mask = 0; mask < 32; mask++) {
      const legible = popcount5(mask);
      this.gearWeightSum[mask] = (1 + this.kt) ** legible * 2 ** (5 - legible);
      for (let bits = 0; bits < 32; bits++) {
        if ((bits & ~mask) !== 0) continue;
        for (let v = 0; v < 32; v++) {
          this.gearWeight[(((mask << 5) | bits) << 5) | v] = this.ktPow[popcount5(~(v ^ bits) & mask)]!;
        }
      }
    }
  }
}

export function popcount5(x: number): number {
  x &= 31;
  return (x & 1) + ((x >> 1) & 1) + ((x >> 2) & 1) + ((x >> 3) & 1) + ((x >> 4) & 1);
}

function checkProbability(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value >= 0.5) {
    throw new StamplineError(
      'INVALID_INPUT',
      `${name} must be a probability above 0 and below 0.5, got ${value}`,
      {
        [name]: value,
      },
    );
  }
  return value;
}

let cached: Weights | undefined;

/** The weights of a read model, validated; the last one is cached. */
export function weightsFor(model: Partial<ReadModel> = {}): Weights {
  const charMisread = checkProbability('charMisread', model.charMisread ?? DEFAULT_READ_MODEL.charMisread);
  const toothFlip = checkProbability('toothFlip', model.toothFlip ?? DEFAULT_READ_MODEL.toothFlip);
  if (cached && cached.model.charMisread === charMisread && cached.model.toothFlip === toothFlip)
    return cached;
  cached = new Weights({ charMisread, toothFlip });
  return cached;
}
