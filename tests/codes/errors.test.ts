import { describe, expect, it } from 'vitest';
import { decodeReads, encode, formatText, parseKey } from '../../src/codes/index.js';
import { isStamplineError, type StamplineError } from '../../src/errors.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
const GOOD = encode(1, 0, KEY);

function failure(fn: () => unknown): StamplineError {
  try {
    fn();
  } catch (err) {
    if (isStamplineError(err)) return err;
    throw err;
  }
  throw new Error('expected a StamplineError');
}

describe('malformed input is a StamplineError naming what is wrong', () => {
  it.each([
    ['000102030405060708090a0b0c0d0e', /30 hex digits, not 32/],
    ['000102030405060708090a0b0c0d0e0f00', /34 hex digits, not 32/],
    ['000102030405060708090a0b0c0d0e0g', /"g", which is not a hex digit/],
    ['', /0 hex digits/],
  ])('rejects the key %j', (key, message) => {
    const err = failure(() => parseKey(key));
    expect(err.code).toBe('CODE_BAD_KEY');
    expect(err.message).toMatch(message);
    expect(err.transient).toBe(false);
    expect(failure(() => encode(1, 0, key)).code).toBe('CODE_BAD_KEY');
    expect(failure(() => decodeReads([{ text: GOOD.text }], key)).code).toBe('CODE_BAD_KEY');
  });

  it('rejects a key of the wrong number of bytes', () => {
    expect(failure(() => encode(1, 0, Buffer.alloc(15))).message).toMatch(/15 bytes, not 16/);
  });

  it.each([-1, 4096, 1.5, Number.NaN, '7', null])('rejects the issuer %j', (issuer) => {
    const err = failure(() => encode(issuer as number, 0, KEY));
    expect(err.code).toBe('CODE_BAD_ISSUER');
    expect(err.message).toMatch(/issuer must be an integer 0..4095/);
  });

  it.each([-1, 268435456, 2.5, '12', undefined])('rejects the index %j', (index) => {
    const err = failure(() => encode(1, index as number, KEY));
    expect(err.code).toBe('CODE_BAD_INDEX');
    expect(err.message).toMatch(/index must be an integer 0..268435455/);
  });

  it('rejects a text read with more than 10 symbols, naming the read', () => {
    const err = failure(() => decodeReads([{ text: GOOD.text }, { text: '00E96-PY4NY1' }], KEY));
    expect(err.code).toBe('CODE_BAD_READ');
    expect(err.message).toMatch(/^read 2: .*11 symbols/);
  });

  it('counts illegible and foreign characters as symbols, not dashes and spaces', () => {
    expect(decodeReads([{ text: ' 00E96 - PY4NY ' }], KEY).ok).toBe(true);
    expect(failure(() => decodeReads([{ text: '00E96PY4NY#' }], KEY)).message).toMatch(/11 symbols/);
  });

  it('rejects gear reads of other characters or lengths', () => {
    const bad = `${GOOD.gear.slice(0, 40)}x${GOOD.gear.slice(41)}`;
    expect(failure(() => decodeReads([{ gear: bad }], KEY)).message).toMatch(/read 1: .*"x" at tooth 41/);
    expect(failure(() => decodeReads([{ gear: GOOD.gear.slice(1) }], KEY)).message).toMatch(
      /87 teeth.*exactly 88/,
    );
    expect(failure(() => decodeReads([{ gear: `${GOOD.gear}0` }], KEY)).message).toMatch(/89 teeth/);
  });

  it('rejects reads that are not a list of objects of strings', () => {
    expect(failure(() => decodeReads([], KEY)).message).toMatch(/no reads/);
    expect(failure(() => decodeReads('00E96PY4NY' as never, KEY)).code).toBe('CODE_BAD_READ');
    expect(failure(() => decodeReads([null as never], KEY)).message).toMatch(/read 1 must be an object/);
    expect(failure(() => decodeReads([{ text: 42 as never }], KEY)).message).toMatch(
      /text read must be a string/,
    );
  });

  it('rejects text that is not 10 symbols when formatting', () => {
    expect(failure(() => formatText('00E96PY4N')).code).toBe('CODE_BAD_SYMBOLS');
  });
});

describe('reads that are well formed but say nothing', () => {
  it('reports an empty read as not decodable rather than failing', () => {
    const result = decodeReads([{ text: '', gear: '' }, { text: '??????????' }], KEY);
    expect(result).toMatchObject({ ok: false, grade: 'F', confident: false });
    expect(!result.ok && result.error).toMatch(/nothing was read/);
  });

  it('treats O, I and L as 0, 1 and 1, in either case', () => {
    const key = 'ffffffffffffffffffffffffffffffff';
    const code = encode(4095, 268435455, key); // ZZYZ7K10MF
    for (const fuzzy of ['zzyz7kloMF', 'ZZYZ7KIOmf', 'zzyz7ki0mf']) {
      const result = decodeReads([{ text: fuzzy }], key);
      expect(result.ok && result.text).toBe(code.text);
      expect(result.ok && result.errors).toBe(0);
    }
  });
});
