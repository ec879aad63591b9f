/**
 * A soft read: what a camera reader saw of one case, with how sure it is of each mark.
 *   - `chars[n][v]`: the probability that character n (c0..c9) is the symbol of value v;
 *   - `teeth[k]`: the probability that tooth k, counted from the start of the sync, is a tooth;
 *   - `rotation`: where the ring's sync was found in the image (degrees), for the record.
 *
 * The decoder weighs the soft read itself, tempered to its read model (`soft-evidence.ts`).
 * The hard read (`text`, `gear` with `?` where unsure) is derived from it for display and for
 * the read log: a character or tooth is shown only when its probability reaches the thresholds
 * below, and is `?` otherwise, as a person's illegible mark is.
 */
import { StamplineError } from '../errors.js';
import { ALPHABET } from './alphabet.js';
import { GEAR_LENGTH, TEXT_LENGTH } from './codeword.js';
import type { Read } from './reads.js';

export interface SoftRead {
  chars: number[][];
  teeth: number[];
  rotation?: number;
}

/** A character is read when its most likely symbol has at least this probability. */
export const CHAR_COMMIT = 0.97;
/** A tooth is read as a tooth (a gap) when its probability is at least (at most 1 −) this. */
export const TOOTH_COMMIT = 0.97;

/** Checks a soft read's shape and values; `read` (from 1) names it in errors. */
export function checkSoftRead(soft: unknown, read: number): SoftRead {
  const which = `read ${read}`;
  const fail = (msg: string) => new StamplineError('CODE_BAD_READ', `${which}: ${msg}`, { read: which });
  if (typeof soft !== 'object' || soft === null)
    throw fail('the soft read must be an object with chars and teeth');
  const { chars, teeth } = soft as SoftRead;
  if (!Array.isArray(chars) || chars.length !== TEXT_LENGTH) {
    throw fail(`the soft read needs chars: ${TEXT_LENGTH} lists of 32 probabilities`);
  }
  for (const [n, row] of chars.entries()) {
    if (
      !Array.isArray(row) ||
      row.length !== 32 ||
      row.some((p) => typeof p !== 'number' || !(p >= 0 && p <= 1))
    ) {
      throw fail(`character ${n + 1} of the soft read must be 32 probabilities 0..1`);
    }
  }
  if (
    !Array.isArray(teeth) ||
    teeth.length !== GEAR_LENGTH ||
    teeth.some((p) => typeof p !== 'number' || !(p >= 0 && p <= 1))
  ) {
    throw fail(`the soft read needs teeth: ${GEAR_LENGTH} probabilities 0..1`);
  }
  return soft as SoftRead;
}

/** The hard text: each character's most likely symbol where it is sure enough, else `?`. */
export function hardText(soft: SoftRead, commit = CHAR_COMMIT): string {
  return soft.chars
    .map((row) => {
      const total = row.reduce((a, b) => a + b, 0);
      let best = 0;
      for (let v = 1; v < 32; v++) if (row[v]! > row[best]!) best = v;
      return total > 0 && row[best]! / total >= commit ? ALPHABET[best]! : '?';
    })
    .join('');
}

/** The hard gear, from the sync on: `1`, `0`, or `?` where the reader is unsure. */
export function hardGear(soft: SoftRead, commit = TOOTH_COMMIT): string {
  return soft.teeth.map((p) => (p >= commit ? '1' : p <= 1 - commit ? '0' : '?')).join('');
}

/** The hard read shown and logged for a soft one; null parts where nothing was sure. */
export function hardRead(soft: SoftRead): Read {
  const text = hardText(soft);
  const gear = hardGear(soft);
  return { text: /[^?]/.test(text) ? text : null, gear: /[01]/.test(gear) ? gear : null };
}
