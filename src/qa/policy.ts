/**
 * The QA policies of spec erp-and-qa.md as pure functions: the reads of one firearm's current
 * code, in the order they were entered, give a verdict. `pending` until the policy has the
 * cases it needs, `fail` as soon as it can no longer pass, `pass` once it is met.
 *
 * A case identifies the firearm when its decode is confident and gives the firearm's code; a
 * read that decodes confidently to another code is a failing case like an unreadable one.
 */
import type { Grade } from '../codes/index.js';
import type { MinGrade } from '../config/schema.js';
import { type CaseMarks, decodeCases, gradeAtLeast, worseGrade } from './decode.js';
import { DEFAULT_REGISTRY, type RegistryCheck, type RegistrySize, registryCheck } from './registry-check.js';
import type { ReadDecode, Verdict } from './types.js';

/** A policy as configured (`qa.policy`; the configuration's parsed form is one). */
export type QaPolicy =
  | { kind: 'every-case'; cases: number; minGrade?: MinGrade | undefined }
  | { kind: 'ca-4075'; rounds: number; minGrade?: MinGrade | undefined }
  | { kind: 'pooled'; cases: number; minGrade?: MinGrade | undefined };

/** What a policy looks at in a read. */
export interface PolicyRead extends CaseMarks {
  id: number;
  round?: number | undefined;
  decode: ReadDecode;
}

export interface PolicyContext {
  /** the firearm's code, 10 characters */
  expected: string;
  /** the issuer key, for the pooled decode */
  key: Buffer;
  /** the registry `ca-4075` identifies a case against (`qa.registry`); default 10,000,000 codes */
  registry?: RegistrySize | undefined;
}

/**
 * The lowest grade a case (or the pool) must reach. `every-case` and `pooled` default to C as the
 * configuration does. `ca-4075` judges a case by whether the registry could identify the firearm
 * from it; without a `minGrade` it asks for no grade besides (F: any).
 */
export function minGradeOf(policy: QaPolicy): Grade {
  return policy.minGrade ?? (policy.kind === 'ca-4075' ? 'F' : 'C');
}

/** Cases the policy needs for a decision. */
export function casesNeeded(policy: QaPolicy): number {
  return policy.kind === 'ca-4075' ? examinedRounds(policy.rounds).length : policy.cases;
}

/** The rounds of a test fire of `rounds` rounds that `ca-4075` examines: the first two and the last two. */
export function examinedRounds(rounds: number): number[] {
  return [...new Set([1, 2, rounds - 1, rounds])].filter((r) => r >= 1).sort((a, b) => a - b);
}

/**
 * Why a decode does not pass, or undefined when it identifies the firearm well enough. The
 * sentence's subject is one case, or several decoded together (`plural`).
 */
export function caseProblem(decode: ReadDecode, minGrade: Grade, plural = false): string | undefined {
  const [does, decodes, has] = plural ? ['do', 'decode', 'have'] : ['does', 'decodes', 'has'];
  if (!decode.ok) return `${does} not decode (${decode.error ?? 'no code found'})`;
  if (decode.confident && !decode.matches) return `${decodes} to another code, ${decode.text}`;
  if (!decode.confident) return `${decodes} to ${decode.text} without identifying it (grade ${decode.grade})`;
  if (!gradeAtLeast(decode.grade, minGrade)) return `${has} grade ${decode.grade}, below ${minGrade}`;
  return undefined;
}

export function evaluate(policy: QaPolicy, reads: readonly PolicyRead[], ctx: PolicyContext): Verdict {
  switch (policy.kind) {
    case 'every-case':
      return everyCase(policy.cases, minGradeOf(policy), reads);
    case 'ca-4075':
      return ca4075(policy.rounds, minGradeOf(policy), reads, ctx);
    case 'pooled':
      return pooled(policy.cases, minGradeOf(policy), reads, ctx);
  }
}

