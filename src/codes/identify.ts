/**
 * Identifying against the issued codes (spec §6a): of the codewords that explain the reads,
 * only the issued ones count, all issued codes equally likely beforehand.
 *
 * The plain decode (§6) fixes the gear reads' rotations; the list decoder (`list.ts`) then
 * enumerates the codewords of the fused evidence at that alignment, heaviest first, and keeps
 * the issued ones. The answer is the heaviest issued codeword (the gear reads are aligned to
 * it, and the enumeration repeated there if that moved them). Its risk is
 *   Σ over issued rivals found of W(c') / W(c)
 *   + density × (the uniform estimate of the rivals not enumerated
 *                + the uniform estimate of rivals at other rotations of each gear read),
 * where density = |I| / (issuers in use × 2^28) is the chance that a given codeword of an
 * issuer in use was issued. An identification is confident when the risk is at most 10^-7;
 * the UEC = 0 rule of §6 does not apply.
 */
import { symbolsToText, unpackIndex, unpackIssuer } from './codeword.js';
import { otherRotationOdds } from './confidence.js';
import {
  type Candidate,
  type DecodeFailure,
  type DecodeResult,
  type DecodeSuccess,
  decodeObservations,
  MAX_MISCORRECTION_RISK,
  type Outcome,
} from './decode.js';
import { decodedCode, formatRisk } from './decode-result.js';
import { alignGear, buildEvidence, EVIDENCE_SIZE } from './evidence.js';
import type { IssuedCodes } from './issued.js';
import type { KeyContext } from './key.js';
import { KEEP_COST, ListDecoder, MAX_LEAVES } from './list.js';
import type { Weights } from './model.js';
import type { GearObservation, TextObservation } from './reads.js';
import { SoftDecoder } from './soft.js';
import type { FixedEvidence } from './soft-evidence.js';

const ISSUERS = 4096;
const PER_ISSUER = 2 ** 28;
/** costs on J this close to the next level are enumerated with it */
const LEVEL_SLACK = 0.5;
/** enumerate this far past the best issued codeword at most: e^-40 ≈ 4e-18 */
const BEYOND_BEST = 40;
/** with no issued codeword yet, give up this far past the heaviest codeword of all */
const BEYOND_ANY = 40;
/** candidates listed at most */
const MAX_LISTED = 16;

export interface IdentifyOptions {
  /** the issuer whose key was given: other issuers' candidates get no index */
  keyIssuer?: number;
  /** the soft reads' evidence, at the alignment their reader found */
  fixed?: FixedEvidence | null;
}

/** The chance that a codeword of an issuer in use was issued. */
export function issuedDensity(issued: IssuedCodes): number {
  const inUse = issued.issuers ? Math.max(1, issued.issuers.size) : ISSUERS;
  return Math.min(1, issued.size / (inUse * PER_ISSUER));
}

const list = new ListDecoder();
const soft = new SoftDecoder();
const w = new Float64Array(EVIDENCE_SIZE);
const wOthers = new Float64Array(EVIDENCE_SIZE);

interface Enumerated {
  cost: number;
  symbols: Uint8Array;
  /** Σ over issued rivals found of W(c') / W(c) */
  rivals: number;
  /** the uniform estimate of the rivals not enumerated, before the density */
  tail: number;
  candidates: Array<{ symbols: Uint8Array; ratio: number }>;
}

/**
 * Σ W(c′)/W(c) over the issued rivals enumerated, for an answer of cost `cost`; for a set that
 * lists only part of the issued codes, each codeword it does not list counts with its chance.
 */
function rivalOdds(issued: IssuedCodes, cost: number): number {
  const listed = Math.max(0, list.issuedMass * Math.exp(cost) - 1);
  const unlisted = issued.unlisted ?? 0;
  return unlisted > 0 ? listed + unlisted * list.unlistedMass * Math.exp(cost) : listed;
}

/** Enumerates the codewords of evidence `w` in stages until the answer's risk is settled. */
function enumerate(issued: IssuedCodes, density: number): Enumerated | null {
  list.prepare(w);
  const has = (c: Uint8Array) => issued.has(c);
  let complete = -1;
  let leaves = 0;
  for (let limit = LEVEL_SLACK; ; limit = list.nextLimit + LEVEL_SLACK) {
    const before = leaves;
    const reached = list.run(limit, complete, has);
    leaves = list.leaves;
    const truncated = reached < limit;
    complete = reached;
    const best = list.bestIssuedCost;
    if (Number.isFinite(best) && complete >= best) {
      const rivals = rivalOdds(issued, best);
      const risk = rivals + density * list.tailOdds(best);
      if (risk <= MAX_MISCORRECTION_RISK / 2 || rivals > MAX_MISCORRECTION_RISK) break;
      if (complete >= best + BEYOND_BEST) break;
    } else if (!Number.isFinite(best) && complete >= list.minCost + BEYOND_ANY) {
      break;
    }
    if (truncated || !Number.isFinite(list.nextLimit)) break;
    // a level that would grow as the last did past the budget would only be cut short
    if (before > 0 && (leaves * leaves) / before > 2 * MAX_LEAVES) break;
  }
  if (list.kept === 0) return null;
  const cost = list.keptCost[0]!;
  const candidates: Enumerated['candidates'] = [];
  for (let k = 0; k < list.kept && candidates.length < MAX_LISTED; k++) {
    const ratio = Math.exp(cost - list.keptCost[k]!);
    candidates.push({ symbols: Uint8Array.from(list.keptSymbols[k]!), ratio });
  }
  return {
    cost,
    symbols: candidates[0]!.symbols,
    rivals: rivalOdds(issued, cost),
    tail: list.tailOdds(cost),
    candidates,
  };
}

