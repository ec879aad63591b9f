/** The line's alarms: what is active, the journal of raises, acknowledgements and clears, and the acknowledgement. */
import { z } from 'zod';
import { ALARM_KINDS, type Alarm, SEVERITIES } from '../../alarms/model.js';
import type { AlarmEvent } from '../../alarms/service.js';
import { actorOf, requires } from '../auth/guard.js';
import { emptyBodySchema, errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { type Api, missing } from './context.js';

/** The alarm service as the API uses it (src/alarms/service.ts). */
export interface AlarmsApi {
  active(): Alarm[];
  page(opts: { before?: number; limit: number }): { alarms: Alarm[]; next: number | null };
  acknowledge(id: number, by: string): Promise<Alarm>;
  raisedCounts(): ReadonlyMap<string, number>;
  on(event: 'alarm', listener: (e: AlarmEvent) => void): unknown;
  off(event: 'alarm', listener: (e: AlarmEvent) => void): unknown;
}

export const alarmSchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(ALARM_KINDS),
    key: z.string().describe('one alarm of a key is active at a time: the kind, or the log a repair was in'),
    severity: z.enum(SEVERITIES),
    message: z.string().describe('for an operator: what is wrong and what to do'),
    raisedAt: z.string(),
    acknowledgedAt: z.string().nullable(),
    acknowledgedBy: z.string().nullable(),
    clearedAt: z.string().nullable(),
  })
  .describe('An alarm: raised, maybe acknowledged by a person, and cleared when its condition ends.');

const alarmsQuery = z.strictObject({
  before: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe('journal alarms with an id below this: the next page (`next` of the last answer)'),
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('journal alarms per page'),
});

const alarmIdParams = z.strictObject({
  id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).describe('the alarm id'),
});

/** The service audits each acknowledgement itself, once its journal holds it. */
export function alarmRoutes(app: Api, { alarms }: { alarms?: AlarmsApi }): void {
  app.get(
    '/api/v1/alarms',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['alarms'],
        summary: 'The active alarms, and a page of the alarm journal',
        description:
          '`active`: most severe first, then oldest. `journal`: every alarm kept, newest first, with when it was raised, acknowledged (by whom) and cleared.',
        security: SECURED,
        querystring: alarmsQuery,
        response: {
          200: z.object({
            active: z.array(alarmSchema),
            journal: z.array(alarmSchema),
            next: z.number().int().nullable().describe('`before` for the next page; null on the last'),
          }),
          ...GUARDED_ERRORS,
        },
      },
    },
    async (req) => {
      if (!alarms) return { active: [], journal: [], next: null };
      const page = alarms.page({
        limit: req.query.limit,
        ...(req.query.before ? { before: req.query.before } : {}),
      });
      return { active: alarms.active(), journal: page.alarms, next: page.next };
    },
  );

  app.post(
    '/api/v1/alarms/:id/ack',
    {
      onRequest: requires('alarms.ack'),
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge an active alarm: a person has seen it',
        description:
          'Does not clear it: an alarm clears when its condition ends (a store repair, which has none, clears here). Audited as alarm.acknowledge.',
        security: SECURED,
        params: alarmIdParams,
        body: emptyBodySchema,
        response: { 200: alarmSchema, ...GUARDED_ERRORS, ...errorResponses(404, 409, 503) },
      },
    },
    async (req) => {
      const service = alarms ?? missing('the alarm service');
      return service.acknowledge(req.params.id, actorOf(req));
    },
  );
}
