/** What decoding reports (spec §6): the result's shape, and how a decoded codeword becomes one. */
import { symbolsToGear, symbolsToText, unpackIndex, unpackIssuer } from './codeword.js';
import { type Grade, gradeFromUec, uecOf } from './grade.js';
import type { KeyContext } from './key.js';
import { N } from './rs.js';

/**
 * The largest estimated probability of a miscorrection that still counts as an identification.
 * Summed over the confident decodes of a million trials, it bounds the wrong identifications
 * the read model expects at 0.1, and the default read model expects twice the misreads of the
 * published test fires. See docs/codes.md for how it was chosen.
 */
export const MAX_MISCORRECTION_RISK = 1e-7;

export interface DecodeSuccess {
  ok: true;
  issuer: number;
  index: number;
  /** c0..c9, ungrouped */
  text: string;
  codeword: number[];
  gear: string;
  errors: number;
  erasures: number;
  uec: number;
  grade: Grade;
  confident: boolean;
  /** estimated probability that another code explains the reads at least as well */
  miscorrectionRisk: number;
  /** for each read, the tooth of its gear read where the sync starts, or null */
  gearRotations: Array<number | null>;
  warning?: string;
  /** with an issued set (spec §6a): the issued codes that explain the reads, best first */
  candidates?: Candidate[];
}

/** An issued code that explains the reads (spec §6a). */
export interface Candidate {
  /** c0..c9, ungrouped */
  text: string;
  issuer: number;
  /** the index, when the key given is this issuer's */
  index?: number;
  /** its evidence weight over the best candidate's (1 for the best) */
  weightRatio: number;
}

export interface DecodeFailure {
  ok: false;
  error: string;
  uec: 0;
  grade: 'F';
  confident: false;
  /** with an issued set: the issued codes that explain the reads (none, or none well enough) */
  candidates?: Candidate[];
}

export type DecodeResult = DecodeSuccess | DecodeFailure;

export interface Outcome {
  result: DecodeResult;
  /** rotation of each gear observation, -1 when none; valid until the next decode */
  rotations: ArrayLike<number>;
}

export function failure(error: string): DecodeFailure {
  return { ok: false, error, uec: 0, grade: 'F', confident: false };
}

export function success(
  c: Uint8Array,
  errors: number,
  erasures: number,
  risk: number,
  ctx: KeyContext,
): DecodeSuccess {
  const uec = uecOf(errors, erasures);
  const confident = uec > 0 && risk <= MAX_MISCORRECTION_RISK;
  const result = decodedCode(c, errors, erasures, risk, ctx, confident);
  if (uec === 0) {
    result.warning =
      'all of the code’s correction power was used (UEC = 0): this is a candidate, not an identification, because a miscorrection is possible';
  } else if (!confident) {
    result.warning = `the reads do not single this code out (estimated miscorrection risk ${formatRisk(risk)}): this is a candidate, not an identification`;
  }
  return result;
}

/**
 * The answer for codeword `c`, without a warning: what the plain decode (§6) and the
 * identification against issued codes (§6a) both answer, each with its own rule of confidence.
 */
export function decodedCode(
  c: ArrayLike<number>,
  errors: number,
  erasures: number,
  risk: number,
  ctx: KeyContext,
  confident: boolean,
): DecodeSuccess {
  const uec = uecOf(errors, erasures);
  const symbols = new Array<number>(N);
  for (let j = 0; j < N; j++) symbols[j] = c[j]!;
  return {
    ok: true,
    issuer: unpackIssuer(symbols),
    index: unpackIndex(symbols, ctx),
    text: symbolsToText(symbols),
    codeword: symbols,
    gear: symbolsToGear(symbols),
    errors,
    erasures,
    uec,
    grade: gradeFromUec(uec),
    confident,
    miscorrectionRisk: Math.min(1, risk),
    gearRotations: [],
  };
}

export function formatRisk(risk: number): string {
  return risk >= 1 ? '≥ 1' : risk.toExponential(1);
}
