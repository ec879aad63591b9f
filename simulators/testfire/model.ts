/**
 * How a microstamp transfers to a test-fired case and how it is read: the degradation model of
 * the simulated test fire. Each character is read right, illegible or misread; each tooth read
 * right, flipped or illegible; on some cases the gear ring is not read at all. Lacquered primers
 * take the stamp less well: their rates of illegible and misread marks and of missing rings are
 * multiplied by `lacqueredFactor`.
 *
 * The per-mark model is the one of `stampline sim identify` (src/codes/sim), so the demo and
 * the identification tables speak of the same test fire.
 */
import { ALPHABET, GEAR_LENGTH, TEXT_LENGTH } from '../../src/codes/index.js';
import { checkFireModel, type FireModel } from '../../src/codes/sim/model.js';
import { Random } from '../../src/codes/sim/random.js';
import { StamplineError } from '../../src/errors.js';

export { Random };

export interface DegradationSettings {
  /** share of characters that cannot be read on a plain primer */
  charIllegible: number;
  /** share of characters read as another character on a plain primer */
  charMisread: number;
  /** share of teeth that cannot be read on a plain primer */
  toothIllegible: number;
  /** share of teeth read flipped (tooth for gap) on a plain primer */
  toothFlipped: number;
  /** share of cases whose gear ring is not read at all on a plain primer */
  gearMissing: number;
  /** how many times worse each of those rates is on a lacquered primer (capped so a mark is still a mark) */
  lacqueredFactor: number;
}

/**
 * With these, about 3 % of firearms test-fired with plain primers and a third of those fired
 * with lacquered ones fail the default policy (three cases, grade C); with a fifth of test fires
 * on lacquered primers, about one firearm in twelve goes to rework.
 */
export const DEFAULT_DEGRADATION: DegradationSettings = {
  charIllegible: 0.03,
  charMisread: 0.01,
  toothIllegible: 0.04,
  toothFlipped: 0.005,
  gearMissing: 0.01,
  lacqueredFactor: 2.5,
};

/** The per-mark models for a plain and a lacquered primer. */
export function fireModels(s: DegradationSettings): { plain: FireModel; lacquered: FireModel } {
  if (!Number.isFinite(s.lacqueredFactor) || s.lacqueredFactor < 1) {
    throw new StamplineError('INVALID_INPUT', `lacqueredFactor must be 1 or more, got ${s.lacqueredFactor}`);
  }
  const model = (k: number): FireModel => {
    // Worse rates are capped so that the correct reading stays at least as likely as not.
    const charBad = Math.min(0.5, (s.charIllegible + s.charMisread) * k);
    const charShare =
      s.charIllegible + s.charMisread === 0 ? 0 : s.charIllegible / (s.charIllegible + s.charMisread);
    const toothBad = Math.min(0.5, (s.toothIllegible + s.toothFlipped) * k);
    const toothShare =
      s.toothIllegible + s.toothFlipped === 0 ? 0 : s.toothFlipped / (s.toothIllegible + s.toothFlipped);
    return checkFireModel({
      charCorrect: 1 - charBad,
      charIllegible: charBad * charShare,
      toothCorrect: 1 - toothBad,
      toothFlipped: toothBad * toothShare,
      gearMissing: Math.min(1, s.gearMissing * k),
    });
  };
  return { plain: model(1), lacquered: model(s.lacqueredFactor) };
}

/**
 * One case as a reader would see it: the text read (`?` for an illegible character) and the
 * gear read starting at a random tooth, or no gear read when the ring was not read.
 */
export function fireCase(
  code: { text: string; gear: string },
  model: FireModel,
  rng: Random,
): { text: string; gear?: string } {
  let text = '';
  for (let i = 0; i < TEXT_LENGTH; i++) {
    const u = rng.next();
    const ch = code.text[i]!;
    if (u < model.charCorrect) text += ch;
    else if (u < model.charCorrect + model.charIllegible) text += '?';
    else text += ALPHABET[(ALPHABET.indexOf(ch) + 1 + rng.below(31)) % 32];
  }
  if (rng.next() < model.gearMissing) return { text };
  const rotation = rng.below(GEAR_LENGTH);
  let gear = '';
  for (let k = 0; k < GEAR_LENGTH; k++) {
    const tooth = code.gear[(k + rotation) % GEAR_LENGTH]!;
    const u = rng.next();
    if (u < model.toothCorrect) gear += tooth;
    else if (u < model.toothCorrect + model.toothFlipped) gear += tooth === '1' ? '0' : '1';
    else gear += '?';
  }
  return { text, gear };
}
