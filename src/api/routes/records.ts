/** Records: find firearms by serial, code or order, and a firearm's full history. */
import { z } from 'zod';
import { requires } from '../auth/guard.js';
import { CSV_RESPONSE, csvFileName, sendCsv } from '../export/csv.js';
import { recordsCsv } from '../export/tables.js';
import {
  answers,
  errorResponses,
  GUARDED_ERRORS,
  SECURED,
  serializeUnchecked,
  serialParams,
} from '../schemas/common.js';
import { firearmRecordSchema } from '../schemas/qa.js';
import { type Api, type FirearmRecord, missing, type RouteDeps } from './context.js';

const recordsQuery = z
  .strictObject({
    serial: z.string().trim().min(1).max(32).optional().describe('a firearm serial'),
    code: z.string().trim().min(1).max(32).optional().describe('a code, current or voided'),
    order: z.string().trim().min(1).max(64).optional().describe('an order id'),
  })
  .superRefine((q, ctx) => {
    const given = (['serial', 'code', 'order'] as const).filter((k) => q[k] !== undefined);
    if (given.length === 0)
      ctx.addIssue({ code: 'custom', path: ['serial'], message: 'give one of serial, code or order' });
    for (const k of given.slice(1))
      ctx.addIssue({
        code: 'custom',
        path: [k],
        message: `give only one of serial, code or order, not ${given.join(' and ')}`,
      });
  });

export function recordRoutes(app: Api, { qa }: RouteDeps): void {
  const service = () => qa ?? missing('QA');

  app.get(
    '/api/v1/records',
    {
      onRequest: requires('view'),
      serializerCompiler: serializeUnchecked,
      schema: {
        tags: ['records'],
        summary: 'Find firearm records by serial, code (voided codes too) or order',
        security: SECURED,
        querystring: recordsQuery,
        response: {
          200: answers<{ results: FirearmRecord[] }>(z.object({ results: z.array(firearmRecordSchema) })),
          ...GUARDED_ERRORS,
          ...errorResponses(503),
        },
      },
    },
    async (req) => ({ results: await service().records(req.query) }),
  );

  app.get(
    '/api/v1/records.csv',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['records'],
        summary: 'The firearm records of `GET /api/v1/records` as a CSV file, one row per firearm',
        security: SECURED,
        querystring: recordsQuery,
        response: { 200: CSV_RESPONSE, ...GUARDED_ERRORS, ...errorResponses(503) },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const [kind, value] = (['serial', 'code', 'order'] as const)
        .filter((k) => q[k] !== undefined)
        .map((k) => [k, q[k]!] as const)[0]!;
      return sendCsv(reply, csvFileName('records', kind, value), recordsCsv(await service().records(q)));
    },
  );

  app.get(
    '/api/v1/records/:serial',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['records'],
        summary: "A firearm's record: order, codes (voided too), history, recipe, reads and verdict",
        security: SECURED,
        params: serialParams,
        response: {
          200: answers<FirearmRecord>(firearmRecordSchema),
          ...GUARDED_ERRORS,
          ...errorResponses(404, 503),
        },
      },
    },
    async (req) => service().firearm(req.params.serial),
  );
}
