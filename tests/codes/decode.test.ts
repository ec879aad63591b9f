import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Codeword, decodeReads, encode, gradeFromUec } from '../../src/codes/index.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

const code = fc
  .record({
    issuer: fc.integer({ min: 0, max: 4095 }),
    index: fc.integer({ min: 0, max: 0x0fffffff }),
    key: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
  })
  .map(({ issuer, index, key }) => ({ key, code: encode(issuer, index, key) }));

function rotate(gear: string, r: number): string {
  return gear.slice(r) + gear.slice(0, r);
}

/** Renders a codeword with some symbols replaced (errors) or blanked (erasures) in both renderings. */
function damagedRead(c: Codeword, changes: Map<number, number | null>): { text: string; gear: string } {
  let text = '';
  let gear = '11100100';
  for (let i = 0; i < 16; i++) {
    const change = changes.get(i);
    const value = change === undefined ? c.symbols[i]! : change;
    if (i < 10) text += value === null ? '?' : ALPHABET[value];
    gear += value === null ? '?????' : value.toString(2).padStart(5, '0');
  }
  return { text, gear };
}

const damage = (maxWeight: number) =>
  fc
    .record({
      order: fc.shuffledSubarray([...Array(16).keys()], { minLength: 16, maxLength: 16 }),
      e: fc.integer({ min: 0, max: 4 }),
      f: fc.integer({ min: 0, max: 8 }),
      deltas: fc.array(fc.integer({ min: 1, max: 31 }), { minLength: 16, maxLength: 16 }),
      rotation: fc.integer({ min: 0, max: 87 }),
    })
    .filter(({ e, f }) => 2 * e + f <= maxWeight);

