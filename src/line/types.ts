/**
 * What the line's modules share with the services around them: where records and audit entries
 * go, the logger, an order as it arrives, a QA decision as it is applied, the line's options and
 * the events it emits. `line.ts` exports them again, so callers import them from the line.
 */
import type { Grade } from '../codes/index.js';
import type { Engraver, EngraverStatus, Recipe } from '../engraver/types.js';
import type { RegistryRecord } from '../registry/record.js';
import type { CodeAllocator } from './allocator.js';
import type { CrashPoint } from './crash-points.js';
import type { Firearm, OrderHeader, QaPolicyKind } from './model.js';
import type { RecordContext } from './records.js';
import type { HeldRecord } from './registry-status.js';
import type { LineRepository } from './repository.js';

/** Where the line's records go; the registry reporter's outbox in the daemon. */
export interface RecordSink {
  /** Resolves once the records are durable. */
  report(records: RegistryRecord[]): Promise<void>;
  /** The records still held for a serial (queued, or rejected); without it views show none. */
  held?(serial: string): HeldRecord[];
}

/** What the line writes to the audit trail, and where its log lines go: the shared interfaces. */
import type { AuditSink, Logger as LineLogger } from '../shared.js';

export type { AuditEntryInput, AuditSink, Logger as LineLogger } from '../shared.js';

/**
 * Called at each crash point of the job cycle with the firearm as it stands there. The daemon's
 * hook kills the process where `STAMPLINE_CRASH_AT` says (`crash-points.ts`); a test's hook may
 * throw, which ends the step there as a crash would.
 */
export type CrashHook = (point: CrashPoint, firearm: Firearm) => void;

export interface NewOrder {
  id: string;
  make: string;
  model: string;
  caliber?: string;
  target: 'firing-pin' | 'breech-face';
  destination?: string;
  firearms: Array<{ serial: string; rework?: boolean }>;
}

export interface LineOptions {
  repo: LineRepository;
  allocator: CodeAllocator;
  engraver: Engraver;
  sink: RecordSink;
  audit: AuditSink;
  /** The laser recipe for a make and model (configuration: `recipes`). */
  recipeFor: (make: string, model: string) => Recipe;
  records: RecordContext;
  logger: LineLogger;
  /** Engrave mirrored (the pin is mirrored so the case impression reads right). */
  mirror: boolean;
  /** How long a job may stay BUSY before the line aborts it. */
  jobTimeoutMs: number;
  /** Start orders as soon as they arrive (the demo does; a real line waits for the operator). */
  autoStart?: boolean;
  /** The crash points' hook; by default the one `STAMPLINE_CRASH_AT` drives. */
  crashHook?: CrashHook;
}

/** The QA station's decision on one code of one firearm, as the line applies it. */
export interface QaDecision {
  result: 'pass' | 'fail';
  policy: QaPolicyKind;
  grade: Grade;
  casings: number;
  /** for people: why it passed or failed; a failure's reason becomes the void's `failed QA: ...` */
  reason: string;
  at: string;
  /** who entered the read that decided it */
  by: string;
  /**
   * The ids of the reads the decision was taken on. Its audit entries carry them (`after.reads`),
   * so an entry written twice (a crash between writing it and logging the decision) is
   * recognisable, and one already written is not written again on a replay.
   */
  reads?: number[];
}

export interface AppliedDecision {
  /** `verified`: the firearm carries the pass; `rework`: the code is void and a new pin is due */
  outcome: 'verified' | 'rework';
  order: OrderHeader;
  firearm: Firearm;
}

export interface LineEvents {
  firearm: [{ orderId: string; firearm: Firearm }];
  order: [{ order: OrderHeader }];
  engraver: [{ connected: boolean; status?: EngraverStatus; statusAt?: string; reason?: string }];
  /** The counts of an engraved order not yet complete changed (or it is now counted, or no more). */
  backlog: [{ orderId: string }];
}
