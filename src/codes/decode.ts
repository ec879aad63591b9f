/**
 * Decoding one or several reads of cases fired from one gun (spec §5-6).
 *
 * Every read adds evidence per symbol (`evidence.ts`). Text reads are aligned by definition;
 * a gear read's rotation is found against candidate codewords, which come from:
 *   1. the text reads alone;
 *   2. the text reads plus each gear read at the rotations whose sync fits best, for as long
 *      as such a rotation could still beat the candidates found so far (none, when a candidate
 *      found without that read already explains it well);
 *   3. when no candidate explains every gear read, all gear reads together, aligned to each
 *      other by their teeth, at the rotations where their combined sync fits best.
 * The best candidates then have every gear read aligned to them, all evidence fused, and are
 * decoded again thoroughly (`soft.ts`), which may add candidates. At one alignment the
 * codeword within 2e + f ≤ 8 wins; between alignments, the one the reads support best.
 *
 * Confidence (`confidence.ts`): a decode is a confident identification only when it left some
 * correction power unused (UEC > 0, spec §6) and the estimated probability that another code
 * explains the reads as well, at the same or any other gear rotation, is at most
 * MAX_MISCORRECTION_RISK.
 */

import { type CleanDecode, decodeClean, decodeCleanRing } from './clean.js';
import { GEAR_LENGTH } from './codeword.js';
import { otherRotationOdds, sameAlignmentOdds } from './confidence.js';
import { failure, MAX_MISCORRECTION_RISK, type Outcome, success } from './decode-result.js';
import { addGears, alignGear, buildEvidence, EVIDENCE_SIZE, textMatches } from './evidence.js';
import { uecOf } from './grade.js';
import type { KeyContext } from './key.js';
import type { Weights } from './model.js';
import type { GearObservation, TextObservation } from './reads.js';
import { N, PARITY } from './rs.js';
import { CandidateList, SoftDecoder } from './soft.js';
import { type FixedEvidence, fixedLogWeight } from './soft-evidence.js';
import { heaviestCodewords } from './soft-list.js';

export {
  type Candidate,
  type DecodeFailure,
  type DecodeResult,
  type DecodeSuccess,
  MAX_MISCORRECTION_RISK,
  type Outcome,
} from './decode-result.js';

/** codewords the soft evidence weighs heaviest, added as candidates */
const SOFT_CANDIDATES = 4;

const MAX_SEEDS = 16;
const SEEDS_PER_DECODE = 4;
const MAX_REFINED = 3;
const MAX_SEED_ROTATIONS = 16;
/**
 * Rotations whose sync shows at most this many disagreeing teeth are all tried, beyond
 * MAX_SEED_ROTATIONS: a read with two flipped sync teeth must still decode, and about one rotation
 * in seven of a random ring fits the sync that well, so its true rotation can rank below the
 * sixteenth (behind rotations whose sync is as close and has no illegible tooth).
 */
const SYNC_FLIPS_ALWAYS_TRIED = 2;
/** log-odds below which a candidate is not worth a thorough decode: e^-30 ≈ 1e-13 */
const NEGLIGIBLE_LOG_ODDS = 30;
/** a codeword explains a gear read well when at most this share (plus one) of its legible teeth differ */
const WELL_EXPLAINED = 0.05;

interface Seed {
  symbols: Uint8Array;
  /** the gear reads (one bit each) whose evidence went into finding this seed */
  origin: number;
  rotations: Int16Array;
  mismatches: Int16Array;
  aligned: boolean;
  /** errors and erasures counted at its own alignment */
  evaluated: boolean;
  /** its own alignment has been decoded for further candidates */
  refined: boolean;
  score: number;
  errors: number;
  erasures: number;
}

/** The decoder's working memory, reused across calls (decoding is synchronous). */
const decoder = new SoftDecoder();
const list = new CandidateList();
const wText = new Float64Array(EVIDENCE_SIZE);
const wWork = new Float64Array(EVIDENCE_SIZE);
const wOthers = new Float64Array(EVIDENCE_SIZE);
const NO_ROTATIONS = new Int16Array(0);

const CANNOT = 'cannot decode: the reads leave more than the code can correct (2e + f > 8)';

