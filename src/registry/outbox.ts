/**
 * The durable outbox: every record the line reports stays here until the registry acks it
 * `accepted` or `duplicate`. A `rejected` record stays too, listed for an operator, until the
 * operator retries or dismisses it. Nothing leaves silently.
 *
 * Storage is one append-only log (`<dir>/outbox.*.jsonl`) holding, in the order they happened:
 * records as enqueued (durable before `enqueue` resolves), the registry's acks, the operator's
 * retries and dismissals, and copies of records carried forward by compaction. Start-up replays
 * it in order; the newest copy of a record wins and the entries after it apply to it. Acks are
 * written lazily, in batches: losing one in a crash only means the record is sent again and the
 * registry answers `duplicate`. Operator actions are durable before the call returns.
 *
 * One log rather than one for records and one for acks, because replay then needs no rule to
 * interleave two histories: every entry that can change a record comes after that record's
 * newest copy, so deleting the segments before the oldest live record's copy is always safe.
 *
 * Compaction keeps start-up and memory in proportion to what is still held, not to history:
 * segments before the oldest live record are deleted, and when the old segments are mostly
 * settled the few live records in them (an old rejected record, say) are copied forward so the
 * segments can go.
 */
import { EventEmitter } from 'node:events';
import { StamplineError } from '../errors.js';
import { AppendLog, type AppendLogRepair } from '../store/append-log.js';
import { type RegistryLogger, silentLogger } from './logger.js';
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
type Entry =
  /** A record enqueued, or a copy carried forward (with `rej` if it was rejected then). */
  /** `j` is the record's JSON, exactly as published: it is read back and sent without re-encoding. */
  | { k: 'rec'; id: string; t: number; j: string; rej?: { reason: string; at: number } }
  | { k: 'ack'; id: string; s: Ack['status']; reason?: string; at: number }
  | { k: 'retry'; id: string; by: string | null; at: number }
  | { k: 'dismiss'; id: string; reason: string; by: string | null; at: number };

type RecordEntry = Extract<Entry, { k: 'rec' }>;
type AckEntry = Exclude<Entry, { k: 'rec' }>;

interface Held {
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

const LATENCY_SAMPLES = 1024;
/** A record's code, as `JSON.stringify` writes it (the record schema puts it at the top level). */
const CODE_IN_RECORD = /"code":"([0-9A-Z]{10})"/;
/** Carry live records forward once they are at most this share of the entries in old segments. */
const CARRY_RATIO = 0.25;
const COMPACT_EVERY_MS = 1_000;

export class Outbox extends EventEmitter<OutboxEvents> {
  private readonly journal: AppendLog<Entry>;
  private readonly log: RegistryLogger;
  private readonly held = new Map<string, Held>();
  /** Told of each record before it is settled for good (set by the outbox's owner). */
  beforeSettle: SettleHook | undefined;
  /** serial → ids of the records held for it; built on the first `heldFor`. */
  private bySerial: Map<string, Set<string>> | undefined;
  /** The codes of every record the log held at start, for the allocator's check at start-up. */
  private readonly seenCodes = new Set<string>();
  private waiting = new Map<string, Held>();
  /** Ordered by last send, oldest first, so overdue records are found at the front. */
  private inFlight = new Map<string, Held>();
  private readonly rejectedHeld = new Map<string, Held>();
  /** Entries per segment (approximate), to judge when carrying forward pays. */
  private readonly segEntries = new Map<number, number>();
  /** Lower bounds of the segments of record appends not yet finished: compaction must spare them. */
  private readonly appending = new Map<number, number>();
  private ackQueue: AckEntry[] = [];
  private ackWaiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private ackFlushing: Promise<void> | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private compacting: Promise<void> | undefined;
  private settledSinceCompact = 0;
  private running = false;
  /** A ring of the latest send-to-ack latencies; `latencyNext` is where the next one goes. */
  private readonly latencies: number[] = [];
  private latencyNext = 0;
  private readonly counters = {
    sent: 0,
    resent: 0,
    accepted: 0,
    duplicates: 0,
    rejections: 0,
    retried: 0,
    dismissed: 0,
    unknownAcks: 0,
  };

