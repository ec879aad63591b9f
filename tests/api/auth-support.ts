/**
 * An app with access control as the daemon builds it: zod validation, errors in the shape of
 * the error catalogue, the Auth hook and routes, and one dummy route per permission guarded by
 * `requires`, so the tests see what a client sees.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { Auth, type AuthOptions, requires } from '../../src/api/auth/index.js';
import { hashPassword, type ScryptParams } from '../../src/api/auth/passwords.js';
import type { Permission, UserRole } from '../../src/api/auth/types.js';
import { addUser } from '../../src/api/auth/users.js';
import { UsersFile } from '../../src/api/auth/users-file.js';
import { StamplineError } from '../../src/errors.js';

/** Cheap enough that a test can log in often; the defaults are checked on their own. */
export const FAST_HASH: ScryptParams = { N: 1024, r: 8, p: 1 };

export const TOKENS = {
  erp: 'erp-token-0123456789abcdef',
  operator: 'operator-token-0123456789',
  qa: 'qa-token-0123456789abcdef',
};

export const PERMISSIONS: Permission[] = [
  'view',
  'orders.submit',
  'orders.control',
  'engraver.reset',
  'qa.read',
  'identify',
  'outbox.retry',
  'outbox.dismiss',
  'alarms.ack',
  'audit.read',
  'backup',
  'users.manage',
];

export class FakeClock {
  t = Date.parse('2030-01-01T08:00:00Z');
  now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Recorded {
  actor: string;
  action: string;
  subject: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
}

export class RecordingAudit {
  entries: Recorded[] = [];
  async record(e: Recorded): Promise<unknown> {
    this.entries.push(structuredClone(e));
    return e;
  }
  actions(): string[] {
    return this.entries.map((e) => e.action);
  }
}

export async function tempDataDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'stampline-auth-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes users straight into the users file, as `stampline user add` would. */
export async function seedUsers(
  dataDir: string,
  users: { name: string; role: UserRole; password: string; disabled?: boolean }[],
  actor = 'cli:test',
): Promise<void> {
  const hashed = await Promise.all(
    users.map(async (u) => ({ ...u, hash: await hashPassword(u.password, FAST_HASH) })),
  );
  await new UsersFile(dataDir).update((doc) => {
    for (const u of hashed) {
      addUser(doc, { name: u.name, role: u.role, password: u.hash }, actor, new Date());
      if (u.disabled) doc.users.find((x) => x.name === u.name)!.disabled = true;
    }
  });
}

export function errorBody(res: LightMyRequestResponse): {
  error: { code: string; message: string; context: Record<string, unknown> };
  problems?: { path: string; reason: string }[];
} {
  return res.json();
}

/** The app as the API builds it, with the Auth under test and a dummy route per permission. */
export async function buildTestApp(auth: Auth): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, _req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const problems = err.validation.map((v) => ({
        path: v.instancePath.slice(1).replaceAll('/', '.') || (err.validationContext ?? ''),
        reason: v.message ?? 'invalid',
      }));
      return reply.status(400).send({
        error: { code: 'INVALID_INPUT', message: 'the input is not valid', context: {} },
        problems,
      });
    }
    if (err instanceof StamplineError) {
      const body: Record<string, unknown> = { error: err.toJSON() };
      if (Array.isArray(err.context.problems)) body.problems = err.context.problems;
      return reply.status(err.status).send(body);
    }
    const e = err as { statusCode?: number; message: string };
    return reply
      .status(e.statusCode ?? 500)
      .send({ error: { code: 'INVALID_INPUT', message: e.message, context: {} } });
  });
  auth.register(app);
  for (const permission of PERMISSIONS) {
    app.post(`/test/${permission}`, { preValidation: requires(permission) }, async (req) => ({
      ok: true,
      actor: req.identity?.name,
    }));
  }
  await app.ready();
  return app;
}

export interface AuthApp {
  auth: Auth;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** A started Auth over `dataDir` with the test tokens and cheap hashes, and the test app over it. */
export async function startAuthApp(dataDir: string, opts: Partial<AuthOptions> = {}): Promise<AuthApp> {
  const auth = new Auth({
    dataDir,
    tokens: TOKENS,
    sessionTtlMinutes: 30,
    hashParams: FAST_HASH,
    ...opts,
  });
  await auth.start();
  const app = await buildTestApp(auth);
  return {
    auth,
    app,
    async close() {
      await app.close();
      await auth.stop();
    },
  };
}

/** A logger that keeps the messages of the errors logged to it, for a test to read. */
export function errorCollector(): { logger: NonNullable<AuthOptions['logger']>; errors: string[] } {
  const errors: string[] = [];
  const logger = {
    info() {},
    debug() {},
    warn() {},
    error: (_o: object, m?: string) => errors.push(m ?? ''),
  };
  return { logger, errors };
}

export interface Rig {
  auth: Auth;
  app: FastifyInstance;
  clock: FakeClock;
  audit: RecordingAudit;
  dataDir: string;
  close(): Promise<void>;
}

export async function rig(
  users: { name: string; role: UserRole; password: string; disabled?: boolean }[] = [],
  opts: Partial<AuthOptions> = {},
): Promise<Rig> {
  const data = await tempDataDir();
  if (users.length > 0) await seedUsers(data.dir, users);
  const clock = new FakeClock();
  const audit = new RecordingAudit();
  const { auth, app, close } = await startAuthApp(data.dir, { audit, now: clock.now, ...opts });
  return {
    auth,
    app,
    clock,
    audit,
    dataDir: data.dir,
    async close() {
      await close();
      await data.remove();
    },
  };
}

/** Logs in and returns the cookie header to send with later requests. */
export async function login(app: FastifyInstance, username: string, password: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { username, password },
  });
  if (res.statusCode !== 200) throw new Error(`login of ${username} failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === 'stampline_session');
  if (!cookie) throw new Error('no session cookie');
  return `stampline_session=${cookie.value}`;
}

export const PASSWORD = 'correct horse battery';
