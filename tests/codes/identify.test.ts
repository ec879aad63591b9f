/** Identification against the issued codes (spec §6a): the issued set, its file, the decoder. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALPHABET } from '../../src/codes/alphabet.js';
import { packSymbols, symbolsToGear } from '../../src/codes/codeword.js';
import {
  decodeReads,
  encode,
  IssuedSet,
  issuedDensity,
  parseIssuedFile,
  type Read,
  RegistryOfSize,
} from '../../src/codes/index.js';
import { textSymbols } from '../../src/codes/issued.js';
import { isStamplineError } from '../../src/errors.js';

const KEY = '000102030405060708090a0b0c0d0e0f';
const ISSUER = 7;

/** A line's issued codes: indexes 0..n−1 of one issuer. */
function lineSet(n: number): IssuedSet {
  const set = new IssuedSet();
  for (let i = 0; i < n; i++) set.addIndex(ISSUER, i, KEY);
  return set;
}

/** The text of symbols c0..c9. */
function textOf(symbols: ArrayLike<number>): string {
  let t = '';
  for (let i = 0; i < 10; i++) t += ALPHABET[symbols[i]!];
  return t;
}

function withChar(text: string, i: number, ch: string): string {
  return text.slice(0, i) + ch + text.slice(i + 1);
}

describe('IssuedSet', () => {
  it('answers membership for codes added by text, by issuer and index, and by codeword', () => {
    const a = encode(1, 0, KEY);
    const b = encode(42, 123456, '00112233445566778899aabbccddeeff');
    const c = encode(4095, 268435455, 'ffffffffffffffffffffffffffffffff');
    const set = new IssuedSet()
      .addText('00E96-PY4NY')
      .addIndex(42, 123456, '00112233445566778899aabbccddeeff');
    set.addCodeword(c.symbols);
    set.addText(a.text); // again: counted once
    expect(set.size).toBe(3);
    expect(set.has(a.symbols)).toBe(true);
    expect(set.has(b.symbols)).toBe(true);
    expect(set.has(c.symbols)).toBe(true);
    expect(set.has(encode(1, 1, KEY).symbols)).toBe(false);
    expect(set.has(encode(2, 0, KEY).symbols)).toBe(false);
    expect([...set.issuers].sort((x, y) => x - y)).toEqual([1, 42, 4095]);
  });

  it('keeps 4 bytes a code once settled', () => {
    const set = new IssuedSet();
    for (let i = 0; i < 100_000; i++) set.addData(i % 3, (i * 2654435761) >>> 4);
    expect(set.size).toBe(100_000);
    expect(set.bytes).toBeLessThanOrEqual(100_000 * 4 * 1.2);
  });

  it('rejects a text that is not a code', () => {
    const text = encode(1, 0, KEY).text;
    expect(() => new IssuedSet().addText(withChar(text, 9, text[9] === 'A' ? 'B' : 'A'))).toThrow(
      /not a code/,
    );
    expect(() => new IssuedSet().addText(text.slice(0, 9))).toThrow(/not a code/);
  });
});

describe('parseIssuedFile', () => {
  it('reads texts and issuer,index lines, skipping blank lines and comments', () => {
    const a = encode(1, 0, KEY);
    const b = encode(1, 77, KEY);
    const set = parseIssuedFile(`# issued by line 3\n${a.text}\n\n  1, 77 \r\n`, { key: KEY });
    expect(set.size).toBe(2);
    expect(set.has(a.symbols)).toBe(true);
    expect(set.has(b.symbols)).toBe(true);
  });

  const bad: Array<[string, string, RegExp]> = [
    [
      'a text whose check characters disagree',
      `00E96PY4NY\n00E96PY4NZ\n`,
      /issued\.txt, line 2: "00E96PY4NZ" is not a code/,
    ],
    ['a short text', `00E96PY4NY\n\n00E96\n`, /line 3: "00E96" is not a code/],
    ['an issuer out of range', `4096,1\n`, /line 1: issuer 4096 is not 0\.\.4095/],
    ['an index out of range', `1,268435456\n`, /line 1: .*index/i],
    ['three fields', `1,2,3\n`, /line 1: "1,2,3" is not issuer,index/],
  ];
  for (const [what, content, message] of bad) {
    it(`names the line of ${what}`, () => {
      try {
        parseIssuedFile(content, { key: KEY, source: 'issued.txt' });
        expect.unreachable();
      } catch (err) {
        expect(isStamplineError(err, 'CODE_BAD_ISSUED')).toBe(true);
        expect((err as Error).message).toMatch(message);
      }
    });
  }

  it('needs the key for issuer,index lines, and a good one', () => {
    expect(() => parseIssuedFile('1,2\n', { source: 'f' })).toThrow(
      /f, line 1: issuer,index lines need the issuer key/,
    );
    expect(() => parseIssuedFile('1,2\n', { key: 'zz' })).toThrow(/key/);
  });
});

