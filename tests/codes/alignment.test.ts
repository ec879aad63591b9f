import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignGear, gearTeeth } from '../../src/codes/evidence.js';
import { GearObservation } from '../../src/codes/reads.js';

/**
 * The alignment by brute force, tooth by tooth at all 88 rotations: the fewest legible teeth
 * that disagree, and of the rotations with that many, the first in alignGear's order (its
 * best-fitting sync, then rotations whose legible sync teeth all agree, then the rest).
 */
function alignByTeeth(g: GearObservation, symbols: number[]): { rotation: number; mismatches: number } {
  const teeth = gearTeeth(symbols, new Int8Array(88));
  const count = (r: number) => {
    let mm = 0;
    for (let b = 0; b < 88; b++) {
      const t = g.bits[(r + b) % 88]!;
      if (t >= 0 && t !== teeth[b]) mm++;
    }
    return mm;
  };
  const order = [g.bestSyncRotation];
  for (const perfect of [true, false]) {
    for (let r = 0; r < 88; r++)
      if (r !== g.bestSyncRotation && (g.syncMismatch(r) === 0) === perfect) order.push(r);
  }
  let best = { rotation: order[0]!, mismatches: count(order[0]!) };
  for (const r of order) {
    const mm = count(r);
    if (mm < best.mismatches) best = { rotation: r, mismatches: mm };
  }
  return best;
}

describe('aligning a gear read with a codeword', () => {
  it('finds the rotation and disagreements that comparing every tooth at every rotation finds', () => {
    const symbols = fc.array(fc.integer({ min: 0, max: 31 }), { minLength: 16, maxLength: 16 });
    fc.assert(
      fc.property(
        symbols,
        symbols,
        fc.array(fc.constantFrom(0, 0, 0, 0, 0, 1, 2), { minLength: 88, maxLength: 88 }),
        fc.integer({ min: 0, max: 87 }),
        fc.boolean(),
        (read, candidate, marks, rotation, same) => {
          // a read of `read` (0 right, 1 illegible, 2 flipped), aligned with `read` itself or another word
          const teeth = gearTeeth(read, new Int8Array(88));
          const seen = Array.from({ length: 88 }, (_, b) => {
            const t = teeth[(b + rotation) % 88]!;
            const m = marks[(b + rotation) % 88]!;
            return m === 0 ? t : m === 1 ? -1 : 1 - t;
          });
          const g = GearObservation.of(seen);
          const word = same ? read : candidate;
          expect(alignGear(g, word)).toEqual(alignByTeeth(g, word));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