  constructor(private readonly opts: OutboxOptions) {
    super();
    const maxSegmentBytes = opts.maxSegmentBytes ?? 4 * 1024 * 1024;
    const readOnly = opts.readOnly ?? false;
    this.log = (opts.logger ?? silentLogger).child({ component: 'outbox' });
    this.journal = new AppendLog<Entry>({
      dir: opts.dir,
      name: 'outbox',
      maxSegmentBytes,
      readOnly,
      onRepair:
        opts.onRepair ??
        ((note) => this.log.warn({ note }, 'outbox: cut off a torn last entry (never acknowledged)')),
    });
  }

  get resendAfterMs(): number {
    return this.opts.resendAfterMs ?? 30_000;
  }

  /** Opens the log and rebuilds what is held from it. Every pending record will be sent again. */
  async start(): Promise<void> {
    if (this.running) return;
    await this.journal.start();
    try {
      await this.replay();
    } catch (err) {
      await this.journal.stop();
      throw err;
    }
    this.running = true;
    this.log.info(
      { pending: this.waiting.size, rejected: this.rejectedHeld.size },
      'outbox opened; pending records will be sent again',
    );
    if (!this.opts.readOnly) {
      this.compactTimer = setInterval(() => this.compactSoon(), COMPACT_EVERY_MS);
      this.compactTimer.unref();
      await this.compact();
    }
  }

