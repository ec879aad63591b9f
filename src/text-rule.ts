/**
 * The one rule for free text from any source (the API, a CSV file in the drop folder, the QA
 * station): make, model, caliber, an ammunition brand, a station's name, a reason. Such text ends
 * up in registry records that strict JSON parsers read, in reports and on certificates, so it must
 * be well-formed Unicode, mean what it shows, and be stored in one form:
 *
 * - no lone UTF-16 surrogate (JSON that `jq` and strict parsers refuse);
 * - no control character (C0, DEL, C1; tab and newline included), no line or paragraph separator;
 * - no invisible formatting character (Unicode category Cf): bidirectional embeddings, overrides
 *   and isolates (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C), zero-width characters
 *   (U+200B..U+200D, U+2060), the byte-order mark U+FEFF, the soft hyphen U+00AD and the like;
 * - no private-use character and no noncharacter (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF);
 * - no U+FFFD, the mark a decoder leaves for bytes that were not valid UTF-8;
 * - and it is stored in Unicode Normalization Form C, so that the same text is the same string.
 *
 * Text that breaks the rule is refused, naming the character and its position; nothing is
 * silently removed, because what a person typed is evidence.
 */

import { z } from 'zod';

const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}\p{Noncharacter_Code_Point}\uFFFD]/u;

/** What the rule says, for documents and schema descriptions. */
export const TEXT_RULE =
  'well-formed Unicode, stored in NFC; no control, formatting (bidirectional, zero-width, BOM), private-use or replacement character';

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function nameOf(cp: number, ch: string): string {
  if (cp >= 0xd800 && cp <= 0xdfff) return 'a lone surrogate, which is not Unicode text';
  if (cp === 0xfffd)
    return 'the replacement character, the mark of bytes that were not valid UTF-8 (save the file as UTF-8)';
  if (/[\p{Cc}\p{Zl}\p{Zp}]/u.test(ch)) return 'a control character';
  if (
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0x200e ||
    cp === 0x200f ||
    cp === 0x061c
  )
    return 'a bidirectional control, which changes how the text around it is shown';
  if (cp === 0xfeff) return 'a byte-order mark';
  if (/\p{Cf}/u.test(ch)) return 'an invisible formatting character';
  if (/\p{Co}/u.test(ch)) return 'a private-use character';
  return 'a noncharacter';
}

/** Why `s` breaks the rule, or undefined when it keeps it. */
export function textRuleProblem(s: string): string | undefined {
  if (!FORBIDDEN.test(s)) return undefined;
  let position = 0;
  for (const ch of s) {
    position++;
    if (FORBIDDEN.test(ch)) {
      const cp = ch.codePointAt(0)!;
      return `contains ${nameOf(cp, ch)} (${hex(cp)}) at position ${position}`;
    }
  }
  return undefined;
}

/** The stored form of text that keeps the rule. */
export function normalizeTextForm(s: string): string {
  return s.normalize('NFC');
}

/**
 * `schema` (a zod string, trimmed or bounded as its field needs) under the rule: refused naming
 * the character, then put in NFC. The API's schemas all take their free text through this.
 */
export function ruledText(schema: z.ZodString = z.string()): z.ZodString {
  return schema
    .superRefine((s, ctx) => {
      const problem = textRuleProblem(s);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .overwrite(normalizeTextForm);
}