function within(errors: number, erasures: number): boolean {
  return 2 * errors + erasures <= PARITY;
}

class Search {
  readonly seeds: Seed[] = [];
  /** the seed whose alignment wWork holds, with `touched` its touched rows */
  inWork: Seed | null = null;
  touched = 0;
  /** rows the text reads touched; wText holds their evidence */
  textTouched = 0;

  constructor(
    readonly texts: readonly TextObservation[],
    readonly gears: readonly GearObservation[],
    readonly weights: Weights,
    readonly fixed: FixedEvidence | null,
  ) {}

  /** the gear reads in the evidence of the last decode, one bit each */
  origin = 0;

  /** Adds a candidate; one within 2e + f ≤ 8 of some evidence is let past the usual limit. */
  add(symbols: Uint8Array, isWithin = false): void {
    if (this.seeds.length >= (isWithin ? 2 * MAX_SEEDS : MAX_SEEDS)) return;
    for (const s of this.seeds) if (sameSymbols(s.symbols, symbols)) return;
    const copy = Uint8Array.from(symbols);
    this.seeds.push({
      symbols: copy,
      origin: this.origin,
      rotations: new Int16Array(this.gears.length),
      mismatches: new Int16Array(this.gears.length),
      aligned: false,
      evaluated: false,
      refined: false,
      score: 0,
      errors: 0,
      erasures: 0,
    });
  }

  /** Adds the heaviest candidates of the last decode, and the one within 2e + f ≤ 8 if any. */
  addList(): void {
    let taken = 0;
    for (let j = 0; j < list.count; j++) {
      if (within(list.errors[j]!, list.erasures[j]!)) {
        taken |= 1 << j;
        this.add(list.symbols[j]!, true);
      }
    }
    for (let n = 0; n < SEEDS_PER_DECODE; n++) {
      let k = -1;
      for (let j = 0; j < list.count; j++) {
        if (!(taken & (1 << j)) && (k < 0 || list.logWeight[j]! > list.logWeight[k]!)) k = j;
      }
      if (k < 0) return;
      taken |= 1 << k;
      this.add(list.symbols[k]!);
    }
  }

  align(seed: Seed): void {
    let score =
      textMatches(this.texts, seed.symbols) * this.weights.logKc + fixedLogWeight(this.fixed, seed.symbols);
    for (let k = 0; k < this.gears.length; k++) {
      const g = this.gears[k]!;
      const { rotation, mismatches } = alignGear(g, seed.symbols);
      seed.rotations[k] = rotation;
      seed.mismatches[k] = mismatches;
      score += (g.legible - mismatches) * this.weights.logKt;
    }
    seed.score = score;
    seed.aligned = true;
  }

  /** Builds the evidence at a seed's alignment into wWork (unless it is there already). */
  load(seed: Seed): void {
    if (!seed.aligned) this.align(seed);
    if (this.inWork === seed) return;
    wWork.set(wText);
    this.touched = addGears(wWork, this.textTouched, this.gears, seed.rotations, this.weights);
    this.inWork = seed;
  }

  /** Counts a seed's errors and erasures at its own alignment. */
  evaluate(seed: Seed): void {
    this.load(seed);
    decoder.decide(wWork, this.touched);
    decoder.account(wWork, seed.symbols);
    seed.errors = decoder.lastErrors;
    seed.erasures = decoder.lastErasures;
    seed.evaluated = true;
  }

  /** Quickly decodes the evidence with gear reads at `rotations` for more candidates. */
  decodeAt(rotations: ArrayLike<number>): void {
    wWork.set(wText);
    const touched = addGears(wWork, this.textTouched, this.gears, rotations, this.weights);
    this.inWork = null;
    this.origin = 0;
    for (let k = 0; k < rotations.length; k++) if (rotations[k]! >= 0) this.origin |= 1 << k;
    decoder.decode(wWork, list, touched, false);
    this.addList();
  }

  /** Fewest legible teeth of gear read k that disagree with any seed, at its best rotation. */
  fewestMismatches(k: number): number {
    let fewest = GEAR_LENGTH + 1;
    for (const s of this.seeds) {
      if (!s.aligned) this.align(s);
      if (s.mismatches[k]! < fewest) fewest = s.mismatches[k]!;
    }
    return fewest;
  }