  /** Writes the acks not yet on the disk and closes the logs. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.compactTimer);
    this.compactTimer = undefined;
    await this.compacting?.catch(() => {});
    while (this.ackFlushing) await this.ackFlushing;
    await this.journal.stop();
    this.held.clear();
    this.waiting.clear();
    this.inFlight.clear();
    this.rejectedHeld.clear();
  }

  /**
   * Adds records to the outbox; resolves once they are on the disk. All or nothing: a record that
   * does not match the contract throws REGISTRY_BAD_RECORD and none of the batch is taken. A
   * record id already held is skipped, so a caller that crashed between enqueueing and noting it
   * can simply enqueue again.
   */
  async enqueue(records: RegistryRecord[]): Promise<void> {
    this.assertWritable();
    if (!Array.isArray(records)) {
      throw new StamplineError('REGISTRY_BAD_RECORD', 'enqueue takes an array of records', {});
    }
    const seen = new Set<string>();
    const fresh: RegistryRecord[] = [];
    for (let i = 0; i < records.length; i++) {
      const check = checkRecord(records[i]);
      if (!check.ok) {
        const recordId = (records[i] as { recordId?: unknown } | undefined)?.recordId;
        throw new StamplineError(
          'REGISTRY_BAD_RECORD',
          `record ${i} (${String(recordId)}): ${check.reason}`,
          {
            index: i,
            recordId,
            problem: check.reason,
          },
        );
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
      if (!this.held.has(id)) fresh.push(check.record);
    }
    if (fresh.length === 0) return;
    const now = Date.now();
    const entries: RecordEntry[] = fresh.map((r) => ({
      k: 'rec',
      id: r.recordId,
      t: now,
      j: JSON.stringify(r),
    }));
    const seg = await this.appendRecords(entries);
    let added = 0;
    for (const e of entries) {
      if (this.held.has(e.id)) continue;
      const h = this.hold(e.id, e.j, now, seg);
      this.waiting.set(h.id, h);
      added++;
    }
    if (added > 0) this.emit('enqueued', { count: added, depth: this.depth() });
  }

  /**
   * Marks records as sent and returns them: first those whose ack is overdue (sent again with the
   * same id), then waiting ones while fewer than `window` are in flight.
   */
  takeToSend(window: number, now = Date.now()): Sendable[] {
    if (!this.running) return [];
    const out: Sendable[] = [];
    const overdue: Held[] = [];
    for (const h of this.inFlight.values()) {
      if (now - h.sentAt < this.resendAfterMs) break;
      overdue.push(h);
    }
    for (const h of overdue) {
      this.inFlight.delete(h.id);
      out.push(this.markSent(h, now));
    }
    if (overdue.length > 0) this.emit('resent', { count: overdue.length });
    for (const h of this.waiting.values()) {
      if (this.inFlight.size >= window) break;
      this.waiting.delete(h.id);
      out.push(this.markSent(h, now));
    }
    return out;
  }

  /**
   * Puts every in-flight record back at the head of the queue, to be sent again at once. Called
   * when the link comes back: what was in flight may have been lost with the connection.
   */
  requeueInFlight(): void {
    if (this.inFlight.size === 0) return;
    const merged = new Map<string, Held>();
    for (const h of this.inFlight.values()) {
      h.state = 'waiting';
      merged.set(h.id, h);
    }
    for (const h of this.waiting.values()) merged.set(h.id, h);
    this.inFlight = new Map();
    this.waiting = merged;
  }

  /** Applies the registry's answer for one record. Returns false for a record id not held. */
  acknowledge(ack: Ack, now = Date.now()): boolean {
    if (!this.running) return false;
    const h = this.held.get(ack.recordId);
    if (!h) {
      this.counters.unknownAcks++;
      return false;
    }
    if (ack.status === 'rejected') {
      if (h.state === 'rejected') return true;
      const reason = ack.reason?.trim() || 'no reason given';
      this.waiting.delete(h.id);
      this.inFlight.delete(h.id);
      h.state = 'rejected';
      h.rejection = { reason, at: now };
      this.rejectedHeld.set(h.id, h);
      this.counters.rejections++;
      this.queueAck({ k: 'ack', id: h.id, s: 'rejected', reason, at: now });
      this.log.warn({ recordId: h.id, reason, ...summary(h) }, 'the registry rejected a record');
      this.emit('rejected', { recordId: h.id, reason });
      return true;
    }
    const latencyMs = h.attempts > 0 ? now - h.sentAt : null;
    this.release(h);
    if (ack.status === 'duplicate') this.counters.duplicates++;
    else this.counters.accepted++;
    if (latencyMs !== null) {
      this.latencies[this.latencyNext] = latencyMs;
      this.latencyNext = (this.latencyNext + 1) % LATENCY_SAMPLES;
    }
    this.queueAck({ k: 'ack', id: h.id, s: ack.status, at: now });
    this.emit('acked', { recordId: h.id, status: ack.status, latencyMs, ageMs: now - h.enqueuedAt });
    return true;
  }

  /** Sends a rejected record again (same id), after an operator has dealt with the cause. */
  async retry(recordId: string, by: string | null = null): Promise<void> {
    this.assertWritable();
    const h = this.rejectedOrThrow(recordId, 'retry');
    await this.writeAckDurably({ k: 'retry', id: recordId, by, at: Date.now() });
    if (this.rejectedHeld.get(recordId) !== h) return;
    this.rejectedHeld.delete(recordId);
    h.state = 'waiting';
    delete h.rejection;
    this.waiting.set(recordId, h);
    this.counters.retried++;
    this.log.info({ recordId, by }, 'rejected record retried by an operator');
    this.emit('retried', { recordId, by });
  }

  /** Removes a rejected record for good, with the operator's reason; it is logged, never silent. */
  async dismiss(recordId: string, reason: string, by: string | null = null): Promise<void> {
    this.assertWritable();
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new StamplineError('REGISTRY_RECORD_STATE', 'dismissing a record needs a reason', { recordId });
    }
    const h = this.rejectedOrThrow(recordId, 'dismiss');
    await this.beforeSettle?.([
      this.settlement(h, 'dismissed', new Date().toISOString(), { reason: reason.trim(), by }),
    ]);
    await this.writeAckDurably({
      k: 'dismiss',
      id: recordId,
      reason: reason.trim(),
      by,
      at: Date.now(),
    });
    if (this.rejectedHeld.get(recordId) !== h) return;
    this.release(h);
    this.counters.dismissed++;
    this.log.warn(
      { recordId, reason, by, registryReason: h.rejection?.reason, ...summary(h) },
      'rejected record dismissed by an operator',
    );
    this.emit('dismissed', { recordId, reason: reason.trim(), by });
  }

  /** Records held: pending (waiting or in flight) and rejected. */
  depth(): number {
    return this.held.size;
  }

  /** Pending records, oldest first (in-flight, then waiting). */
  pending(limit = 100): OutboxItem[] {
    const out: OutboxItem[] = [];
    for (const map of [this.inFlight, this.waiting]) {
      for (const h of map.values()) {
        if (out.length >= limit) return out;
        out.push(this.item(h));
      }
    }
    return out;
  }

  /** When the oldest pending record (waiting or in flight) was queued; null when none is. */
  oldestPendingAt(): string | null {
    let oldest: number | null = null;
    for (const map of [this.inFlight, this.waiting]) {
      for (const h of map.values()) if (oldest === null || h.enqueuedAt < oldest) oldest = h.enqueuedAt;
    }
    return oldest === null ? null : new Date(oldest).toISOString();
  }

