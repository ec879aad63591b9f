/**
 * A firearm's code: issuer and index packed into 8 data symbols, the RS(16, 8) codeword, and its
 * two renderings on the pin face, the 10-character text and the 88-tooth gear ring (spec §2-4).
 */
import { StamplineError } from '../errors.js';
import { ALPHABET } from './alphabet.js';
import { type KeyContext, keyContext } from './key.js';
import { INDEX_MAX, permuteIndex, unpermuteIndex } from './permutation.js';
import { computeParity, K, N } from './rs.js';

export const ISSUER_MAX = 4095;
export { INDEX_MAX };
export const TEXT_LENGTH = 10;
export const GEAR_LENGTH = 88;
export const SYNC = '11100100';
export const SYNC_BITS = 0b11100100;
export const SYNC_LENGTH = 8;

export interface Codeword {
  readonly issuer: number;
  readonly index: number;
  /** c0..c15 */
  readonly symbols: number[];
  /** c0..c9 in Crockford's alphabet, ungrouped */
  readonly text: string;
  /** sync `11100100` then c0..c15, 5 bits each, most significant first */
  readonly gear: string;
}

export function checkIssuer(issuer: unknown): number {
  if (typeof issuer !== 'number' || !Number.isInteger(issuer) || issuer < 0 || issuer > ISSUER_MAX) {
    throw new StamplineError(
      'CODE_BAD_ISSUER',
      `issuer must be an integer 0..${ISSUER_MAX}, got ${show(issuer)}`,
      {
        issuer,
      },
    );
  }
  return issuer;
}

export function checkIndex(index: unknown): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > INDEX_MAX) {
    throw new StamplineError(
      'CODE_BAD_INDEX',
      `index must be an integer 0..${INDEX_MAX}, got ${show(index)}`,
      {
        index,
      },
    );
  }
  return index;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Writes the 16 codeword symbols of (issuer, permuted index) into `out`. */
export function packSymbols(issuer: number, permuted: number, out: Uint8Array | number[]): void {
  // D = issuer << 28 | permuted is 40 bits: issuer fills the top 12, i.e. m0, m1 and 2 bits of m2.
  const hi = issuer; // bits 39..28
  out[0] = (hi >>> 7) & 31;
  out[1] = (hi >>> 2) & 31;
  out[2] = ((hi & 3) << 3) | ((permuted >>> 25) & 7);
  out[3] = (permuted >>> 20) & 31;
  out[4] = (permuted >>> 15) & 31;
  out[5] = (permuted >>> 10) & 31;
  out[6] = (permuted >>> 5) & 31;
  out[7] = permuted & 31;
  computeParity(out, out);
}

export function unpackIssuer(symbols: ArrayLike<number>): number {
  return (symbols[0]! << 7) | (symbols[1]! << 2) | (symbols[2]! >>> 3);
}

export function unpackPermuted(symbols: ArrayLike<number>): number {
  return (
    ((symbols[2]! & 7) << 25) |
    (symbols[3]! << 20) |
    (symbols[4]! << 15) |
    (symbols[5]! << 10) |
    (symbols[6]! << 5) |
    symbols[7]!
  );
}

export function unpackIndex(symbols: ArrayLike<number>, ctx: KeyContext): number {
  return unpermuteIndex(unpackPermuted(symbols), ctx);
}

const CHAR_CODE = Uint8Array.from(ALPHABET, (ch) => ch.charCodeAt(0));

export function symbolsToText(symbols: ArrayLike<number>): string {
  const c = CHAR_CODE;
  const s = symbols;
  return String.fromCharCode(
    c[s[0]!]!,
    c[s[1]!]!,
    c[s[2]!]!,
    c[s[3]!]!,
    c[s[4]!]!,
    c[s[5]!]!,
    c[s[6]!]!,
    c[s[7]!]!,
    c[s[8]!]!,
    c[s[9]!]!,
  );
}

/** The teeth of two symbols, 10 characters, by (first << 5) | second. */
const TEN_TEETH = Array.from({ length: 1024 }, (_, v) => v.toString(2).padStart(10, '0'));

export function symbolsToGear(symbols: ArrayLike<number>): string {
  let s = SYNC;
  for (let i = 0; i < N; i += 2) s += TEN_TEETH[(symbols[i]! << 5) | symbols[i + 1]!];
  return s;
}

/** The code of firearm `index` of `issuer` under the issuer's key. */
export function encode(issuer: number, index: number, key: Buffer | Uint8Array | string): Codeword {
  checkIssuer(issuer);
  checkIndex(index);
  const ctx = keyContext(key);
  const symbols = new Array<number>(N);
  packSymbols(issuer, permuteIndex(index, ctx), symbols);
  return { issuer, index, symbols, text: symbolsToText(symbols), gear: symbolsToGear(symbols) };
}

/** Builds the Codeword of 16 decoded symbols; the symbols must already be a codeword. */
export function codewordFromSymbols(symbols: ArrayLike<number>, ctx: KeyContext): Codeword {
  const list = Array.from({ length: N }, (_, i) => symbols[i]!);
  return {
    issuer: unpackIssuer(list),
    index: unpackIndex(list, ctx),
    symbols: list,
    text: symbolsToText(list),
    gear: symbolsToGear(list),
  };
}

/** The text as printed for people: `XXXXX-XXXXX`. Accepts the 10 characters with or without the dash. */
export function formatText(text: string): string {
  const bare = typeof text === 'string' ? text.replace(/-/g, '').toUpperCase() : '';
  if (bare.length !== TEXT_LENGTH || [...bare].some((ch) => !ALPHABET.includes(ch))) {
    throw new StamplineError(
      'CODE_BAD_SYMBOLS',
      `text must be ${TEXT_LENGTH} characters of ${ALPHABET}, got ${JSON.stringify(text)}`,
      { text },
    );
  }
  return `${bare.slice(0, 5)}-${bare.slice(5)}`;
}

export { K, N };
