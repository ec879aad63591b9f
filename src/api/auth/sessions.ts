/**
 * Login sessions, in memory only: a restart of the daemon logs everyone out, which is the safe
 * side for a line controller (nothing on the disk to steal, nothing stale after a crash). A
 * session id is 256 random bits; the table keeps only its SHA-256, so even a dump of the
 * process memory does not hand out live cookies. Expiry slides: each request with the session
 * starts its time again.
 */
import { createHash, randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'stampline_session';

const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  user: string;
  createdAt: number;
  expiresAt: number;
}

export type Lookup =
  | { kind: 'ok'; session: Session }
  | { kind: 'expired'; user: string }
  | { kind: 'unknown' };

function keyOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

export class SessionTable {
  private readonly byKey = new Map<string, Session>();
  private lastSweep = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** Starts a session for `user`; returns the id to put in the cookie. */
  create(user: string): { id: string; session: Session } {
    this.sweep();
    const id = randomBytes(32).toString('base64url');
    const t = this.now();
    const session: Session = { user, createdAt: t, expiresAt: t + this.ttlMs };
    this.byKey.set(keyOf(id), session);
    return { id, session };
  }

  /** Finds a session and, when it is live, moves its expiry forward. */
  touch(id: string): Lookup {
    if (!ID_PATTERN.test(id)) return { kind: 'unknown' };
    const key = keyOf(id);
    const session = this.byKey.get(key);
    if (!session) return { kind: 'unknown' };
    const t = this.now();
    if (t >= session.expiresAt) {
      this.byKey.delete(key);
      return { kind: 'expired', user: session.user };
    }
    session.expiresAt = t + this.ttlMs;
    return { kind: 'ok', session };
  }

  /** Whether a session is known and not expired, without moving its expiry. */
  isLive(id: string): boolean {
    if (!ID_PATTERN.test(id)) return false;
    const session = this.byKey.get(keyOf(id));
    return session !== undefined && this.now() < session.expiresAt;
  }

  /** Ends one session; returns what it was. */
  end(id: string): Session | undefined {
    if (!ID_PATTERN.test(id)) return undefined;
    const key = keyOf(id);
    const session = this.byKey.get(key);
    this.byKey.delete(key);
    return session;
  }

  /** Ends every session of `user` except `keep` (an id); returns how many ended. */
  endAllOf(user: string, keep?: string): number {
    const kept = keep !== undefined && ID_PATTERN.test(keep) ? keyOf(keep) : undefined;
    let n = 0;
    for (const [key, s] of this.byKey) {
      if (s.user === user && key !== kept) {
        this.byKey.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.byKey.clear();
  }

  /** Drops expired sessions now and then, so abandoned ones do not pile up. */
  private sweep(): void {
    const t = this.now();
    if (t - this.lastSweep < 60_000) return;
    this.lastSweep = t;
    for (const [key, s] of this.byKey) if (t >= s.expiresAt) this.byKey.delete(key);
  }
}
