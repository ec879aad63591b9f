/**
 * Statistics of the reads (how well stamps transfer, by ammunition, lacquer, engraver, recipe
 * and model) over a range of days, the line's trend per day or shift, and both as CSV.
 */
import { z } from 'zod';
import { addDays, dayOf, daysBetween, isDay, MAX_TREND_DAYS, SHIFTS, type TrendRow } from '../../qa/index.js';
import type { StatsDimension, StatsRow } from '../../qa/types.js';
import { requires } from '../auth/guard.js';
import { CSV_RESPONSE, csvFileName, csvText, sendCsv } from '../export/csv.js';
import { answers, errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { statsDimensionSchema, statsRowSchema, trendRowSchema } from '../schemas/qa.js';
import { type Api, missing, type RouteDeps } from './context.js';

const day = z.string().refine(isDay, { error: 'must be a day written YYYY-MM-DD, e.g. 2025-03-01' });

const fromBeforeTo = (q: { from?: string | undefined; to?: string | undefined }) =>
  q.from === undefined || q.to === undefined || q.from <= q.to;

const statsQuery = z
  .strictObject({
    by: statsDimensionSchema.default('ammo'),
    from: day
      .optional()
      .describe('the first day counted (the line’s time zone); absent: from the first read'),
    to: day.optional().describe('the last day counted, included; absent: up to now'),
  })
  .refine(fromBeforeTo, { error: 'must not be after `to`', path: ['from'] });

const trendQuery = z
  .strictObject({
    from: day.optional().describe('the first day; absent: six days before `to`'),
    to: day.optional().describe('the last day, included; absent: today'),
    per: z.enum(['day', 'shift']).default('day').describe('one row per day, or per shift'),
  })
  .refine(fromBeforeTo, { error: 'must not be after `to`', path: ['from'] })
  .refine((q) => q.from === undefined || q.to === undefined || daysBetween(q.from, q.to) <= MAX_TREND_DAYS, {
    error: `a trend covers at most ${MAX_TREND_DAYS} days`,
    path: ['from'],
  });

type TrendQuery = z.infer<typeof trendQuery>;

function trendRange(q: TrendQuery): { from: string; to: string; per: 'day' | 'shift' } {
  const to = q.to ?? (q.from !== undefined ? addDays(q.from, 6) : dayOf(Date.now()));
  return { from: q.from ?? addDays(to, -6), to, per: q.per };
}

const DIMENSION_TITLE: Record<StatsDimension, string> = {
  ammo: 'Ammunition',
  lacquer: 'Lacquer',
  engraver: 'Engraver',
  recipe: 'Recipe',
  model: 'Model',
};

/** The table of the Statistics screen, as the screen shows it (shares as fractions 0..1). */
export function statsCsv(by: StatsDimension, rows: StatsRow[]): string {
  const grades = ['A', 'B', 'C', 'D', 'F'] as const;
  return csvText(
    [
      DIMENSION_TITLE[by],
      'Reads',
      'Characters legible',
      'Gear read',
      'Identified alone',
      'Passed',
      'Failed',
      ...grades.map((g) => `Grade ${g}`),
    ],
    rows.map((r) => [
      r.key,
      r.reads,
      r.charLegibility,
      r.gearPresent,
      r.decodeRate,
      r.verdicts.pass,
      r.verdicts.fail,
      ...grades.map((g) => r.grades[g] ?? 0),
    ]),
  );
}

export function trendCsv(rows: TrendRow[]): string {
  return csvText(
    ['Day', 'Shift', 'Start', 'End', 'Engraved', 'Cases read', 'Passed', 'Failed', 'Pass rate', 'Scrapped'],
    rows.map((r) => [
      r.day,
      r.shift ?? '',
      r.start,
      r.end,
      r.engraved,
      r.reads,
      r.passed,
      r.failed,
      r.passRate,
      r.scrapped,
    ]),
  );
}

const SHIFT_WORDS = SHIFTS.map((s) => `${s.name} from ${String(s.start).padStart(2, '0')}:00`).join(', ');

export function statsRoutes(app: Api, { qa }: RouteDeps): void {
  const service = () => qa ?? missing('QA');
  const rowsOf = (q: z.infer<typeof statsQuery>) =>
    service().statistics(q.by, {
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
    });

  app.get(
    '/api/v1/stats',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['stats'],
        summary:
          'Legibility, grades and verdicts of the reads, grouped by one dimension, over a range of days',
        security: SECURED,
        querystring: statsQuery,
        response: {
          200: answers<{ by: StatsDimension; from: string | null; to: string | null; rows: StatsRow[] }>(
            z.object({
              by: statsDimensionSchema,
              from: z.string().nullable(),
              to: z.string().nullable(),
              rows: z.array(statsRowSchema),
            }),
          ),
          ...GUARDED_ERRORS,
          ...errorResponses(503),
        },
      },
    },
    async (req) => ({
      by: req.query.by,
      from: req.query.from ?? null,
      to: req.query.to ?? null,
      rows: rowsOf(req.query),
    }),
  );

  app.get(
    '/api/v1/stats.csv',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['stats'],
        summary: 'The statistics of `GET /api/v1/stats` as a CSV file',
        security: SECURED,
        querystring: statsQuery,
        response: { 200: CSV_RESPONSE, ...GUARDED_ERRORS, ...errorResponses(503) },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const name = csvFileName('statistics', q.by, q.from ?? '', q.to ?? '');
      return sendCsv(reply, name, statsCsv(q.by, rowsOf(q)));
    },
  );

  app.get(
    '/api/v1/stats/trend',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['stats'],
        summary:
          'Pins engraved, cases read, codes passed and failed, pass rate and pins scrapped, per day or shift',
        description: `Days and shifts are in the line's time zone; the shifts are ${SHIFT_WORDS}, each belonging to the day it starts. A range covers at most ${MAX_TREND_DAYS} days.`,
        security: SECURED,
        querystring: trendQuery,
        response: {
          200: answers<{ from: string; to: string; per: 'day' | 'shift'; rows: TrendRow[] }>(
            z.object({
              from: z.string(),
              to: z.string(),
              per: z.enum(['day', 'shift']),
              rows: z.array(trendRowSchema),
            }),
          ),
          ...GUARDED_ERRORS,
          ...errorResponses(503),
        },
      },
    },
    async (req) => {
      const range = trendRange(req.query);
      return { ...range, rows: await service().trend(range) };
    },
  );

  app.get(
    '/api/v1/stats/trend.csv',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['stats'],
        summary: 'The trend of `GET /api/v1/stats/trend` as a CSV file',
        security: SECURED,
        querystring: trendQuery,
        response: { 200: CSV_RESPONSE, ...GUARDED_ERRORS, ...errorResponses(503) },
      },
    },
    async (req, reply) => {
      const range = trendRange(req.query);
      const rows = await service().trend(range);
      return sendCsv(reply, csvFileName('trend', range.per, range.from, range.to), trendCsv(rows));
    },
  );
}