  /** Every rejected record, with the registry's reason, oldest rejection first. */
  rejected(): OutboxItem[] {
    return [...this.rejectedHeld.values()].map((h) => this.item(h));
  }

  /** One held record, or undefined. */
  get(recordId: string): OutboxItem | undefined {
    const h = this.held.get(recordId);
    return h ? this.item(h) : undefined;
  }

  stats(now = Date.now()): OutboxStats {
    let oldest: number | null = null;
    for (const map of [this.inFlight, this.waiting]) {
      for (const h of map.values()) if (oldest === null || h.enqueuedAt < oldest) oldest = h.enqueuedAt;
    }
    return {
      pending: this.waiting.size + this.inFlight.size,
      waiting: this.waiting.size,
      inFlight: this.inFlight.size,
      rejected: this.rejectedHeld.size,
      ...this.counters,
      oldestPendingMs: oldest === null ? null : now - oldest,
      ackLatencyMs: [...this.latencies.slice(this.latencyNext), ...this.latencies.slice(0, this.latencyNext)],
    };
  }

  /** Segment ids of the log, for diagnostics and tests of compaction. */
  /** The codes of the records the log held when it was opened (acknowledged ones still in it too). */
  codesAtStart(): ReadonlySet<string> {
    return this.seenCodes;
  }

  segments(): number[] {
    return this.journal.segments();
  }

  /** Writes every ack not yet on the disk. */
  async flush(): Promise<void> {
    if (this.ackQueue.length === 0 && !this.ackFlushing) return;
    await new Promise<void>((resolve, reject) => {
      this.ackWaiters.push({ resolve, reject });
      this.kickAckFlush();
    });
  }

  /** Runs a compaction pass now (it also runs by itself every second when acks arrive). */
  async compact(): Promise<void> {
    if (this.opts.readOnly) return;
    if (this.compacting) return this.compacting;
    this.compacting = this.doCompact().finally(() => {
      this.compacting = undefined;
    });
    return this.compacting;
  }

  private compactSoon(): void {
    if (this.settledSinceCompact === 0 || this.compacting || !this.running) return;
    this.compact().catch((err) =>
      this.log.error({ err: (err as Error).message }, 'outbox compaction failed'),
    );
  }

  private async doCompact(): Promise<void> {
    this.settledSinceCompact = 0;
    // Acks first, so that what compaction relies on is on the disk before segments go.
    await this.flush();
    await this.dropSettled();
    const current = this.journal.currentSegment;
    const old: Held[] = [];
    let first = current;
    for (const h of this.held.values()) {
      if (h.seg >= current) continue;
      old.push(h);
      if (h.seg < first) first = h.seg;
    }
    if (old.length === 0) return;
    let oldEntries = 0;
    for (const [seg, n] of this.segEntries) if (seg >= first && seg < current) oldEntries += n;
    if (old.length > oldEntries * CARRY_RATIO) return;
    const carried = old.map((h) => ({ h, entry: this.carryEntry(h) }));
    const seg = await this.appendRecords(carried.map((c) => c.entry));
    // A record settled or carried meanwhile keeps what it has; the others now live at `seg`.
    for (const { h } of carried) if (this.held.get(h.id) === h && h.seg < seg) h.seg = seg;
    this.log.debug(
      { carried: carried.length, fromSegment: first, toSegment: seg },
      'outbox carried records forward',
    );
    await this.dropSettled();
  }

  /** Appends record entries durably; returns the segment they went to (or a lower bound of it). */
  private async appendRecords(entries: RecordEntry[]): Promise<number> {
    const seg = this.journal.currentSegment;
    this.appending.set(seg, (this.appending.get(seg) ?? 0) + 1);
    try {
      await this.journal.append(entries);
    } finally {
      const n = this.appending.get(seg)! - 1;
      if (n === 0) this.appending.delete(seg);
      else this.appending.set(seg, n);
    }
    this.segEntries.set(seg, (this.segEntries.get(seg) ?? 0) + entries.length);
    return seg;
  }

