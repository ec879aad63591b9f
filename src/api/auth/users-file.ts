/**
 * The users of a line, in one small JSON file, `<dataDir>/auth/users.json`, readable only by
 * its owner. The daemon and `stampline user ...` both change it, each under a short lock of its
 * own (not the store's, which the running daemon holds), by reading it afresh, changing it and
 * replacing it atomically and durably. Each replacement is a new file, so a reader notices a
 * change by its inode, size and time without reading it.
 *
 * Changes wait in `pending` for the audit trail: they are written in the same replacement as
 * the change they describe, so neither exists without the other; whoever holds the trail (the
 * daemon, or the command line when no daemon runs) moves them there.
 *
 * A file that does not parse is never overwritten: every change is refused with a message
 * naming the file and the problem, so a person can repair or restore it without losing a user.
 */
import { randomBytes } from 'node:crypto';
import { chown, mkdir, open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { StamplineError } from '../../errors.js';
import { fsyncDir, mkdirDurable, writeFileDurable } from '../../store/durable.js';
import { withFileLock } from './lock.js';
import { SCRYPT_LIMITS } from './passwords.js';
import { RESERVED_USER_NAMES, USER_ROLES, type UserRole } from './types.js';

export const USERS_FILE_VERSION = 1;

const NAME_PATTERN = /^[a-z][a-z0-9._-]{0,31}$/;

/** Why a user name is not allowed, or undefined. */
export function userNameProblem(name: string): string | undefined {
  if (!NAME_PATTERN.test(name)) {
    return 'must be 1..32 characters of a-z 0-9 . _ -, starting with a letter';
  }
  if (RESERVED_USER_NAMES.has(name)) {
    return `is reserved (${[...RESERVED_USER_NAMES].join(', ')} name machines in the audit trail)`;
  }
  return undefined;
}

export const userNameSchema = z.string().superRefine((name, ctx) => {
  const problem = userNameProblem(name);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const isoTime = z.iso.datetime();

const powerOfTwo = (n: number) => Number.isInteger(Math.log2(n));

const passwordHashSchema = z.strictObject({
  algorithm: z.literal('scrypt'),
  N: z
    .number()
    .int()
    .min(SCRYPT_LIMITS.N[0])
    .max(SCRYPT_LIMITS.N[1])
    .refine(powerOfTwo, { error: 'must be a power of two' }),
  r: z.number().int().min(SCRYPT_LIMITS.r[0]).max(SCRYPT_LIMITS.r[1]),
  p: z.number().int().min(SCRYPT_LIMITS.p[0]).max(SCRYPT_LIMITS.p[1]),
  salt: z.base64().min(12),
  hash: z.base64().min(24),
});

const userSchema = z.strictObject({
  name: userNameSchema,
  role: z.enum(USER_ROLES),
  password: passwordHashSchema,
  createdAt: isoTime,
  createdBy: z.string().min(1).max(64),
  passwordChangedAt: isoTime,
  disabled: z.boolean(),
});

const auditField = z.string().min(1).max(512);

const pendingSchema = z.strictObject({
  /** Names the change, so a copy recorded twice (a crash between the trail and this file) is recognised. */
  id: z.string().regex(/^[0-9a-f]{16}$/),
  /** When the change was made; the trail's own time is when it was recorded there. */
  time: isoTime,
  actor: auditField,
  action: auditField,
  subject: auditField,
  before: z.unknown().optional(),
  after: z.unknown().optional(),
  reason: z.string().max(512).optional(),
});

const usersDocSchema = z
  .strictObject({
    version: z.literal(USERS_FILE_VERSION),
    users: z.array(userSchema),
    pending: z.array(pendingSchema),
  })
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    doc.users.forEach((u, i) => {
      if (seen.has(u.name)) {
        ctx.addIssue({
          code: 'custom',
          message: `a second user named ${u.name}`,
          path: ['users', i, 'name'],
        });
      }
      seen.add(u.name);
    });
  });

export type UserRecord = z.output<typeof userSchema>;
export type PendingAudit = z.output<typeof pendingSchema>;
export type UsersDoc = z.output<typeof usersDocSchema>;
/** A user as shown to people: everything but the password hash. */
export type UserView = Omit<UserRecord, 'password'>;

export function viewOf(u: UserRecord): UserView {
  const { password: _hash, ...view } = u;
  return view;
}

export function emptyDoc(): UsersDoc {
  return { version: USERS_FILE_VERSION, users: [], pending: [] };
}

export function newPendingId(): string {
  return randomBytes(8).toString('hex');
}

/** Identifies one version of the file: every replacement is a new inode. */
export type FileVersion = string;

export interface UsersSnapshot {
  doc: UsersDoc;
  /** undefined: there is no file (no users yet) */
  version: FileVersion | undefined;
}

export function isUserRole(role: string): role is UserRole {
  return (USER_ROLES as readonly string[]).includes(role);
}

function versionOf(s: { ino: number | bigint; size: number | bigint; mtimeMs: number }): FileVersion {
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

function describeIssues(issues: z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
  const more = issues.length > shown.length ? ` (and ${issues.length - shown.length} more)` : '';
  return `${shown.join('; ')}${more}`;
}

export class UsersFile {
  readonly dir: string;
  readonly path: string;
  readonly lockPath: string;

  constructor(readonly dataDir: string) {
    this.dir = join(dataDir, 'auth');
    this.path = join(this.dir, 'users.json');
    this.lockPath = join(this.dir, 'users.lock');
  }

  /** The version on the disk now, without reading it; undefined when there is no file. */
  async currentVersion(): Promise<FileVersion | undefined> {
    try {
      return versionOf(await stat(this.path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.unavailable('read', err);
    }
  }

  /** Reads and checks the file. Throws STORE_CORRUPT for a file that is not a users file. */
  async read(): Promise<UsersSnapshot> {
    let text: string;
    let version: FileVersion;
    try {
      // The version and the content come from the same open file, so they cannot disagree.
      const handle = await open(this.path, 'r');
      try {
        version = versionOf(await handle.stat());
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { doc: emptyDoc(), version: undefined };
      throw this.unavailable('read', err);
    }
    return { doc: this.parse(text), version };
  }

  parse(text: string): UsersDoc {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw this.corrupt(
        text.trim() === '' ? 'it is empty' : `it is not JSON (${(err as Error).message})`,
        err,
      );
    }
    if (
      typeof json === 'object' &&
      json !== null &&
      typeof (json as { version?: unknown }).version === 'number' &&
      (json as { version: number }).version > USERS_FILE_VERSION
    ) {
      throw this.corrupt(
        `it is version ${(json as { version: number }).version}, written by a newer stampline (this one reads version ${USERS_FILE_VERSION})`,
      );
    }
    const parsed = usersDocSchema.safeParse(json);
    if (!parsed.success) throw this.corrupt(describeIssues(parsed.error.issues));
    return parsed.data;
  }

  /**
   * Reads the file afresh under the lock, lets `change` modify it (throw to change nothing),
   * and replaces the file when something changed. Resolves with what `change` returned.
   */
  async update<T>(
    change: (doc: UsersDoc) => T | Promise<T>,
  ): Promise<{ result: T; snapshot: UsersSnapshot }> {
    await this.ensureDir();
    return withFileLock(this.lockPath, async () => {
      const current = await this.read();
      const before = JSON.stringify(current.doc);
      const doc = structuredClone(current.doc);
      const result = await change(doc);
      const text = JSON.stringify(doc, null, 2);
      if (JSON.stringify(doc) === before) return { result, snapshot: current };
      // What is written must read back: never leave a file the next reader refuses.
      this.parse(text);
      const version = await this.replace(`${text}\n`);
      return { result, snapshot: { doc, version } };
    });
  }

  private async ensureDir(): Promise<void> {
    try {
      await mkdirDurable(this.dataDir);
      try {
        await mkdir(this.dir, { mode: 0o700 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
        throw err;
      }
      const owner = await this.dataDirOwner();
      if (owner) await chown(this.dir, owner.uid, owner.gid);
      await fsyncDir(this.dataDir);
    } catch (err) {
      throw this.unavailable('create', err);
    }
  }

  /**
   * `sudo stampline user add` runs as root, but the daemon runs as the owner of the data
   * folder and must still read what root wrote. Undefined: leave the owner as it is.
   */
  private async dataDirOwner(): Promise<{ uid: number; gid: number } | undefined> {
    if (process.getuid?.() !== 0) return undefined;
    const owner = await stat(this.dataDir);
    return owner.uid === 0 ? undefined : { uid: owner.uid, gid: owner.gid };
  }

  /** Replaces the file durably, readable by its owner only from the moment it is created. */
  private async replace(text: string): Promise<FileVersion> {
    try {
      const owner = await this.dataDirOwner();
      return versionOf(await writeFileDurable(this.path, text, { mode: 0o600, owner }));
    } catch (err) {
      throw this.unavailable('write', err);
    }
  }

  private corrupt(reason: string, cause?: unknown): StamplineError {
    return new StamplineError(
      'STORE_CORRUPT',
      `${this.path} is not a valid users file: ${reason}. It is left as it is and no user can be changed until it is repaired or restored from a backup`,
      { path: this.path, reason },
      { cause },
    );
  }

  private unavailable(what: string, err: unknown): StamplineError {
    if (err instanceof StamplineError) return err;
    return new StamplineError(
      'STORE_UNAVAILABLE',
      `cannot ${what} ${this.path}: ${(err as Error).message}`,
      { path: this.path },
      { cause: err },
    );
  }
}
