/**
 * Statistics of case reads, kept in memory as reads and verdicts arrive (and rebuilt from the
 * read log at start-up): how legible stamps are, and how well they decode, by ammunition,
 * primer lacquer, engraver, recipe and firearm model.
 *
 * A verdict counts once for each value of the dimension among the reads it rests on: a pass
 * resting on cases of two brands counts as a pass for both.
 */
import { GEAR_LENGTH, type Grade, TEXT_LENGTH } from '../codes/index.js';
import { StamplineError } from '../errors.js';
import type { StatsDimension, StatsRow, StoredRead } from './types.js';

export const STATS_DIMENSIONS: readonly StatsDimension[] = ['ammo', 'lacquer', 'engraver', 'recipe', 'model'];

/** The value of a dimension for one read. */
export function keyOf(read: StoredRead, by: StatsDimension): string {
  switch (by) {
    case 'ammo':
      return read.ammo.brand;
    case 'lacquer':
      return read.ammo.lacquered ? 'lacquered' : 'plain';
    case 'engraver':
      return read.engraverId;
    case 'recipe':
      return read.recipe;
    case 'model':
      return `${read.make} ${read.model}`;
  }
}

export interface Tally {
  reads: number;
  textReads: number;
  legibleChars: number;
  gearPresent: number;
  matches: number;
  grades: Record<Grade, number>;
  pass: number;
  fail: number;
}

function emptyTally(): Tally {
  return {
    reads: 0,
    textReads: 0,
    legibleChars: 0,
    gearPresent: 0,
    matches: 0,
    grades: { A: 0, B: 0, C: 0, D: 0, F: 0 },
    pass: 0,
    fail: 0,
  };
}

/** The tallies as plain data, for the QA checkpoint. */
export type StatsSnapshot = Record<StatsDimension, [string, Tally][]>;

export class ReadStatistics {
  private readonly tallies = new Map<StatsDimension, Map<string, Tally>>(
    STATS_DIMENSIONS.map((d) => [d, new Map()]),
  );

  snapshot(): StatsSnapshot {
    const out = {} as StatsSnapshot;
    for (const by of STATS_DIMENSIONS) {
      out[by] = [...this.tallies.get(by)!].map(([k, t]) => [k, { ...t, grades: { ...t.grades } }]);
    }
    return out;
  }

  static fromSnapshot(s: StatsSnapshot): ReadStatistics {
    const stats = new ReadStatistics();
    for (const by of STATS_DIMENSIONS) {
      const map = stats.tallies.get(by)!;
      for (const [k, t] of s[by] ?? [])
        map.set(k, { ...emptyTally(), ...t, grades: { ...emptyTally().grades, ...t.grades } });
    }
    return stats;
  }

  private tally(by: StatsDimension, key: string): Tally {
    const map = this.tallies.get(by)!;
    let t = map.get(key);
    if (!t) {
      t = emptyTally();
      map.set(key, t);
    }
    return t;
  }

  addRead(read: StoredRead): void {
    const d = read.decode;
    for (const by of STATS_DIMENSIONS) {
      const t = this.tally(by, keyOf(read, by));
      t.reads++;
      if (read.text !== undefined) {
        t.textReads++;
        t.legibleChars += TEXT_LENGTH - d.illegibleChars;
      }
      if (d.illegibleTeeth !== null && d.illegibleTeeth < GEAR_LENGTH) t.gearPresent++;
      if (d.matches) t.matches++;
      t.grades[d.grade]++;
    }
  }

  addVerdict(result: 'pass' | 'fail', reads: readonly StoredRead[]): void {
    for (const by of STATS_DIMENSIONS) {
      for (const key of new Set(reads.map((r) => keyOf(r, by)))) this.tally(by, key)[result]++;
    }
  }

  /** One row per value of the dimension, by value. */
  rows(by: StatsDimension): StatsRow[] {
    const map = this.tallies.get(by);
    if (!map) {
      throw new StamplineError(
        'INVALID_INPUT',
        `statistics group by ${STATS_DIMENSIONS.join(', ')}, not ${JSON.stringify(by)}`,
        { by, problems: [{ path: 'by', reason: `must be one of ${STATS_DIMENSIONS.join(', ')}` }] },
      );
    }
    return [...map.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, t]) => ({
        key,
        reads: t.reads,
        charLegibility: t.textReads === 0 ? 0 : t.legibleChars / (t.textReads * TEXT_LENGTH),
        gearPresent: t.reads === 0 ? 0 : t.gearPresent / t.reads,
        decodeRate: t.reads === 0 ? 0 : t.matches / t.reads,
        grades: { ...t.grades },
        verdicts: { pass: t.pass, fail: t.fail },
      }));
  }
}
