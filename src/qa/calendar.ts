/**
 * The line's calendar for statistics: days (`YYYY-MM-DD`) and shifts in the time zone the daemon
 * runs in (the floor's clock), and hours since the epoch as the unit both are counted in.
 */

/** A range of days, both ends included; an absent end is open. */
export interface DayRange {
  from?: string;
  to?: string;
}

/** The shifts of a day, by the hour they start; the night shift ends at 06:00 the next day. */
export const SHIFTS: readonly { name: string; start: number; hours: number }[] = [
  { name: 'early', start: 6, hours: 8 },
  { name: 'late', start: 14, hours: 8 },
  { name: 'night', start: 22, hours: 8 },
];

export type Per = 'day' | 'shift';

/** One day or shift of a trend, as local times of its start and end (exclusive). */
export interface Period {
  /** `2025-03-01` for a day, `2025-03-01 early` for a shift */
  key: string;
  day: string;
  shift?: string;
  start: number;
  end: number;
}

const HOUR = 3_600_000;

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The local day of a time, `YYYY-MM-DD`. */
export function dayOf(at: string | number | Date): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * The start (ms since the epoch) of the local hour holding a time: the unit trends are counted
 * in, so that shifts starting on the hour of the line's clock hold whole hours, whatever its
 * offset from UTC.
 */
export function hourStart(at: string | number): number {
  const d = new Date(at);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours()).getTime();
}

export function inRange(day: string, r: DayRange): boolean {
  return (r.from === undefined || day >= r.from) && (r.to === undefined || day <= r.to);
}

/** Local midnight starting a `YYYY-MM-DD` day, `offset` days on. */
function midnight(day: string, offset = 0, hour = 0): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + offset, hour).getTime();
}

/** Whether `s` is a real calendar day written `YYYY-MM-DD`. */
export function isDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  return dayOf(midnight(s)) === s;
}

/** Days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): number {
  return Math.round((midnight(to) - midnight(from)) / (24 * HOUR)) + 1;
}

/** The day `n` days after `day` (before, when negative). */
export function addDays(day: string, n: number): string {
  return dayOf(midnight(day, n));
}

/** The days or shifts of a range of days, in time order. A shift belongs to the day it starts on. */
export function periods(from: string, to: string, per: Per): Period[] {
  const out: Period[] = [];
  const n = daysBetween(from, to);
  for (let i = 0; i < n; i++) {
    const day = addDays(from, i);
    if (per === 'day') {
      out.push({ key: day, day, start: midnight(day), end: midnight(day, 1) });
      continue;
    }
    for (const s of SHIFTS) {
      out.push({
        key: `${day} ${s.name}`,
        day,
        shift: s.name,
        start: midnight(day, 0, s.start),
        end: midnight(day, 0, s.start + s.hours),
      });
    }
  }
  return out;
}

/** The period holding a time, or undefined (periods sorted by start, as `periods` gives them). */
export function periodOf(list: readonly Period[], t: number): Period | undefined {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const p = list[mid]!;
    if (t < p.start) hi = mid - 1;
    else if (t >= p.end) lo = mid + 1;
    else return p;
  }
  return undefined;
}
