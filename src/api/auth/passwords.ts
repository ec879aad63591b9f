/**
 * Password hashes: scrypt from node:crypto with a random 16-byte salt. The parameters are stored
 * with each hash, so they can be raised later: a hash made with weaker ones still verifies, and
 * is made again with the current ones at the user's next login.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { StamplineError } from '../../errors.js';

export interface ScryptParams {
  /** CPU and memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

export interface PasswordHash extends ScryptParams {
  algorithm: 'scrypt';
  /** base64 */
  salt: string;
  /** base64 */
  hash: string;
}

/** OWASP's first choice for scrypt: 128 MiB and about half a second on a small line PC. */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 256;

const SALT_BYTES = 16;
const KEY_BYTES = 32;

/** Bounds on stored parameters: an edited file must not make a login take minutes or gigabytes. */
export const SCRYPT_LIMITS = { N: [2 ** 10, 2 ** 20], r: [1, 32], p: [1, 16] } as const;

/**
 * scrypt runs on libuv's thread pool, which the line's durable writes share. One hash at a
 * time keeps three of its four threads free for the disk whatever arrives at the login form.
 *
 * The names take turns at the hasher (start-time fair queueing, one lane per user name): a hash
 * is tagged with the turn its name reaches, the later of now and the end of that name's last
 * hash, and the lowest tag goes next. A burst of guesses at one name (which the throttle already
 * cuts to a few) queues behind itself; a login of another name waits at most for one hash of
 * each other name being tried, never for the whole burst.
 */
interface Job {
  start: number;
  seq: number;
  lane: string;
  run: () => void;
}
const queue: Job[] = [];
/** The turn after each lane's last queued hash. */
const laneEnd = new Map<string, number>();
/** The turn of the hash being made, or of the last one. */
let turn = 0;
let seq = 0;
let hashing = false;

/** Logins waiting for the hasher beyond which a new one is turned away (see Auth.login). */
export const MAX_WAITING_HASHES = 1024;
/** Hashes of one name waiting beyond which another try of that name is turned away. */
export const MAX_WAITING_PER_NAME = 4;

export function hashesWaiting(lane?: string): number {
  return lane === undefined ? queue.length : queue.filter((j) => j.lane === lane).length;
}

function next(): void {
  if (hashing || queue.length === 0) return;
  let best = 0;
  for (let i = 1; i < queue.length; i++) {
    const a = queue[i]!;
    const b = queue[best]!;
    if (a.start < b.start || (a.start === b.start && a.seq < b.seq)) best = i;
  }
  const [job] = queue.splice(best, 1);
  turn = job!.start;
  // A lane that ends by the present turn has nothing queued and no advance left: forget it.
  for (const [lane, end] of laneEnd) if (end <= turn) laneEnd.delete(lane);
  hashing = true;
  job!.run();
}

function enqueue(lane: string, run: () => void): void {
  const start = Math.max(turn, laneEnd.get(lane) ?? 0);
  laneEnd.set(lane, start + 1);
  queue.push({ start, seq: seq++, lane, run });
  next();
}

function derive(
  password: string,
  salt: Buffer,
  params: ScryptParams,
  keyLength: number,
  lane: string,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const done = (err: Error | null, key?: Buffer) => {
      hashing = false;
      next();
      if (err) reject(err);
      else resolve(key!);
    };
    const run = () => {
      try {
        scrypt(
          password.normalize('NFC'),
          salt,
          keyLength,
          // 128 * N * r is the working set; node refuses anything above maxmem, so leave room.
          { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 },
          done,
        );
      } catch (err) {
        // Parameters scrypt refuses outright must not leave the hasher taken for ever.
        done(err as Error);
      }
    };
    enqueue(lane, run);
  });
}

/** `lane`: the user name the hash is made for (see the lanes above). */
export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
  lane = '',
): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES, lane);
  return {
    algorithm: 'scrypt',
    N: params.N,
    r: params.r,
    p: params.p,
    salt: salt.toString('base64'),
    hash: key.toString('base64'),
  };
}

/** Compares in constant time; a malformed stored hash never matches. */
export async function verifyPassword(password: string, stored: PasswordHash, lane = ''): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const salt = Buffer.from(stored.salt, 'base64');
  if (expected.length < 16 || salt.length < 8) return false;
  const key = await derive(password, salt, stored, expected.length, lane);
  return timingSafeEqual(key, expected);
}

/** True when the stored hash is weaker than what would be made now. */
export function needsRehash(stored: PasswordHash, current: ScryptParams): boolean {
  return stored.N < current.N || stored.r < current.r || stored.p < current.p;
}

/** Why a new password is refused, or undefined. */
export function weakPasswordProblem(password: string): string | undefined {
  // Counted as JSON Schema counts (UTF-16 units), so the documented limits are the real ones.
  const length = password.length;
  if (length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters (got ${length})`;
  if (length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters (got ${length})`;
  return undefined;
}

export function checkNewPassword(password: string, field = 'password'): void {
  const problem = weakPasswordProblem(password);
  if (problem) {
    throw new StamplineError('INVALID_INPUT', `the password ${problem}`, {
      problems: [{ path: field, reason: problem }],
    });
  }
}