  /** Some candidate explains every gear read well: few of their legible teeth disagree. */
  explainsAll(): boolean {
    return this.seeds.some((s) => {
      if (!s.aligned) this.align(s);
      return this.gears.every((g, k) => s.mismatches[k]! <= WELL_EXPLAINED * g.legible + 1);
    });
  }

  /**
   * Candidates from the text reads plus gear read k at the rotations its sync favours. A
   * rotation whose sync alone has m disagreeing teeth cannot give a codeword that agrees with
   * the read better than that, so the search stops at the first rotation whose sync disagrees
   * at least as often as the best candidate so far disagrees with the whole read.
   */
  seedFromGear(k: number): void {
    const g = this.gears[k]!;
    // A candidate found without this read that still explains it well is no accident: a
    // wrong code differs from the right one in at least 9 symbols.
    const wellExplained = WELL_EXPLAINED * g.legible + 1;
    for (const s of this.seeds) {
      if (!s.aligned) this.align(s);
      if (!(s.origin & (1 << k)) && s.mismatches[k]! <= wellExplained) return;
    }
    const rotations = new Int16Array(this.gears.length).fill(-1);
    let fewest = this.fewestMismatches(k);
    for (let n = 0; n < GEAR_LENGTH; n++) {
      const r = g.rotationOrder[n]!;
      const mismatch = g.syncMismatch(r);
      if (mismatch >= fewest) break;
      if (n >= MAX_SEED_ROTATIONS && mismatch > SYNC_FLIPS_ALWAYS_TRIED) break;
      rotations[k] = r;
      this.decodeAt(rotations);
      fewest = this.fewestMismatches(k);
    }
  }

  /** Candidates from all gear reads aligned to each other, at the rotations their syncs favour. */
  seedFromConsensus(): void {
    const gears = this.gears;
    let ref = 0;
    for (let k = 1; k < gears.length; k++) if (gears[k]!.legible > gears[ref]!.legible) ref = k;
    const offsets = new Int16Array(gears.length);
    for (let k = 0; k < gears.length; k++)
      offsets[k] = k === ref ? 0 : relativeOffset(gears[ref]!, gears[k]!);
    const keys = new Uint32Array(GEAR_LENGTH);
    for (let r = 0; r < GEAR_LENGTH; r++) {
      let misfit = 0;
      let fit = 0;
      for (let k = 0; k < gears.length; k++) {
        const rk = (r + offsets[k]!) % GEAR_LENGTH;
        misfit += gears[k]!.syncMismatch(rk);
        fit += gears[k]!.syncMatch[rk]!;
      }
      keys[r] = (misfit << 20) | ((0xfff - fit) << 8) | r;
    }
    keys.sort();
    const rotations = new Int16Array(gears.length);
    for (let n = 0; n < GEAR_LENGTH; n++) {
      if (n >= MAX_SEED_ROTATIONS && keys[n]! >>> 20 > SYNC_FLIPS_ALWAYS_TRIED) break;
      const r = keys[n]! & 0xff;
      for (let k = 0; k < gears.length; k++) rotations[k] = (r + offsets[k]!) % GEAR_LENGTH;
      this.decodeAt(rotations);
    }
  }

  /**
   * Decodes the best-scoring seeds' own alignments thoroughly for more candidates, then
   * evaluates every seed.
   */
  refine(): void {
    let refined = 0;
    let top = Number.NEGATIVE_INFINITY;
    for (const c of this.seeds) {
      if (!c.aligned) this.align(c);
      if (c.score > top) top = c.score;
    }
    while (refined < MAX_REFINED) {
      let s: Seed | undefined;
      for (const c of this.seeds) {
        if (!c.aligned) this.align(c);
        if (!c.refined && (!s || c.score > s.score)) s = c;
      }
      // A seed this much less likely than the best can neither win nor matter to the risk.
      if (!s || s.score < top - NEGLIGIBLE_LOG_ODDS) break;
      if (s.score > top) top = s.score;
      this.load(s);
      this.origin = (1 << this.gears.length) - 1;
      decoder.decode(wWork, list, this.touched);
      decoder.account(wWork, s.symbols);
      s.errors = decoder.lastErrors;
      s.erasures = decoder.lastErasures;
      s.evaluated = true;
      s.refined = true;
      refined++;
      this.addList();
    }
    for (const s of this.seeds) if (!s.evaluated) this.evaluate(s);
  }
}

