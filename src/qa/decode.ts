/**
 * Decoding case reads for QA: each read on its own (kept with the read), or several together
 * (the `pooled` policy), always against the code the firearm is known to carry.
 */
import { CHAR_VALUE } from '../codes/alphabet.js';
import { type DecodeResult, decodeReads, type Grade, type Read, TEXT_LENGTH } from '../codes/index.js';
import type { SoftRead } from '../codes/soft-read.js';
import { isStamplineError, StamplineError } from '../errors.js';
import type { ReadDecode } from './types.js';

export interface CaseMarks {
  text?: string | undefined;
  gear?: string | undefined;
  /** the image reader's likelihoods, for a read from a case image */
  soft?: SoftRead | undefined;
  /** for a read from an image: the parts a person changed of the reader's read */
  corrected?: { text?: unknown; gear?: unknown } | undefined;
}

/**
 * What the decoder weighs for one case. A read from an image is weighed by the reader's
 * likelihoods, not by its hard read (which drops every character and tooth under 97 %); a part a
 * person corrected is weighed as typed, and the other part still by the likelihoods.
 */
export function decoderRead(marks: CaseMarks): Read {
  if (!marks.soft) return { text: marks.text ?? null, gear: marks.gear ?? null };
  return {
    soft: marks.soft,
    text: marks.corrected?.text ? (marks.text ?? null) : null,
    gear: marks.corrected?.gear ? (marks.gear ?? null) : null,
  };
}

const GRADE_RANK: Record<Grade, number> = { A: 4, B: 3, C: 2, D: 1, F: 0 };

/** True when `grade` is `min` or better. */
export function gradeAtLeast(grade: Grade, min: Grade): boolean {
  return GRADE_RANK[grade] >= GRADE_RANK[min];
}

/** The worse of two grades. */
export function worseGrade(a: Grade, b: Grade): Grade {
  return GRADE_RANK[a] <= GRADE_RANK[b] ? a : b;
}

/** Characters of a text read that were not read as a symbol: `?`, others, and those not there. */
export function illegibleCharsOf(text: string | undefined): number {
  if (text === undefined) return TEXT_LENGTH;
  let legible = 0;
  for (const c of text) {
    if (c === '-' || c === ' ') continue;
    const cp = c.codePointAt(0)!;
    if (cp < 128 && CHAR_VALUE[cp]! >= 0) legible++;
  }
  return TEXT_LENGTH - Math.min(legible, TEXT_LENGTH);
}

/** `?` teeth of a gear read, or null when the ring was not read. */
export function illegibleTeethOf(gear: string | undefined): number | null {
  if (gear === undefined || gear.trim() === '') return null;
  let n = 0;
  for (const c of gear.trim()) if (c === '?') n++;
  return n;
}

function decodeOrFail(reads: CaseMarks[], key: Buffer): DecodeResult {
  try {
    return decodeReads(reads.map(decoderRead), key);
  } catch (err) {
    if (isStamplineError(err, 'CODE_BAD_READ'))
      throw new StamplineError('QA_INVALID_READ', err.message, { ...err.context });
    throw err;
  }
}

function describe(result: DecodeResult, expected: string, marks: CaseMarks | undefined): ReadDecode {
  const illegibleChars = marks ? illegibleCharsOf(marks.text) : 0;
  const illegibleTeeth = marks ? illegibleTeethOf(marks.gear) : null;
  if (!result.ok) {
    return {
      ok: false,
      matches: false,
      confident: false,
      errors: 0,
      erasures: 0,
      uec: 0,
      grade: 'F',
      illegibleChars,
      illegibleTeeth,
      error: result.error,
    };
  }
  return {
    ok: true,
    text: result.text,
    matches: result.confident && result.text === expected,
    confident: result.confident,
    errors: result.errors,
    erasures: result.erasures,
    uec: result.uec,
    grade: result.grade,
    illegibleChars,
    illegibleTeeth,
    ...(result.warning ? { error: result.warning } : {}),
  };
}

/** The decode of one case on its own, against the code `expected` (10 characters). */
export function decodeCase(marks: CaseMarks, expected: string, key: Buffer): ReadDecode {
  return describe(decodeOrFail([marks], key), expected, marks);
}

/**
 * The decode of several cases together (their evidence fused per symbol). The legibility
 * counts are not meaningful for a pool and are left at 0 and null.
 */
export function decodeCases(cases: readonly CaseMarks[], expected: string, key: Buffer): ReadDecode {
  if (cases.length === 0)
    return describe(
      { ok: false, error: 'no cases', uec: 0, grade: 'F', confident: false },
      expected,
      undefined,
    );
  return describe(decodeOrFail([...cases], key), expected, undefined);
}