describe('decodeReads against issued codes', () => {
  const issued = lineSet(20_000);

  it('identifies a perfect text read of an issued code, with no gear ring', () => {
    const code = encode(ISSUER, 1234, KEY);
    const plain = decodeReads([{ text: code.text }], KEY);
    expect(plain.confident).toBe(false); // against all 2^40 codes it cannot
    const r = decodeReads([{ text: code.text }], KEY, { issued });
    expect(r.ok && r.text).toBe(code.text);
    expect(r.confident).toBe(true);
    expect(r.ok && r.miscorrectionRisk).toBeLessThanOrEqual(1e-7);
    expect(r.candidates?.[0]).toEqual({ text: code.text, issuer: ISSUER, index: 1234, weightRatio: 1 });
    // every field of a plain decode is still there
    if (r.ok && plain.ok) {
      for (const k of Object.keys(plain)) if (k !== 'warning') expect(r).toHaveProperty(k);
      expect(r.uec).toBe(plain.uec);
      expect(r.grade).toBe(plain.grade);
    }
  });

  it('identifies the voided code a case came from: a voided code is an issued code', () => {
    // the line voided index 5 (its pin went to the scrap) but never hands it back
    const code = encode(ISSUER, 5, KEY);
    const r = decodeReads([{ text: withChar(code.text, 3, '?') }, { text: code.text }], KEY, { issued });
    expect(r.ok && r.index).toBe(5);
    expect(r.confident).toBe(true);
  });

  it('never identifies a code that was not issued', () => {
    const code = encode(ISSUER, 30_000, KEY);
    const r = decodeReads([{ text: code.text, gear: code.gear }], KEY, { issued });
    expect(r.confident).toBe(false);
    if (r.ok) expect(issued.has(r.codeword)).toBe(true);
    else expect(r.candidates).toEqual([]);
  });

  it('lists two issued codes that explain the reads equally, and identifies neither', () => {
    const a = encode(ISSUER, 3, KEY);
    // b differs from a in data symbol 4 and so in the two check characters: 3 text positions
    const bSymbols = Uint8Array.from(a.symbols);
    bSymbols[4] = (bSymbols[4]! + 1) & 31;
    const data = Array.from(bSymbols.slice(0, 8));
    const both = lineSet(1).addCodeword(a.symbols).addCodeword(data);
    const read = `${a.text.slice(0, 4)}?${a.text.slice(5, 8)}??`;
    const r = decodeReads([{ text: read }], KEY, { issued: both });
    expect(r.confident).toBe(false);
    expect(r.candidates?.length).toBe(2);
    expect(r.candidates?.map((c) => c.weightRatio)).toEqual([1, 1]);
    expect(r.ok && r.warning).toMatch(/2 issued codes explain the reads about equally/);
  });

  it('against a registry known only by its size, counts every close rival it does not list', () => {
    const code = encode(ISSUER, 9, KEY);
    const registry = new RegistryOfSize(new IssuedSet().addCodeword(code.symbols), 10_000_000);
    expect(registry.unlisted).toBeCloseTo((10_000_000 - 1) / 2 ** 40, 15);
    const perfect = decodeReads([{ text: code.text }], KEY, { issued: registry });
    expect(perfect.confident).toBe(true);
    // two characters illegible: 248 codes differ from it in one more character alone, and a
    // registry of 10,000,000 holds one of them with a chance of about 0.2 %
    const worn = decodeReads([{ text: `??${code.text.slice(2)}` }], KEY, { issued: registry });
    expect(worn.ok && worn.text).toBe(code.text);
    expect(worn.confident).toBe(false);
    expect(worn.ok && worn.miscorrectionRisk).toBeGreaterThan(1e-6);
    // the same read against a set that lists every issued code: only the listed ones count
    const listed = decodeReads([{ text: `??${code.text.slice(2)}` }], KEY, {
      issued: lineSet(10).addCodeword(code.symbols),
    });
    expect(listed.ok && listed.miscorrectionRisk).toBeLessThan(worn.ok ? worn.miscorrectionRisk : 0);
    expect(() => new RegistryOfSize(lineSet(3), 2)).toThrow(/cannot hold the 3 listed/);
  });

  it('scales the chance of an unlisted rival with the issued codes per issuer in use', () => {
    expect(issuedDensity({ size: 2 ** 28, has: () => false, issuers: new Set([1]) })).toBe(1);
    expect(issuedDensity({ size: 2 ** 30, has: () => false })).toBe(2 ** -10);
  });
});

