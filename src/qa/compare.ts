/**
 * A case read set beside the code the firearm carries, for a person deciding whether to void
 * it: which characters agree, which were not read, and how many teeth of the ring disagree.
 * The expected characters themselves are not part of it: the station hides the code from the
 * reader, who may look at the case again, and knowing the answer biases a reading.
 */
import { CHAR_VALUE } from '../codes/alphabet.js';
import { GEAR_LENGTH, TEXT_LENGTH } from '../codes/index.js';
import type { CaseMarks } from './decode.js';

/** One character of a text read against the expected one. */
export type CharAgreement = 'same' | 'differs' | 'illegible';

export interface ReadComparison {
  /** the read's 10 characters as the decoder sees them (`?` where illegible), or null without a text read */
  text: string | null;
  /** per position, null without a text read */
  chars: CharAgreement[] | null;
  /** characters read that agree with the code, and those that do not */
  charsSame: number;
  charsDiffering: number;
  /** legible teeth of the gear read, and those that disagree with the code at the rotation that fits it best; null without a ring */
  teethRead: number | null;
  teethDiffering: number | null;
}

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The symbols of a text read in code order: the alphabet's character, or `?`. */
function readSymbols(text: string): string {
  let out = '';
  for (const c of text) {
    if (c === '-' || c === ' ') continue;
    const cp = c.codePointAt(0)!;
    const v = cp < 128 ? CHAR_VALUE[cp]! : -1;
    out += v >= 0 ? ALPHABET[v] : '?';
  }
  return out.slice(0, TEXT_LENGTH).padEnd(TEXT_LENGTH, '?');
}

export function compareRead(marks: CaseMarks, expected: { text: string; gear: string }): ReadComparison {
  let text: string | null = null;
  let chars: CharAgreement[] | null = null;
  let charsSame = 0;
  let charsDiffering = 0;
  if (marks.text !== undefined && marks.text.trim() !== '') {
    text = readSymbols(marks.text);
    chars = [...text].map((c, i) => {
      if (c === '?') return 'illegible';
      if (c === expected.text[i]) {
        charsSame++;
        return 'same';
      }
      charsDiffering++;
      return 'differs';
    });
  }
  let teethRead: number | null = null;
  let teethDiffering: number | null = null;
  const gear = marks.gear?.trim() ?? '';
  if (gear.length === GEAR_LENGTH && expected.gear.length === GEAR_LENGTH) {
    teethRead = 0;
    for (const t of gear) if (t !== '?') teethRead++;
    // the ring is read from any tooth: the rotation where it agrees best is the one it was read at
    let best = GEAR_LENGTH;
    for (let r = 0; r < GEAR_LENGTH && best > 0; r++) {
      let differ = 0;
      for (let i = 0; i < GEAR_LENGTH && differ < best; i++) {
        const t = gear[i]!;
        if (t !== '?' && t !== expected.gear[(i + r) % GEAR_LENGTH]) differ++;
      }
      best = Math.min(best, differ);
    }
    teethDiffering = best;
  }
  return { text, chars, charsSame, charsDiffering, teethRead, teethDiffering };
}
