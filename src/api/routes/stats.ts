/** Statistics of the reads: how well stamps transfer, by ammunition, lacquer, engraver, recipe and model. */
import { z } from 'zod';
import type { StatsDimension, StatsRow } from '../../qa/types.js';
import { requires } from '../auth/guard.js';
import { answers, errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { statsDimensionSchema, statsRowSchema } from '../schemas/qa.js';
import { type Api, missing, type RouteDeps } from './context.js';

export function statsRoutes(app: Api, { qa }: RouteDeps): void {
  const service = () => qa ?? missing('QA');

  app.get(
    '/api/v1/stats',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['stats'],
        summary: 'Legibility, grades and verdicts of the reads, grouped by one dimension',
        security: SECURED,
        querystring: z.strictObject({ by: statsDimensionSchema.default('ammo') }),
        response: {
          200: answers<{ by: StatsDimension; rows: StatsRow[] }>(
            z.object({ by: statsDimensionSchema, rows: z.array(statsRowSchema) }),
          ),
          ...GUARDED_ERRORS,
          ...errorResponses(503),
        },
      },
    },
    async (req) => ({ by: req.query.by, rows: service().statistics(req.query.by) }),
  );
}
