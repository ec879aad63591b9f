/**
 * Issuer keys: parsing, validation, and the per-key state the permutation needs.
 *
 * A key context holds the pre-hashed HMAC key blocks and a lazily filled table of round
 * function values (4 rounds × 2^14 inputs, 128 KiB). A line, a QA station or a simulation
 * uses one or a few keys for millions of codes, so after warm-up the permutation costs eight
 * table look-ups. Contexts are kept in a small least-recently-used cache keyed by the hex key.
 */
import { StamplineError } from '../errors.js';
import { ShortHmac } from './hmac.js';

export const KEY_BYTES = 16;
const HEX_KEY = /^[0-9a-fA-F]{32}$/;

/** The 16-byte key written as 32 hex digits (either case). */
export function parseKey(hex: string): Buffer {
  if (typeof hex !== 'string') {
    throw new StamplineError('CODE_BAD_KEY', `key must be a string of 32 hex digits, got ${typeof hex}`, {
      type: typeof hex,
    });
  }
  if (!HEX_KEY.test(hex)) {
    const bad = [...hex].find((ch) => !/[0-9a-fA-F]/.test(ch));
    const why =
      bad !== undefined
        ? `contains ${JSON.stringify(bad)}, which is not a hex digit`
        : `has ${hex.length} hex digits, not 32`;
    throw new StamplineError('CODE_BAD_KEY', `key ${why}`, { length: hex.length });
  }
  return Buffer.from(hex, 'hex');
}

export function keyBytes(key: Buffer | Uint8Array | string): Uint8Array {
  if (typeof key === 'string') return parseKey(key);
  if (key instanceof Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new StamplineError('CODE_BAD_KEY', `key has ${key.length} bytes, not ${KEY_BYTES}`, {
        length: key.length,
      });
    }
    return key;
  }
  throw new StamplineError('CODE_BAD_KEY', 'key must be 32 hex digits or 16 bytes', { type: typeof key });
}

const ROUNDS = 4;
const HALF_BITS = 14;
const HALF_SIZE = 1 << HALF_BITS;
const UNSET = 0xffff;

export class KeyContext {
  private readonly hmac: ShortHmac;
  private readonly table = new Uint16Array(ROUNDS * HALF_SIZE).fill(UNSET);

  constructor(key: Uint8Array) {
    this.hmac = new ShortHmac(key);
  }

  /** F(r, R): first two bytes of HMAC(key, [r, R >> 8, R & 0xFF]) masked to 14 bits. */
  round(r: number, half: number): number {
    const slot = (r << HALF_BITS) | half;
    let v = this.table[slot]!;
    if (v === UNSET) {
      const msg = (r << 24) | ((half >> 8) << 16) | ((half & 0xff) << 8);
      v = (this.hmac.firstWord(msg, 3) >>> 16) & (HALF_SIZE - 1);
      this.table[slot] = v;
    }
    return v;
  }
}

const CACHE_LIMIT = 32;
const cache = new Map<string, KeyContext>();
let lastHex = '';
/** the string the last context was asked for, as given (before lower-casing) */
let lastKey = '';
let lastContext: KeyContext | undefined;

/** The context of a key, validated; repeated calls with the same key are a string compare. */
export function keyContext(key: Buffer | Uint8Array | string): KeyContext {
  if (key === lastKey && lastContext) return lastContext;
  const hex = typeof key === 'string' ? key.toLowerCase() : '';
  if (hex !== '' && hex === lastHex && lastContext) {
    lastKey = key as string;
    return lastContext;
  }
  const bytes = keyBytes(key);
  const id = hex !== '' ? hex : Buffer.from(bytes).toString('hex');
  let ctx = cache.get(id);
  if (ctx) {
    cache.delete(id); // re-insert: Map order is the recency order
  } else {
    ctx = new KeyContext(bytes);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  }
  cache.set(id, ctx);
  if (hex !== '') {
    lastHex = hex;
    lastKey = key as string;
    lastContext = ctx;
  }
  return ctx;
}