  private carryEntry(h: Held): RecordEntry {
    const entry: RecordEntry = { k: 'rec', id: h.id, t: h.enqueuedAt, j: h.payload.toString('utf8') };
    if (h.state === 'rejected' && h.rejection) entry.rej = { reason: h.rejection.reason, at: h.rejection.at };
    return entry;
  }

  /**
   * Deletes the segments before the oldest live record's newest copy. Everything that can still
   * change a live record was logged after that copy, so nothing needed goes.
   */
  private async dropSettled(): Promise<void> {
    let firstLive = this.journal.currentSegment;
    for (const h of this.held.values()) if (h.seg < firstLive) firstLive = h.seg;
    for (const seg of this.appending.keys()) if (seg < firstLive) firstLive = seg;
    const segs = this.journal.segments();
    if (segs.length === 0 || segs[0]! >= firstLive) return;
    await this.journal.dropSegmentsBefore(firstLive);
    for (const seg of [...this.segEntries.keys()]) if (seg < firstLive) this.segEntries.delete(seg);
  }

  private async replay(): Promise<void> {
    this.held.clear();
    this.waiting.clear();
    this.inFlight.clear();
    this.rejectedHeld.clear();
    this.segEntries.clear();
    this.seenCodes.clear();
    for await (const { segment, entry } of this.journal.read()) {
      this.segEntries.set(segment, (this.segEntries.get(segment) ?? 0) + 1);
      if (entry.k === 'rec') {
        this.replayRecord(entry, segment);
        continue;
      }
      const h = this.held.get(entry.id);
      if (!h) continue;
      if (entry.k === 'ack' && entry.s !== 'rejected') {
        this.forget(h);
      } else if (entry.k === 'ack') {
        if (h.state === 'rejected') continue;
        this.waiting.delete(h.id);
        h.state = 'rejected';
        h.rejection = { reason: entry.reason ?? 'no reason given', at: entry.at };
        this.rejectedHeld.set(h.id, h);
      } else if (entry.k === 'retry') {
        if (h.state !== 'rejected') continue;
        this.rejectedHeld.delete(h.id);
        h.state = 'waiting';
        delete h.rejection;
        this.waiting.set(h.id, h);
      } else {
        this.forget(h);
      }
    }
  }

  private replayRecord(entry: RecordEntry, segment: number): void {
    // Records were checked against the contract before they were written, and the log catches
    // torn and garbled lines; a full check here would make start-up cost far more than reading.
    if (typeof entry.id !== 'string' || typeof entry.j !== 'string' || typeof entry.t !== 'number') {
      throw new StamplineError(
        'STORE_CORRUPT',
        `outbox segment ${segment} holds an entry that is not a record`,
        {
          segment,
        },
      );
    }
    const code = CODE_IN_RECORD.exec(entry.j)?.[1];
    if (code !== undefined) this.seenCodes.add(code);
    const previous = this.held.get(entry.id);
    if (previous) this.forget(previous);
    const h = this.hold(entry.id, entry.j, entry.t, segment);
    if (entry.rej) {
      h.state = 'rejected';
      h.rejection = { reason: entry.rej.reason, at: entry.rej.at };
      this.rejectedHeld.set(h.id, h);
    } else {
      this.waiting.set(h.id, h);
    }
  }

  private hold(id: string, json: string, enqueuedAt: number, seg: number): Held {
    const h: Held = {
      id,
      payload: Buffer.from(json, 'utf8'),
      enqueuedAt,
      seg,
      state: 'waiting',
      attempts: 0,
      sentAt: 0,
    };
    this.held.set(h.id, h);
    if (this.bySerial) this.indexSerial(h);
    return h;
  }

  /** The records held for one firearm's serial, oldest first: what the registry has not yet accepted of it. */
  heldFor(serial: string): OutboxItem[] {
    if (!this.bySerial) {
      // Built on the first ask, not at start-up: start-up stays in proportion to reading the log.
      this.bySerial = new Map();
      for (const h of this.held.values()) this.indexSerial(h);
    }
    const ids = this.bySerial.get(serial);
    if (!ids) return [];
    return [...ids]
      .map((id) => this.held.get(id))
      .filter((h): h is Held => h !== undefined)
      .sort((a, b) => a.enqueuedAt - b.enqueuedAt)
      .map((h) => this.item(h));
  }

