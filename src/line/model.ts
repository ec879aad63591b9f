/**
 * The line's view of orders and firearms. A firearm goes through a small state machine (see
 * docs/architecture.md, "The job state machine"); every transition is written to the store
 * before the line acts on it.
 */
import type { Grade } from '../codes/index.js';
import type { MarkTarget, Recipe } from '../engraver/types.js';

export type FirearmState =
  /** Waiting for its turn; no code yet (or its previous code was voided). */
  | 'queued'
  /** A code is allocated and durable; the job may or may not have been loaded. */
  | 'allocated'
  /**
   * The job registers were loaded on the engraver; not yet started. The engraver may have lost
   * them since (a power cut), so recovery loads them again before the start.
   */
  | 'loaded'
  /** The line has durably decided to start the job; the engraver may or may not have begun. */
  | 'marking'
  /** The engraver reported DONE for this firearm's job. */
  | 'engraved'
  /** The order was aborted before this firearm was engraved. */
  | 'cancelled';

export interface CodeRef {
  index: number;
  text: string;
  gear: string;
  /** Engraver job id used for this code; unique for the issuer (index + 1). */
  jobId: number;
  allocatedAt: string;
}

export type QaPolicyKind = 'every-case' | 'ca-4075' | 'pooled';

/** The QA station's decision on one code (spec erp-and-qa.md, Verification). */
export interface FirearmQa {
  result: 'pass' | 'fail';
  policy: QaPolicyKind;
  grade: Grade;
  /** test-fired cases the decision rests on */
  casings: number;
  at: string;
  /** who entered the read that decided it: the audit actor */
  by: string;
}

export interface VoidedCode extends CodeRef {
  voidedAt: string;
  reason: string;
  /** True when marking may have begun, so the pin was scrapped. */
  pinScrapped: boolean;
  fault?: number;
  /** The failed verification that voided the code, when QA did. */
  qa?: FirearmQa;
}

export interface HistoryEntry {
  at: string;
  state: FirearmState;
  note?: string;
}

export interface Firearm {
  serial: string;
  orderId: string;
  /** Position in the order, 0-based. */
  seq: number;
  rework: boolean;
  state: FirearmState;
  code?: CodeRef;
  voided: VoidedCode[];
  recipe?: Recipe;
  /**
   * The engraver's `completed` count read just before the current code's start, written with
   * `marking`. After a restart it tells a start that never took (the count has not moved) from a
   * job that may have run before another one (it has). Absent in stores written before it was
   * kept: then nothing is known, and the pin is taken as marked.
   */
  completedBefore?: number;
  /**
   * The engraver's `activeJob` read just before the current code's start, written with `marking`
   * beside `completedBefore`. A pin whose job is not the engraver's last is kept only when both
   * are as noted: nothing at all was started since, so this start never took. Absent in stores
   * written before it was kept: then the pin is taken as marked.
   */
  activeJobBefore?: number;
  engravedAt?: string;
  /**
   * Stored: set once the `engraved` record is durably in the outbox (so a restart need not queue
   * it again). In the line's views it means what a person takes it to mean: the registry has
   * accepted every record of the firearm (see `registry`).
   */
  reported?: boolean;
  /** What became of the firearm's records that have left the outbox: accepted, or dismissed. */
  settled?: RecordSettlement[];
  /** In the line's views only, never stored: the firearm's records at the registry. */
  registry?: FirearmRegistry;
  /** The verification of the current code, once decided (a failure voids the code: see `voided`). */
  qa?: FirearmQa;
  history: HistoryEntry[];
}

/**
 * `engraved`: every firearm's pin is marked (or cancelled), and the order has left the engraver;
 * `complete`: besides, QA has passed every firearm and the registry has accepted every record.
 * Stores written before the split hold `done`, read as `engraved` (`readOrderState`); the line
 * then moves each such order on to `complete` when its firearms say so (docs/orders.md).
 */
export type OrderState = 'queued' | 'running' | 'paused' | 'faulted' | 'aborted' | 'engraved' | 'complete';

/** The states of an order the line no longer works on: kept in the order catalogue. */
export const FINISHED_ORDER_STATES: ReadonlySet<string> = new Set([
  'engraved',
  'complete',
  'aborted',
  'done',
]);

/** Whether a stored state (a legacy `done` too) says the order is finished. */
export function isFinishedOrderState(state: string): boolean {
  return FINISHED_ORDER_STATES.has(state);
}

/**
 * Reads a stored header's state as the line knows states now: `done`, written before engraved
 * and complete were told apart, becomes `engraved`, the least it can mean; whether it is complete
 * depends on its firearms and the registry, which the line looks at once it has started.
 */
export function readOrderState<H extends { state: string }>(header: H): H {
  if (header.state === 'done') header.state = 'engraved';
  return header;
}

export interface OrderHeader {
  id: string;
  make: string;
  model: string;
  caliber?: string;
  target: MarkTarget;
  destination?: string;
  state: OrderState;
  createdAt: string;
  startedAt?: string;
  /** When the last pin was marked (or the order aborted). */
  finishedAt?: string;
  /** When QA had passed every firearm and the registry had accepted every record. */
  completedAt?: string;
  /** Why the order is paused or faulted. */
  reason?: string;
  size: number;
  source: 'http' | 'drop-folder' | 'ui' | 'demo';
}

export interface OrderCounts {
  queued: number;
  inProgress: number;
  engraved: number;
  /** Engraved firearms whose current code passed QA. */
  verified: number;
  /** Verified firearms whose every record the registry has accepted: the firearm is complete. */
  accepted: number;
  cancelled: number;
  voidedCodes: number;
}

/** Firearm states in which the engraver may be working on the firearm's current code. */
export const IN_FLIGHT: ReadonlySet<FirearmState> = new Set(['allocated', 'loaded', 'marking']);

export function isFinished(state: FirearmState): boolean {
  return state === 'engraved' || state === 'cancelled';
}

/**
 * The order of every order list, newest first: `createdAt` is an ISO time of one format, so plain
 * string comparison orders it without a collator, and the id settles ties the same way whatever
 * order the headers were gathered in. A page cursor, which holds only these two keys, compares
 * the same way.
 */
export function newestFirst(
  a: Pick<OrderHeader, 'createdAt' | 'id'>,
  b: Pick<OrderHeader, 'createdAt' | 'id'>,
): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** A record of the firearm that has left the outbox, as the outbox told the line before it let go. */
export interface RecordSettlement {
  recordId: string;
  event: 'engraved' | 'verified' | 'voided';
  code: string;
  outcome: 'accepted' | 'duplicate' | 'dismissed';
  at: string;
  /** the operator's reason and name, for a dismissed record */
  reason?: string;
  by?: string | null;
}

/** One record of a firearm as the registry stands with it. */
export interface RecordAtRegistry {
  recordId: string;
  event: 'engraved' | 'verified' | 'voided';
  code: string;
  /**
   * `queued`: in the outbox, not yet accepted (since `since`); `rejected`: the registry refused
   * it (`reason`, `at`), held for an operator to retry or dismiss; `accepted`: the registry took
   * it (`at`; `ack` says whether it knew it already); `dismissed`: an operator gave up on it.
   */
  state: 'queued' | 'rejected' | 'accepted' | 'dismissed';
  since?: string;
  at?: string;
  ack?: 'accepted' | 'duplicate';
  reason?: string;
  by?: string | null;
}

export interface FirearmRegistry {
  /** The firearm as a whole: the least settled of its records (`none` before any record). */
  state: 'none' | 'queued' | 'rejected' | 'accepted' | 'dismissed';
  records: RecordAtRegistry[];
}
