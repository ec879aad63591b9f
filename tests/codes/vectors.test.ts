import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShortHmac } from '../../src/codes/hmac.js';
import { encode, formatText, parseKey } from '../../src/codes/index.js';
import { keyContext } from '../../src/codes/key.js';
import { permuteIndex, unpermuteIndex } from '../../src/codes/permutation.js';
import { GENERATOR } from '../../src/codes/rs.js';

// spec/codes.md §7, copied verbatim
const VECTORS = [
  {
    issuer: 1,
    index: 0,
    key: '000102030405060708090a0b0c0d0e0f',
    symbols: '0 0 14 9 6 22 30 4 21 30 22 12 2 29 18 16',
    text: '00E96PY4NY',
    gear: '1110010000000000000111001001001101011011110001001010111110101100110000010111011001010000',
  },
  {
    issuer: 1,
    index: 1,
    key: '000102030405060708090a0b0c0d0e0f',
    symbols: '0 0 12 23 6 5 25 20 14 25 24 1 14 4 12 29',
    text: '00CQ65SMES',
    gear: '1110010000000000000110010111001100010111001101000111011001110000000101110001000110011101',
  },
  {
    issuer: 42,
    index: 123456,
    key: '00112233445566778899aabbccddeeff',
    symbols: '0 10 17 8 22 24 28 20 21 25 29 7 28 3 15 2',
    text: '0AH8PRWMNS',
    gear: '1110010000000010101000101000101101100011100101001010111001111010011111100000110111100010',
  },
  {
    issuer: 4095,
    index: 268435455,
    key: 'ffffffffffffffffffffffffffffffff',
    symbols: '31 31 30 31 7 19 1 0 20 15 1 30 31 31 10 29',
    text: 'ZZYZ7K10MF',
    gear: '1110010011111111111111011111001111001100001000001010001111000011111011111111110101011101',
  },
];

describe('spec test vectors', () => {
  it('has the generator polynomial of the spec', () => {
    expect(GENERATOR.join(' ')).toBe('1 8 21 15 6 2 26 18 5');
  });

  for (const v of VECTORS) {
    it(`encodes issuer ${v.issuer} index ${v.index}`, () => {
      const code = encode(v.issuer, v.index, v.key);
      expect(code.symbols.join(' ')).toBe(v.symbols);
      expect(code.text).toBe(v.text);
      expect(code.gear).toBe(v.gear);
      expect(code.issuer).toBe(v.issuer);
      expect(code.index).toBe(v.index);
    });

    it(`gives the same code for the key as bytes, issuer ${v.issuer}`, () => {
      expect(encode(v.issuer, v.index, parseKey(v.key)).text).toBe(v.text);
      expect(encode(v.issuer, v.index, v.key.toUpperCase()).text).toBe(v.text);
    });
  }

  it('groups the text for people', () => {
    expect(formatText('00E96PY4NY')).toBe('00E96-PY4NY');
    expect(formatText('00e96-py4ny')).toBe('00E96-PY4NY');
  });
});

describe('HMAC and permutation', () => {
  it('computes the same HMAC-SHA256 as node:crypto', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 0, maxLength: 55 }),
        (key, msg) => {
          const expected = createHmac('sha256', key).update(msg).digest();
          expect(new ShortHmac(key).digest(msg).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('inverts the permutation and maps distinct indexes to distinct values', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 0x0fffffff }),
        (key, index) => {
          const ctx = keyContext(Buffer.from(key));
          const permuted = permuteIndex(index, ctx);
          expect(permuted).toBeGreaterThanOrEqual(0);
          expect(permuted).toBeLessThanOrEqual(0x0fffffff);
          expect(unpermuteIndex(permuted, ctx)).toBe(index);
          expect(permuteIndex(unpermuteIndex(index, ctx), ctx)).toBe(index);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives consecutive indexes unrelated codes', () => {
    const a = encode(7, 1000, VECTORS[0]!.key).symbols;
    const b = encode(7, 1001, VECTORS[0]!.key).symbols;
    const sameData = a.slice(3, 8).filter((s, i) => s === b[i + 3]).length;
    expect(sameData).toBeLessThan(4);
  });
});
