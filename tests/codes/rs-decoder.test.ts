import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeErrata, encodeSymbols, isCodeword } from '../../src/codes/rs.js';

const data = fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 8, maxLength: 8 });

/** A codeword and a damage pattern: disjoint error and erasure positions, non-zero error values. */
const damaged = (maxWeight: number, minWeight = 0) =>
  fc
    .record({
      data,
      order: fc.shuffledSubarray([...Array(16).keys()], { minLength: 16, maxLength: 16 }),
      e: fc.integer({ min: 0, max: 8 }),
      f: fc.integer({ min: 0, max: 16 }),
      values: fc.array(fc.integer({ min: 1, max: 31 }), { minLength: 16, maxLength: 16 }),
      junk: fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 16, maxLength: 16 }),
    })
    .filter(({ e, f }) => e + f <= 16 && 2 * e + f <= maxWeight && 2 * e + f >= minWeight)
    .map(({ data, order, e, f, values, junk }) => {
      const codeword = encodeSymbols(data);
      const received = Uint8Array.from(codeword);
      const erased = new Uint8Array(16);
      for (let i = 0; i < e; i++) received[order[i]!]! ^= values[i]!;
      for (let i = e; i < e + f; i++) {
        erased[order[i]!] = 1;
        received[order[i]!] = junk[i]!; // whatever sits at an erased position must not matter
      }
      return { codeword, received, erased, e, f };
    });

describe('errors-and-erasures decoder', () => {
  it('decodes every word with 2e + f ≤ 8 to the codeword and counts the errors', () => {
    fc.assert(
      fc.property(damaged(8), ({ codeword, received, erased, e }) => {
        const out = new Uint8Array(16);
        expect(decodeErrata(received, erased, out)).toBe(e);
        expect([...out]).toEqual([...codeword]);
      }),
      { numRuns: 5000 },
    );
  });

  it('never returns a word that is not a codeword within its stated limit when 2e + f > 8', () => {
    fc.assert(
      fc.property(damaged(16, 9), ({ codeword, received, erased, f }) => {
        const out = new Uint8Array(16);
        const errors = decodeErrata(received, erased, out);
        if (errors < 0) return;
        // a miscorrection is possible past the limit, but it must be a real codeword whose own
        // distance from the read is within the limit
        expect(isCodeword(out)).toBe(true);
        expect(2 * errors + f).toBeLessThanOrEqual(8);
        let differing = 0;
        for (let j = 0; j < 16; j++) if (!erased[j] && out[j] !== received[j]) differing++;
        expect(differing).toBe(errors);
        expect([...out]).not.toEqual([...codeword]);
      }),
      { numRuns: 5000 },
    );
  });

  it('says it cannot decode when more than 8 symbols are erased', () => {
    const codeword = encodeSymbols([1, 2, 3, 4, 5, 6, 7, 8]);
    const erased = new Uint8Array(16).fill(1, 0, 9);
    expect(decodeErrata(codeword, erased, new Uint8Array(16))).toBe(-1);
  });

  it('leaves the input untouched when writing to a separate output', () => {
    const codeword = encodeSymbols([9, 9, 9, 9, 9, 9, 9, 9]);
    const received = Uint8Array.from(codeword);
    received[3]! ^= 5;
    const copy = Uint8Array.from(received);
    decodeErrata(received, new Uint8Array(16), new Uint8Array(16));
    expect([...received]).toEqual([...copy]);
  });
});
