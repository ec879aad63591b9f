/**
 * The clean-read shortcut: one case whose text shows every data character, and whose every
 * legible mark (the text's parity characters, every legible tooth of its gear ring at the
 * rotation the ring aligns to) agrees with the codeword those data characters give.
 *
 * For such a read the search of `decode.ts` has exactly one candidate, found by the text
 * alone, and every row of its evidence is one of a few kinds: a character and a gear window,
 * or a gear window alone, each agreeing with the codeword. So instead of building 16 × 32
 * weights, the shortcut looks each row up in tables built once per read model by running the
 * decoder's own row arithmetic (`buildEvidence`, `decide`, `rowOdds`, `prepareRow`) on
 * synthetic reads, and combines the rows in the same order with the same functions. Its result
 * is therefore identical, bit for bit, to the full search's; where the full search would weigh
 * each other rotation of the ring one by one (their bound is not negligible), the shortcut
 * declines and the full search runs.
 */
import { GEAR_LENGTH, SYNC_BITS, SYNC_LENGTH, TEXT_LENGTH } from './codeword.js';
import {
  oddsOfRows,
  otherRotationOdds,
  otherRotationsBound,
  preparedOwnWeight,
  prepareRow,
  rowOdds,
} from './confidence.js';
import { buildEvidence, EVIDENCE_SIZE } from './evidence.js';
import { uecOf } from './grade.js';
import type { Weights } from './model.js';
import { GearObservation, scanLegibleRing, type TextObservation } from './reads.js';
import { computeParity, K, N } from './rs.js';
import { SoftDecoder } from './soft.js';

/** What the shortcut found: the codeword, its counts, its risk and the ring's rotation. */
export interface CleanDecode {
  symbols: Uint8Array;
  erasures: number;
  risk: number;
  /** where the gear read's sync starts, or -1 without a gear read */
  rotation: number;
}

/**
 * Rows of the evidence of a clean single read, per read model. A row is indexed by
 * `(hasText << 10) | (mask << 5) | value`: whether the character at that position was read,
 * which teeth of its gear window were read (0: none, or no gear read), and the codeword's
 * value there.
 */
class RowTables {
  /** the row's kind has been computed (for both hasText values at once) */
  readonly ready = new Uint8Array(32 * 32);
  /** t_i of sameAlignmentOdds */
  readonly sameOdds = new Float64Array(2 * 32 * 32);
  /** the row holds no single best-supported value */
  readonly erased = new Uint8Array(2 * 32 * 32);
  /** D_i and maxT_i of otherRotationOdds, with only the text read as the other evidence */
  readonly ownWeight = new Float64Array(2 * 32 * 32);
  readonly maxOther = new Float64Array(2 * 32 * 32);
  /** t_i and erasure of a row with a character and no gear read, by value */
  readonly textOnlyOdds = new Float64Array(32);
  readonly textOnlyErased = new Uint8Array(32);

  private readonly w = new Float64Array(EVIDENCE_SIZE);
  private readonly decider = new SoftDecoder();
  private readonly text = new Int8Array(TEXT_LENGTH);
  private readonly teeth = new Int8Array(GEAR_LENGTH);
  private readonly gear = new GearObservation();
  private readonly noGears: GearObservation[] = [];

  constructor(readonly weights: Weights) {}

  /**
   * Fills the rows of (mask, value): a synthetic text read of ten `value` characters and a
   * gear read whose every symbol shows the teeth of `mask`, so that rows 0..9 are of the
   * kind with a character and rows 10..15 of the kind without.
   */
  fill(mask: number, value: number): void {
    const weights = this.weights;
    this.text.fill(value);
    for (let b = 0; b < SYNC_LENGTH; b++) this.teeth[b] = (SYNC_BITS >> (SYNC_LENGTH - 1 - b)) & 1;
    for (let i = 0; i < N; i++) {
      for (let b = 0; b < 5; b++) {
        const bit = 4 - b;
        this.teeth[SYNC_LENGTH + 5 * i + b] = mask & (1 << bit) ? (value >> bit) & 1 : -1;
      }
    }
    const texts = [this.text];
    const gears = [this.gear.load(this.teeth)];
    const touched = buildEvidence(this.w, texts, gears, [0], weights);
    this.decider.decide(this.w, touched);
    const withText = (1 << 10) | (mask << 5) | value;
    const without = (mask << 5) | value;
    this.erased[withText] = this.decider.erased[0]!;
    this.erased[without] = this.decider.erased[TEXT_LENGTH]!;
    this.sameOdds[withText] = rowOdds(this.w, 0, value);
    this.sameOdds[without] = rowOdds(this.w, TEXT_LENGTH, value);
    const textTouched = buildEvidence(this.w, texts, this.noGears, [], weights);
    this.decider.decide(this.w, textTouched);
    this.textOnlyErased[value] = this.decider.erased[0]!;
    this.textOnlyOdds[value] = rowOdds(this.w, 0, value);
    const window = (mask << 5) | (value & mask);
    this.maxOther[withText] = prepareRow(this.w, 0, true, value, window, weights);
    this.ownWeight[withText] = preparedOwnWeight(0);
    this.maxOther[without] = prepareRow(this.w, TEXT_LENGTH, false, value, window, weights);
    this.ownWeight[without] = preparedOwnWeight(TEXT_LENGTH);
    this.ready[(mask << 5) | value] = 1;
  }
}

