/**
 * CSV exports of Audit, Records and Statistics: the same rows as the JSON routes with the same
 * filters, parsed back by a CSV reader; a file name to save under; text that would run as a
 * formula in a spreadsheet is defused; and the statistics over a range of days and per shift.
 */
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvCell, csvFileName, csvText } from '../../src/api/export/csv.js';
import { dayOf } from '../../src/qa/index.js';
import { type Caller, engrave, useStation } from './support.js';

const s = useStation({ per: 'test', markingTimeMs: 0 });

const get = (url: string, who: Caller = 'user supervisor') =>
  s.api.app.inject({ method: 'GET', url, headers: s.api.as(who) });

function rowsOf(body: string): string[][] {
  expect(body.startsWith('\uFEFF'), 'starts with a UTF-8 byte-order mark').toBe(true);
  return parse(body.slice(1), { relaxColumnCount: false }) as string[][];
}

describe('CSV cells', () => {
  it('quote commas, quotes and line breaks, and defuse what a spreadsheet would run', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    for (const start of ['+', '-', '@', '\t']) expect(csvCell(`${start}1`)).toMatch(/^"?'/);
    expect(csvCell(-3)).toBe('-3');
    expect(csvCell(0.971)).toBe('0.971');
    expect(csvCell(null)).toBe('');
    expect(csvCell(Number.NaN)).toBe('');
    const text = csvText(['Name', 'Note'], [['Grüße', 'ünïcode ✓']]);
    expect(text).toBe('\uFEFFName,Note\r\nGrüße,ünïcode ✓\r\n');
    expect(csvFileName('records', 'order', 'A/1 "x"')).toBe('records-order-A_1_x_.csv');
  });
});

