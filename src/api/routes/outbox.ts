/** The registry outbox: what waits to be sent, and the operator's way out for a rejected record. */
import { z } from 'zod';
import { actorOf, requires } from '../auth/guard.js';
import { emptyBodySchema, errorResponses, GUARDED_ERRORS, SECURED } from '../schemas/common.js';
import { dismissBodySchema, outboxViewSchema, recordIdParams } from '../schemas/outbox.js';
import { type Api, missing, type RouteDeps } from './context.js';

export function outboxRoutes(app: Api, { outbox, audit }: RouteDeps): void {
  const held = () => outbox ?? missing('the registry outbox');

  app.get(
    '/api/v1/outbox',
    {
      onRequest: requires('view'),
      schema: {
        tags: ['outbox'],
        summary: 'Records waiting for the registry, and those it rejected',
        security: SECURED,
        response: { 200: outboxViewSchema, ...GUARDED_ERRORS },
      },
    },
    async () => {
      if (!outbox) return { depth: 0, pending: [], rejected: [], oldestPendingAt: null };
      return {
        depth: outbox.depth(),
        pending: outbox.pending(100),
        rejected: outbox.rejected(),
        oldestPendingAt: outbox.oldestPendingAt?.() ?? null,
      } as z.infer<typeof outboxViewSchema>;
    },
  );

  app.post(
    '/api/v1/outbox/:id/retry',
    {
      onRequest: requires('outbox.retry'),
      schema: {
        tags: ['outbox'],
        summary: 'Send a rejected record again',
        description: 'After the cause was fixed at the registry. Audited.',
        security: SECURED,
        params: recordIdParams,
        body: emptyBodySchema,
        response: {
          200: z.object({ recordId: z.string(), retried: z.literal(true) }),
          ...GUARDED_ERRORS,
          ...errorResponses(404, 409, 503),
        },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      await held().retry(req.params.id, actor);
      await audit?.record({ actor, action: 'outbox.retry', subject: `record:${req.params.id}` });
      return { recordId: req.params.id, retried: true as const };
    },
  );

  app.post(
    '/api/v1/outbox/:id/dismiss',
    {
      onRequest: requires('outbox.dismiss'),
      schema: {
        tags: ['outbox'],
        summary: 'Give up on a rejected record, saying why',
        description: 'The record leaves the outbox for good; the reason goes to the log and the audit trail.',
        security: SECURED,
        params: recordIdParams,
        body: dismissBodySchema,
        response: {
          200: z.object({ recordId: z.string(), dismissed: z.literal(true) }),
          ...GUARDED_ERRORS,
          ...errorResponses(404, 409, 503),
        },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const reason = req.body.reason;
      await held().dismiss(req.params.id, reason, actor);
      await audit?.record({ actor, action: 'outbox.dismiss', subject: `record:${req.params.id}`, reason });
      return { recordId: req.params.id, dismissed: true as const };
    },
  );
}
