/**
 * What the outbox (`outbox.ts`) holds and says: its options, events and items, the entries of its
 * log, a record as held in memory, and the views of a held record (an item, a settlement, the
 * copy carried forward, the fields a log line names).
 */

import { StamplineError } from '../errors.js';
import type { AppendLogRepair } from '../store/append-log.js';
import type { RegistryLogger } from './logger.js';
import { type Ack, checkRecord, type RecordEvent, type RegistryRecord } from './record.js';

export interface OutboxOptions {
  /** The outbox's own folder (the reporter uses `<dataDir>/outbox`). */
  dir: string;
  /** A record with no ack for this long is sent again. Default 30,000. */
  resendAfterMs?: number;
  /** Segment size of both logs. Default 4 MiB. */
  maxSegmentBytes?: number;
  /** Open the logs read-only, for tools that list the outbox beside a running daemon. */
  readOnly?: boolean;
  logger?: RegistryLogger;
  /** Told when start-up cuts a torn last entry off the log; by default it is logged as a warning. */
  onRepair?: (note: AppendLogRepair) => void;
}

export type OutboxRecordState = 'waiting' | 'in-flight' | 'rejected';

/** What the outbox says about one record it holds. */
export interface OutboxItem {
  recordId: string;
  state: OutboxRecordState;
  event: RecordEvent;
  serial: string;
  code: string;
  occurredAt: string;
  enqueuedAt: string;
  /** Times sent in this process's life (a restart counts from 0 again). */
  attempts: number;
  lastSentAt: string | null;
  /** For rejected records: the registry's reason and when it said so. */
  rejection?: { reason: string; at: string };
  record: RegistryRecord;
}

export interface OutboxStats {
  /** Records waiting to be sent or waiting for their ack. */
  pending: number;
  waiting: number;
  inFlight: number;
  /** Records the registry rejected, held for an operator. */
  rejected: number;
  /** Counters since start. */
  sent: number;
  resent: number;
  accepted: number;
  duplicates: number;
  rejections: number;
  retried: number;
  dismissed: number;
  /** Acks for record ids the outbox does not hold (already settled, or not ours). */
  unknownAcks: number;
  /** Age of the oldest pending record, for alarms; null when nothing is pending. */
  oldestPendingMs: number | null;
  /** Most recent send-to-ack latencies, in ms, oldest first. */
  ackLatencyMs: number[];
}

export interface OutboxEvents {
  enqueued: [{ count: number; depth: number }];
  acked: [{ recordId: string; status: 'accepted' | 'duplicate'; latencyMs: number | null; ageMs: number }];
  rejected: [{ recordId: string; reason: string }];
  retried: [{ recordId: string; by: string | null }];
  dismissed: [{ recordId: string; reason: string; by: string | null }];
  /** Records whose ack was overdue and that are sent again. */
  resent: [{ count: number }];
}

/** One line of the outbox log. Times are ms since the epoch. */
export type Entry =
  /** A record enqueued, or a copy carried forward (with `rej` if it was rejected then). */
  /** `j` is the record's JSON, exactly as published: it is read back and sent without re-encoding. */
  | { k: 'rec'; id: string; t: number; j: string; rej?: { reason: string; at: number } }
  | { k: 'ack'; id: string; s: Ack['status']; reason?: string; at: number }
  | { k: 'retry'; id: string; by: string | null; at: number }
  | { k: 'dismiss'; id: string; reason: string; by: string | null; at: number };

export type RecordEntry = Extract<Entry, { k: 'rec' }>;
export type AckEntry = Exclude<Entry, { k: 'rec' }>;

export interface Held {
  id: string;
  /** The record as published, encoded once. */
  payload: Buffer;
  enqueuedAt: number;
  /** The segment holding the newest copy, or a lower bound of it (the segment being written when it was appended). */
  seg: number;
  state: OutboxRecordState;
  attempts: number;
  sentAt: number;
  rejection?: { reason: string; at: number };
  /** The firearm's serial, once the serial index is built (`heldFor`). */
  serial?: string;
}

