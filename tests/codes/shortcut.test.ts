import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeClean } from '../../src/codes/clean.js';
import { MAX_MISCORRECTION_RISK } from '../../src/codes/decode.js';
import { decodeReadsReference } from '../../src/codes/decode-reads.js';
import { type Codeword, decodeReads, encode, type Read } from '../../src/codes/index.js';
import { weightsFor } from '../../src/codes/model.js';
import { parseGearRead, parseTextRead } from '../../src/codes/reads.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const code = fc
  .record({
    issuer: fc.integer({ min: 0, max: 4095 }),
    index: fc.integer({ min: 0, max: 0x0fffffff }),
    key: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
  })
  .map(({ issuer, index, key }) => ({ key, code: encode(issuer, index, key) }));

/** What happens to each mark: 0 read right, 1 illegible, 2 misread (characters) or flipped (teeth). */
const marks = (length: number) =>
  fc.oneof(
    fc.constant(new Array<number>(length).fill(0)),
    fc.array(fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 0, 1), { minLength: length, maxLength: length }),
    fc.array(fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 2), { minLength: length, maxLength: length }),
    fc.array(fc.constantFrom(0, 1, 1, 2), { minLength: length, maxLength: length }),
  );

const caseOf = fc.record({
  text: fc.option(
    fc.record({
      marks: marks(10),
      deltas: fc.array(fc.integer({ min: 1, max: 31 }), { minLength: 10, maxLength: 10 }),
      keep: fc.integer({ min: 8, max: 10 }),
    }),
    { freq: 6 },
  ),
  gear: fc.option(fc.record({ marks: marks(88), rotation: fc.integer({ min: 0, max: 87 }) }), { freq: 2 }),
});

function render(c: Codeword, k: typeof caseOf extends fc.Arbitrary<infer T> ? T : never): Read {
  const read: Read = {};
  if (k.text) {
    let text = '';
    for (let i = 0; i < k.text.keep; i++) {
      const m = k.text.marks[i]!;
      const v = c.symbols[i]!;
      text += m === 0 ? ALPHABET[v] : m === 1 ? '?' : ALPHABET[v ^ k.text.deltas[i]!];
    }
    read.text = text;
  }
  if (k.gear) {
    let gear = '';
    for (let b = 0; b < 88; b++) {
      const m = k.gear.marks[b]!;
      const t = c.gear[b]!;
      gear += m === 0 ? t : m === 1 ? '?' : t === '1' ? '0' : '1';
    }
    read.gear = gear.slice(k.gear.rotation) + gear.slice(0, k.gear.rotation);
  }
  return read;
}

const models = fc.constantFrom(
  undefined,
  { charMisread: 0.01, toothFlip: 0.02 },
  { charMisread: 1e-6, toothFlip: 1e-5 },
  { charMisread: 0.3, toothFlip: 0.45 },
);

function expectSame(
  reads: Read[],
  key: string,
  model: typeof models extends fc.Arbitrary<infer T> ? T : never,
) {
  const options = model ? { model } : {};
  const fast = decodeReads(reads, key, options);
  const reference = decodeReadsReference(reads, key, options);
  expect(fast).toStrictEqual(reference);
  // bit for bit, not merely close
  if (fast.ok && reference.ok)
    expect(Object.is(fast.miscorrectionRisk, reference.miscorrectionRisk)).toBe(true);
}

describe('the clean-read shortcut', () => {
  it('gives the same result as the full search, bit for bit, for one case', () => {
    fc.assert(
      fc.property(code, caseOf, models, ({ key, code: c }, k, model) => {
        expectSame([render(c, k)], key, model);
      }),
      { numRuns: 1500 },
    );
  });

  it('gives the same result as the full search for clean cases with illegible marks', () => {
    // every legible mark right, so the shortcut decodes them, weighing the ring's rotations
    // one by one when some of its teeth are illegible
    const clean = fc.record({
      text: fc.array(fc.constantFrom(0, 0, 0, 1), { minLength: 10, maxLength: 10 }),
      teeth: fc.array(fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 0, 1, 1), { minLength: 88, maxLength: 88 }),
      rotation: fc.integer({ min: 0, max: 87 }),
    });
    fc.assert(
      fc.property(code, clean, models, ({ key, code: c }, k, model) => {
        const text = [...c.text].map((ch, i) => (i >= 8 && k.text[i] ? '?' : ch)).join('');
        const gear = [...c.gear].map((t, b) => (k.teeth[b] ? '?' : t)).join('');
        expectSame([{ text, gear: gear.slice(k.rotation) + gear.slice(0, k.rotation) }], key, model);
      }),
      { numRuns: 400 },
    );
  });

  it('gives the same result as the full search for several cases', () => {
    fc.assert(
      fc.property(
        code,
        fc.array(caseOf, { minLength: 2, maxLength: 3 }),
        models,
        ({ key, code: c }, ks, model) => {
          expectSame(
            ks.map((k) => render(c, k)),
            key,
            model,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is taken by clean text reads and clean text+gear reads at every rotation', () => {
    const weights = weightsFor();
    fc.assert(
      fc.property(code, fc.integer({ min: 0, max: 87 }), ({ code: c }, rotation) => {
        const text = parseTextRead(c.text, 1)!;
        expect(decodeClean(text, undefined, weights, MAX_MISCORRECTION_RISK)).not.toBeNull();
        const gear = parseGearRead(c.gear.slice(rotation) + c.gear.slice(0, rotation), 1)!;
        const clean = decodeClean(text, gear, weights, MAX_MISCORRECTION_RISK);
        expect(clean?.rotation).toBe((88 - rotation) % 88);
        expect(clean?.erasures).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('is not taken when a legible mark disagrees with the code', () => {
    const weights = weightsFor();
    const c = encode(42, 123456, '00112233445566778899aabbccddeeff');
    const wrongParity = `${c.text.slice(0, 9)}${ALPHABET[c.symbols[9]! ^ 1]}`;
    expect(
      decodeClean(parseTextRead(wrongParity, 1)!, undefined, weights, MAX_MISCORRECTION_RISK),
    ).toBeNull();
    const flipped = `${c.gear.slice(0, 40)}${c.gear[40] === '1' ? '0' : '1'}${c.gear.slice(41)}`;
    const gear = parseGearRead(flipped, 1)!;
    expect(decodeClean(parseTextRead(c.text, 1)!, gear, weights, MAX_MISCORRECTION_RISK)).toBeNull();
  });
});
