import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXP, gfDiv, gfMul, gfPow, LOG } from '../../src/codes/gf32.js';
import { encodeSymbols, isCodeword } from '../../src/codes/rs.js';

const symbol = fc.integer({ min: 0, max: 31 });

/** Carry-less multiplication reduced by x^5 + x^2 + 1, written independently of the tables. */
function slowMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 5; i++) if (b & (1 << i)) product ^= a << i;
  for (let bit = 9; bit >= 5; bit--) if (product & (1 << bit)) product ^= 0x25 << (bit - 5);
  return product;
}

describe('GF(32)', () => {
  it('has α = 2 of order 31 generating every non-zero element', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 31; i++) seen.add(EXP[i]!);
    expect(seen.size).toBe(31);
    expect(gfPow(31)).toBe(1);
    expect(gfPow(5)).toBe(0b00101); // α^5 = α^2 + 1
    for (let v = 1; v < 32; v++) expect(EXP[LOG[v]!]).toBe(v);
  });

  it('multiplies like polynomials modulo 0x25 and divides back', () => {
    fc.assert(
      fc.property(symbol, symbol, (a, b) => {
        expect(gfMul(a, b)).toBe(slowMul(a, b));
        if (b !== 0) expect(gfMul(gfDiv(a, b), b)).toBe(a);
      }),
      { numRuns: 1024 },
    );
  });
});

describe('RS(16, 8) encoder', () => {
  it('is systematic and produces words divisible by the generator', () => {
    fc.assert(
      fc.property(fc.array(symbol, { minLength: 8, maxLength: 8 }), (data) => {
        const word = encodeSymbols(data);
        expect([...word.slice(0, 8)]).toEqual(data);
        expect(isCodeword(word)).toBe(true);
        // a codeword vanishes at α^1..α^8
        for (let k = 1; k <= 8; k++) {
          let s = 0;
          for (let j = 0; j < 16; j++) s = gfMul(s, gfPow(k)) ^ word[j]!;
          expect(s).toBe(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});