describe('GET /api/v1/audit.csv', () => {
  it('lists the entries the JSON route lists for the same filters, with a typed formula defused', async () => {
    await s.audit.record({ actor: 'sam', action: 'order.start', subject: 'order:A-1' });
    await s.audit.record({
      actor: 'sam',
      action: 'order.abort',
      subject: 'order:A-1',
      reason: '=1+2, said "the door"',
    });
    await s.audit.record({ actor: 'sam', action: 'order.start', subject: 'order:B-2' });
    const filter = 'subject=order%3AA-1&limit=50';
    const json = (await get(`/api/v1/audit?${filter}`)).json().entries as Array<Record<string, unknown>>;
    expect(json.map((e) => e.action)).toEqual(['order.abort', 'order.start']);

    const res = await get(`/api/v1/audit.csv?${filter}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="audit.csv"');
    const [header, ...rows] = rowsOf(res.body);
    expect(header).toEqual([
      'Seq',
      'Time',
      'Actor',
      'Action',
      'Subject',
      'Reason',
      'Before',
      'After',
      'Hash',
    ]);
    expect(rows.map((r) => Number(r[0]))).toEqual(json.map((e) => e.seq));
    expect(rows.map((r) => r[3])).toEqual(json.map((e) => e.action));
    const abort = rows.find((r) => r[3] === 'order.abort')!;
    expect(abort[5]).toBe(`'=1+2, said "the door"`);

    // The trail's filters are instants; a bare day is its UTC midnight.
    const day = new Date().toISOString().slice(0, 10);
    const named = await get(`/api/v1/audit.csv?from=${day}&to=${day}T23:59:59Z&limit=1`);
    expect(named.headers['content-disposition']).toBe(`attachment; filename="audit-${day}-${day}.csv"`);
    expect(rowsOf(named.body)).toHaveLength(2);
  });

  it('is refused to a role that may not read the trail, and names a bad filter', async () => {
    const qa = await get('/api/v1/audit.csv', 'user qa');
    expect(qa.statusCode).toBe(403);
    const bad = await get('/api/v1/audit.csv?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().problems[0].path).toBe('from');
  });
});

describe('GET /api/v1/records.csv', () => {
  it('has one row per firearm the search finds', async () => {
    const codes = await engrave(s, 'A-1', ['S1', 'S2']);
    const res = await get('/api/v1/records.csv?order=A-1', 'user qa');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="records-order-A-1.csv"');
    const [header, ...rows] = rowsOf(res.body);
    expect(header!.slice(0, 6)).toEqual(['Serial', 'Order', 'Make', 'Model', 'State', 'Code']);
    expect(rows.map((r) => [r[0], r[1], r[4], r[5]])).toEqual(
      ['S1', 'S2'].map((serial) => {
        const t = codes.get(serial)!.text;
        return [serial, 'A-1', 'engraved', `${t.slice(0, 5)}-${t.slice(5)}`];
      }),
    );
    const none = rowsOf((await get('/api/v1/records.csv?serial=NOPE')).body);
    expect(none).toHaveLength(1);
  });
});

describe('statistics over a range of days, and the trend', () => {
  it('counts only the days asked for, and puts engraving and QA in their day and shift', async () => {
    const codes = await engrave(s, 'A-1', ['S1', 'S2']);
    const { text, gear } = codes.get('S1')!;
    const federal = { brand: 'Federal', lacquered: false };
    for (let i = 0; i < 2; i++) {
      const r = await s.api.app.inject({
        method: 'POST',
        url: '/api/v1/qa/reads',
        headers: s.api.as('user qa'),
        payload: { serial: 'S1', text, gear, ammo: federal },
      });
      expect(r.statusCode).toBe(201);
    }
    const today = dayOf(Date.now());
    const yesterday = dayOf(Date.now() - 86_400_000 * 2);
    const all = (await get('/api/v1/stats?by=ammo')).json();
    expect(all.rows).toEqual([
      expect.objectContaining({ key: 'Federal', reads: 2, verdicts: { pass: 1, fail: 0 } }),
    ]);
    const same = (await get(`/api/v1/stats?by=ammo&from=${today}&to=${today}`)).json();
    expect(same.rows).toEqual(all.rows);
    const before = (await get(`/api/v1/stats?by=ammo&from=${yesterday}&to=${yesterday}`)).json();
    expect(before).toEqual({ by: 'ammo', from: yesterday, to: yesterday, rows: [] });

    const csv = await get(`/api/v1/stats.csv?by=ammo&from=${today}&to=${today}`);
    expect(csv.headers['content-disposition']).toBe(
      `attachment; filename="statistics-ammo-${today}-${today}.csv"`,
    );
    expect(rowsOf(csv.body)[1]!.slice(0, 7)).toEqual(['Federal', '2', '1', '1', '1', '1', '0']);

    const week = (await get(`/api/v1/stats/trend?to=${today}`)).json();
    expect(week.rows).toHaveLength(7);
    expect(week.rows.at(-1)).toMatchObject({
      day: today,
      engraved: 2,
      reads: 2,
      passed: 1,
      failed: 0,
      passRate: 1,
    });
    expect(
      week.rows
        .slice(0, 6)
        .every((r: { engraved: number; passRate: null }) => r.engraved === 0 && r.passRate === null),
    ).toBe(true);

    const shifts = (await get(`/api/v1/stats/trend?from=${today}&to=${today}&per=shift`)).json().rows;
    expect(shifts.map((r: { shift: string }) => r.shift)).toEqual(['early', 'late', 'night']);
    const hour = new Date().getHours();
    const now = hour >= 6 && hour < 14 ? 'early' : hour >= 14 && hour < 22 ? 'late' : 'night';
    const holding = shifts.filter((r: { engraved: number }) => r.engraved > 0);
    // Before 06:00 the work belongs to yesterday's night shift.
    expect(holding.map((r: { shift: string }) => r.shift)).toEqual(hour < 6 ? [] : [now]);

    const trendCsv = await get(`/api/v1/stats/trend.csv?from=${today}&to=${today}&per=shift`);
    expect(trendCsv.headers['content-disposition']).toBe(
      `attachment; filename="trend-shift-${today}-${today}.csv"`,
    );
    expect(rowsOf(trendCsv.body).map((r) => r[1])).toEqual(['Shift', 'early', 'late', 'night']);

    const tooLong = await get('/api/v1/stats/trend?from=2020-01-01&to=2025-01-01');
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().problems[0]).toMatchObject({ path: 'from' });
  });
});
