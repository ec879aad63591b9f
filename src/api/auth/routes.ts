/**
 * `/api/v1/session` (log in, who am I, log out) and `/api/v1/users` (manage the users). Input
 * is declared in zod and validated by the app's type provider, so a bad field is refused with
 * its name before a handler runs. The guards run on request, as on the other routes: a caller
 * without the right is refused (401/403) before the body is read, let alone judged (400).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isStamplineError, StamplineError } from '../../errors.js';
import { SECURED } from '../schemas/common.js';
import { requires } from './guard.js';
import { PASSWORD_MAX, PASSWORD_MIN } from './passwords.js';
import { SESSION_COOKIE } from './sessions.js';
import { type Identity, MACHINE_ROLES, USER_ROLES, type UserRole } from './types.js';
import { type UserView, userNameSchema } from './users-file.js';

/** What the routes need from `Auth`. */
export interface AuthRoutesHost {
  login(input: {
    username: string;
    password: string;
    address: string;
    replacing: string | undefined;
  }): Promise<{ id: string; user: { name: string; role: UserRole }; expiresAt: number }>;
  /** The session id the request came with, when it resolved to a live session. */
  sessionIdOf(req: FastifyRequest): string | undefined;
  sessionExpiry(id: string): number | undefined;
  logout(req: FastifyRequest): Promise<void>;
  listUsers(): Promise<UserView[]>;
  addUser(input: { name: string; role: UserRole; password: string }, actor: string): Promise<UserView>;
  changeUser(
    name: string,
    change: { role?: UserRole; disabled?: boolean; password?: string },
    req: FastifyRequest,
  ): Promise<UserView>;
}

const newPassword = z
  .string()
  .min(PASSWORD_MIN, { error: `must be at least ${PASSWORD_MIN} characters` })
  .max(PASSWORD_MAX, { error: `must be at most ${PASSWORD_MAX} characters` })
  .describe(`${PASSWORD_MIN}..${PASSWORD_MAX} characters`);

const role = z.enum(USER_ROLES).describe(`one of ${USER_ROLES.join(', ')}`);

const userView = z.object({
  name: z.string(),
  role: z.enum(USER_ROLES),
  disabled: z.boolean(),
  createdAt: z.string().describe('ISO 8601'),
  createdBy: z.string().describe('a user name, or cli:<system user> for the command line'),
  passwordChangedAt: z.string().describe('ISO 8601'),
});

const identityView = z.object({
  kind: z.enum(['user', 'token']),
  name: z.string().describe('the audit actor: the user name, or the machine role of a token'),
  role: z.enum([...new Set([...USER_ROLES, ...MACHINE_ROLES])] as [string, ...string[]]),
});

const loginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z
    .string()
    .min(1)
    .max(PASSWORD_MAX * 2),
});

const addBody = z.strictObject({ name: userNameSchema, role, password: newPassword });

const changeBody = z
  .strictObject({
    role: role.optional(),
    disabled: z.boolean().optional(),
    password: newPassword.optional(),
  })
  .refine((b) => b.role !== undefined || b.disabled !== undefined || b.password !== undefined, {
    error: 'nothing to change: give role, disabled or password',
  });

/**
 * A login or a user is a few hundred bytes; the app's limit is made for orders of thousands of
 * firearms. Nobody, logged in or not, gets to make the daemon read more than this here.
 */
export const AUTH_BODY_LIMIT = 16 * 1024;

const SESSION = ['session'];

/** No body at all: no Content-Length (or 0) and no chunked body. */
export function isBodyless(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}
const USERS = ['users'];

/** Any identity at all, whatever its permissions. */
async function requiresIdentity(req: FastifyRequest): Promise<void> {
  if (!req.identity) {
    throw new StamplineError(
      'AUTH_REQUIRED',
      req.identityProblem ?? 'log in, or send a bearer token (Authorization: Bearer ...)',
    );
  }
}

