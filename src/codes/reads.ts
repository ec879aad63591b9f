/**
 * Reads of cartridge cases (spec §5): what a person or a camera saw, turned into per-symbol
 * observations. Malformed reads are errors naming the read; illegible marks are not errors.
 */
import { StamplineError } from '../errors.js';
import { CHAR_VALUE } from './alphabet.js';
import { GEAR_LENGTH, SYNC_BITS, SYNC_LENGTH, TEXT_LENGTH } from './codeword.js';

/** One case: its text read, its gear read, either, both or neither. */
export interface Read {
  text?: string | null;
  gear?: string | null;
}

/** A text read: the value of each of c0..c9, or -1 where illegible or not read. */
export type TextObservation = Int8Array;

const DASH = 0x2d;
const SPACE = 0x20;

/**
 * Normalises a text read. `which` names the read in errors ("read 2").
 * Returns null when nothing at all was read.
 */
export function parseTextRead(text: unknown, which: string): TextObservation | null {
  if (text === undefined || text === null) return null;
  if (typeof text !== 'string') {
    throw new StamplineError(
      'CODE_BAD_READ',
      `${which}: the text read must be a string, got ${typeof text}`,
      {
        read: which,
      },
    );
  }
  const obs = new Int8Array(TEXT_LENGTH).fill(-1);
  let n = 0;
  let legible = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code === DASH || code === SPACE) continue;
    if (n === TEXT_LENGTH) {
      const symbols = [...text].filter((c) => c !== '-' && c !== ' ').length;
      throw new StamplineError(
        'CODE_BAD_READ',
        `${which}: the text read ${JSON.stringify(text)} has ${symbols} symbols after removing dashes and spaces; a text read has at most ${TEXT_LENGTH}`,
        { read: which, text, symbols },
      );
    }
    // Anything outside the alphabet, '?' included, is an illegible character (an erasure).
    const value = code < 128 ? CHAR_VALUE[code]! : -1;
    obs[n++] = value;
    if (value >= 0) legible++;
  }
  return legible === 0 ? null : obs;
}

const SYNC_TEETH = Int8Array.from(
  { length: SYNC_LENGTH },
  (_, b) => (SYNC_BITS >> (SYNC_LENGTH - 1 - b)) & 1,
);
const ORDER_SCRATCH = new Uint32Array(GEAR_LENGTH);

/**
 * A gear read at an unknown rotation, prepared for fast alignment: `bits` holds the 88 teeth
 * twice over (1, 0, or -1 for illegible) so that any rotation is a plain slice.
 */
export class GearObservation {
  readonly bits = new Int8Array(2 * GEAR_LENGTH);
  /** legible teeth */
  readonly legible: number;
  /** the 5-bit window starting at tooth o: (legibleMask << 5) | bits; doubled like `bits` */
  readonly window = new Uint16Array(2 * GEAR_LENGTH);
  /** legible sync teeth and how many of them agree with the sync, if the sync starts at tooth r */
  readonly syncLegible = new Int8Array(GEAR_LENGTH);
  readonly syncMatch = new Int8Array(GEAR_LENGTH);
  /** every rotation, most plausible sync first (fewest disagreeing, then most agreeing teeth) */
  readonly rotationOrder = new Uint8Array(GEAR_LENGTH);

  constructor(teeth: ArrayLike<number>) {
    const bits = this.bits;
    const window = this.window;
    let legible = 0;
    for (let i = 0; i < GEAR_LENGTH; i++) {
      const t = teeth[i]!;
      bits[i] = t;
      bits[i + GEAR_LENGTH] = t;
      if (t >= 0) legible++;
    }
    this.legible = legible;
    // Running 5- and 8-tooth windows: legible mask, bit values, and agreement with the sync.
    let mask = 0;
    let value = 0;
    for (let b = 0; b < 4; b++) {
      const t = bits[b]!;
      mask = (mask << 1) | (t >= 0 ? 1 : 0);
      value = (value << 1) | (t > 0 ? 1 : 0);
    }
    const order = ORDER_SCRATCH;
    for (let o = 0; o < GEAR_LENGTH; o++) {
      const t = bits[o + 4]!;
      mask = ((mask << 1) | (t >= 0 ? 1 : 0)) & 31;
      value = ((value << 1) | (t > 0 ? 1 : 0)) & 31;
      window[o] = (mask << 5) | value;
      window[o + GEAR_LENGTH] = (mask << 5) | value;
      let seen = 0;
      let agree = 0;
      for (let b = 0; b < SYNC_LENGTH; b++) {
        const s = bits[o + b]!;
        if (s < 0) continue;
        seen++;
        if (s === SYNC_TEETH[b]) agree++;
      }
      this.syncLegible[o] = seen;
      this.syncMatch[o] = agree;
      // Most plausible sync first: fewest disagreeing teeth, then most agreeing ones.
      order[o] = ((seen - agree) << 12) | ((SYNC_LENGTH - agree) << 8) | o;
    }
    order.sort();
    for (let n = 0; n < GEAR_LENGTH; n++) this.rotationOrder[n] = order[n]! & 0xff;
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
 * Parses a gear read: exactly 88 of `0`, `1`, `?`, starting at any tooth. Surrounding
 * whitespace is ignored; an empty read means the ring was not read (null).
 */
export function parseGearRead(gear: unknown, which: string): GearObservation | null {
  if (gear === undefined || gear === null) return null;
  if (typeof gear !== 'string') {
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
  const teeth = new Int8Array(GEAR_LENGTH);
  let legible = 0;
  for (let i = 0; i < s.length && i < GEAR_LENGTH; i++) {
    const ch = s[i];
    if (ch === '0' || ch === '1') {
      teeth[i] = ch === '1' ? 1 : 0;
      legible++;
    } else if (ch === '?') {
      teeth[i] = -1;
    } else {
      throw new StamplineError(
        'CODE_BAD_READ',
        `${which}: the gear read has ${JSON.stringify(ch)} at tooth ${i + 1}; a gear read is made of 0, 1 and ?`,
        { read: which, position: i + 1, character: ch },
      );
    }
  }
  if (s.length !== GEAR_LENGTH) {
    throw new StamplineError(
      'CODE_BAD_READ',
      `${which}: the gear read has ${[...s].length} teeth; a gear read has exactly ${GEAR_LENGTH} (use ? for illegible teeth)`,
      { read: which, length: [...s].length },
    );
  }
  return legible === 0 ? null : new GearObservation(teeth);
}
