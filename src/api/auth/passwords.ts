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
 */
let queue: Promise<unknown> = Promise.resolve();
let waiting = 0;

/** Logins waiting for the hasher beyond which a new one is turned away (see LoginThrottle). */
export const MAX_WAITING_HASHES = 32;

export function hashesWaiting(): number {
  return waiting;
}

function derive(password: string, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> {
  waiting++;
  const run = queue.then(
    () =>
      new Promise<Buffer>((resolve, reject) => {
        scrypt(
          password.normalize('NFC'),
          salt,
          keyLength,
          // 128 * N * r is the working set; node refuses anything above maxmem, so leave room.
          { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 * 1024 },
          (err, key) => (err ? reject(err) : resolve(key)),
        );
      }),
  );
  queue = run.catch(() => {}).finally(() => waiting--);
  return run;
}

export async function hashPassword(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
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
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const salt = Buffer.from(stored.salt, 'base64');
  if (expected.length < 16 || salt.length < 8) return false;
  const key = await derive(password, salt, stored, expected.length);
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
