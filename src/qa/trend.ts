/**
 * Trends of the line per day or shift: pins engraved and pins scrapped at the engraver (from
 * the orders worked on in the range), cases read, codes passed and failed at QA (from the QA
 * statistics), the pass rate and the pins scrapped in all.
 */
import type { Line } from '../line/line.js';
import { type Per, type Period, periodOf, periods } from './calendar.js';
import type { ReadStatistics } from './stats.js';

export interface TrendRow {
  /** `2025-03-01`, or `2025-03-01 early` */
  period: string;
  day: string;
  shift?: string;
  /** ISO times of the period's start and end (exclusive) */
  start: string;
  end: string;
  /** pins marked in the period (a reworked firearm's new pin counts again) */
  engraved: number;
  /** cases read at QA */
  reads: number;
  passed: number;
  failed: number;
  /** passed / (passed + failed); null when QA decided nothing */
  passRate: number | null;
  /** pins scrapped: voided after marking began at the engraver, and failed at QA */
  scrapped: number;
}

/** The longest range a trend covers, in days. */
export const MAX_TREND_DAYS = 366;

export type TrendLine = Pick<Line, 'listOrders' | 'orderView'>;

export async function trend(
  line: TrendLine,
  stats: ReadStatistics,
  range: { from: string; to: string; per: Per },
): Promise<TrendRow[]> {
  const list = periods(range.from, range.to, range.per);
  const start = list[0]!.start;
  const end = list.at(-1)!.end;
  const rows = new Map<Period, TrendRow>(
    list.map((p) => [
      p,
      {
        period: p.key,
        day: p.day,
        ...(p.shift !== undefined ? { shift: p.shift } : {}),
        start: new Date(p.start).toISOString(),
        end: new Date(p.end).toISOString(),
        engraved: 0,
        reads: 0,
        passed: 0,
        failed: 0,
        passRate: null,
        scrapped: 0,
      },
    ]),
  );
  const at = (iso: string | undefined): TrendRow | undefined => {
    if (iso === undefined) return undefined;
    const p = periodOf(list, Date.parse(iso));
    return p ? rows.get(p) : undefined;
  };
  // Pins are marked only while their order runs: the orders started before the end and not
  // finished before the start hold every pin marked or scrapped at the engraver in the range.
  for (const h of await line.listOrders()) {
    if (h.startedAt === undefined || Date.parse(h.startedAt) >= end) continue;
    if (h.finishedAt !== undefined && Date.parse(h.finishedAt) < start) continue;
    const { firearms } = await line.orderView(h.id);
    for (const f of firearms) {
      // Every pin marked is a step into `engraved` in the firearm's history, a reworked one's
      // too; a QA pass is noted as a step that stays there.
      let before: string | undefined;
      for (const step of f.history) {
        const row = step.state === 'engraved' && before !== 'engraved' ? at(step.at) : undefined;
        if (row) row.engraved++;
        before = step.state;
      }
      for (const v of f.voided) {
        if (!v.pinScrapped || v.qa) continue;
        const r = at(v.voidedAt);
        if (r) r.scrapped++;
      }
    }
  }
  for (const [hour, t] of stats.hourly(start, end)) {
    const p = periodOf(list, hour);
    const row = p && rows.get(p);
    if (!row) continue;
    row.reads += t.reads;
    row.passed += t.pass;
    row.failed += t.fail;
    row.scrapped += t.fail;
  }
  for (const row of rows.values()) {
    const decided = row.passed + row.failed;
    row.passRate = decided === 0 ? null : row.passed / decided;
  }
  return [...rows.values()];
}
