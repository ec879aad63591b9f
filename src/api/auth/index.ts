/**
 * Access control of the API: who is asking (a session cookie or a machine's bearer token), the
 * login and user routes, and the users file shared with `stampline user ...`. The routes check
 * permissions with `requires` from guard.ts.
 */
import { randomBytes } from 'node:crypto';
import { fastifyCookie } from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isStamplineError, StamplineError } from '../../errors.js';
import { type AuditSink, type Logger, silentLogger } from '../../shared.js';
import {
  DEFAULT_SCRYPT,
  hashesWaiting,
  hashPassword,
  MAX_WAITING_HASHES,
  MAX_WAITING_PER_NAME,
  needsRehash,
  type PasswordHash,
  type ScryptParams,
  verifyPassword,
} from './passwords.js';
import { movePending } from './pending.js';
import { type AuthRoutesHost, isBodyless, registerAuthRoutes } from './routes.js';
import { SESSION_COOKIE, SessionTable } from './sessions.js';
import { LoginThrottle } from './throttle.js';
import { type MachineTokens, TokenTable } from './tokens.js';
import type { Identity, UserRole } from './types.js';
import { addUser, changeUser } from './users.js';
import {
  type FileVersion,
  type UserRecord,
  UsersFile,
  type UsersSnapshot,
  type UserView,
  userNameProblem,
  viewOf,
} from './users-file.js';

export { actorOf, requires } from './guard.js';
export { SESSION_COOKIE } from './sessions.js';
export type { UserView } from './users-file.js';

export interface AuthOptions {
  dataDir: string;
  tokens: MachineTokens;
  sessionTtlMinutes: number;
  audit?: AuditSink;
  logger?: Logger;
  /** Clock in ms since the epoch; tests move it instead of sleeping. */
  now?: () => number;
  /** scrypt parameters of new hashes (default DEFAULT_SCRYPT); tests lower them to run fast. */
  hashParams?: ScryptParams;
  /** How often the users file is checked for changes made by the command line, in ms (default 1000). */
  pollMs?: number;
}

const FLUSH_RETRY_MS = 30_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const FIRST_ADMIN_HINT =
  'no enabled admin yet: create the first one on this machine with `stampline user add NAME --role admin` (the daemon picks it up without a restart)';

function cookieValue(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = fastifyCookie.parse(header)[SESSION_COOKIE];
  return value === undefined || value === '' ? undefined : value;
}