  private indexSerial(h: Held): void {
    const serial = (JSON.parse(h.payload.toString('utf8')) as RegistryRecord).firearm.serial;
    h.serial = serial;
    const ids = this.bySerial!.get(serial) ?? new Set<string>();
    this.bySerial!.set(serial, ids);
    ids.add(h.id);
  }

  private forget(h: Held): void {
    if (this.bySerial && h.serial !== undefined) {
      const ids = this.bySerial.get(h.serial);
      ids?.delete(h.id);
      if (ids?.size === 0) this.bySerial.delete(h.serial);
    }
    this.held.delete(h.id);
    this.waiting.delete(h.id);
    this.inFlight.delete(h.id);
    this.rejectedHeld.delete(h.id);
  }

  private release(h: Held): void {
    this.forget(h);
    this.settledSinceCompact++;
  }

  private markSent(h: Held, now: number): Sendable {
    if (h.attempts > 0) this.counters.resent++;
    else this.counters.sent++;
    h.attempts++;
    h.sentAt = now;
    h.state = 'in-flight';
    this.inFlight.set(h.id, h);
    return { recordId: h.id, payload: h.payload };
  }

  private item(h: Held): OutboxItem {
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

  /** What leaving the outbox means for the record `recordId`, or nothing for a record not held. */
  settlementOf(recordId: string, outcome: Settlement['outcome'], at: string): Settlement | undefined {
    const h = this.held.get(recordId);
    return h ? this.settlement(h, outcome, at) : undefined;
  }

  private settlement(
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

  private rejectedOrThrow(recordId: string, action: string): Held {
    const h = this.held.get(recordId);
    if (!h) {
      throw new StamplineError('REGISTRY_RECORD_NOT_FOUND', `the outbox holds no record ${recordId}`, {
        recordId,
      });
    }
    if (h.state !== 'rejected') {
      throw new StamplineError(
        'REGISTRY_RECORD_STATE',
        `record ${recordId} is ${h.state}, not rejected; only a rejected record can be ${action === 'retry' ? 'retried' : 'dismissed'}`,
        { recordId, state: h.state },
      );
    }
    return h;
  }

  private assertWritable(): void {
    if (!this.running) {
      throw new StamplineError('REGISTRY_OUTBOX_STOPPED', 'the outbox is not running', {});
    }
    if (this.opts.readOnly) {
      throw new StamplineError('REGISTRY_OUTBOX_STOPPED', 'the outbox is open read-only', {});
    }
  }

  private queueAck(entry: AckEntry): void {
    if (this.opts.readOnly) return;
    this.ackQueue.push(entry);
    this.kickAckFlush();
  }

  private writeAckDurably(entry: AckEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.ackQueue.push(entry);
      this.ackWaiters.push({ resolve, reject });
      this.kickAckFlush();
    });
  }

  /**
   * One writer for acks and operator actions, so they reach the log in the order they happened
   * (an operator's retry must not land before the rejection it answers), batched while a write
   * is in flight.
   */
  private kickAckFlush(): void {
    if (this.ackFlushing) return;
    this.ackFlushing = this.ackFlushLoop().finally(() => {
      this.ackFlushing = undefined;
      if (this.ackQueue.length > 0 || this.ackWaiters.length > 0) this.kickAckFlush();
    });
  }

  private async ackFlushLoop(): Promise<void> {
    while (this.ackQueue.length > 0 || this.ackWaiters.length > 0) {
      const batch = this.ackQueue;
      const waiters = this.ackWaiters;
      this.ackQueue = [];
      this.ackWaiters = [];
      try {
        if (batch.length > 0) {
          const seg = this.journal.currentSegment;
          await this.journal.append(batch);
          this.segEntries.set(seg, (this.segEntries.get(seg) ?? 0) + batch.length);
        }
        for (const w of waiters) w.resolve();
      } catch (err) {
        // Lost acks only cost a resend; the caller of a durable write hears of the failure.
        this.log.error({ err: (err as Error).message, entries: batch.length }, 'cannot write outbox acks');
        for (const w of waiters) w.reject(err);
      }
    }
  }
}

/** The fields an operator recognizes a record by, for log lines. */
function summary(h: Held): { event?: string; serial?: string; code?: string } {
  try {
    const r = JSON.parse(h.payload.toString('utf8')) as RegistryRecord;
    return { event: r.event, serial: r.firearm.serial, code: r.code };
  } catch {
    return {};
  }
}