function setSessionCookie(req: FastifyRequest, reply: FastifyReply, id: string): void {
  reply.setCookie(SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    // Only where the browser reached us over TLS; a line PC on a closed network serves plain HTTP.
    secure: req.protocol === 'https',
  });
}

export function registerAuthRoutes(fastify: FastifyInstance, host: AuthRoutesHost): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/api/v1/session',
    {
      bodyLimit: AUTH_BODY_LIMIT,
      schema: {
        tags: SESSION,
        summary: 'Log in: starts a session and sets the stampline_session cookie',
        security: [],
        body: loginBody,
        response: {
          200: z.object({
            user: z.object({ name: z.string(), role: z.enum(USER_ROLES) }),
            expiresAt: z.string().describe('ISO 8601; moves forward with each request'),
          }),
        },
      },
    },
    async (req, reply) => {
      try {
        const done = await host.login({
          username: req.body.username,
          password: req.body.password,
          address: req.ip,
          replacing: host.sessionIdOf(req),
        });
        setSessionCookie(req, reply, done.id);
        return { user: done.user, expiresAt: new Date(done.expiresAt).toISOString() };
      } catch (err) {
        if (isStamplineError(err, 'AUTH_THROTTLED')) {
          reply.header('retry-after', String(err.context.retryAfterSeconds ?? 1));
        }
        throw err;
      }
    },
  );

  app.get(
    '/api/v1/session',
    {
      onRequest: requiresIdentity,
      schema: {
        tags: SESSION,
        summary: 'Who is asking: the identity of the session or token',
        security: SECURED,
        response: {
          200: z.object({ identity: identityView, expiresAt: z.string().optional() }),
        },
      },
    },
    async (req) => {
      const identity = req.identity as Identity;
      const id = host.sessionIdOf(req);
      const expiresAt = id === undefined ? undefined : host.sessionExpiry(id);
      return {
        identity,
        ...(expiresAt === undefined ? {} : { expiresAt: new Date(expiresAt).toISOString() }),
      };
    },
  );

  app.delete(
    '/api/v1/session',
    {
      // A logout says nothing: `Content-Type: application/json` with no body is as good as none,
      // where fastify's JSON parser would refuse the empty body.
      preParsing: async (req) => {
        if (isBodyless(req)) delete req.headers['content-type'];
      },
      schema: {
        tags: SESSION,
        summary: 'Log out: ends the session and clears its cookie',
        description: 'Takes no body (or an empty one, or `{}`). Without a session it does nothing.',
        security: SECURED,
      },
    },
    async (req, reply) => {
      await host.logout(req);
      reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict' });
      return reply.status(204).send();
    },
  );

  app.get(
    '/api/v1/users',
    {
      onRequest: requires('users.manage'),
      schema: {
        tags: USERS,
        summary: 'The users of the line',
        security: SECURED,
        response: { 200: z.object({ users: z.array(userView) }) },
      },
    },
    async () => ({ users: await host.listUsers() }),
  );

  app.post(
    '/api/v1/users',
    {
      onRequest: requires('users.manage'),
      bodyLimit: AUTH_BODY_LIMIT,
      schema: {
        tags: USERS,
        summary: 'Add a user',
        security: SECURED,
        body: addBody,
        response: { 201: userView },
      },
    },
    async (req, reply) => {
      const user = await host.addUser(req.body, (req.identity as Identity).name);
      return reply.status(201).send(user);
    },
  );

  app.patch(
    '/api/v1/users/:name',
    {
      onRequest: requires('users.manage'),
      bodyLimit: AUTH_BODY_LIMIT,
      schema: {
        tags: USERS,
        summary:
          'Change a user: role, disabled, password. Disabling ends their sessions; a new password ends their other sessions.',
        security: SECURED,
        params: z.object({ name: userNameSchema }),
        body: changeBody,
        response: { 200: userView },
      },
    },
    async (req) => host.changeUser(req.params.name, req.body, req),
  );
}
