/**
 * The rules for each field of an order, shared by the JSON and the CSV intake so that both are
 * validated the same way (spec: erp-and-qa.md, Orders). Each check answers `undefined` when the
 * value is good, or a reason a person can act on: what is wrong with this value and what the rule
 * is. Reasons never start with the field's name; the caller knows where the value came from.
 */

import { normalizeTextForm, textRuleProblem } from '../text-rule.js';

export const LIMITS = {
  idLength: 64,
  /** make and model: long enough for "Smith & Wesson" / "M&P9 Shield Plus Performance Center". */
  textLength: 64,
  caliberLength: 32,
  destinationLength: 32,
  serialLength: 32,
  firearms: 100_000,
} as const;

export const TARGETS = ['firing-pin', 'breech-face'] as const;
export type Target = (typeof TARGETS)[number];
export const DEFAULT_TARGET: Target = 'firing-pin';

/** Printable ASCII, with no space at either end (where it would be invisible in every listing). */
export const ORDER_ID_PATTERN = /^(?! )[\x20-\x7E]{1,64}(?<! )$/;
export const SERIAL_PATTERN = /^[A-Z0-9-]{1,32}$/;
export const DESTINATION_PATTERN = /^[A-Z0-9-]{1,32}$/;

const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}]/u;

/** How a value is named in a reason: "a number", "null", "an array". */
export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return `${v}`;
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

/** A value quoted for a reason, cut short so that a huge value cannot flood a report. */
export function quote(s: string, max = 40): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return JSON.stringify(cut);
}

function describeChar(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  if (cp === 0x20) return `a space (${hex})`;
  if (CONTROL.test(c)) return `a control character (${hex})`;
  return `${JSON.stringify(c)} (${hex})`;
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Length in characters (code points), cheap when the UTF-16 length already fits. */
function tooLong(s: string, max: number): number | undefined {
  if (s.length <= max) return undefined;
  const n = codePoints(s);
  return n > max ? n : undefined;
}

function firstBad(s: string, ok: (c: string) => boolean): { char: string; position: number } | undefined {
  let position = 0;
  for (const char of s) {
    position++;
    if (!ok(char)) return { char, position };
  }
  return undefined;
}

function mustBeString(v: unknown): string | undefined {
  if (v === undefined) return 'is required';
  if (typeof v !== 'string') return `must be a string, not ${describeType(v)}`;
  return undefined;
}

export function orderIdProblem(v: unknown): string | undefined {
  const t = mustBeString(v);
  if (t) return t;
  const s = v as string;
  if (ORDER_ID_PATTERN.test(s)) return undefined;
  if (s.length === 0) return 'must not be empty';
  const n = tooLong(s, LIMITS.idLength);
  if (n) return `must be at most ${LIMITS.idLength} characters; this one has ${n}`;
  const bad = firstBad(s, (c) => c >= ' ' && c <= '~');
  if (bad) {
    return `contains ${describeChar(bad.char)} at position ${bad.position}; an order id is made of printable ASCII characters only`;
  }
  return 'must not begin or end with a space';
}

/**
 * Descriptive text (make, model, caliber): any language, trimmed, under the one text rule of
 * src/text-rule.ts (well-formed, no control or invisible formatting character, stored in NFC).
 */
function textProblem(v: unknown, max: number, required: boolean): string | undefined {
  if (v === undefined || v === null) return required ? 'is required' : undefined;
  if (typeof v !== 'string') return `must be a string, not ${describeType(v)}`;
  const s = v.trim();
  if (s.length === 0) return required ? 'must not be empty' : undefined;
  const bad = textRuleProblem(s);
  if (bad) return bad;
  const n = tooLong(normalizeTextForm(s), max);
  if (n) return `must be at most ${max} characters; this one has ${n}`;
  return undefined;
}

export const makeProblem = (v: unknown) => textProblem(v, LIMITS.textLength, true);
export const modelProblem = (v: unknown) => textProblem(v, LIMITS.textLength, true);
export const caliberProblem = (v: unknown) => textProblem(v, LIMITS.caliberLength, false);

export function normalizeText(v: string): string {
  return normalizeTextForm(v.trim());
}

/** An optional text field: absent, null, or blank all mean "none". */
export function normalizeOptionalText(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  return s.length === 0 ? undefined : normalizeTextForm(s);
}

export function targetProblem(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') return `must be a string, not ${describeType(v)}`;
  if ((TARGETS as readonly string[]).includes(v)) return undefined;
  return `must be "firing-pin" or "breech-face", not ${quote(v)}`;
}

export function normalizeTarget(v: unknown): Target {
  return typeof v === 'string' && v !== '' ? (v as Target) : DEFAULT_TARGET;
}

/** Upper-case letters, digits and '-': the message says which rule a value breaks. */
function codeLikeProblem(s: string, max: number, what: string): string | undefined {
  if (s.length === 0) return 'must not be empty';
  const n = tooLong(s, max);
  if (n) return `must be at most ${max} characters; this one has ${n}`;
  if (/[a-z]/.test(s)) {
    return `has lower-case letters (${quote(s)}); ${what} is upper case only: A-Z, 0-9 and '-'`;
  }
  const bad = firstBad(s, (c) => (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '-');
  if (bad) {
    return `contains ${describeChar(bad.char)} at position ${bad.position}; ${what} is made only of A-Z, 0-9 and '-'`;
  }
  return undefined;
}

export function serialProblem(v: unknown): string | undefined {
  if (typeof v === 'string' && SERIAL_PATTERN.test(v)) return undefined;
  const t = mustBeString(v);
  if (t) return t;
  return codeLikeProblem(v as string, LIMITS.serialLength, 'a serial');
}

/** A dealer licence number, written with '-' where the licence shows spaces or slashes. */
export function destinationProblem(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') return `must be a string, not ${describeType(v)}`;
  if (DESTINATION_PATTERN.test(v)) return undefined;
  return codeLikeProblem(v, LIMITS.destinationLength, 'a licence number');
}

export function normalizeDestination(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function reworkProblem(v: unknown): string | undefined {
  if (v === undefined || v === null || typeof v === 'boolean') return undefined;
  return `must be true or false, not ${describeType(v)}`;
}
