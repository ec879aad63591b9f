/** Verification at the QA station (spec erp-and-qa.md): what other modules may use. */

export { addDays, type DayRange, dayOf, daysBetween, isDay, type Per, SHIFTS } from './calendar.js';
export { type CharAgreement, compareRead, type ReadComparison } from './compare.js';
export { decodeCase, decodeCases, gradeAtLeast } from './decode.js';
export { caseReadInputSchema, checkRead, normaliseCode, problemsOf, provenanceOf } from './input.js';
export {
  caseProblem,
  casesNeeded,
  evaluate,
  examinedRounds,
  minGradeOf,
  type PolicyContext,
  type PolicyRead,
  type QaPolicy,
  registryProblem,
  registryWords,
} from './policy.js';
export type { DecisionEntry, QaLogEntry, ReadEntry } from './read-log.js';
export {
  DEFAULT_REGISTRY,
  type RegistryCheck,
  type RegistrySize,
  registryCheck,
  registryOf,
} from './registry-check.js';
export {
  type QaDecisions,
  type QaLine,
  QaService,
  type QaServiceEvents,
  type QaServiceOptions,
  type QaStartInfo,
} from './service.js';
export { ReadStatistics, STATS_DIMENSIONS } from './stats.js';
export { MAX_TREND_DAYS, type TrendRow } from './trend.js';
export type {
  Ammunition,
  CaseReadInput,
  FirearmRecord,
  QaDecisionEvent,
  ReadCorrection,
  ReadDecode,
  ReadSource,
  StatsDimension,
  StatsRow,
  StoredRead,
  SubmitResult,
  Verdict,
  VerdictStatus,
} from './types.js';