/** A record leaving the outbox for good: accepted by the registry, or dismissed by an operator. */
export interface Settlement {
  recordId: string;
  event: RecordEvent;
  serial: string;
  orderId: string;
  code: string;
  outcome: 'accepted' | 'duplicate' | 'dismissed';
  at: string;
  /** the operator's reason and name, for a dismissal */
  reason?: string;
  by?: string | null;
}

/**
 * Told of settlements before the outbox lets the records go, so whoever keeps the firearms
 * knows a record's fate before the outbox forgets it. When it throws, the records stay held.
 */
export type SettleHook = (settlements: Settlement[]) => Promise<void>;

/** A record due to be published, as handed to the link. */
export interface Sendable {
  recordId: string;
  payload: Buffer;
}

/** A record's code, as `JSON.stringify` writes it (the record schema puts it at the top level). */
export const CODE_IN_RECORD = /"code":"([0-9A-Z]{10})"/;

/** What the outbox says about a held record. */
export function itemOf(h: Held): OutboxItem {
  const record = JSON.parse(h.payload.toString('utf8')) as RegistryRecord;
  const item: OutboxItem = {
    recordId: h.id,
    state: h.state,
    event: record.event,
    serial: record.firearm.serial,
    code: record.code,
    occurredAt: record.occurredAt,
    enqueuedAt: new Date(h.enqueuedAt).toISOString(),
    attempts: h.attempts,
    lastSentAt: h.attempts > 0 ? new Date(h.sentAt).toISOString() : null,
    record,
  };
  if (h.rejection)
    item.rejection = { reason: h.rejection.reason, at: new Date(h.rejection.at).toISOString() };
  return item;
}

/** What leaving the outbox means for a held record. */
export function settlementOf(
  h: Held,
  outcome: Settlement['outcome'],
  at: string,
  extra: { reason?: string; by?: string | null } = {},
): Settlement {
  const r = JSON.parse(h.payload.toString('utf8')) as RegistryRecord;
  return {
    recordId: h.id,
    event: r.event,
    serial: r.firearm.serial,
    orderId: r.order.id,
    code: r.code,
    outcome,
    at,
    ...extra,
  };
}

/** The copy of a held record that compaction carries forward (with its rejection, if any). */
export function carryEntryOf(h: Held): RecordEntry {
  const entry: RecordEntry = { k: 'rec', id: h.id, t: h.enqueuedAt, j: h.payload.toString('utf8') };
  if (h.state === 'rejected' && h.rejection) entry.rej = { reason: h.rejection.reason, at: h.rejection.at };
  return entry;
}

/** The fields an operator recognizes a record by, for log lines. */
export function summaryOf(h: Held): { event?: string; serial?: string; code?: string } {
  try {
    const r = JSON.parse(h.payload.toString('utf8')) as RegistryRecord;
    return { event: r.event, serial: r.firearm.serial, code: r.code };
  } catch {
    return {};
  }
}

/**
 * The records of a batch to enqueue, each checked against the contract. All or nothing: a record
 * that does not match, or a record id twice in the batch, throws REGISTRY_BAD_RECORD naming it.
 */
export function checkBatch(records: RegistryRecord[]): RegistryRecord[] {
  if (!Array.isArray(records)) {
    throw new StamplineError('REGISTRY_BAD_RECORD', 'enqueue takes an array of records', {});
  }
  const seen = new Set<string>();
  const checked: RegistryRecord[] = [];
  for (let i = 0; i < records.length; i++) {
    const check = checkRecord(records[i]);
    if (!check.ok) {
      const recordId = (records[i] as { recordId?: unknown } | undefined)?.recordId;
      throw new StamplineError('REGISTRY_BAD_RECORD', `record ${i} (${String(recordId)}): ${check.reason}`, {
        index: i,
        recordId,
        problem: check.reason,
      });
    }
    const id = check.record.recordId;
    if (seen.has(id)) {
      throw new StamplineError(
        'REGISTRY_BAD_RECORD',
        `record ${i}: recordId ${id} appears twice in one batch`,
        {
          index: i,
          recordId: id,
        },
      );
    }
    seen.add(id);
    checked.push(check.record);
  }
  return checked;
}
