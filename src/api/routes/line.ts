/** The line's status and the operator's engraver reset. */

import type { EngraverStatus } from '../../engraver/types.js';
import { recentRepairs, type StoreRepair } from '../../store/repairs.js';
import { actorOf, requires } from '../auth/guard.js';
import { answers, emptyBodySchema, errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { engraverStatusSchema, lineStatusSchema } from '../schemas/line.js';
import type { Api, RouteDeps } from './context.js';

type LineStatus = ReturnType<RouteDeps['line']['status']> & { storeRepairs: StoreRepair[] };

export function lineRoutes(app: Api, { line }: RouteDeps): void {
  app.get(
    '/api/v1/line',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['line'],
        summary: 'The line: engraver link and state, the job in hand, a halt, the active orders',
        security: SECURED,
        response: { 200: answers<LineStatus>(lineStatusSchema), ...GUARDED_ERRORS },
      },
    },
    async () => ({ ...line.status(), storeRepairs: [...recentRepairs()] }),
  );

  app.post(
    '/api/v1/engraver/reset',
    {
      onRequest: requires('engraver.reset'),
      schema: {
        tags: ['line'],
        summary: 'Clear an engraver fault',
        description:
          'Resets the engraver (after the cause was dealt with) and lets faulted orders continue. Answers the engraver status after the reset.',
        security: SECURED,
        body: emptyBodySchema,
        response: {
          200: answers<EngraverStatus>(engraverStatusSchema),
          ...GUARDED_ERRORS,
          ...errorResponses(409, 503),
        },
      },
    },
    async (req) => line.resetEngraver(actorOf(req)),
  );
}
