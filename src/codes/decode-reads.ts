/** `decodeReads`: the public entry to decoding, with input checks. */
import { StamplineError } from '../errors.js';
import { TEXT_LENGTH } from './codeword.js';
import {
  type DecodeResult,
  decodeCleanCase,
  decodeObservations,
  type Outcome,
  searchObservations,
} from './decode.js';
import { identifyObservations } from './identify.js';
import type { IssuedCodes } from './issued.js';
import { keyContext } from './key.js';
import { type ReadModel, weightsFor } from './model.js';
import { GearObservation, parseGearRead, parseTextRead, type Read, type TextObservation } from './reads.js';
import { addSoftRead, emptyFixedEvidence, type FixedEvidence } from './soft-evidence.js';
import { checkSoftRead } from './soft-read.js';

/** The soft reads' evidence, reused from call to call. */
const fixedPool: FixedEvidence = emptyFixedEvidence();

/** Observations reused from call to call (decoding keeps none of them). */
const gearPool: GearObservation[] = [];
const textPool: Int8Array[] = [];

export interface DecodeOptions {
  /** the read model to weigh evidence with; defaults to DEFAULT_READ_MODEL */
  model?: Partial<ReadModel>;
  /** identify against these issued codes (spec §6a): adds `candidates`, and the risk is §6a's */
  issued?: IssuedCodes;
  /** with `issued`: the issuer whose key was given, so other issuers' candidates get no index */
  keyIssuer?: number;
}

/**
 * Decodes the reads of one or more cases fired from the same gun, together. Malformed input
 * throws a StamplineError naming the read; reads that cannot be decoded give `ok: false`.
 */
export function decodeReads(
  reads: readonly Read[],
  key: Buffer | Uint8Array | string,
  options: DecodeOptions = {},
): DecodeResult {
  return decodeWith(reads, key, options, true);
}

/**
 * `decodeReads` by the full search alone, without the clean-read shortcut: the reference the
 * shortcut is checked against. Slower; for tests and benchmarks.
 */
export function decodeReadsReference(
  reads: readonly Read[],
  key: Buffer | Uint8Array | string,
  options: DecodeOptions = {},
): DecodeResult {
  return decodeWith(reads, key, options, false);
}

function decodeWith(
  reads: readonly Read[],
  key: Buffer | Uint8Array | string,
  options: DecodeOptions,
  shortcuts: boolean,
): DecodeResult {
  const ctx = keyContext(key);
  const weights = weightsFor(options.model);
  if (!Array.isArray(reads)) {
    throw new StamplineError('CODE_BAD_READ', 'reads must be a list of {text, gear} objects', {
      type: typeof reads,
    });
  }
  if (reads.length === 0) throw new StamplineError('CODE_BAD_READ', 'no reads were given', {});
  // fresh lists: emptying an array by its length is a call into the runtime, a new one is not
  const texts: TextObservation[] = [];
  const gears: GearObservation[] = [];
  const gearOfRead: number[] = [];
  let fixed: FixedEvidence | null = null;
  for (let n = 0; n < reads.length; n++) {
    if (!(n in reads)) continue; // a hole in a sparse list is no read
    const read = reads[n];
    if (typeof read !== 'object' || read === null || Array.isArray(read)) {
      const which = `read ${n + 1}`;
      throw new StamplineError('CODE_BAD_READ', `${which} must be an object with text and/or gear`, {
        read: which,
      });
    }
    if (read.soft != null) {
      // a soft read is weighed by its likelihoods; a typed text or gear beside it takes precedence
      const soft = checkSoftRead(read.soft, n + 1);
      if (!fixed) {
        fixed = fixedPool;
        fixed.w.fill(1);
        fixed.touched = 0;
      }
      addSoftRead(fixed, soft, weights, read.text == null, read.gear == null);
    }
    if (textPool.length === texts.length) textPool.push(new Int8Array(TEXT_LENGTH));
    const t = parseTextRead(read.text, n + 1, textPool[texts.length]);
    if (
      shortcuts &&
      !options.issued &&
      reads.length === 1 &&
      read.soft == null &&
      t &&
      typeof read.gear === 'string'
    ) {
      // one clean case with a fully legible ring needs neither the ring parsed nor a search
      const clean = decodeCleanCase(t, read.gear.trim(), ctx, weights);
      if (clean) return withRotations(clean, [0]);
    }
    if (gearPool.length === gears.length) gearPool.push(new GearObservation());
    const g = parseGearRead(read.gear, n + 1, gearPool[gears.length]);
    if (t) texts.push(t);
    gearOfRead.push(g ? gears.length : -1);
    if (g) gears.push(g);
  }
  if (options.issued) {
    const outcome = identifyObservations(texts, gears, ctx, weights, options.issued, { ...options, fixed });
    return withRotations(outcome, gearOfRead);
  }
  const decode = shortcuts ? decodeObservations : searchObservations;
  return withRotations(decode(texts, gears, ctx, weights, fixed), gearOfRead);
}

/** The result, with each read's gear rotation: `gearOfRead[n]` is read n's gear observation or -1. */
function withRotations({ result, rotations }: Outcome, gearOfRead: readonly number[]): DecodeResult {
  if (result.ok) {
    const gearRotations = new Array<number | null>(gearOfRead.length);
    for (let n = 0; n < gearOfRead.length; n++) {
      const k = gearOfRead[n]!;
      gearRotations[n] = k >= 0 ? rotations[k]! : null;
    }
    result.gearRotations = gearRotations;
  }
  return result;
}
