import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isStamplineError } from '../../src/errors.js';
import { checkName, fromSafeName, safeName } from '../../src/store/names.js';

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isStamplineError(err) ? err.code : 'not a StamplineError';
  }
  return undefined;
}

describe('safeName', () => {
  it.each([
    ['ORD-2024-001', 'ORD-2024-001'],
    ['ORD/1', 'ORD%2F1'],
    ['..', '%2E.'],
    ['.hidden', '%2Ehidden'],
    ['a b', 'a%20b'],
    ['50%', '50%25'],
    ['v1.2', 'v1.2'],
    ['Ünter', '%C3%9Cnter'],
  ])('maps %j to %j', (input, expected) => {
    expect(safeName(input)).toBe(expected);
    expect(fromSafeName(expected)).toBe(input);
  });

  it('maps any string to a valid name segment and back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 16 }), (s) => {
        // every byte may become three characters; longer strings are refused by design (below)
        fc.pre(Buffer.byteLength(s) * 3 <= 200);
        const safe = safeName(s);
        expect(checkName(safe)).toEqual([safe]);
        expect(fromSafeName(safe)).toBe(s);
      }),
    );
  });

  it('maps distinct strings to distinct names', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        fc.pre(a !== b);
        expect(safeName(a)).not.toBe(safeName(b));
      }),
    );
  });

  it('takes every 64-character printable order id', () => {
    const worst = '/'.repeat(64);
    expect(fromSafeName(safeName(worst))).toBe(worst);
  });

  it('rejects what it cannot name', () => {
    expect(errorCode(() => safeName(''))).toBe('INVALID_INPUT');
    expect(errorCode(() => safeName('\uD800'))).toBe('INVALID_INPUT');
    expect(errorCode(() => safeName('€'.repeat(30)))).toBe('INVALID_INPUT');
  });

  it('refuses to decode what safeName would not produce', () => {
    for (const bad of ['a%2', 'a%2f', '%41', 'a b', '%FF', '']) {
      expect(errorCode(() => fromSafeName(bad))).toBe('INVALID_INPUT');
    }
  });
});
