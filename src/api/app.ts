/**
 * The HTTP API, built by a factory so tests use `inject()` and the daemon listens. Routes live in
 * `routes/`, one module per area; each declares zod schemas for what it takes and answers, from
 * which the OpenAPI document at `/docs/json` and the explorer at `/docs` are made.
 *
 * Every error leaves as `{ error: { code, message, context }, problems? }` with the status of the
 * error catalogue: bad input is 400 with one problem per field; anything unforeseen is 500
 * `INTERNAL` without its details, which go to the log.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  ResponseSerializationError,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERROR_CATALOGUE, StamplineError } from '../errors.js';
import { LiveEvents } from './events.js';
import { fairShare } from './fair-share.js';
import { clientErrorHandler, DOCS_CSP, harden } from './hardening.js';
import { LineMetrics } from './metrics.js';
import { type AlarmsApi, alarmRoutes } from './routes/alarms.js';
import { auditRoutes } from './routes/audit.js';
import { type BackupApi, backupRoutes } from './routes/backup.js';
import type { Api, AuditApi, LineApi, OutboxView, QaApi, RouteDeps } from './routes/context.js';
import { eventRoutes } from './routes/events.js';
import { type IdentifyApi, identifyRoutes } from './routes/identify.js';
import { lineRoutes } from './routes/line.js';
import { orderRoutes } from './routes/orders.js';
import { outboxRoutes } from './routes/outbox.js';
import { pinRoutes } from './routes/pins.js';
import { qaRoutes } from './routes/qa.js';
import { qaImageRoutes } from './routes/qa-images.js';
import { recordRoutes } from './routes/records.js';
import { statsRoutes } from './routes/stats.js';
import { problemsOf } from './schemas/common.js';

export type { AuditApi, FirearmRecord, LineApi, OutboxView, QaApi } from './routes/context.js';

export interface ApiOptions {
  /** What the routes call on the line (`LineApi`): the `Line` in the daemon, a small fake in a test. */
  line: LineApi;
  /**
   * Access control (src/api/auth): sets `req.identity` for every request and adds the session and
   * user routes. Registered before any route. Without it no request has an identity, and every
   * guarded route answers 401.
   */
  auth?: { register(app: FastifyInstance): void };
  outbox?: OutboxView;
  qa?: QaApi;
  audit?: AuditApi;
  /** Identification of cases against the line's issued codes (`LineIdentifier`); without it, 503. */
  identify?: IdentifyApi;
  /** The line's alarms (src/alarms): their routes, events and metrics. */
  alarms?: AlarmsApi;
  /** Backups of the running line's data (src/store/backup.ts). */
  backup?: BackupApi;
  health: () => { ok: boolean; checks: Record<string, unknown> };
  version: string;
  logger?: boolean | object;
  /** Node.js process metrics on /metrics. Default true. */
  processMetrics?: boolean;
  /** Period of the keep-alive comment on event streams. Default 15,000 ms. */
  heartbeatMs?: number;
  /** Period at which the outbox depth is looked at for live events, when it has no events. Default 2,000 ms. */
  outboxPollMs?: number;
  /**
   * How long closing waits for connections still open before cutting them. Default 2,000 ms: the
   * requests in hand finish, but a client's idle spare connection cannot hold the daemon up.
   */
  closeGraceMs?: number;
}

const where = { body: 'body', querystring: 'query', params: 'path', headers: 'headers' } as const;

/** A plugin that fastify runs in its parent's context instead of a child (what fastify-plugin does). */
function inRootContext<T extends (instance: FastifyInstance) => Promise<void>>(fn: T): T {
  return Object.assign(fn, { [Symbol.for('skip-override')]: true });
}

function sendError(reply: FastifyReply, status: number, body: Record<string, unknown>) {
  return reply.status(status).send(body);
}

