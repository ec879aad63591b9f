/** Crockford's base-32 alphabet: a symbol's value is its position (spec §1). */
export const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Value of each char code after read normalisation (spec §5), or -1 when it is not a symbol. */
export const CHAR_VALUE = new Int8Array(128).fill(-1);
for (let v = 0; v < ALPHABET.length; v++) {
  CHAR_VALUE[ALPHABET.charCodeAt(v)] = v;
  CHAR_VALUE[ALPHABET.toLowerCase().charCodeAt(v)] = v;
}
for (const [alias, value] of [
  ['O', 0],
  ['I', 1],
  ['L', 1],
] as const) {
  CHAR_VALUE[alias.charCodeAt(0)] = value;
  CHAR_VALUE[alias.toLowerCase().charCodeAt(0)] = value;
}

export function symbolChar(value: number): string {
  return ALPHABET[value]!;
}
