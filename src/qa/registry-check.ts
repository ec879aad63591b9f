/**
 * Would the registry identify the firearm from this case? The registry holds some 10,000,000
 * codes of many issuers; it identifies a case when exactly one of its codes explains the read
 * and the risk that another issued code does is at most 10^-7 (codes.md §6a).
 *
 * The line does not hold the registry's codes, and does not need them: issued codes are spread
 * uniformly over the 2^40 codes by the permutation, so the registry is taken as a uniform set of
 * `issuedCodes` codes that holds the firearm's code. Its `has()` is true for that code alone;
 * every other codeword is issued with the chance the registry's size gives it, so a rival the
 * decoder enumerates counts with that chance, and those it does not through the set's size. A
 * case that passes here is one an investigator's query would answer with this firearm, whichever
 * codes the registry holds.
 */
import { createHash } from 'node:crypto';
import { unpackIssuer } from '../codes/codeword.js';
import { decodeReads } from '../codes/index.js';
import { IssuedSet, RegistryOfSize, textSymbols } from '../codes/issued.js';
import { type CaseMarks, decoderRead } from './decode.js';

/** `qa.registry` of the configuration. */
export interface RegistrySize {
  /** codes the registry holds, all issuers together */
  issuedCodes: number;
  /** issuers with codes at the registry; absent: any of the 4096 */
  issuers?: number | undefined;
}

export const DEFAULT_REGISTRY: RegistrySize = { issuedCodes: 10_000_000 };

export interface RegistryCheck {
  identifies: boolean;
  /** the decode's estimate that another issued code explains the case as well, when it decoded */
  risk?: number;
  /** why not, in words for a QA person */
  problem?: string;
}

const ISSUERS = 4096;

/**
 * A registry of `size` codes of which the line knows one, the firearm's: the decoder's
 * `RegistryOfSize` over that one code, each other codeword issued with the chance the rest of the
 * registry gives it. With `issuerCount`, the registry says it holds that many issuers, the
 * firearm's among them (which others does not matter, only how many share the codes).
 */
export function registryOf(expected: string, size: number, issuerCount?: number): RegistryOfSize {
  const own = textSymbols(expected);
  if (!own) throw new Error(`not a code: ${expected}`);
  let issuers: Set<number> | undefined;
  if (issuerCount !== undefined && issuerCount < ISSUERS) {
    issuers = new Set<number>([unpackIssuer(own)]);
    for (let i = 0; issuers.size < issuerCount; i++) issuers.add(i);
  }
  return new RegistryOfSize(new IssuedSet().addCodeword(own), size, issuers);
}

/** Decodes kept per case: a policy looks at the same reads again at every read of the firearm. */
const memo = new Map<string, RegistryCheck>();
const MEMO_SIZE = 2048;

export function registryCheck(
  marks: CaseMarks,
  expected: string,
  key: Buffer,
  registry: RegistrySize,
): RegistryCheck {
  // hashed: a read from an image carries its likelihoods, a few KB
  const id = createHash('sha256')
    .update(
      JSON.stringify([
        decoderRead(marks),
        expected,
        registry.issuedCodes,
        registry.issuers ?? null,
        key.toString('hex'),
      ]),
    )
    .digest('base64');
  const known = memo.get(id);
  if (known) return known;
  const check = decide(marks, expected, key, registry);
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
  memo.set(id, check);
  return check;
}

function decide(marks: CaseMarks, expected: string, key: Buffer, registry: RegistrySize): RegistryCheck {
  const issued = registryOf(expected, registry.issuedCodes, registry.issuers);
  const result = decodeReads([decoderRead(marks)], key, { issued });
  const at = `${registry.issuedCodes.toLocaleString('en-GB')} codes at the registry`;
  if (!result.ok) return { identifies: false, problem: 'cannot be read as a code' };
  const risk = result.miscorrectionRisk;
  if (result.confident && result.text === expected) return { identifies: true, risk };
  if (result.confident) return { identifies: false, risk, problem: `shows another code than this firearm's` };
  return {
    identifies: false,
    risk,
    problem: `does not show enough of the code to tell this firearm from the others among the ${at}`,
  };
}