let tables: RowTables | undefined;

function tablesFor(weights: Weights): RowTables {
  if (!tables || tables.weights !== weights) tables = new RowTables(weights);
  return tables;
}

/**
 * The rotation at which every legible tooth of `gear` agrees with `symbols`, as `alignGear`
 * would find it (its best-fitting sync first, then every rotation whose legible sync teeth all
 * agree, in order), or -1 when there is none. Teeth are compared five at a time, by window.
 */
function explainingRotation(gear: GearObservation): number {
  const best = gear.bestSyncRotation;
  if (explainsAt(gear, best)) return best;
  for (let r = 0; r < GEAR_LENGTH; r++) if (r !== best && explainsAt(gear, r)) return r;
  return -1;
}

function explainsAt(gear: GearObservation, r: number): boolean {
  if (gear.syncMismatch(r) !== 0) return false;
  const window = gear.window;
  for (let i = 0; i < N; i++) {
    // a window is (legible << 5) | teeth: no legible tooth may differ from the symbol's bit
    const w = window[r + SYNC_LENGTH + 5 * i]!;
    if (((w ^ symbols[i]!) & (w >> 5)) !== 0) return false;
  }
  return true;
}

const FULL_MASK = 31;
const symbols = new Uint8Array(N);
const T = new Float64Array(N);
const ROW = new Int16Array(N);
const MASKS = new Uint8Array(N);
const FULL_MASKS = new Uint8Array(N).fill(FULL_MASK);
const RING_SYNC = new Int8Array(GEAR_LENGTH);
const RING_WINDOW = new Uint8Array(2 * GEAR_LENGTH);
const W_TEXT = new Float64Array(EVIDENCE_SIZE);
const NO_GEARS: GearObservation[] = [];
const NO_ROTATIONS = new Int16Array(0);
const outcome: CleanDecode = { symbols, erasures: 0, risk: 0, rotation: -1 };

/**
 * Puts the codeword that the text's data characters give into `symbols` and returns the
 * positions the text read (one bit each), or -1 when a data character is illegible or a
 * legible parity character disagrees.
 */
function codewordOfText(text: TextObservation): number {
  for (let j = 0; j < K; j++) {
    const v = text[j]!;
    if (v < 0) return -1;
    symbols[j] = v;
  }
  computeParity(symbols, symbols);
  let textRead = 0;
  for (let j = 0; j < TEXT_LENGTH; j++) {
    const v = text[j]!;
    if (v < 0) continue;
    if (v !== symbols[j]) return -1;
    textRead |= 1 << j;
  }
  return textRead;
}

/**
 * The decode of one case by the shortcut, or null when the read is not clean or the full
 * search must weigh the ring's other rotations. `maxRisk` is the confidence threshold, above
 * which the other rotations are not weighed at all. The returned object and its symbols are
 * reused by the next call.
 */
export function decodeClean(
  text: TextObservation,
  gear: GearObservation | undefined,
  weights: Weights,
  maxRisk: number,
): CleanDecode | null {
  const textRead = codewordOfText(text);
  if (textRead < 0) return null;
  if (!gear) return textOnly(textRead, weights);
  const rotation = explainingRotation(gear);
  if (rotation < 0) return null;
  for (let i = 0; i < N; i++) MASKS[i] = gear.window[rotation + SYNC_LENGTH + 5 * i]! >> 5;
  return withRing(textRead, MASKS, gear.syncMatch, rotation, weights, maxRisk, text, gear);
}

