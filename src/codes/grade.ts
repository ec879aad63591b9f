/** Grades from unused error correction, with the thresholds of ISO/IEC 15415 (spec §6). */
export type Grade = 'A' | 'B' | 'C' | 'D' | 'F';

export function gradeFromUec(uec: number): Grade {
  if (!Number.isFinite(uec)) return 'F';
  if (uec >= 0.62) return 'A';
  if (uec >= 0.5) return 'B';
  if (uec >= 0.37) return 'C';
  if (uec >= 0.25) return 'D';
  return 'F';
}

/** UEC = 1 − (2e + f) / 8, never below 0 (a decode past the limit used all the power there is). */
export function uecOf(errors: number, erasures: number): number {
  return Math.max(0, 1 - (2 * errors + erasures) / 8);
}
