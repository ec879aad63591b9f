/**
 * Would the registry identify the firearm from this case? The registry holds some 10,000,000
 * codes of many issuers; it identifies a case when exactly one of its codes explains the read
 * and the risk that another issued code does is at most 10^-7 (codes.md §6a).
 *
 * The line does not hold the registry's codes, and does not need them: issued codes are spread
 * uniformly over the 2^40 codes by the permutation, so the registry is taken as a uniform set of
 * `issuedCodes` codes that holds the firearm's code. Its `has()` is true for that code alone;
 * every other issued code is a rival the decoder accounts for through the size of the set (the
 * expected contribution of rivals it did not enumerate). A case that passes here is one an
 * investigator's query would answer with this firearm, whichever codes the registry holds.
 */
import { unpackIssuer } from '../codes/codeword.js';
import { decodeReads } from '../codes/index.js';
import { type IssuedCodes, textSymbols } from '../codes/issued.js';
import type { CaseMarks } from './decode.js';

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

/** A registry of `size` codes spread uniformly, of which the line knows one: `expected`. */
export class UniformRegistry implements IssuedCodes {
  private readonly data: Uint8Array;
  readonly issuers?: ReadonlySet<number>;

  constructor(
    expected: string,
    readonly size: number,
    issuerCount?: number,
  ) {
    const symbols = textSymbols(expected);
    if (!symbols) throw new Error(`not a code: ${expected}`);
    this.data = symbols.slice(0, 8);
    if (issuerCount !== undefined && issuerCount < ISSUERS) {
      // which issuers besides the firearm's does not matter: only how many share the registry
      const set = new Set<number>([unpackIssuer(symbols)]);
      for (let i = 0; set.size < issuerCount; i++) set.add(i);
      this.issuers = set;
    }
  }

  has(codeword: ArrayLike<number>): boolean {
    for (let j = 0; j < 8; j++) if (codeword[j] !== this.data[j]) return false;
    return true;
  }
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
  const id = JSON.stringify([
    marks.text ?? null,
    marks.gear ?? null,
    expected,
    registry.issuedCodes,
    registry.issuers ?? null,
    key.toString('hex'),
  ]);
  const known = memo.get(id);
  if (known) return known;
  const check = decide(marks, expected, key, registry);
  if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
  memo.set(id, check);
  return check;
}

function decide(marks: CaseMarks, expected: string, key: Buffer, registry: RegistrySize): RegistryCheck {
  const issued = new UniformRegistry(expected, registry.issuedCodes, registry.issuers);
  const result = decodeReads([{ text: marks.text ?? null, gear: marks.gear ?? null }], key, { issued });
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
