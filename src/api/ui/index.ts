/**
 * The web UI as a fastify plugin: the single page (`/`) and its files (`/ui/...`), which anyone
 * may load since they hold no data, the line id and role table the page uses to show only what
 * a user may do, and the certificate pages, which need `view` like the data they print.
 *
 * Everything registers inside its own encapsulated scope, so the plugin works whether it is
 * called directly or through `app.register`, and its `@fastify/static` cannot clash with the
 * one the API explorer registers. The identity hook and the JSON error handler are the app's;
 * the certificate routes only turn a refusal into a readable page for a browser.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { StamplineError } from '../../errors.js';
import type { OrderHeader } from '../../line/model.js';
import type { FirearmRecord } from '../../qa/types.js';
import { requires } from '../auth/guard.js';
import { allows, MACHINE_ROLES, type Permission, USER_ROLES } from '../auth/types.js';
import {
  type Certifier,
  errorPage,
  firearmCertificate,
  orderCertificate,
  PAPERS,
  type PageContext,
  type Paper,
} from './certificates.js';

export type { Certifier } from './certificates.js';

/** Where the certificate pages get their data; the daemon builds it from the QA service and the line. */
export interface CertificateSource {
  /** A firearm with its order, reads and verdict; QA_UNKNOWN_FIREARM (404) when the line has none. */
  firearm(serial: string): Promise<FirearmRecord>;
  /** An order with each of its firearms; ORDER_NOT_FOUND (404) when the line has none. */
  order(id: string): Promise<{ order: OrderHeader; firearms: FirearmRecord[] }>;
  /** Who certifies: configuration `issuer.number`, `issuer.kind`, `issuer.licence`. */
  readonly issuer: Certifier;
  /** Configuration `line.id`. */
  readonly lineId: string;
}

export interface UiOptions {
  certificates: CertificateSource;
  /** Clock for the date a certificate is issued; the wall clock by default. */
  now?: () => Date;
}

/** Every permission, so that a new one fails to compile here until the role table serves it. */
const PERMISSIONS = Object.keys({
  view: 1,
  'orders.submit': 1,
  'orders.control': 1,
  'engraver.reset': 1,
  'qa.read': 1,
  identify: 1,
  'outbox.retry': 1,
  'outbox.dismiss': 1,
  'alarms.ack': 1,
  'audit.read': 1,
  backup: 1,
  'users.manage': 1,
} satisfies Record<Permission, 1>) as Permission[];

/** role → permissions, for users and for tokens: the page hides what the role may not do. */
export function permissionTable(): {
  user: Record<string, Permission[]>;
  token: Record<string, Permission[]>;
} {
  const of = (kind: 'user' | 'token', role: string) =>
    PERMISSIONS.filter((p) => allows({ kind, name: role, role: role as never }, p));
  return {
    user: Object.fromEntries(USER_ROLES.map((r) => [r, of('user', r)])),
    token: Object.fromEntries(MACHINE_ROLES.map((r) => [r, of('token', r)])),
  };
}

/**
 * The folder of the page's files: beside this module when running from the sources, and linked
 * there by scripts/build.js in `.build/`; the sources' copy is the fallback for a build made
 * without the link.
 */
export function publicDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'public'), join(here, '..', '..', '..', '..', 'src', 'api', 'ui', 'public')];
  for (const dir of candidates) {
    if (existsSync(join(dir, 'index.html'))) return realpathSync(dir);
  }
  throw new StamplineError(
    'INTERNAL',
    `the web UI files are missing (looked in ${candidates.join(' and ')}); run npm run build`,
    { candidates },
  );
}

/** The page loads only its own files and talks only to its own server. */
const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SERIAL = /^[A-Z0-9-]{1,32}$/;
const ORDER_ID = /^[\x21-\x7e](?:[\x20-\x7e]{0,62}[\x21-\x7e])?$/;

function invalid(path: string, reason: string, value: unknown): StamplineError {
  return new StamplineError('INVALID_INPUT', `${path} ${reason}`, {
    problems: [{ path, reason }],
    value,
  });
}

function paperOf(query: unknown): Paper {
  const paper = (query as { paper?: unknown } | undefined)?.paper;
  if (paper === undefined) return 'a4';
  if (typeof paper === 'string' && (PAPERS as readonly string[]).includes(paper.toLowerCase())) {
    return paper.toLowerCase() as Paper;
  }
  throw invalid('paper', `must be one of ${PAPERS.join(', ')}`, paper);
}

function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .status(status)
    .header('content-security-policy', PAGE_CSP)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(body);
}

/** A browser gets the refusal as a page it can act on; an API client gets the app's JSON. */
function htmlErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const wantsHtml = (req.headers.accept ?? '').includes('text/html');
  if (err instanceof StamplineError && wantsHtml) {
    return sendPage(reply, err.status, errorPage(err.status, err.code, err.message, req.url));
  }
  throw err;
}

export async function uiPlugin(app: FastifyInstance, opts: UiOptions): Promise<void> {
  const root = publicDir();
  const source = opts.certificates;
  const context = (paper: Paper): PageContext => ({
    issuer: source.issuer,
    lineId: source.lineId,
    paper,
    now: opts.now?.() ?? new Date(),
  });

  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root,
      prefix: '/ui/',
      index: false,
      dotfiles: 'deny',
      cacheControl: false,
      setHeaders: (reply) => {
        // Revalidated on every load (cheap on a LAN), so an upgraded line never runs old scripts.
        reply.header('cache-control', 'no-cache');
        reply.header('x-content-type-options', 'nosniff');
      },
    });

    scope.get('/', async (_req, reply) =>
      reply
        .header('content-security-policy', APP_CSP)
        .header('referrer-policy', 'no-referrer')
        .sendFile('index.html'),
    );
    scope.get('/ui', async (_req, reply) => reply.redirect('/'));
    scope.get('/ui/', async (_req, reply) => reply.redirect('/'));
    // What the page needs before anyone logs in; nothing here is secret.
    scope.get('/ui/site.json', async (_req, reply) =>
      reply.header('cache-control', 'no-cache').send({
        lineId: source.lineId,
        issuerKind: source.issuer.kind,
        permissions: permissionTable(),
      }),
    );

    scope.get<{ Params: { serial: string } }>(
      '/certificates/firearms/:serial',
      { preHandler: requires('view'), errorHandler: htmlErrors },
      async (req, reply) => {
        const serial = req.params.serial.toUpperCase();
        if (!SERIAL.test(serial)) throw invalid('serial', 'must be 1..32 characters of A-Z 0-9 -', serial);
        const paper = paperOf(req.query);
        const record = await source.firearm(serial);
        return sendPage(reply, 200, firearmCertificate(record, context(paper)));
      },
    );

    scope.get<{ Params: { id: string } }>(
      '/certificates/orders/:id',
      { preHandler: requires('view'), errorHandler: htmlErrors },
      async (req, reply) => {
        const id = req.params.id;
        if (!ORDER_ID.test(id)) throw invalid('id', 'must be 1..64 printable characters', id);
        const paper = paperOf(req.query);
        const data = await source.order(id);
        return sendPage(reply, 200, orderCertificate(data, context(paper)));
      },
    );
  });
}