function sameRotations(a: Seed, b: Seed): boolean {
  for (let k = 0; k < a.rotations.length; k++) if (a.rotations[k] !== b.rotations[k]) return false;
  return true;
}

function sameSymbols(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let j = 0; j < N; j++) if (a[j] !== b[j]) return false;
  return true;
}

/**
 * The rotation of `b` that agrees best with `a` at rotation 0, tooth by tooth. A disagreeing
 * pair of teeth costs four agreeing ones, as in weighing a sync (log 2ε against log 2(1 − ε)),
 * so that a wide random overlap cannot outscore a narrow true one.
 */
function relativeOffset(a: GearObservation, b: GearObservation): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let d = 0; d < GEAR_LENGTH; d++) {
    let score = 0;
    for (let x = 0; x < GEAR_LENGTH; x++) {
      const p = a.bits[x]!;
      const q = b.bits[x + d]!;
      if (p >= 0 && q >= 0) score += p === q ? 1 : -4;
    }
    if (score > bestScore) {
      bestScore = score;
      best = d;
    }
  }
  return best;
}

/**
 * Decodes the observations of one or several cases: a single clean case by the shortcut of
 * `clean.ts`, anything else by the full search. Both give the same result.
 */
export function decodeObservations(
  texts: readonly TextObservation[],
  gears: readonly GearObservation[],
  ctx: KeyContext,
  weights: Weights,
  fixed: FixedEvidence | null = null,
): Outcome {
  if (texts.length === 1 && gears.length <= 1 && !fixed) {
    const clean = decodeClean(texts[0]!, gears[0], weights, MAX_MISCORRECTION_RISK);
    if (clean) return cleanOutcome(clean, ctx);
  }
  return searchObservations(texts, gears, ctx, weights, fixed);
}

/**
 * The outcome of one case whose gear read `ring` (trimmed, unparsed) may be the codeword's
 * teeth in full, by the shortcut alone; null when the full path must decode it.
 */
export function decodeCleanCase(
  text: TextObservation,
  ring: string,
  ctx: KeyContext,
  weights: Weights,
): Outcome | null {
  const clean = decodeCleanRing(text, ring, weights, MAX_MISCORRECTION_RISK);
  return clean ? cleanOutcome(clean, ctx) : null;
}

function cleanOutcome(clean: CleanDecode, ctx: KeyContext): Outcome {
  const result = success(clean.symbols, 0, clean.erasures, clean.risk, ctx);
  if (clean.rotation < 0) return { result, rotations: NO_ROTATIONS };
  CLEAN_ROTATION[0] = clean.rotation;
  return { result, rotations: CLEAN_ROTATION };
}

const CLEAN_ROTATION = new Int16Array(1);

/**
 * The full search, without the clean-read shortcut: the reference the shortcut must agree
 * with, bit for bit (tests/codes/shortcut.test.ts).
 */
export function searchObservations(
  texts: readonly TextObservation[],
  gears: readonly GearObservation[],
  ctx: KeyContext,
  weights: Weights,
  fixed: FixedEvidence | null = null,
): Outcome {
  if (fixed && fixed.touched === 0) fixed = null;
  if (texts.length === 0 && gears.length === 0 && !fixed) {
    return { result: failure('nothing was read: every read is empty or illegible'), rotations: NO_ROTATIONS };
  }
  return gears.length === 0
    ? decodeTexts(texts, ctx, weights, fixed)
    : decodeWithGears(texts, gears, ctx, weights, fixed);
}

