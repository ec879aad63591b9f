/** The line's status and the operator's engraver reset. */

import type { EngraverStatus } from '../../engraver/types.js';
import { recentRepairs, type StoreRepair } from '../../store/repairs.js';
import { actorOf, requires } from '../auth/guard.js';
import {
  answers,
  emptyBodySchema,
  errorResponses,
  GUARDED_ERRORS,
  SECURED,
  serializeUnchecked,
} from '../schemas/common.js';
import { ACTIVE_PAGE, engraverStatusSchema, lineStatusSchema } from '../schemas/line.js';
import type { Api, RouteDeps } from './context.js';

type LineStatus = ReturnType<RouteDeps['line']['summary']> & { storeRepairs: StoreRepair[] };

export function lineRoutes(app: Api, { line }: RouteDeps): void {
  app.get(
    '/api/v1/line',
    {
      onRequest: requires('view'),
      // Asked by every screen and client, often: JSON.stringify alone, without the check against
      // the schema, which cost four times the encoding (the handler is typed against it instead).
      serializerCompiler: serializeUnchecked,
      schema: {
        tags: ['line'],
        summary:
          'The line: engraver link and state, the job in hand, a halt, the active orders (counts and a first page)',
        security: SECURED,
        response: { 200: answers<LineStatus>(lineStatusSchema), ...GUARDED_ERRORS },
      },
    },
    async () => ({ ...line.summary(ACTIVE_PAGE), storeRepairs: [...recentRepairs()] }),
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
