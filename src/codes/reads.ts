/**
 * Reads of cartridge cases (spec §5): what a person or a camera saw, turned into per-symbol
 * observations. Malformed reads are errors naming the read; illegible marks are not errors.
 */
import { StamplineError } from '../errors.js';
import { CHAR_VALUE } from './alphabet.js';
import { GEAR_LENGTH, SYNC_BITS, SYNC_LENGTH, TEXT_LENGTH } from './codeword.js';
import type { SoftRead } from './soft-read.js';

/** One case: its text read, its gear read, either, both or neither. */
export interface Read {
  text?: string | null;
  gear?: string | null;
  /** a camera's read with its probabilities (soft-read.ts); typed text and gear take precedence */
  soft?: SoftRead | null;
}

/** A text read: the value of each of c0..c9, or -1 where illegible or not read. */
export type TextObservation = Int8Array;

/** How errors name the read'th read (from 1). */
function readName(read: number): string {
  return `read ${read}`;
}

const DASH = 0x2d;
const SPACE = 0x20;

/**
 * Normalises a text read. `read` (from 1) names it in errors ("read 2").
 * Returns null when nothing at all was read.
 */
export function parseTextRead(text: unknown, read: number, into?: Int8Array): TextObservation | null {
  if (text === undefined || text === null) return null;
  if (typeof text !== 'string') {
    const which = readName(read);
    throw new StamplineError(
      'CODE_BAD_READ',
      `${which}: the text read must be a string, got ${typeof text}`,
      {
        read: which,
      },
    );
  }
  const obs = into ?? new Int8Array(TEXT_LENGTH);
  obs.fill(-1);
  let n = 0;
  let legible = 0;
  // By code point, as a person counts characters: a surrogate pair is one (illegible) character.
  for (let k = 0; k < text.length; k++) {
    const code = text.charCodeAt(k);
    if (code === DASH || code === SPACE) continue;
    if (n === TEXT_LENGTH) {
      const which = readName(read);
      const symbols = [...text].filter((c) => c !== '-' && c !== ' ').length;
      throw new StamplineError(
        'CODE_BAD_READ',
        `${which}: the text read ${JSON.stringify(text)} has ${symbols} symbols after removing dashes and spaces; a text read has at most ${TEXT_LENGTH}`,
        { read: which, text, symbols },
      );
    }
    if (code >= 0xd800 && code < 0xdc00 && k + 1 < text.length) {
      const next = text.charCodeAt(k + 1);
      if (next >= 0xdc00 && next < 0xe000) k++;
    }
    // Anything outside the alphabet, '?' included, is an illegible character (an erasure).
    const value = code < 128 ? CHAR_VALUE[code]! : -1;
    obs[n++] = value;
    if (value >= 0) legible++;
  }
  return legible === 0 ? null : obs;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, x) => {
  let n = 0;
  for (let v = x; v; v >>= 1) n += v & 1;
  return n;
});
const ORDER_SCRATCH = new Uint32Array(GEAR_LENGTH);

/** 1 for a legible tooth (0 or 1), 0 for an illegible one (-1). */
function legibleBit(t: number): number {
  return (t >> 1) + 1;
}

/** 1 for a tooth read as 1, else 0. */
function valueBit(t: number): number {
  return t & 1 & ~(t >> 1);
}

/**
 * Records the window and the fit of the sync at rotation o, from the legibility and values of
 * the 8 teeth from o on, and returns the rotation's order key. Legibility and value are kept
 * without branches by the callers: the teeth of a read are as unpredictable as the code, and a
 * mispredicted branch per tooth costs more than the rest of the loop.
 */
function recordWindow(
  window: Uint16Array,
  syncLegible: Int8Array,
  syncMatch: Int8Array,
  o: number,
  mask: number,
  value: number,
): number {
  // the 5-tooth window starting at o is the top five of the 8-tooth one
  window[o] = ((mask >> 3) << 5) | (value >> 3);
  const seen = POPCOUNT[mask]!;
  const agree = POPCOUNT[~(value ^ SYNC_BITS) & mask & 0xff]!;
  syncLegible[o] = seen;
  syncMatch[o] = agree;
  return orderKey(seen - agree, agree, o);
}

function orderKey(disagree: number, agree: number, rotation: number): number {
  return (disagree << 12) | ((SYNC_LENGTH - agree) << 8) | rotation;
}

/**
 * A gear read at an unknown rotation, prepared for fast alignment: `bits` holds the 88 teeth
 * twice over (1, 0, or -1 for illegible) so that any rotation is a plain slice.
 */