export function buildApp(opts: ApiOptions): FastifyInstance {
  const fastify = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: 32 * 1024 * 1024,
    clientErrorHandler,
  });
  harden(fastify);
  fairShare(fastify);
  fastify.setValidatorCompiler(validatorCompiler);
  fastify.setSerializerCompiler(serializerCompiler);
  const app: Api = fastify.withTypeProvider<ZodTypeProvider>();

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const problems = problemsOf(err.validation);
      const part = where[(err as { validationContext?: keyof typeof where }).validationContext ?? 'body'];
      const code = req.routeOptions.config?.invalidInput ?? 'INVALID_INPUT';
      const summary = problems.map((p) => `${p.path || part}: ${p.reason}`).join('; ');
      return sendError(reply, 400, {
        error: { code, message: `the request ${part} is not valid: ${summary}`, context: { in: part } },
        problems,
      });
    }
    if (err instanceof StamplineError) {
      if (err.status >= 500) req.log.error({ err }, err.message);
      const body: Record<string, unknown> = { error: err.toJSON() };
      if (Array.isArray(err.context.problems)) body.problems = err.context.problems;
      return sendError(reply, err.status, body);
    }
    if (err instanceof ResponseSerializationError) {
      req.log.error({ err, issues: err.cause.issues }, 'an answer does not match its schema');
      return sendError(reply, 500, { error: { code: 'INTERNAL', message: 'internal error', context: {} } });
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      // fastify's own answers: malformed JSON, body too large, unsupported media type
      return sendError(reply, e.statusCode, {
        error: { code: 'INVALID_INPUT', message: e.message, context: { detail: e.code } },
      });
    }
    req.log.error({ err }, 'unhandled error');
    return sendError(reply, 500, { error: { code: 'INTERNAL', message: 'internal error', context: {} } });
  });

  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, {
      error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}`, context: {} },
    }),
  );

  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'stampline',
        description:
          'The HTTP API of a microstamping line: orders, the line and its engraver, the registry outbox, QA verification, records, statistics and the audit trail. Errors: see GET /api/v1/errors and docs/api.md.',
        version: opts.version,
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A machine token from the configuration: auth.erpToken, auth.operatorToken, auth.qaToken.',
          },
          cookie: {
            type: 'apiKey',
            in: 'cookie',
            name: 'stampline_session',
            description:
              'The session of a logged-in user (POST /api/v1/session). Changes sent with it must be JSON.',
          },
        },
      },
      tags: [
        { name: 'orders', description: 'Orders from the ERP and their control' },
        { name: 'line', description: 'The line and its engraver' },
        { name: 'outbox', description: 'Records waiting for the registry' },
        { name: 'qa', description: 'Verification of test-fired cases' },
        { name: 'records', description: "Firearms' records and drawings" },
        { name: 'stats', description: 'Statistics of the reads' },
        { name: 'audit', description: 'The audit trail' },
        { name: 'alarms', description: 'Alarms of the line and their journal' },
        { name: 'events', description: 'Live changes' },
        { name: 'session', description: 'Logging in and out' },
        { name: 'users', description: 'User accounts' },
        { name: 'meta', description: 'Health, metrics, the error catalogue' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    // The explorer is served from the daemon's own files; it must not call out to the internet.
    uiConfig: { validatorUrl: null, deepLinking: true },
    staticCSP: DOCS_CSP,
  });

  // Plugins load in order: the access layer's hooks and routes come after the OpenAPI plugin
  // (which sees only routes added once it has loaded) and before every route they guard. It
  // runs in the root context, so its hooks reach the routes of every later plugin.
  app.register(
    inRootContext(async (root: FastifyInstance) => {
      opts.auth?.register(root);
    }),
  );

  let cutConnections: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    cutConnections = setTimeout(() => fastify.server.closeAllConnections(), opts.closeGraceMs ?? 2_000);
    cutConnections.unref();
  });
  app.addHook('onClose', async () => clearTimeout(cutConnections));

  const deps: RouteDeps = { line: opts.line, outbox: opts.outbox, qa: opts.qa, audit: opts.audit };
  const metrics = new LineMetrics({ ...deps, alarms: opts.alarms, processMetrics: opts.processMetrics });
  metrics.start();
  app.addHook('onClose', async () => metrics.stop());
  const hub = new LiveEvents({ ...deps, alarms: opts.alarms, outboxPollMs: opts.outboxPollMs });

  app.register(async (api: Api) => {
    api.get(
      '/healthz',
      {
        schema: {
          tags: ['meta'],
          summary: 'Whether the daemon serves, and the state of its links',
          security: [],
          response: {
            200: z.looseObject({
              ok: z.boolean(),
              checks: z.record(z.string(), z.unknown()),
              version: z.string(),
            }),
            503: z.looseObject({
              ok: z.boolean(),
              checks: z.record(z.string(), z.unknown()),
              version: z.string(),
            }),
          },
        },
      },
      async (_req, reply) => {
        const h = opts.health();
        return reply.status(h.ok ? 200 : 503).send({ ...h, version: opts.version });
      },
    );

    api.get(
      '/api/v1/errors',
      {
        schema: {
          tags: ['meta'],
          summary: 'The error catalogue: every code with its HTTP status and whether it is worth retrying',
          security: [],
          response: {
            200: z.record(
              z.string(),
              z.object({ status: z.number(), transient: z.boolean(), summary: z.string() }),
            ),
          },
        },
      },
      async () => ERROR_CATALOGUE,
    );

    api.get(
      '/metrics',
      {
        schema: {
          tags: ['meta'],
          summary: 'Prometheus metrics (text exposition format)',
          security: [],
          response: { 200: { description: 'metrics', content: { 'text/plain': { schema: z.string() } } } },
        },
      },
      async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()),
    );

    orderRoutes(api, deps);
    lineRoutes(api, deps);
    outboxRoutes(api, deps);
    qaRoutes(api, deps);
    qaImageRoutes(api, deps);
    recordRoutes(api, deps);
    statsRoutes(api, deps);
    auditRoutes(api, deps);
    pinRoutes(api, deps);
    identifyRoutes(api, { identify: opts.identify, audit: opts.audit });
    alarmRoutes(api, { alarms: opts.alarms });
    backupRoutes(api, { backup: opts.backup, audit: opts.audit });
    eventRoutes(api, { hub, heartbeatMs: opts.heartbeatMs });
  });

  return fastify;
}