/**
 * Decodes the observations against the issued codes. The result keeps every field of a plain
 * decode; `confident` and `miscorrectionRisk` are those of §6a, and `candidates` lists the
 * issued codes that explain the reads.
 */
export function identifyObservations(
  texts: readonly TextObservation[],
  gears: readonly GearObservation[],
  ctx: KeyContext,
  weights: Weights,
  issued: IssuedCodes,
  options: IdentifyOptions = {},
): Outcome {
  const fixed = options.fixed?.touched ? options.fixed : null;
  const plain = decodeObservations(texts, gears, ctx, weights, fixed);
  const rotations = new Int16Array(gears.length).fill(-1);
  if (plain.result.ok) for (let k = 0; k < gears.length; k++) rotations[k] = plain.rotations[k]!;
  if (texts.length === 0 && !fixed && !plain.result.ok)
    return { result: withCandidates(plain.result, []), rotations };
  const density = issuedDensity(issued);

  let touched = buildEvidence(w, texts, gears, rotations, weights, fixed);
  let found = enumerate(issued, density);
  if (found && gears.length > 0) {
    // the gear reads at the rotations that fit the answer best
    let moved = false;
    for (let k = 0; k < gears.length; k++) {
      const r = alignGear(gears[k]!, found.symbols).rotation;
      if (r !== rotations[k]) moved = true;
      rotations[k] = r;
    }
    if (moved) {
      touched = buildEvidence(w, texts, gears, rotations, weights, fixed);
      found = enumerate(issued, density);
    }
  }
  if (!found) {
    const why = plain.result.ok
      ? `no issued code explains the reads (the nearest code, ${plain.result.text}, was not issued)`
      : 'no issued code explains the reads';
    const failure: DecodeFailure = {
      ok: false,
      error: why,
      uec: 0,
      grade: 'F',
      confident: false,
      candidates: [],
    };
    return { result: failure, rotations };
  }

  const c = found.symbols;
  let risk = found.rivals + density * found.tail;
  if (risk <= MAX_MISCORRECTION_RISK) {
    for (let g = 0; g < gears.length; g++) {
      const only = rotations.slice();
      only[g] = -1;
      const othersTouched = buildEvidence(wOthers, texts, gears, only, weights, fixed);
      const limit = (MAX_MISCORRECTION_RISK - risk) / density;
      risk +=
        density * otherRotationOdds(wOthers, c, gears[g]!, rotations[g]!, weights, limit, othersTouched);
      if (!(risk <= MAX_MISCORRECTION_RISK)) break;
    }
  }
  soft.decide(w, touched);
  soft.accountReported(c);
  const result = success(c, soft.lastErrors, soft.lastErasures, risk, ctx, found, options);
  return { result, rotations };
}

function withCandidates(result: DecodeResult, candidates: Candidate[]): DecodeResult {
  if (result.ok) {
    return {
      ...result,
      confident: false,
      miscorrectionRisk: 1,
      candidates,
      warning: 'no issued code explains the reads',
    };
  }
  return { ...result, candidates };
}

function success(
  c: Uint8Array,
  errors: number,
  erasures: number,
  risk: number,
  ctx: KeyContext,
  found: Enumerated,
  options: IdentifyOptions,
): DecodeSuccess {
  const confident = risk <= MAX_MISCORRECTION_RISK;
  const candidates: Candidate[] = found.candidates.map(({ symbols: s, ratio }) => {
    const issuer = unpackIssuer(s);
    const cand: Candidate = { text: symbolsToText(s), issuer, weightRatio: ratio };
    if (options.keyIssuer === undefined || options.keyIssuer === issuer) cand.index = unpackIndex(s, ctx);
    return cand;
  });
  const result: DecodeSuccess = { ...decodedCode(c, errors, erasures, risk, ctx, confident), candidates };
  if (!confident) {
    const close = candidates.filter((k) => k.weightRatio >= 1e-3).length;
    result.warning =
      close > 1
        ? `${close} issued codes explain the reads about equally: none is identified`
        : `the reads do not single out this issued code (estimated risk ${formatRisk(risk)}): this is a candidate, not an identification`;
  }
  return result;
}

/** Candidates kept are at most this much less likely than the best (for the docs). */
export const CANDIDATE_RATIO_FLOOR = Math.exp(-KEEP_COST);
