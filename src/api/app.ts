/**
 * The HTTP API, built by a factory so tests use `inject()` and the daemon listens. Every error
 * leaves as `{ error: { code, message, context } }` with the status from the error catalogue;
 * an invalid order also carries `problems`, each naming the field and the reason.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { parseOrder } from '../erp/order.js';
import { ERROR_CATALOGUE, StamplineError } from '../errors.js';
import type { AuditSink, Line } from '../line/line.js';

export type Role = 'erp' | 'operator';

export interface OutboxView {
  depth(): number;
  pending(limit?: number): unknown[];
  rejected(): unknown[];
  /** Sends a rejected record again (after the cause was fixed at the registry). */
  retry(recordId: string, by: string): Promise<void>;
  /** Gives up on a rejected record, with the operator's reason. */
  dismiss(recordId: string, reason: string, by: string): Promise<void>;
}

export interface ApiOptions {
  line: Line;
  tokens: { erp?: string; operator?: string };
  outbox?: OutboxView;
  health: () => { ok: boolean; checks: Record<string, unknown> };
  audit?: AuditSink;
  version: string;
  logger?: boolean | object;
}

declare module 'fastify' {
  interface FastifyRequest {
    actor?: string;
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function buildApp(opts: ApiOptions): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 32 * 1024 * 1024 });

  /** Bearer-token check: each role has its own token; a missing or wrong one is refused. */
  const requireRole =
    (...roles: Role[]) =>
    async (req: FastifyRequest) => {
      const header = req.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
      if (!token)
        throw new StamplineError('AUTH_REQUIRED', 'a bearer token is required (Authorization: Bearer ...)');
      for (const role of roles) {
        const expected = opts.tokens[role];
        if (expected && sameSecret(token, expected)) {
          req.actor = role;
          return;
        }
      }
      throw new StamplineError(
        'AUTH_FORBIDDEN',
        `this token may not do that; it needs the ${roles.join(' or ')} token`,
      );
    };

  app.setErrorHandler((err, req, reply: FastifyReply) => {
    if (err instanceof StamplineError) {
      const body: Record<string, unknown> = { error: err.toJSON() };
      if (Array.isArray(err.context.problems)) body.problems = err.context.problems;
      return reply.status(err.status).send(body);
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.statusCode && e.statusCode < 500) {
      // fastify's own answers: malformed JSON, body too large, unsupported media type
      return reply.status(e.statusCode).send({
        error: { code: 'INVALID_INPUT', message: e.message, context: { detail: e.code } },
      });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error', context: {} } });
  });

  app.get('/healthz', async (_req, reply) => {
    const h = opts.health();
    return reply.status(h.ok ? 200 : 503).send({ ...h, version: opts.version });
  });

  app.get('/api/v1/errors', async () => ERROR_CATALOGUE);

  app.post('/api/v1/orders', { preHandler: requireRole('erp', 'operator') }, async (req, reply) => {
    const parsed = parseOrder(req.body);
    if (!parsed.ok) {
      throw new StamplineError('ORDER_INVALID', `the order has ${parsed.total} problem(s)`, {
        problems: parsed.problems,
        total: parsed.total,
      });
    }
    const header = await opts.line.submitOrder(parsed.order, 'http', req.actor ?? 'erp');
    return reply.status(201).send(header);
  });

  app.get('/api/v1/orders', async () => {
    const status = opts.line.status();
    return { active: status.activeOrders, all: await opts.line.listOrders() };
  });

  app.get<{ Params: { id: string } }>('/api/v1/orders/:id', async (req) =>
    opts.line.orderView(req.params.id),
  );

  for (const action of ['start', 'pause', 'resume', 'abort'] as const) {
    app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
      `/api/v1/orders/:id/${action}`,
      { preHandler: requireRole('operator') },
      async (req) => {
        const reason = typeof req.body?.reason === 'string' ? req.body.reason : undefined;
        const actor = req.actor ?? 'operator';
        const id = req.params.id;
        switch (action) {
          case 'start':
            return opts.line.startOrder(id, actor);
          case 'pause':
            return opts.line.pauseOrder(id, actor, reason);
          case 'resume':
            return opts.line.resumeOrder(id, actor);
          case 'abort':
            return opts.line.abortOrder(id, actor, reason);
        }
      },
    );
  }

  app.get('/api/v1/line', async () => opts.line.status());

  app.post('/api/v1/engraver/reset', { preHandler: requireRole('operator') }, async (req) =>
    opts.line.resetEngraver(req.actor ?? 'operator'),
  );

  app.get('/api/v1/outbox', async () => {
    if (!opts.outbox) return { depth: 0, pending: [], rejected: [] };
    return {
      depth: opts.outbox.depth(),
      pending: opts.outbox.pending(100),
      rejected: opts.outbox.rejected(),
    };
  });

  const outboxOrFail = (): OutboxView => {
    if (!opts.outbox) throw new StamplineError('LINE_NOT_READY', 'the registry outbox is not running');
    return opts.outbox;
  };

  app.post<{ Params: { id: string } }>(
    '/api/v1/outbox/:id/retry',
    { preHandler: requireRole('operator') },
    async (req) => {
      const actor = req.actor ?? 'operator';
      await outboxOrFail().retry(req.params.id, actor);
      await opts.audit?.record({ actor, action: 'outbox.retry', subject: `record:${req.params.id}` });
      return { recordId: req.params.id, retried: true };
    },
  );

  app.post<{ Params: { id: string }; Body: { reason?: unknown } | undefined }>(
    '/api/v1/outbox/:id/dismiss',
    { preHandler: requireRole('operator') },
    async (req) => {
      const actor = req.actor ?? 'operator';
      const reason = typeof req.body?.reason === 'string' ? req.body.reason.trim() : '';
      if (!reason) {
        throw new StamplineError('INVALID_INPUT', 'dismissing a rejected record needs a reason', {
          problems: [{ path: 'reason', reason: 'required: say why the record is given up' }],
        });
      }
      await outboxOrFail().dismiss(req.params.id, reason, actor);
      await opts.audit?.record({
        actor,
        action: 'outbox.dismiss',
        subject: `record:${req.params.id}`,
        reason,
      });
      return { recordId: req.params.id, dismissed: true };
    },
  );

  return app;
}
