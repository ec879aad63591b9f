/**
 * Monte-Carlo of identification from test-fired cases: a random gun, five cases fired, each
 * read with the fire model's error rates; then for n = 1..5 the first n cases are decoded
 * together and the result is counted as a correct identification (confident and right), a
 * wrong one (confident and another code), or none.
 */
import { GEAR_LENGTH, packSymbols, TEXT_LENGTH } from '../codeword.js';
import { decodeObservations } from '../decode.js';
import { gearTeeth } from '../evidence.js';
import { identifyObservations } from '../identify.js';
import type { KeyContext } from '../key.js';
import type { Weights } from '../model.js';
import { GearObservation, type TextObservation } from '../reads.js';
import { RandomIssued } from './issued.js';
import type { FireModel } from './model.js';
import type { Random } from './random.js';

export const MAX_CASES = 5;

export interface Tally {
  trials: number;
  /** per number of cases 1..MAX_CASES (index n − 1) */
  correct: number[];
  wrong: number[];
  none: number[];
  /** sum of the estimated miscorrection risk of confident decodes: the wrong count the model expects */
  expectedWrong: number[];
}

export function emptyTally(): Tally {
  const zeros = () => new Array<number>(MAX_CASES).fill(0);
  return { trials: 0, correct: zeros(), wrong: zeros(), none: zeros(), expectedWrong: zeros() };
}

export function addTally(into: Tally, from: Tally): void {
  into.trials += from.trials;
  for (let n = 0; n < MAX_CASES; n++) {
    into.correct[n]! += from.correct[n]!;
    into.wrong[n]! += from.wrong[n]!;
    into.none[n]! += from.none[n]!;
    into.expectedWrong[n]! += from.expectedWrong[n]!;
  }
}

export function runTrials(
  model: FireModel,
  trials: number,
  rng: Random,
  ctx: KeyContext,
  weights: Weights,
  issued = 0,
): Tally {
  // with issued > 0, decode against a random issued set of that size (spec §6a)
  const oracle = issued > 0 ? new RandomIssued(issued, rng.next32()) : null;
  const worn = new Int8Array(TEXT_LENGTH);
  const tally = emptyTally();
  const symbols = new Uint8Array(16);
  const teeth = new Int8Array(GEAR_LENGTH);
  const read = new Int8Array(GEAR_LENGTH);
  const texts: TextObservation[] = [];
  const gears: GearObservation[] = [];
  const pool = Array.from({ length: MAX_CASES }, () => new GearObservation());
  for (let t = 0; t < trials; t++) {
    packSymbols(rng.below(4096), rng.below(1 << 28), symbols);
    gearTeeth(symbols, teeth);
    if (oracle) oracle.truth.set(symbols);
    // a worn pin: the same character positions illegible on every case
    worn.fill(0);
    for (let left = Math.min(model.wornPositions ?? 0, TEXT_LENGTH); left > 0; ) {
      const i = rng.below(TEXT_LENGTH);
      if (!worn[i]) {
        worn[i] = 1;
        left--;
      }
    }
    texts.length = 0;
    gears.length = 0;
    for (let n = 0; n < MAX_CASES; n++) {
      const text = new Int8Array(TEXT_LENGTH);
      let legible = 0;
      for (let i = 0; i < TEXT_LENGTH; i++) {
        const u = rng.next();
        if (worn[i]) text[i] = -1;
        else if (u < model.charCorrect) text[i] = symbols[i]!;
        else if (u < model.charCorrect + model.charIllegible) text[i] = -1;
        else text[i] = (symbols[i]! + 1 + rng.below(31)) & 31;
        if (text[i]! >= 0) legible++;
      }
      if (legible > 0) texts.push(text);
      if (rng.next() >= model.gearMissing) {
        const rotation = rng.below(GEAR_LENGTH);
        let seen = 0;
        for (let k = 0; k < GEAR_LENGTH; k++) {
          const u = rng.next();
          const tooth = teeth[(k + rotation) % GEAR_LENGTH]!;
          const v =
            u < model.toothCorrect ? tooth : u < model.toothCorrect + model.toothFlipped ? 1 - tooth : -1;
          read[k] = v;
          if (v >= 0) seen++;
        }
        if (seen > 0) gears.push(pool[gears.length]!.load(read));
      }
      const { result } = oracle
        ? identifyObservations(texts, gears, ctx, weights, oracle)
        : decodeObservations(texts, gears, ctx, weights);
      if (!result.confident) tally.none[n]!++;
      else {
        let same = true;
        for (let j = 0; j < 16; j++) if (result.codeword[j] !== symbols[j]) same = false;
        if (same) tally.correct[n]!++;
        else tally.wrong[n]!++;
        tally.expectedWrong[n]! += result.miscorrectionRisk;
      }
    }
    tally.trials++;
  }
  return tally;
}
