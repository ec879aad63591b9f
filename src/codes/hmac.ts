/**
 * HMAC-SHA256 of messages of at most 55 bytes under a fixed key, with the inner and outer
 * key blocks hashed once per key.
 *
 * node:crypto costs several microseconds per HMAC (object set-up dominates for a 3-byte
 * message) and the permutation needs four per code, which alone would cap decoding far below
 * the line's needs. With the key blocks pre-hashed, one HMAC is two SHA-256 compressions.
 * Tests check every result against node:crypto.
 */

const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const IV = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const W = new Int32Array(64);

/** One SHA-256 compression of the block already in W[0..15], applied to `state` in place. */
function compress(state: Int32Array): void {
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15]!;
    const w2 = W[t - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K256[t]! + W[t]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = (S0 + maj) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

function loadPaddedKeyBlock(key: Uint8Array, pad: number): void {
  for (let i = 0; i < 16; i++) {
    let word = 0;
    for (let b = 0; b < 4; b++) {
      const idx = i * 4 + b;
      word = (word << 8) | ((idx < key.length ? key[idx]! : 0) ^ pad);
    }
    W[i] = word;
  }
}

/** HMAC-SHA256 under one key (at most 64 bytes), for short messages. */
export class ShortHmac {
  private readonly inner = new Int32Array(8);
  private readonly outer = new Int32Array(8);
  private readonly state = new Int32Array(8);

  constructor(key: Uint8Array) {
    if (key.length > 64) throw new RangeError('HMAC keys longer than one block are not supported');
    this.inner.set(IV);
    loadPaddedKeyBlock(key, 0x36);
    compress(this.inner);
    this.outer.set(IV);
    loadPaddedKeyBlock(key, 0x5c);
    compress(this.outer);
  }

  /**
   * The first 32-bit word (big-endian) of HMAC(key, message) for a message of `length` ≤ 4
   * bytes given big-endian in `msgWord` (unused low bytes zero).
   */
  firstWord(msgWord: number, length: number): number {
    const st = this.state;
    st.set(this.inner);
    W.fill(0, 0, 16);
    W[0] = msgWord | (0x80 << (24 - 8 * length));
    W[15] = (64 + length) * 8;
    compress(st);
    for (let i = 0; i < 8; i++) W[i] = st[i]!;
    W[8] = 0x80000000;
    for (let i = 9; i < 15; i++) W[i] = 0;
    W[15] = (64 + 32) * 8;
    st.set(this.outer);
    compress(st);
    return st[0]! >>> 0;
  }

  /** The full 32-byte HMAC of a message of at most 55 bytes (used by tests and for checks). */
  digest(message: Uint8Array): Buffer {
    if (message.length > 55) throw new RangeError('message longer than one block');
    const st = this.state;
    st.set(this.inner);
    W.fill(0, 0, 16);
    for (let i = 0; i < message.length; i++) W[i >> 2]! |= message[i]! << (24 - 8 * (i & 3));
    W[message.length >> 2]! |= 0x80 << (24 - 8 * (message.length & 3));
    W[15] = (64 + message.length) * 8;
    compress(st);
    for (let i = 0; i < 8; i++) W[i] = st[i]!;
    W[8] = 0x80000000;
    for (let i = 9; i < 15; i++) W[i] = 0;
    W[15] = (64 + 32) * 8;
    st.set(this.outer);
    compress(st);
    const out = Buffer.alloc(32);
    for (let i = 0; i < 8; i++) out.writeInt32BE(st[i]!, i * 4);
    return out;
  }
}