/** A random read of a codeword: each character kept, made illegible or misread. */
function readOf(symbols: ArrayLike<number>, marks: number[], gear: string | null): Read {
  let text = '';
  for (let i = 0; i < 10; i++) {
    const m = marks[i]!;
    text += m < 16 ? ALPHABET[symbols[i]!] : m < 18 ? '?' : ALPHABET[(symbols[i]! + m) & 31];
  }
  return { text, gear };
}

/** A case's ring as read: from `rotation`, each tooth right (mark < 16), illegible (16, 17) or flipped. */
interface RingMarks {
  rotation: number;
  teeth: number[];
}

function gearOf(symbols: ArrayLike<number>, ring: RingMarks | null): string | null {
  if (!ring) return null;
  const truth = symbolsToGear(Array.from(symbols));
  let gear = '';
  for (let k = 0; k < 88; k++) {
    const bit = truth[(k + ring.rotation) % 88]!;
    const m = ring.teeth[k]!;
    gear += m < 16 ? bit : m < 18 ? '?' : bit === '1' ? '0' : '1';
  }
  return gear;
}

describe('identification properties', { timeout: 180_000 }, () => {
  const code = fc.record({
    issuer: fc.integer({ min: 0, max: 15 }),
    permuted: fc.integer({ min: 0, max: 2 ** 28 - 1 }),
  });
  const caseMarks = fc.array(fc.integer({ min: 0, max: 19 }), { minLength: 10, maxLength: 10 });
  /** a case: its text marks and, on some cases, its ring at any rotation */
  const caseRead = fc.record({
    text: caseMarks,
    ring: fc.option(
      fc.record({
        rotation: fc.integer({ min: 0, max: 87 }),
        teeth: fc.array(fc.integer({ min: 0, max: 19 }), { minLength: 88, maxLength: 88 }),
      }),
      { freq: 2 },
    ),
  });
  const readsOf = (t: Uint8Array, cases: { text: number[]; ring: RingMarks | null }[]) =>
    cases.map((c) => readOf(t, c.text, gearOf(t, c.ring)));
  const symbolsOf = (c: { issuer: number; permuted: number }) => {
    const s = new Uint8Array(16);
    packSymbols(c.issuer, c.permuted, s);
    return s;
  };

  it('never confidently answers a code outside the issued set', () => {
    fc.assert(
      fc.property(
        code,
        fc.array(caseRead, { minLength: 1, maxLength: 3 }),
        fc.array(code, { maxLength: 200 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 31 })), {
          maxLength: 40,
        }),
        fc.boolean(),
        (truth, cases, others, neighbours, truthIssued) => {
          const t = symbolsOf(truth);
          const set = new IssuedSet();
          if (truthIssued) set.addCodeword(t);
          for (const o of others) set.addCodeword(symbolsOf(o));
          // codes one data symbol away from the truth: rivals the reads can hardly tell apart
          for (const [j, d] of neighbours) {
            const n = Uint8Array.from(t);
            n[j] = n[j]! ^ d;
            set.addCodeword(n);
          }
          const r = decodeReads(readsOf(t, cases), KEY, { issued: set });
          if (r.confident) expect(set.has(r.codeword)).toBe(true);
          for (const c of r.candidates ?? []) expect(set.has(symbolsOfText(c.text))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('adding unrelated issued codes never turns a correct identification into a wrong one', () => {
    fc.assert(
      fc.property(
        code,
        fc.array(caseRead, { minLength: 1, maxLength: 2 }),
        fc.array(code, { maxLength: 100 }),
        fc.array(code, { minLength: 1, maxLength: 2000 }),
        (truth, cases, before, added) => {
          const t = symbolsOf(truth);
          const reads = readsOf(t, cases);
          const small = new IssuedSet().addCodeword(t);
          for (const o of before) small.addCodeword(symbolsOf(o));
          const first = decodeReads(reads, KEY, { issued: small });
          const large = new IssuedSet().addCodeword(t);
          for (const o of [...before, ...added]) large.addCodeword(symbolsOf(o));
          const second = decodeReads(reads, KEY, { issued: large });
          if (first.confident && first.ok && same(first.codeword, t) && second.confident && second.ok) {
            expect(textOf(second.codeword)).toBe(textOf(t));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

function symbolsOfText(text: string): Uint8Array {
  const s = textSymbols(text);
  if (!s) throw new Error(`a candidate is not a code: ${text}`);
  return s;
}
