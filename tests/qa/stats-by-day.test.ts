/**
 * The statistics' calendar: reads counted on their local day, ranges of days, shifts that cross
 * midnight, and the per-day tallies kept whole through a checkpoint snapshot.
 */
import { describe, expect, it } from 'vitest';
import { addDays, dayOf, isDay, periodOf, periods } from '../../src/qa/calendar.js';
import { type Per, ReadStatistics, type StoredRead } from '../../src/qa/index.js';

const local = (y: number, m: number, d: number, h: number, min = 0) =>
  new Date(y, m - 1, d, h, min).toISOString();

function readAt(at: string, id: number, brand: string, matches: boolean): StoredRead {
  return {
    id,
    at,
    by: 'qa',
    serial: `S${id}`,
    orderId: 'A-1',
    code: { index: id, text: 'ABCDEFGHJK' },
    text: matches ? 'ABCDEFGHJK' : 'ABCDE?????',
    ammo: { brand, lacquered: false },
    make: 'Acme',
    model: 'P1',
    engraverId: 'e1',
    recipe: '500/30/200/2',
    decode: {
      ok: matches,
      matches,
      confident: matches,
      errors: 0,
      erasures: matches ? 0 : 5,
      uec: 0,
      grade: matches ? 'A' : 'F',
      illegibleChars: matches ? 0 : 5,
      illegibleTeeth: null,
    },
  };
}

describe('the calendar of the statistics', () => {
  it('knows real days, and steps over month ends', () => {
    expect(isDay('2025-02-28')).toBe(true);
    expect(isDay('2025-02-29')).toBe(false);
    expect(isDay('2024-02-29')).toBe(true);
    expect(isDay('2025-3-1')).toBe(false);
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addDays('2025-03-01', -1)).toBe('2025-02-28');
    expect(dayOf(local(2025, 3, 1, 23, 59))).toBe('2025-03-01');
  });

  it('gives the night shift the hours after midnight, on the day it started', () => {
    const list = periods('2025-03-01', '2025-03-02', 'shift' as Per);
    expect(list.map((p) => p.key)).toEqual([
      '2025-03-01 early',
      '2025-03-01 late',
      '2025-03-01 night',
      '2025-03-02 early',
      '2025-03-02 late',
      '2025-03-02 night',
    ]);
    const at = (iso: string) => periodOf(list, Date.parse(iso))?.key;
    expect(at(local(2025, 3, 1, 5, 59))).toBeUndefined();
    expect(at(local(2025, 3, 1, 6))).toBe('2025-03-01 early');
    expect(at(local(2025, 3, 1, 13, 59))).toBe('2025-03-01 early');
    expect(at(local(2025, 3, 1, 14))).toBe('2025-03-01 late');
    expect(at(local(2025, 3, 2, 2))).toBe('2025-03-01 night');
    expect(at(local(2025, 3, 2, 6))).toBe('2025-03-02 early');
    expect(at(local(2025, 3, 3, 5, 59))).toBe('2025-03-02 night');
    expect(at(local(2025, 3, 3, 6))).toBeUndefined();
    expect(periods('2025-03-01', '2025-03-07', 'day').map((p) => p.day)).toHaveLength(7);
  });
});

describe('statistics per day', () => {
  it('count a range of days only, verdicts on the day they were taken, and survive a snapshot', () => {
    const stats = new ReadStatistics();
    const first = readAt(local(2025, 3, 1, 10), 1, 'Federal', true);
    const second = readAt(local(2025, 3, 2, 23, 30), 2, 'Federal', false);
    const third = readAt(local(2025, 3, 3, 0, 30), 3, 'Wolf', true);
    for (const r of [first, second, third]) stats.addRead(r);
    stats.addVerdict('pass', [first], local(2025, 3, 1, 10, 5));
    stats.addVerdict('fail', [second], local(2025, 3, 3, 0, 10));

    const all = stats.rows('ammo');
    expect(all.map((r) => [r.key, r.reads, r.decodeRate, r.verdicts])).toEqual([
      ['Federal', 2, 0.5, { pass: 1, fail: 1 }],
      ['Wolf', 1, 1, { pass: 0, fail: 0 }],
    ]);
    const day2 = stats.rows('ammo', { from: '2025-03-02', to: '2025-03-02' });
    expect(day2.map((r) => [r.key, r.reads, r.charLegibility, r.verdicts])).toEqual([
      ['Federal', 1, 0.5, { pass: 0, fail: 0 }],
    ]);
    const fromDay2 = stats.rows('ammo', { from: '2025-03-02' });
    expect(fromDay2.map((r) => [r.key, r.reads, r.verdicts])).toEqual([
      ['Federal', 1, { pass: 0, fail: 1 }],
      ['Wolf', 1, { pass: 0, fail: 0 }],
    ]);
    expect(stats.rows('ammo', { to: '2025-02-28' })).toEqual([]);

    const again = ReadStatistics.fromSnapshot(JSON.parse(JSON.stringify(stats.snapshot())));
    for (const range of [{}, { from: '2025-03-02', to: '2025-03-02' }, { from: '2025-03-02' }])
      expect(again.rows('model', range)).toEqual(stats.rows('model', range));
    const hour = (iso: string) => Date.parse(iso);
    const day3 = [hour(local(2025, 3, 3, 0)), hour(local(2025, 3, 4, 0))] as const;
    expect(again.hourly(...day3)).toEqual(stats.hourly(...day3));
    expect(stats.hourly(...day3)).toEqual([[hour(local(2025, 3, 3, 0)), { reads: 1, pass: 0, fail: 1 }]]);
  });
});