/** Text reads (and soft reads, at their own alignment) only: one alignment, one decode. */
function decodeTexts(
  texts: readonly TextObservation[],
  ctx: KeyContext,
  weights: Weights,
  fixed: FixedEvidence | null,
): Outcome {
  const touched = buildEvidence(wText, texts, [], NO_ROTATIONS, weights, fixed);
  decoder.decode(wText, list, touched);
  if (fixed) heaviestCodewords(wText, SOFT_CANDIDATES, (c) => decoder.consider(wText, list, c));
  if (list.count === 0) return { result: failure(CANNOT), rotations: NO_ROTATIONS };
  // At most one candidate is within 2e + f ≤ 8; spec §3 promises it. Otherwise the heaviest.
  // With soft reads, whose hard decision is only their likeliest symbols, the heaviest.
  let best = -1;
  if (!fixed) for (let k = 0; k < list.count; k++) if (within(list.errors[k]!, list.erasures[k]!)) best = k;
  if (best < 0) best = list.best();
  const c = list.symbols[best]!;
  let risk = sameAlignmentOdds(wText, c, touched);
  for (let k = 0; k < list.count; k++)
    if (k !== best) risk += Math.exp(list.logWeight[k]! - list.logWeight[best]!);
  decoder.accountReported(c);
  const result = success(c, decoder.lastErrors, decoder.lastErasures, risk, ctx);
  return { result, rotations: NO_ROTATIONS };
}

function decodeWithGears(
  texts: readonly TextObservation[],
  gears: readonly GearObservation[],
  ctx: KeyContext,
  weights: Weights,
  fixed: FixedEvidence | null,
): Outcome {
  const search = new Search(texts, gears, weights, fixed);
  const noRotations = new Int16Array(gears.length).fill(-1);
  // the soft reads' evidence is at a known alignment: it goes with the text reads'
  search.textTouched = buildEvidence(wText, texts, gears, noRotations, weights, fixed);
  search.origin = 0;
  if (texts.length > 0 || fixed) {
    decoder.decode(wText, list, search.textTouched, false);
    search.addList();
  }
  if (fixed) heaviestCodewords(wText, SOFT_CANDIDATES, (c) => search.add(c));
  for (let k = 0; k < gears.length; k++) search.seedFromGear(k);
  if (gears.length > 1 && !search.explainsAll()) search.seedFromConsensus();
  search.refine();

  const seeds = search.seeds;
  if (seeds.length === 0) return { result: failure(CANNOT), rotations: noRotations };
  // At a given alignment at most one codeword has 2e + f ≤ 8, and spec §3 promises it: a
  // heavier rival at the same alignment only makes it less certain. Between alignments, which
  // are unknowns of the reading, the evidence decides.
  // With soft reads, whose hard decision is only their likeliest symbols, the evidence decides.
  const eligible = (s: Seed) =>
    fixed !== null ||
    within(s.errors, s.erasures) ||
    !seeds.some((p) => within(p.errors, p.erasures) && sameRotations(p, s));
  let best: Seed | undefined;
  for (const s of seeds) if (eligible(s) && (!best || s.score > best.score)) best = s;
  if (!best) best = seeds[0]!;
  const c = best.symbols;

  search.load(best);
  decoder.decide(wWork, search.touched);
  decoder.accountReported(c);
  const errors = decoder.lastErrors;
  const erasures = decoder.lastErasures;
  let risk = sameAlignmentOdds(wWork, c, search.touched);
  for (const s of seeds) if (s !== best) risk += Math.exp(s.score - best.score);
  if (uecOf(errors, erasures) > 0 && risk <= MAX_MISCORRECTION_RISK) {
    for (let g = 0; g < gears.length; g++) {
      let others = wText;
      let othersTouched = search.textTouched;
      if (gears.length > 1) {
        const only = best.rotations.slice();
        only[g] = -1;
        wOthers.set(wText);
        othersTouched = addGears(wOthers, search.textTouched, gears, only, weights);
        others = wOthers;
      }
      const limit = MAX_MISCORRECTION_RISK - risk;
      risk += otherRotationOdds(others, c, gears[g]!, best.rotations[g]!, weights, limit, othersTouched);
      if (!(risk <= MAX_MISCORRECTION_RISK)) break;
    }
  }
  return { result: success(c, errors, erasures, risk, ctx), rotations: best.rotations };
}