/**
 * As `decodeClean`, for a case whose gear read `ring` (trimmed, not yet parsed) may be the
 * codeword's 88 teeth, every one legible, at some rotation: then it needs no parsing, and its
 * sync fits follow from the codeword. Null when it is not, or as `decodeClean`.
 */
export function decodeCleanRing(
  text: TextObservation,
  ring: string,
  weights: Weights,
  maxRisk: number,
): CleanDecode | null {
  const textRead = codewordOfText(text);
  if (textRead < 0 || !scanLegibleRing(ring, RING_WINDOW, RING_SYNC)) return null;
  // Every tooth legible: `alignGear` would align the parsed read at the lowest rotation where
  // all 88 teeth agree (an exact fit has a perfect sync, and rotations with one come first,
  // the lowest first).
  let rotation = -1;
  for (let r = 0; r < GEAR_LENGTH && rotation < 0; r++) {
    if (RING_SYNC[r] === SYNC_LENGTH && symbolsAt(r)) rotation = r;
  }
  if (rotation < 0) return null;
  return withRing(textRead, FULL_MASKS, RING_SYNC, rotation, weights, maxRisk);
}

/** The ring read by scanLegibleRing shows `symbols` after a sync starting at tooth r. */
function symbolsAt(r: number): boolean {
  for (let i = 0; i < N; i++) if (RING_WINDOW[r + SYNC_LENGTH + 5 * i] !== symbols[i]) return false;
  return true;
}

function textOnly(textRead: number, weights: Weights): CleanDecode {
  // Text rows agree with the codeword; every other row holds no evidence.
  const tab = tablesFor(weights);
  let erasures = 0;
  for (let i = 0; i < N; i++) {
    if (textRead & (1 << i)) {
      const value = symbols[i]!;
      if (!tab.ready[(FULL_MASK << 5) | value]) tab.fill(FULL_MASK, value);
      T[i] = tab.textOnlyOdds[value]!;
      erasures += tab.textOnlyErased[value]!;
    } else {
      erasures++;
    }
  }
  outcome.erasures = erasures;
  outcome.risk = oddsOfRows(T, textRead);
  outcome.rotation = -1;
  return outcome;
}

/**
 * The text read plus a gear read at `rotation`, where `masks[i]` are the legible teeth of
 * symbol i (each agreeing with it) and `syncMatch` the read's sync fit at every rotation.
 * When the bound on the ring's other rotations is not negligible, they are weighed one by one
 * as the full search weighs them, if `text` and the parsed `gear` are given; else the
 * shortcut declines.
 */
function withRing(
  textRead: number,
  masks: Uint8Array,
  syncMatch: Int8Array,
  rotation: number,
  weights: Weights,
  maxRisk: number,
  text?: TextObservation,
  gear?: GearObservation,
): CleanDecode | null {
  const tab = tablesFor(weights);
  let touched = 0;
  let erasures = 0;
  for (let i = 0; i < N; i++) {
    const mask = masks[i]!;
    const value = symbols[i]!;
    const hasText = (textRead >> i) & 1;
    if (!tab.ready[(mask << 5) | value]) tab.fill(mask, value);
    const row = (hasText << 10) | (mask << 5) | value;
    ROW[i] = row;
    if (!hasText && mask === 0) {
      erasures++;
      continue;
    }
    touched |= 1 << i;
    T[i] = tab.sameOdds[row]!;
    erasures += tab.erased[row]!;
  }
  let risk = oddsOfRows(T, touched);
  if (uecOf(0, erasures) > 0 && risk <= maxRisk) {
    let prodD = 1;
    let prodMaxT = 1;
    for (let i = 0; i < N; i++) {
      prodD *= tab.ownWeight[ROW[i]!]!;
      prodMaxT *= tab.maxOther[ROW[i]!]!;
    }
    const bound = otherRotationsBound(syncMatch, rotation, weights, prodD, prodMaxT);
    if (bound <= (maxRisk - risk) * 1e-3) {
      risk += bound;
    } else {
      if (!text || !gear) return null;
      // the evidence of the text alone, as the full search builds it for this sum
      const textTouched = buildEvidence(W_TEXT, [text], NO_GEARS, NO_ROTATIONS, weights);
      risk += otherRotationOdds(W_TEXT, symbols, gear, rotation, weights, maxRisk - risk, textTouched);
    }
  }
  outcome.erasures = erasures;
  outcome.risk = risk;
  outcome.rotation = rotation;
  return outcome;
}