export class GearObservation {
  readonly bits = new Int8Array(2 * GEAR_LENGTH);
  /** legible teeth */
  legible = 0;
  /** the 5-bit window starting at tooth o: (legibleMask << 5) | bits; doubled like `bits` */
  readonly window = new Uint16Array(2 * GEAR_LENGTH);
  /** legible sync teeth and how many of them agree with the sync, if the sync starts at tooth r */
  readonly syncLegible = new Int8Array(GEAR_LENGTH);
  readonly syncMatch = new Int8Array(GEAR_LENGTH);
  /** the rotation whose sync fits best (fewest disagreeing, then most agreeing teeth) */
  bestSyncRotation = 0;
  private order: Uint8Array | undefined;
  private orderValid = false;

  /** An observation of the given teeth (1, 0, or -1 for illegible). */
  static of(teeth: ArrayLike<number>): GearObservation {
    return new GearObservation().load(teeth);
  }

  /**
   * Takes in a new read, reusing this object's memory: decoding keeps observations only for
   * the length of one call, and fresh buffers of this size are costly to allocate.
   */
  load(teeth: ArrayLike<number>): this {
    const { bits, window, syncLegible, syncMatch } = this;
    let legible = 0;
    for (let i = 0; i < GEAR_LENGTH; i++) {
      const t = teeth[i]!;
      bits[i] = t;
      legible += legibleBit(t);
    }
    let mask = 0;
    let value = 0;
    for (let i = 0; i < SYNC_LENGTH - 1; i++) {
      const t = bits[i]!;
      mask = (mask << 1) | legibleBit(t);
      value = (value << 1) | valueBit(t);
    }
    let bestKey = 0x7fffffff;
    for (let o = 0; o < GEAR_LENGTH; o++) {
      const t = bits[(o + SYNC_LENGTH - 1) % GEAR_LENGTH]!;
      mask = ((mask << 1) | legibleBit(t)) & 0xff;
      value = ((value << 1) | valueBit(t)) & 0xff;
      bestKey = Math.min(recordWindow(window, syncLegible, syncMatch, o, mask, value), bestKey);
    }
    this.finish(legible, bestKey);
    return this;
  }

  /**
   * Takes in the 88 characters of a gear read (`0`, `1`, `?`) from `text`, which must have at
   * least 88, reading each character once. Returns false, leaving the observation unusable,
   * when one is another character.
   */
  loadText(text: string): boolean {
    const { bits, window, syncLegible, syncMatch } = this;
    let legible = 0;
    let bad = 0;
    let mask = 0;
    let value = 0;
    for (let i = 0; i < SYNC_LENGTH - 1; i++) {
      const code = text.charCodeAt(i);
      const t = code < 128 ? TOOTH[code]! : NOT_A_TOOTH;
      bits[i] = t;
      legible += legibleBit(t); // 0 for NOT_A_TOOTH too
      bad |= ~t & (t >> 1); // odd only for NOT_A_TOOTH (-2)
      mask = (mask << 1) | legibleBit(t);
      value = (value << 1) | valueBit(t);
    }
    let bestKey = 0x7fffffff;
    // tooth i completes the 8-tooth window that starts at o = i − 7
    for (let i = SYNC_LENGTH - 1; i < GEAR_LENGTH; i++) {
      const code = text.charCodeAt(i);
      const t = code < 128 ? TOOTH[code]! : NOT_A_TOOTH;
      bits[i] = t;
      legible += legibleBit(t);
      bad |= ~t & (t >> 1);
      mask = ((mask << 1) | legibleBit(t)) & 0xff;
      value = ((value << 1) | valueBit(t)) & 0xff;
      bestKey = Math.min(
        recordWindow(window, syncLegible, syncMatch, i - (SYNC_LENGTH - 1), mask, value),
        bestKey,
      );
    }
    // the last seven windows wrap round to the first teeth
    for (let o = GEAR_LENGTH - (SYNC_LENGTH - 1); o < GEAR_LENGTH; o++) {
      const t = bits[o + SYNC_LENGTH - 1 - GEAR_LENGTH]!;
      mask = ((mask << 1) | legibleBit(t)) & 0xff;
      value = ((value << 1) | valueBit(t)) & 0xff;
      bestKey = Math.min(recordWindow(window, syncLegible, syncMatch, o, mask, value), bestKey);
    }
    this.finish(legible, bestKey);
    return (bad & 1) === 0;
  }

  private finish(legible: number, bestKey: number): void {
    this.bits.copyWithin(GEAR_LENGTH, 0, GEAR_LENGTH);
    this.window.copyWithin(GEAR_LENGTH, 0, GEAR_LENGTH);
    this.legible = legible;
    this.bestSyncRotation = bestKey & 0xff;
    this.orderValid = false;
  }

  /** Every rotation, most plausible sync first: fewest disagreeing, then most agreeing teeth. */
  get rotationOrder(): Uint8Array {
    if (!this.order) this.order = new Uint8Array(GEAR_LENGTH);
    if (!this.orderValid) {
      const keys = ORDER_SCRATCH;
      for (let o = 0; o < GEAR_LENGTH; o++) keys[o] = orderKey(this.syncMismatch(o), this.syncMatch[o]!, o);
      keys.sort();
      for (let n = 0; n < GEAR_LENGTH; n++) this.order[n] = keys[n]! & 0xff;
      this.orderValid = true;
    }
    return this.order;
  }