function isJson(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * A new password, as opposed to the same one hashed again with stronger parameters: every
 * change of password moves `passwordChangedAt` (strictly, see users.ts), a rehash never does.
 */
function passwordChanged(before: UserRecord, now: UserRecord): boolean {
  return now.passwordChangedAt !== before.passwordChangedAt;
}

export class Auth implements AuthRoutesHost {
  private readonly opts: AuthOptions;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly hashParams: ScryptParams;
  private readonly file: UsersFile;
  private readonly sessions: SessionTable;
  private readonly throttle: LoginThrottle;
  private readonly tokens: TokenTable;
  private readonly sessionOfRequest = new WeakMap<FastifyRequest, string>();
  private users = new Map<string, UserRecord>();
  /** The version of the file `users` was read from; null before the first read. */
  private version: FileVersion | undefined | null = null;
  /** Why the file on the disk could not be read (the users of the last good read stay). */
  private fileProblem: StamplineError | undefined;
  private pendingCount = 0;
  /** After the trail refused an entry, waiting ones are tried again only after a pause, not at every poll. */
  private flushRetryAt = 0;
  private refreshing: Promise<void> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Stronger hashes being stored after a login; `stop` waits for them. */
  private readonly rehashing = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: AuthOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silentLogger;
    this.hashParams = opts.hashParams ?? DEFAULT_SCRYPT;
    this.file = new UsersFile(opts.dataDir);
    this.sessions = new SessionTable(opts.sessionTtlMinutes * 60_000, this.now);
    this.throttle = new LoginThrottle(this.now);
    this.tokens = new TokenTable(opts.tokens);
  }

  /** The users file this instance reads. */
  get usersFile(): string {
    return this.file.path;
  }

  async start(): Promise<void> {
    await this.refresh();
    if (this.fileProblem) this.log.error({ err: this.fileProblem }, this.fileProblem.message);
    else if (![...this.users.values()].some((u) => u.role === 'admin' && !u.disabled)) {
      this.log.warn({ usersFile: this.file.path }, FIRST_ADMIN_HINT);
    }
    await this.flushPending();
    this.timer = setInterval(() => {
      this.refresh().catch(() => {});
    }, this.opts.pollMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.refreshing;
    await Promise.all([...this.rehashing]);
    await this.flushing;
    this.sessions.clear();
  }

  /** Adds the hook that sets `req.identity`, and the /api/v1/session and /api/v1/users routes. */
  register(app: FastifyInstance): void {
    app.register(fastifyCookie);
    app.addHook('onRequest', async (req) => this.identify(req));
    registerAuthRoutes(app, this);
  }

  // --- who is asking ---

  private async identify(req: FastifyRequest): Promise<void> {
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      // Credentials given explicitly decide alone: a wrong token does not fall back to a cookie.
      const m = /^Bearer +(\S+) *$/i.exec(authorization);
      if (!m) {
        req.identityProblem = 'the Authorization header must be "Bearer <token>"';
        return;
      }
      const identity = this.tokens.identify(m[1]!);
      if (identity) {
        req.identity = identity;
        req.identityLive = () => this.isLive(req);
      } else req.identityProblem = 'the bearer token is not one this line knows';
      return;
    }
    const id = cookieValue(req.headers.cookie);
    if (id === undefined) return;
    await this.refresh();
    const found = this.sessions.touch(id);
    if (found.kind !== 'ok') {
      req.identityProblem =
        found.kind === 'expired'
          ? 'your session has expired; log in again'
          : 'your session has ended (logged out, or the line restarted); log in again';
      return;
    }
    const user = this.users.get(found.session.user);
    if (!user || user.disabled) {
      this.sessions.end(id);
      req.identityProblem = `the user ${found.session.user} is disabled; ask an admin`;
      return;
    }
    req.identity = { kind: 'user', name: user.name, role: user.role };
    req.identityLive = () => this.isLive(req);
    this.sessionOfRequest.set(req, id);
    // A browser sends cookies with a form posted from any page; a page of another site cannot
    // send JSON here without the browser asking first (CORS), so a change must come as JSON.
    // Nor can a form send a DELETE: one with no body at all (a logout) needs no Content-Type.
    const bodylessDelete = req.method === 'DELETE' && isBodyless(req);
    if (!SAFE_METHODS.has(req.method) && !bodylessDelete && !isJson(req.headers['content-type'])) {
      throw new StamplineError(
        'AUTH_JSON_REQUIRED',
        `a ${req.method} with a session cookie must be sent as JSON (Content-Type: application/json; send {} when there is nothing to say), got ${req.headers['content-type'] ?? 'no Content-Type'}`,
        { method: req.method, contentType: req.headers['content-type'] ?? null },
      );
    }
  }

  /**
   * Whether the identity of `req` still holds: a token always; a session while it is known (not
   * logged out, not ended by a disabling or a new password), not expired, and its user enabled.
   * Does not move the expiry, and reads nothing: the users are those of the last poll of the file.
   */
  isLive(req: FastifyRequest): boolean {
    const identity = req.identity;
    if (!identity) return false;
    if (identity.kind === 'token') return true;
    const id = this.sessionOfRequest.get(req);
    if (id === undefined || !this.sessions.isLive(id)) return false;
    const user = this.users.get(identity.name);
    return user !== undefined && !user.disabled;
  }

  sessionIdOf(req: FastifyRequest): string | undefined {
    return this.sessionOfRequest.get(req);
  }

  sessionExpiry(id: string): number | undefined {
    const found = this.sessions.touch(id);
    return found.kind === 'ok' ? found.session.expiresAt : undefined;
  }

  // --- logging in and out ---

  async login(input: {
    username: string;
    password: string;
    address: string;
    replacing: string | undefined;
  }): Promise<{ id: string; user: { name: string; role: UserRole }; expiresAt: number }> {
    const name = input.username.trim().toLowerCase();
    await this.refresh();
    if (this.version === null || (this.users.size === 0 && this.fileProblem)) {
      // Nobody can be checked: say why rather than "wrong password".
      throw this.fileProblem ?? new StamplineError('LINE_NOT_READY', 'access control is not started yet');
    }
    // From the check to `begin` nothing awaits: of a burst of simultaneous guesses at one name,
    // only those the throttle lets through are counted in and reach the hasher.
    const busy = hashesWaiting() >= MAX_WAITING_HASHES || hashesWaiting(name) >= MAX_WAITING_PER_NAME;
    const wait = Math.max(this.throttle.waitFor(name, input.address), busy ? 1000 : 0);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      this.log.warn({ user: name, address: input.address, retryAfterSeconds: seconds }, 'login throttled');
      throw new StamplineError(
        'AUTH_THROTTLED',
        `too many failed logins for this user or from this address: try again in ${seconds} s`,
        { retryAfterSeconds: seconds },
      );
    }
    this.throttle.begin(name, input.address);
    const stored = this.users.get(name);
    const ok = await verifyPassword(input.password, stored?.password ?? this.dummyHash(), name);
    // Read again: the user may have been disabled while the hash was computed.
    const user = this.users.get(name);
    if (!ok || !user) {
      await this.recordFailure(name, input.address, user ? 'wrong password' : 'unknown user');
      throw new StamplineError('AUTH_BAD_LOGIN', 'unknown user or wrong password');
    }
    if (user.disabled) {
      await this.recordFailure(name, input.address, 'disabled');
      throw new StamplineError('AUTH_FORBIDDEN', `the user ${name} is disabled; ask an admin to enable it`, {
        user: name,
      });
    }
    this.throttle.succeeded(name, input.address);
    if (input.replacing !== undefined) this.sessions.end(input.replacing);
    const { id, session } = this.sessions.create(user.name);
    await this.record({
      actor: user.name,
      action: 'session.login',
      subject: `user:${user.name}`,
      after: { address: input.address },
    });
    if (needsRehash(user.password, this.hashParams)) this.rehash(user.name, input.password, user.password);
    return { id, user: { name: user.name, role: user.role }, expiresAt: session.expiresAt };
  }

  async logout(req: FastifyRequest): Promise<void> {
    const id = this.sessionOfRequest.get(req) ?? cookieValue(req.headers.cookie);
    if (id === undefined) return;
    const ended = this.sessions.end(id);
    if (ended) {
      await this.record({ actor: ended.user, action: 'session.logout', subject: `user:${ended.user}` });
    }
  }

  /** Costs what checking a real user costs, so an unknown name takes as long as a known one. */
  private dummy: PasswordHash | undefined;
  private dummyHash(): PasswordHash {
    if (!this.dummy || needsRehash(this.dummy, this.hashParams)) {
      this.dummy = {
        algorithm: 'scrypt',
        ...this.hashParams,
        salt: randomBytes(16).toString('base64'),
        hash: randomBytes(32).toString('base64'),
      };
    }
    return this.dummy;
  }

  private async recordFailure(name: string, address: string, why: string): Promise<void> {
    const failures = this.throttle.failures(name);
    this.log.warn({ user: name, address, failures }, `failed login: ${why}`);
    await this.record({
      actor: `client:${address}`,
      action: 'session.login-failed',
      subject: userNameProblem(name) === undefined ? `user:${name}` : 'user:(not a user name)',
      after: { address, failuresInARow: failures },
      reason: why,
    });
  }

  /** Writes a session event to the trail; a failure to do so is logged, never turned into a refusal. */
  private async record(entry: Parameters<AuditSink['record']>[0]): Promise<void> {
    try {
      await this.opts.audit?.record(entry);
    } catch (err) {
      this.log.error(
        { err, entry: { action: entry.action, subject: entry.subject } },
        'cannot write to the audit trail',
      );
    }
  }

  /** Makes the hash of a password stored with weaker parameters again with the current ones. */
  private rehash(name: string, password: string, verified: PasswordHash): void {
    const run = hashPassword(password, this.hashParams, name)
      .then((hash) =>
        this.file.update((doc) => {
          const u = doc.users.find((x) => x.name === name);
          // Only over the very hash just checked: a password changed meanwhile (even one also
          // made with weak parameters) is not replaced by a hash of the old one.
          if (u && u.password.salt === verified.salt && u.password.hash === verified.hash) {
            u.password = hash;
          }
        }),
      )
      .then(({ snapshot }) => this.apply(snapshot))
      .catch((err) => this.log.warn({ err, user: name }, 'cannot store a stronger hash of the password'))
      .finally(() => this.rehashing.delete(run));
    this.rehashing.add(run);
  }

  // --- the users ---

  async listUsers(): Promise<UserView[]> {
    await this.refresh();
    if (this.fileProblem) throw this.fileProblem;
    return [...this.users.values()].map(viewOf);
  }

  async addUser(input: { name: string; role: UserRole; password: string }, actor: string): Promise<UserView> {
    await this.refresh();
    if (this.users.has(input.name)) {
      throw new StamplineError('USER_EXISTS', `a user named ${input.name} already exists`, {
        name: input.name,
      });
    }
    const password = await hashPassword(input.password, this.hashParams, input.name);
    const { result, snapshot } = await this.file.update((doc) =>
      addUser(doc, { name: input.name, role: input.role, password }, actor, new Date(this.now())),
    );
    this.apply(snapshot);
    await this.flushPending();
    return viewOf(result);
  }

  async changeUser(
    name: string,
    change: { role?: UserRole; disabled?: boolean; password?: string },
    req: FastifyRequest,
  ): Promise<UserView> {
    await this.refresh();
    if (!this.fileProblem && !this.users.has(name)) {
      throw new StamplineError('USER_NOT_FOUND', `there is no user named ${name}`, { name });
    }
    const password =
      change.password === undefined ? undefined : await hashPassword(change.password, this.hashParams, name);
    const actor = (req.identity as Identity).name;
    const { result, snapshot } = await this.file.update((doc) =>
      changeUser(
        doc,
        name,
        { role: change.role, disabled: change.disabled, password },
        actor,
        new Date(this.now()),
      ),
    );
    // The person who changed their own password stays logged in where they did it.
    const own = this.sessionOfRequest.get(req);
    this.apply(snapshot, own === undefined ? undefined : { user: actor, session: own });
    await this.flushPending();
    return viewOf(result.user);
  }

  // --- keeping up with the file ---

  /** Reads the users file again when it changed; never throws (a problem is kept and logged). */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    let version: FileVersion | undefined;
    let snapshot: UsersSnapshot;
    try {
      version = await this.file.currentVersion();
      if (this.version !== null && version === this.version) {
        if (this.pendingCount > 0 && this.now() >= this.flushRetryAt) void this.flushPending();
        return;
      }
      snapshot = await this.file.read();
    } catch (err) {
      const problem =
        err instanceof StamplineError
          ? err
          : new StamplineError(
              'STORE_UNAVAILABLE',
              `cannot read ${this.file.path}: ${(err as Error).message}`,
            );
      if (this.fileProblem?.message !== problem.message) this.log.error({ err: problem }, problem.message);
      this.fileProblem = problem;
      // A file that does not parse is not read again until it changes; one that could not be
      // read at all (permissions) is tried again. The users of the last good read stay.
      if (isStamplineError(problem, 'STORE_CORRUPT')) this.version = version;
      return;
    }
    this.apply(snapshot);
    if (this.pendingCount > 0) void this.flushPending();
  }

  /**
   * Takes a fresh read of the file as the truth. The sessions of a user who is now disabled (or
   * gone) end; those of a user whose password changed end too, but for `keep`: the session in
   * which the person changed their own password.
   */
  private apply(snapshot: UsersSnapshot, keep?: { user: string; session: string }): void {
    const users = new Map(snapshot.doc.users.map((u) => [u.name, u] as const));
    for (const [name, before] of this.users) {
      const now = users.get(name);
      if (!now || (now.disabled && !before.disabled)) this.sessions.endAllOf(name);
      else if (passwordChanged(before, now)) {
        this.sessions.endAllOf(name, keep?.user === name ? keep.session : undefined);
      }
    }
    this.users = users;
    this.version = snapshot.version;
    if (this.fileProblem) this.log.info({ usersFile: this.file.path }, 'the users file reads again');
    this.fileProblem = undefined;
    this.pendingCount = snapshot.doc.pending.length;
  }

  /** Moves the changes waiting in the users file to the audit trail (see pending.ts). */
  flushPending(): Promise<void> {
    const audit = this.opts.audit;
    if (!audit) return Promise.resolve();
    const run = this.flushing.then(async () => {
      if (this.pendingCount === 0) return;
      try {
        const result = await movePending(this.file, audit);
        this.apply(result.snapshot);
        if (result.error !== undefined) throw result.error;
      } catch (err) {
        this.log.error({ err }, 'cannot move user changes to the audit trail; they wait in the users file');
        this.flushRetryAt = this.now() + FLUSH_RETRY_MS;
      }
    });
    this.flushing = run;
    return run;
  }
}
