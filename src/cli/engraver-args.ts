/**
 * What the `engraver` and `sim engraver` commands share: reading numeric options, and printing
 * text or one JSON object.
 */
import { StamplineError } from '../errors.js';

/** The exit code of a command whose answer is no (unreachable, not DONE, no answer). */
export const EXIT_NEGATIVE = 1;

export function report(json: boolean | undefined, data: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${text}\n`);
}

export function integer(raw: string, option: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new StamplineError('INVALID_INPUT', `${option} must be an integer ${min}..${max}, not "${raw}"`, {
      option,
    });
  }
  return Number(raw);
}

/** `--fault-at`: a fraction of the marking, 0..1. */
export function fraction(raw: string, option: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !(value >= 0 && value <= 1)) {
    throw new StamplineError('INVALID_INPUT', `${option} must be a fraction 0..1, not "${raw}"`, { option });
  }
  return value;
}
