import { describe, expect, it } from 'vitest';
import { decodeReads, encode } from '../../src/codes/index.js';

const KEY = '00112233445566778899aabbccddeeff';
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function blankText(text: string, positions: number[]): string {
  return [...text].map((ch, i) => (positions.includes(i) ? '?' : ch)).join('');
}

function blankGear(gear: string, symbols: number[]): string {
  return [...gear].map((t, k) => (k >= 8 && symbols.includes(Math.floor((k - 8) / 5)) ? '?' : t)).join('');
}

function rotate(gear: string, r: number): string {
  return gear.slice(r) + gear.slice(0, r);
}

describe('fused decoding of several cases from one gun', () => {
  const code = encode(42, 123456, KEY);
  // Three poor cases: each shows a different part of the code, one with a misread character.
  const misread = ALPHABET[(code.symbols[2]! + 7) % 32]!;
  const caseA = {
    text: blankText(`${code.text.slice(0, 2)}${misread}${code.text.slice(3)}`, [5, 6, 7, 8, 9]),
  };
  const caseB = { text: blankText(code.text, [0, 1, 2, 3, 4]) };
  const caseC = { gear: rotate(blankGear(code.gear, [0, 1, 2, 3, 4, 5, 6, 7, 8]), 31) };

  it('cannot identify the gun from any one of the cases', () => {
    for (const read of [caseA, caseB, caseC]) {
      const result = decodeReads([read], KEY);
      expect(result.confident).toBe(false);
      expect(result.ok && result.text === code.text && result.uec > 0).toBe(false);
    }
  });

  it('identifies it from the three together, in any order', () => {
    for (const reads of [
      [caseA, caseB, caseC],
      [caseC, caseB, caseA],
    ]) {
      const result = decodeReads(reads, KEY);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect([result.issuer, result.index, result.text]).toEqual([42, 123456, code.text]);
      expect(result.confident).toBe(true);
      // the misread character is the one error; every position had evidence
      expect([result.errors, result.erasures]).toEqual([1, 0]);
      expect(result.gearRotations).toEqual(reads.map((r) => ('gear' in r ? 88 - 31 : null)));
    }
  });

  it('outvotes a misread seen on one case when two others read the character right', () => {
    const wrong = `${ALPHABET[(code.symbols[0]! + 1) % 32]}${code.text.slice(1)}`;
    const result = decodeReads([{ text: wrong }, { text: code.text }, { text: code.text }], KEY);
    expect(result.ok && result.text).toBe(code.text);
    expect(result.ok && result.errors).toBe(0);
  });

  it('fuses gear reads taken at different rotations with teeth missing on each', () => {
    const g1 = rotate(blankGear(code.gear, [0, 1, 2, 3, 4, 5, 6, 7, 8]), 5);
    const g2 = rotate(blankGear(code.gear, [7, 8, 9, 10, 11, 12, 13, 14, 15]), 60);
    for (const g of [g1, g2]) {
      const alone = decodeReads([{ gear: g }], KEY);
      expect(alone.confident).toBe(false);
      expect(alone.ok && alone.text === code.text && alone.uec > 0).toBe(false);
    }
    const result = decodeReads([{ gear: g1 }, { gear: g2 }], KEY);
    expect(result.ok && result.text).toBe(code.text);
    expect(result.ok && result.gearRotations).toEqual([83, 28]);
  });
});