function everyCase(cases: number, minGrade: Grade, all: readonly PolicyRead[]): Verdict {
  const reads = all.slice(0, cases);
  const base = { policy: 'every-case' as const, casings: reads.length, needed: cases, grade: worstOf(reads) };
  for (let i = 0; i < reads.length; i++) {
    const problem = caseProblem(reads[i]!.decode, minGrade);
    if (problem) {
      return {
        ...base,
        status: 'fail',
        reason: `case ${i + 1} of ${cases} (read ${reads[i]!.id}) ${problem}`,
      };
    }
  }
  if (reads.length < cases) {
    const left = cases - reads.length;
    return {
      ...base,
      status: 'pending',
      reason: `${reads.length} of ${cases} cases identify the firearm with grade ${minGrade} or better; ${left} more to read`,
    };
  }
  return {
    ...base,
    status: 'pass',
    reason: `each of the ${cases} cases identifies the firearm with grade ${minGrade} or better (worst ${base.grade})`,
  };
}

/**
 * Why a case would not let the registry identify the firearm, or undefined when it would (and
 * reaches `minGrade`, when one is set). In words for the QA station.
 */
export function registryProblem(
  read: PolicyRead,
  minGrade: Grade,
  ctx: PolicyContext,
  check: RegistryCheck = registryCheck(read, ctx.expected, ctx.key, ctx.registry ?? DEFAULT_REGISTRY),
): string | undefined {
  if (!check.identifies) return check.problem;
  if (!gradeAtLeast(read.decode.grade, minGrade)) return `has grade ${read.decode.grade}, below ${minGrade}`;
  return undefined;
}

function ca4075(rounds: number, minGrade: Grade, all: readonly PolicyRead[], ctx: PolicyContext): Verdict {
  const examined = examinedRounds(rounds);
  // A read of a round not examined, or a second read of a round, is not looked at: the station
  // refuses both while this policy is configured, so they come only from an earlier policy.
  const byRound = new Map<number, PolicyRead>();
  for (const r of all) {
    if (r.round !== undefined && examined.includes(r.round) && !byRound.has(r.round)) byRound.set(r.round, r);
  }
  const reads = examined.flatMap((round) => byRound.get(round) ?? []);
  const missingRounds = examined.filter((round) => !byRound.has(round));
  const base = {
    policy: 'ca-4075' as const,
    casings: reads.length,
    needed: examined.length,
    grade: worstOf(reads),
    missingRounds,
  };
  for (const r of reads) {
    const problem = registryProblem(r, minGrade, ctx);
    if (problem) {
      return {
        ...base,
        status: 'fail',
        reason: `the case of round ${r.round} of ${rounds} (read ${r.id}) ${problem}`,
      };
    }
  }
  const registry = registryWords(ctx.registry ?? DEFAULT_REGISTRY);
  const floor = minGrade === 'F' ? '' : ` with grade ${minGrade} or better`;
  if (missingRounds.length > 0) {
    return {
      ...base,
      status: 'pending',
      reason: `round${missingRounds.length > 1 ? 's' : ''} ${missingRounds.join(', ')} of ${rounds} still to be read`,
    };
  }
  return {
    ...base,
    status: 'pass',
    reason: `the cases of rounds ${examined.join(', ')} of ${rounds} each identify the firearm among the ${registry}${floor} (worst grade ${base.grade})`,
  };
}

function pooled(cases: number, minGrade: Grade, all: readonly PolicyRead[], ctx: PolicyContext): Verdict {
  const reads = all.slice(0, cases);
  const decode = decodeCases(reads, ctx.expected, ctx.key);
  const base = { policy: 'pooled' as const, casings: reads.length, needed: cases, grade: decode.grade };
  if (reads.length < cases) {
    const left = cases - reads.length;
    return {
      ...base,
      status: 'pending',
      reason: `${reads.length} of ${cases} cases read${reads.length > 0 ? `; together so far grade ${decode.grade}${decode.matches ? '' : ', no identification yet'}` : ''}; ${left} more to read`,
    };
  }
  const problem = caseProblem(decode, minGrade, true);
  if (problem) return { ...base, status: 'fail', reason: `the ${cases} cases decoded together ${problem}` };
  return {
    ...base,
    status: 'pass',
    reason: `the ${cases} cases decoded together identify the firearm with grade ${decode.grade} (at least ${minGrade})`,
  };
}

/** "10,000,000 codes at the registry", for people. */
export function registryWords(registry: RegistrySize): string {
  return `${registry.issuedCodes.toLocaleString('en-GB')} codes at the registry`;
}

function worstOf(reads: readonly PolicyRead[]): Grade {
  if (reads.length === 0) return 'F';
  return reads.reduce<Grade>((g, r) => worseGrade(g, r.decode.grade), 'A');
}