describe('decoding reads', () => {
  it('decodes every text+gear read with 2e + f ≤ 8 to its code, counting e and f', () => {
    fc.assert(
      fc.property(code, damage(8), ({ key, code: c }, { order, e, f, deltas, rotation }) => {
        const changes = new Map<number, number | null>();
        for (let k = 0; k < e; k++) changes.set(order[k]!, c.symbols[order[k]!]! ^ deltas[k]!);
        for (let k = e; k < e + f; k++) changes.set(order[k]!, null);
        const read = damagedRead(c, changes);
        const result = decodeReads([{ text: read.text, gear: rotate(read.gear, rotation) }], key);
        expect(result.ok).toBe(true);
        if (!result.ok) return;
        expect(result.codeword).toEqual(c.symbols);
        expect([result.issuer, result.index, result.text]).toEqual([c.issuer, c.index, c.text]);
        // Wrong symbols known only from the gear may be reported as erasures of weak evidence
        // (GMD), never the other way round.
        expect(result.errors).toBeLessThanOrEqual(e);
        expect(2 * result.errors + result.erasures).toBeLessThanOrEqual(2 * e + f);
        if (order.slice(0, e).every((p) => p < 10)) expect([result.errors, result.erasures]).toEqual([e, f]);
        expect(result.uec).toBeCloseTo(1 - (2 * result.errors + result.erasures) / 8, 12);
        expect(result.grade).toBe(gradeFromUec(result.uec));
        expect(result.gearRotations).toEqual([(88 - rotation) % 88]);
        if (result.uec === 0) {
          expect(result.confident).toBe(false);
          expect(result.warning).toMatch(/UEC = 0/);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('decodes text-only reads with up to 2 erasures or 1 error', () => {
    fc.assert(
      fc.property(
        code,
        fc.shuffledSubarray([...Array(10).keys()], { minLength: 10, maxLength: 10 }),
        fc.constantFrom('none', 'one-erasure', 'two-erasures', 'one-error'),
        fc.integer({ min: 1, max: 31 }),
        ({ key, code: c }, order, kind, delta) => {
          const chars = [...c.text];
          if (kind === 'one-erasure' || kind === 'two-erasures') chars[order[0]!] = '?';
          if (kind === 'two-erasures') chars[order[1]!] = '?';
          if (kind === 'one-error') chars[order[0]!] = ALPHABET[ALPHABET.indexOf(chars[order[0]!]!) ^ delta]!;
          const result = decodeReads([{ text: chars.join('') }], key);
          expect(result.ok).toBe(true);
          if (!result.ok) return;
          expect([result.issuer, result.index, result.text]).toEqual([c.issuer, c.index, c.text]);
          // c10..c15 are not rendered in the text, so they count as erasures filled
          const expected = {
            none: [0, 6],
            'one-erasure': [0, 7],
            'two-erasures': [0, 8],
            'one-error': [1, 6],
          }[kind];
          expect([result.errors, result.erasures]).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts a wrong symbol known only from the gear as an error, or as weak evidence set aside', () => {
    const c = encode(42, 123456, '00112233445566778899aabbccddeeff');
    const wrongParity = (n: number) => {
      const changes = new Map<number, number | null>();
      for (let k = 0; k < n; k++) changes.set(10 + k, c.symbols[10 + k]! ^ 1);
      return decodeReads(
        [{ text: c.text, gear: damagedRead(c, changes).gear }],
        '00112233445566778899aabbccddeeff',
      );
    };
    // one wrong parity symbol: an error corrected (2e + f = 2)
    expect(wrongParity(1)).toMatchObject({ ok: true, errors: 1, erasures: 0, grade: 'A', confident: true });
    // four: setting the six gear-only symbols aside (f = 6) uses less than correcting them (2e = 8)
    expect(wrongParity(4)).toMatchObject({ ok: true, text: c.text, errors: 0, erasures: 6, grade: 'D' });
  });

  it('decodes a gear read at every rotation and says where its sync starts', () => {
    fc.assert(
      fc.property(code, ({ key, code: c }) => {
        for (let r = 0; r < 88; r++) {
          const result = decodeReads([{ gear: rotate(c.gear, r) }], key);
          expect(result.ok && result.text).toBe(c.text);
          expect(result.ok && result.gearRotations[0]).toBe((88 - r) % 88);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('decodes gear reads with up to 4 illegible and 2 flipped teeth, sync included, at any rotation', () => {
    fc.assert(
      fc.property(
        code,
        fc.integer({ min: 0, max: 87 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 87 }), { minLength: 0, maxLength: 6 }),
        fc.integer({ min: 0, max: 6 }),
        ({ key, code: c }, rotation, damaged, flips) => {
          // damaged teeth: the first `flips` (at most 2) are flipped, the rest (at most 4) illegible
          const nFlips = Math.min(2, flips, damaged.length);
          const teeth = [...c.gear];
          damaged.forEach((t, n) => {
            teeth[t] = n < nFlips ? (teeth[t] === '1' ? '0' : '1') : '?';
          });
          const result = decodeReads([{ gear: rotate(teeth.join(''), rotation) }], key);
          expect(result.ok && result.text).toBe(c.text);
          expect(result.ok && result.gearRotations[0]).toBe((88 - rotation) % 88);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decodes a gear read whose true rotation ranks below the sixteenth best sync fit', () => {
    // Found by the property above: two flipped sync teeth and one illegible leave many rotations
    // with a sync as close and fully legible, which rank first.
    const key = 'bb03007184b8eb0058705bd100854a12';
    const c = encode(78, 0, key);
    const teeth = [...c.gear];
    teeth[3] = teeth[3] === '1' ? '0' : '1';
    teeth[0] = teeth[0] === '1' ? '0' : '1';
    teeth[1] = '?';
    teeth[73] = '?';
    const read = teeth.join('');
    const result = decodeReads([{ gear: read.slice(1) + read.slice(0, 1) }], key);
    expect(result.ok && result.text).toBe(c.text);
    expect(result.ok && result.gearRotations[0]).toBe(87);
  });

  it('is never confidently wrong, however damaged the gear read', () => {
    fc.assert(
      fc.property(
        code,
        fc.integer({ min: 0, max: 87 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 87 }), { minLength: 0, maxLength: 40 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 87 }), { minLength: 0, maxLength: 8 }),
        ({ key, code: c }, rotation, illegible, flipped) => {
          const teeth = [...c.gear];
          for (const t of flipped) teeth[t] = teeth[t] === '1' ? '0' : '1';
          for (const t of illegible) teeth[t] = '?';
          const result = decodeReads([{ gear: rotate(teeth.join(''), rotation) }], key);
          if (result.confident) expect(result.text).toBe(c.text);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never reports a confident identification at UEC = 0', () => {
    fc.assert(
      fc.property(code, damage(16), ({ key, code: c }, { order, e, f, deltas }) => {
        const changes = new Map<number, number | null>();
        for (let k = 0; k < e; k++) changes.set(order[k]!, c.symbols[order[k]!]! ^ deltas[k]!);
        for (let k = e; k < Math.min(16, e + f); k++) changes.set(order[k]!, null);
        const result = decodeReads([damagedRead(c, changes)], key);
        if (result.ok && result.uec === 0) expect(result.confident).toBe(false);
        if (result.confident) expect(result.uec).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });
});
