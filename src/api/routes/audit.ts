/** The audit trail, for supervisors: who did what, and whether the chain of entries still verifies. */
import { z } from 'zod';
import type { AuditEntry, AuditVerifyResult } from '../../store/audit.js';
import { requires } from '../auth/guard.js';
import { CSV_RESPONSE, csvFileName, sendCsv } from '../export/csv.js';
import { auditCsv } from '../export/tables.js';
import { answers, errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { type Api, type AuditApi, missing, type RouteDeps } from './context.js';

const instant = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)), {
  error: 'must be an ISO 8601 date or time, e.g. 2025-03-01 or 2025-03-01T08:00:00Z',
});

const auditQuery = z
  .strictObject({
    actor: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe('exactly this actor: a user name, or erp, operator, qa, line'),
    action: z.string().min(1).max(512).optional().describe('exactly this action, e.g. order.start'),
    subject: z.string().min(1).max(512).optional().describe('exactly this subject, e.g. order:A-1'),
    from: instant.optional().describe('entries at or after this time'),
    to: instant.optional().describe('entries at or before this time'),
    before: z.coerce
      .number()
      .int()
      .min(1)
      .optional()
      .describe('entries with a seq below this: the next page'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .refine((q) => q.from === undefined || q.to === undefined || Date.parse(q.from) <= Date.parse(q.to), {
    error: 'must not be after `to`',
    path: ['from'],
  });

const auditEntrySchema = z.looseObject({
  seq: z.number().int(),
  time: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  reason: z.string().nullable(),
  prev: z.string(),
  hash: z.string(),
});

const verifySchema = z.union([
  z.object({ ok: z.literal(true), count: z.number().int(), head: z.string() }),
  z.object({
    ok: z.literal(false),
    count: z.number().int(),
    firstBad: z.looseObject({ seq: z.number(), segment: z.number(), line: z.number(), reason: z.string() }),
  }),
]);

/** Entries asked for per scan when a time window filters them: the trail itself only pages by seq. */
const PAGE = 500;

type Query = z.infer<typeof auditQuery>;

/** Newest first. Entries are written in time order, so the scan stops at the first one before `from`. */
async function search(trail: Required<Pick<AuditApi, 'query'>>, q: Query): Promise<AuditEntry[]> {
  const base = { actor: q.actor, action: q.action, subject: q.subject };
  if (q.from === undefined && q.to === undefined)
    return trail.query({ ...base, limit: q.limit, before: q.before });
  const from = q.from === undefined ? undefined : Date.parse(q.from);
  const to = q.to === undefined ? undefined : Date.parse(q.to);
  const out: AuditEntry[] = [];
  let before = q.before;
  for (;;) {
    const batch = await trail.query({ ...base, limit: PAGE, before });
    for (const e of batch) {
      const t = Date.parse(e.time);
      if (to !== undefined && t > to) continue;
      if (from !== undefined && t < from) return out;
      out.push(e);
      if (out.length >= q.limit) return out;
    }
    if (batch.length < PAGE) return out;
    before = batch.at(-1)!.seq;
  }
}

export function auditRoutes(app: Api, { audit }: RouteDeps): void {
  app.get(
    '/api/v1/audit',
    {
      onRequest: requires('audit.read'),
      schema: {
        tags: ['audit'],
        summary: 'Audit entries, newest first',
        description:
          'Filters are exact matches; `from` and `to` bound the time. Page back with `before` set to the smallest `seq` of the previous page.',
        security: SECURED,
        querystring: auditQuery,
        response: {
          200: answers<{ entries: AuditEntry[] }>(z.object({ entries: z.array(auditEntrySchema) })),
          ...GUARDED_ERRORS,
          ...errorResponses(503),
        },
      },
    },
    async (req) => {
      const query = audit?.query?.bind(audit) ?? missing('the audit trail');
      return { entries: await search({ query }, req.query) };
    },
  );

  app.get(
    '/api/v1/audit.csv',
    {
      onRequest: requires('audit.read'),
      schema: {
        tags: ['audit'],
        summary: 'The audit entries of `GET /api/v1/audit` as a CSV file, newest first',
        description:
          'The same filters and page as `GET /api/v1/audit`; `before` and `after` are JSON in their cells.',
        security: SECURED,
        querystring: auditQuery,
        response: { 200: CSV_RESPONSE, ...GUARDED_ERRORS, ...errorResponses(503) },
      },
    },
    async (req, reply) => {
      const query = audit?.query?.bind(audit) ?? missing('the audit trail');
      const entries = await search({ query }, req.query);
      const day = (s: string | undefined) => (s === undefined ? '' : s.slice(0, 10));
      return sendCsv(reply, csvFileName('audit', day(req.query.from), day(req.query.to)), auditCsv(entries));
    },
  );

  app.get(
    '/api/v1/audit/verify',
    {
      onRequest: requires('audit.read'),
      schema: {
        tags: ['audit'],
        summary: 'Check every entry of the trail against its hash and the chain',
        description: '`ok: false` names the first entry that does not verify.',
        security: SECURED,
        response: {
          200: answers<AuditVerifyResult>(verifySchema),
          ...GUARDED_ERRORS,
          ...errorResponses(503),
        },
      },
    },
    async () => (audit?.verify ? audit.verify() : missing('the audit trail')),
  );
}
