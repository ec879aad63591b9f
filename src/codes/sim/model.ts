/**
 * The test-fire model of `stampline sim identify`: how each mark on a cartridge case is read.
 */
import { StamplineError } from '../../errors.js';

export interface FireModel {
  /** probability that a character is read correctly */
  charCorrect: number;
  /** probability that a character is illegible; the rest are misread as another character */
  charIllegible: number;
  /** probability that a tooth is read correctly */
  toothCorrect: number;
  /** probability that a tooth is read flipped; the rest are illegible */
  toothFlipped: number;
  /** probability that the gear ring is not read at all on a case */
  gearMissing: number;
  /** character positions illegible on every case of a gun (a worn pin), chosen per gun */
  wornPositions?: number;
}

/** The scenarios of docs/identification.md. */
export const SCENARIOS: Record<string, FireModel> = {
  // (a) the published test fires: 54 % of stamps read in full, gear rings often not read
  a: { charCorrect: 0.926, charIllegible: 0.05, toothCorrect: 0.8, toothFlipped: 0.03, gearMissing: 0.5 },
  // (b) a worn pin: misreads and flipped teeth at twice the rate the decoder assumes
  b: { charCorrect: 0.8, charIllegible: 0.12, toothCorrect: 0.65, toothFlipped: 0.08, gearMissing: 0.7 },
  // the worn pin of issue 11: two character positions illegible on every case, the rest as (a)
  worn: {
    charCorrect: 0.926,
    charIllegible: 0.05,
    toothCorrect: 0.8,
    toothFlipped: 0.03,
    gearMissing: 0.5,
    wornPositions: 2,
  },
};

export function describeFireModel(m: FireModel): string {
  const pct = (x: number) => `${+(x * 100).toFixed(2)} %`;
  return (
    `characters ${pct(m.charCorrect)} read, ${pct(m.charIllegible)} illegible, ` +
    `${pct(1 - m.charCorrect - m.charIllegible)} misread; teeth ${pct(m.toothCorrect)} read, ` +
    `${pct(m.toothFlipped)} flipped, ${pct(1 - m.toothCorrect - m.toothFlipped)} illegible; ` +
    `gear ring not read on ${pct(m.gearMissing)} of cases` +
    (m.wornPositions ? `; ${m.wornPositions} character positions illegible on every case` : '')
  );
}

export function checkFireModel(m: FireModel): FireModel {
  const p = (name: keyof FireModel) => {
    const v = m[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw new StamplineError('INVALID_INPUT', `${name} must be a probability between 0 and 1, got ${v}`, {
        [name]: v,
      });
    }
  };
  for (const name of ['charCorrect', 'charIllegible', 'toothCorrect', 'toothFlipped', 'gearMissing'] as const)
    p(name);
  const worn = m.wornPositions ?? 0;
  if (!Number.isInteger(worn) || worn < 0 || worn > 10) {
    throw new StamplineError('INVALID_INPUT', `wornPositions must be a whole number 0..10, got ${worn}`, {
      wornPositions: worn,
    });
  }
  if (m.charCorrect + m.charIllegible > 1 + 1e-12) {
    throw new StamplineError('INVALID_INPUT', 'correct and illegible characters add up to more than 1', {
      ...m,
    });
  }
  if (m.toothCorrect + m.toothFlipped > 1 + 1e-12) {
    throw new StamplineError('INVALID_INPUT', 'correct and flipped teeth add up to more than 1', { ...m });
  }
  return m;
}
