/**
 * Statistics of case reads, kept in memory as reads and verdicts arrive (and rebuilt from the
 * read log at start-up): how legible stamps are, and how well they decode, by ammunition,
 * primer lacquer, engraver, recipe and firearm model, per day of the line's calendar (its time
 * zone), so that any range of days can be asked for; and the verdicts per hour, for trends per
 * day or shift.
 *
 * A verdict counts once for each value of the dimension among the reads it rests on: a pass
 * resting on cases of two brands counts as a pass for both. It counts on the day it was taken.
 */
import { GEAR_LENGTH, type Grade, TEXT_LENGTH } from '../codes/index.js';
import { StamplineError } from '../errors.js';
import { type DayRange, dayOf, hourStart, inRange } from './calendar.js';
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

/** What QA did in one hour: cases read, and codes passed and failed. */
export interface HourTally {
  reads: number;
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

function addTally(into: Tally, t: Tally): void {
  into.reads += t.reads;
  into.textReads += t.textReads;
  into.legibleChars += t.legibleChars;
  into.gearPresent += t.gearPresent;
  into.matches += t.matches;
  into.pass += t.pass;
  into.fail += t.fail;
  for (const g of Object.keys(into.grades) as Grade[]) into.grades[g] += t.grades[g] ?? 0;
}

/** The tallies as plain data, for the QA checkpoint: `[value, day, tally]` per dimension, and the hours. */
export interface StatsSnapshot {
  days: Record<StatsDimension, [string, string, Tally][]>;
  hours: [number, HourTally][];
}

export class ReadStatistics {
  /** dimension → value → day (`YYYY-MM-DD`) → tally */
  private readonly tallies = new Map<StatsDimension, Map<string, Map<string, Tally>>>(
    STATS_DIMENSIONS.map((d) => [d, new Map()]),
  );
  /** start of a local hour (ms since the epoch) → what QA did in that hour */
  private readonly hours = new Map<number, HourTally>();

  snapshot(): StatsSnapshot {
    const days = {} as StatsSnapshot['days'];
    for (const by of STATS_DIMENSIONS) {
      const out: [string, string, Tally][] = [];
      for (const [key, perDay] of this.tallies.get(by)!)
        for (const [day, t] of perDay) out.push([key, day, { ...t, grades: { ...t.grades } }]);
      days[by] = out;
    }
    return { days, hours: [...this.hours].map(([h, t]) => [h, { ...t }]) };
  }

  static fromSnapshot(s: StatsSnapshot): ReadStatistics {
    const stats = new ReadStatistics();
    for (const by of STATS_DIMENSIONS) {
      for (const [key, day, t] of s.days?.[by] ?? []) {
        const into = stats.tally(by, key, day);
        addTally(into, { ...emptyTally(), ...t, grades: { ...emptyTally().grades, ...t.grades } });
      }
    }
    for (const [h, t] of s.hours ?? [])
      stats.hours.set(h, { reads: t.reads ?? 0, pass: t.pass ?? 0, fail: t.fail ?? 0 });
    return stats;
  }

  private tally(by: StatsDimension, key: string, day: string): Tally {
    const byKey = this.tallies.get(by)!;
    let perDay = byKey.get(key);
    if (!perDay) {
      perDay = new Map();
      byKey.set(key, perDay);
    }
    let t = perDay.get(day);
    if (!t) {
      t = emptyTally();
      perDay.set(day, t);
    }
    return t;
  }

  private hour(at: string): HourTally {
    const h = hourStart(at);
    let t = this.hours.get(h);
    if (!t) {
      t = { reads: 0, pass: 0, fail: 0 };
      this.hours.set(h, t);
    }
    return t;
  }

  addRead(read: StoredRead): void {
    const d = read.decode;
    const day = dayOf(read.at);
    for (const by of STATS_DIMENSIONS) {
      const t = this.tally(by, keyOf(read, by), day);
      t.reads++;
      if (read.text !== undefined) {
        t.textReads++;
        t.legibleChars += TEXT_LENGTH - d.illegibleChars;
      }
      if (d.illegibleTeeth !== null && d.illegibleTeeth < GEAR_LENGTH) t.gearPresent++;
      if (d.matches) t.matches++;
      t.grades[d.grade]++;
    }
    this.hour(read.at).reads++;
  }

  /** A decision taken at `at` on the reads it rests on. */
  addVerdict(result: 'pass' | 'fail', reads: readonly StoredRead[], at: string): void {
    const day = dayOf(at);
    for (const by of STATS_DIMENSIONS) {
      for (const key of new Set(reads.map((r) => keyOf(r, by)))) this.tally(by, key, day)[result]++;
    }
    this.hour(at)[result]++;
  }

  /** What QA did in each local hour starting in `[from, to)` (ms) that saw any of it, by the hour's start. */
  hourly(from: number, to: number): [number, HourTally][] {
    const out: [number, HourTally][] = [];
    for (const [h, t] of this.hours) if (h >= from && h < to) out.push([h, { ...t }]);
    return out.sort((a, b) => a[0] - b[0]);
  }

  /** One row per value of the dimension seen in the range of days (every day without one), by value. */
  rows(by: StatsDimension, range: DayRange = {}): StatsRow[] {
    const map = this.tallies.get(by);
    if (!map) {
      throw new StamplineError(
        'INVALID_INPUT',
        `statistics group by ${STATS_DIMENSIONS.join(', ')}, not ${JSON.stringify(by)}`,
        { by, problems: [{ path: 'by', reason: `must be one of ${STATS_DIMENSIONS.join(', ')}` }] },
      );
    }
    const rows: StatsRow[] = [];
    for (const [key, perDay] of map) {
      const t = emptyTally();
      let seen = false;
      for (const [day, d] of perDay) {
        if (!inRange(day, range)) continue;
        addTally(t, d);
        seen = true;
      }
      if (!seen) continue;
      rows.push({
        key,
        reads: t.reads,
        charLegibility: t.textReads === 0 ? 0 : t.legibleChars / (t.textReads * TEXT_LENGTH),
        gearPresent: t.reads === 0 ? 0 : t.gearPresent / t.reads,
        decodeRate: t.reads === 0 ? 0 : t.matches / t.reads,
        grades: { ...t.grades },
        verdicts: { pass: t.pass, fail: t.fail },
      });
    }
    return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}