  syncMismatch(rotation: number): number {
    return this.syncLegible[rotation]! - this.syncMatch[rotation]!;
  }

  /** The window of symbol i when the sync starts at tooth r. */
  windowOf(i: number, rotation: number): number {
    return this.window[rotation + SYNC_LENGTH + 5 * i]!;
  }
}

/**
 * For a gear read that may have every tooth legible: the value of the 5 teeth from each tooth
 * on into `window[0..175]` (twice over, like a GearObservation's windows without the
 * legibility mask), and the agreement of the sync at every rotation into `syncMatch`, as
 * `loadText` computes it for such a read. Returns false, leaving both unusable, when `ring`
 * is not 88 characters of `0` and `1`.
 */
export function scanLegibleRing(ring: string, window: Uint8Array, syncMatch: Int8Array): boolean {
  if (ring.length !== GEAR_LENGTH) return false;
  let other = 0;
  let value = 0;
  // tooth i completes the 5-tooth window from i − 4 and the 8-tooth one from i − 7
  for (let i = 0; i < SYNC_LENGTH - 1; i++) {
    const code = ring.charCodeAt(i);
    other |= code ^ 0x30; // anything but 0x30 and 0x31 sets a bit above the lowest
    value = (value << 1) | (code & 1);
    if (i >= 4) window[i - 4] = value & 31;
  }
  for (let i = SYNC_LENGTH - 1; i < GEAR_LENGTH; i++) {
    const code = ring.charCodeAt(i);
    other |= code ^ 0x30;
    value = ((value << 1) | (code & 1)) & 0xff;
    window[i - 4] = value & 31;
    syncMatch[i - (SYNC_LENGTH - 1)] = POPCOUNT[~(value ^ SYNC_BITS) & 0xff]!;
  }
  if ((other & ~1) !== 0) return false;
  // the last windows wrap round to the first teeth, whose values the first windows hold
  for (let k = 0; k < SYNC_LENGTH - 1; k++) {
    value = ((value << 1) | (window[k]! >> 4)) & 0xff;
    if (k < 4) window[GEAR_LENGTH - 4 + k] = value & 31;
    syncMatch[GEAR_LENGTH - (SYNC_LENGTH - 1) + k] = POPCOUNT[~(value ^ SYNC_BITS) & 0xff]!;
  }
  window.copyWithin(GEAR_LENGTH, 0, GEAR_LENGTH);
  return true;
}

const NOT_A_TOOTH = -2;
/** Each ASCII character as a tooth: 1, 0, -1 for `?`, NOT_A_TOOTH for anything else. */
const TOOTH = new Int8Array(128).fill(NOT_A_TOOTH);
TOOTH[0x30] = 0;
TOOTH[0x31] = 1;
TOOTH[0x3f] = -1;

/**
 * Parses a gear read: exactly 88 of `0`, `1`, `?`, starting at any tooth. Surrounding
 * whitespace is ignored; an empty read means the ring was not read (null). The observation
 * is loaded into `into` when given.
 */
export function parseGearRead(gear: unknown, read: number, into?: GearObservation): GearObservation | null {
  if (gear === undefined || gear === null) return null;
  if (typeof gear !== 'string') {
    const which = readName(read);
    throw new StamplineError(
      'CODE_BAD_READ',
      `${which}: the gear read must be a string, got ${typeof gear}`,
      {
        read: which,
      },
    );
  }
  const s = gear.trim();
  if (s.length === 0) return null;
  const obs = into ?? new GearObservation();
  if (s.length < GEAR_LENGTH || !obs.loadText(s)) {
    // the first character that is not a tooth, if any, is the error; else the length
    let i = 0;
    while (i < s.length && i < GEAR_LENGTH && s.charCodeAt(i) < 128 && TOOTH[s.charCodeAt(i)] !== NOT_A_TOOTH)
      i++;
    if (i < s.length && i < GEAR_LENGTH) {
      const which = readName(read);
      const ch = String.fromCodePoint(s.codePointAt(i)!);
      throw new StamplineError(
        'CODE_BAD_READ',
        `${which}: the gear read has ${JSON.stringify(ch)} at tooth ${i + 1}; a gear read is made of 0, 1 and ?`,
        { read: which, position: i + 1, character: ch },
      );
    }
  }
  if (s.length !== GEAR_LENGTH) {
    const which = readName(read);
    throw new StamplineError(
      'CODE_BAD_READ',
      `${which}: the gear read has ${[...s].length} teeth; a gear read has exactly ${GEAR_LENGTH} (use ? for illegible teeth)`,
      { read: which, length: [...s].length },
    );
  }
  return obs.legible === 0 ? null : obs;
}
