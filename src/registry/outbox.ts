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
 *
 * The records in memory are kept by `outbox-book.ts`, acks and operator actions are written by
 * one writer (`outbox-acks.ts`), and the types and views of a record are in
 * `outbox-types.ts`.
 */
import { EventEmitter } from 'node:events';
import { StamplineError } from '../errors.js';
import { AppendLog } from '../store/append-log.js';
import { type RegistryLogger, silentLogger } from './logger.js';
import { OutboxAckWriter } from './outbox-acks.js';
import { OutboxBook } from './outbox-book.js';
import {
  type AckEntry,
  carryEntryOf,
  checkBatch,
  type Entry,
  type Held,
  itemOf,
  type OutboxEvents,
  type OutboxItem,
  type OutboxOptions,
  type OutboxStats,
  type RecordEntry,
  type Sendable,
  type SettleHook,
  type Settlement,
  settlementOf,
  summaryOf,
} from './outbox-types.js';
import type { Ack, RegistryRecord } from './record.js';

export type {
  OutboxEvents,
  OutboxItem,
  OutboxOptions,
  OutboxRecordState,
  OutboxStats,
  Sendable,
  SettleHook,
  Settlement,
} from './outbox-types.js';

const LATENCY_SAMPLES = 1024;
/** Carry live records forward once they are at most this share of the entries in old segments. */
const CARRY_RATIO = 0.25;
const COMPACT_EVERY_MS = 1_000;

export class Outbox extends EventEmitter<OutboxEvents> {
  private readonly journal: AppendLog<Entry>;
  private readonly log: RegistryLogger;
  private readonly book = new OutboxBook();
  private readonly acks: OutboxAckWriter;
  /** Told of each record before it is settled for good (set by the outbox's owner). */
  beforeSettle: SettleHook | undefined;
  /** Entries per segment (approximate), to judge when carrying forward pays. */
  private readonly segEntries = new Map<number, number>();
  /** Lower bounds of the segments of record appends not yet finished: compaction must spare them. */
  private readonly appending = new Map<number, number>();
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
    this.acks = new OutboxAckWriter(this.journal, this.log, (seg, n) =>
      this.segEntries.set(seg, (this.segEntries.get(seg) ?? 0) + n),
    );
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
      { pending: this.book.waiting.size, rejected: this.book.rejectedHeld.size },
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
    while (this.acks.writing) await this.acks.writing;
    await this.journal.stop();
    this.book.clear();
  }

  /**
   * Adds records to the outbox; resolves once they are on the disk. All or nothing: a record that
   * does not match the contract throws REGISTRY_BAD_RECORD and none of the batch is taken. A
   * record id already held is skipped, so a caller that crashed between enqueueing and noting it
   * can simply enqueue again.
   */
  async enqueue(records: RegistryRecord[]): Promise<void> {
    this.assertWritable();
    const fresh = checkBatch(records).filter((r) => !this.book.held.has(r.recordId));
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
      if (this.book.held.has(e.id)) continue;
      const h = this.book.hold(e.id, e.j, now, seg);
      this.book.waiting.set(h.id, h);
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
    for (const h of this.book.inFlight.values()) {
      if (now - h.sentAt < this.resendAfterMs) break;
      overdue.push(h);
    }
    for (const h of overdue) {
      this.book.inFlight.delete(h.id);
      out.push(this.markSent(h, now));
    }
    if (overdue.length > 0) this.emit('resent', { count: overdue.length });
    for (const h of this.book.waiting.values()) {
      if (this.book.inFlight.size >= window) break;
      this.book.waiting.delete(h.id);
      out.push(this.markSent(h, now));
    }
    return out;
  }

  /** Applies the registry's answer for one record. Returns false for a record id not held. */
  acknowledge(ack: Ack, now = Date.now()): boolean {
    if (!this.running) return false;
    const h = this.book.held.get(ack.recordId);
    if (!h) {
      this.counters.unknownAcks++;
      return false;
    }
    if (ack.status === 'rejected') {
      if (h.state === 'rejected') return true;
      const reason = ack.reason?.trim() || 'no reason given';
      this.book.waiting.delete(h.id);
      this.book.inFlight.delete(h.id);
      h.state = 'rejected';
      h.rejection = { reason, at: now };
      this.book.rejectedHeld.set(h.id, h);
      this.counters.rejections++;
      this.queueAck({ k: 'ack', id: h.id, s: 'rejected', reason, at: now });
      this.log.warn({ recordId: h.id, reason, ...summaryOf(h) }, 'the registry rejected a record');
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
    await this.acks.writeDurably({ k: 'retry', id: recordId, by, at: Date.now() });
    if (this.book.rejectedHeld.get(recordId) !== h) return;
    this.book.rejectedHeld.delete(recordId);
    h.state = 'waiting';
    delete h.rejection;
    this.book.waiting.set(recordId, h);
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
      settlementOf(h, 'dismissed', new Date().toISOString(), { reason: reason.trim(), by }),
    ]);
    await this.acks.writeDurably({
      k: 'dismiss',
      id: recordId,
      reason: reason.trim(),
      by,
      at: Date.now(),
    });
    if (this.book.rejectedHeld.get(recordId) !== h) return;
    this.release(h);
    this.counters.dismissed++;
    this.log.warn(
      { recordId, reason, by, registryReason: h.rejection?.reason, ...summaryOf(h) },
      'rejected record dismissed by an operator',
    );
    this.emit('dismissed', { recordId, reason: reason.trim(), by });
  }

  /** Records held: pending (waiting or in flight) and rejected. */
  depth(): number {
    return this.book.held.size;
  }

  /** Pending records, oldest first (in-flight, then waiting). */
  pending(limit = 100): OutboxItem[] {
    const out: OutboxItem[] = [];
    for (const map of [this.book.inFlight, this.book.waiting]) {
      for (const h of map.values()) {
        if (out.length >= limit) return out;
        out.push(itemOf(h));
      }
    }
    return out;
  }

  /** When the oldest pending record (waiting or in flight) was queued; null when none is. */
  oldestPendingAt(): string | null {
    let oldest: number | null = null;
    for (const map of [this.book.inFlight, this.book.waiting]) {
      for (const h of map.values()) if (oldest === null || h.enqueuedAt < oldest) oldest = h.enqueuedAt;
    }
    return oldest === null ? null : new Date(oldest).toISOString();
  }

  /** Every rejected record, with the registry's reason, oldest rejection first. */
  rejected(): OutboxItem[] {
    return [...this.book.rejectedHeld.values()].map((h) => itemOf(h));
  }

  /** One held record, or undefined. */
  get(recordId: string): OutboxItem | undefined {
    const h = this.book.held.get(recordId);
    return h ? itemOf(h) : undefined;
  }

  stats(now = Date.now()): OutboxStats {
    let oldest: number | null = null;
    for (const map of [this.book.inFlight, this.book.waiting]) {
      for (const h of map.values()) if (oldest === null || h.enqueuedAt < oldest) oldest = h.enqueuedAt;
    }
    return {
      pending: this.book.waiting.size + this.book.inFlight.size,
      waiting: this.book.waiting.size,
      inFlight: this.book.inFlight.size,
      rejected: this.book.rejectedHeld.size,
      ...this.counters,
      oldestPendingMs: oldest === null ? null : now - oldest,
      ackLatencyMs: [...this.latencies.slice(this.latencyNext), ...this.latencies.slice(0, this.latencyNext)],
    };
  }

  /** Segment ids of the log, for diagnostics and tests of compaction. */
  /** The codes of the records the log held when it was opened (acknowledged ones still in it too). */
  codesAtStart(): ReadonlySet<string> {
    return this.book.seenCodes;
  }

  segments(): number[] {
    return this.journal.segments();
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
    for (const h of this.book.held.values()) {
      if (h.seg >= current) continue;
      old.push(h);
      if (h.seg < first) first = h.seg;
    }
    if (old.length === 0) return;
    let oldEntries = 0;
    for (const [seg, n] of this.segEntries) if (seg >= first && seg < current) oldEntries += n;
    if (old.length > oldEntries * CARRY_RATIO) return;
    const carried = old.map((h) => ({ h, entry: carryEntryOf(h) }));
    const seg = await this.appendRecords(carried.map((c) => c.entry));
    // A record settled or carried meanwhile keeps what it has; the others now live at `seg`.
    for (const { h } of carried) if (this.book.held.get(h.id) === h && h.seg < seg) h.seg = seg;
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

  /**
   * Deletes the segments before the oldest live record's newest copy. Everything that can still
   * change a live record was logged after that copy, so nothing needed goes.
   */
  private async dropSettled(): Promise<void> {
    let firstLive = this.journal.currentSegment;
    for (const h of this.book.held.values()) if (h.seg < firstLive) firstLive = h.seg;
    for (const seg of this.appending.keys()) if (seg < firstLive) firstLive = seg;
    const segs = this.journal.segments();
    if (segs.length === 0 || segs[0]! >= firstLive) return;
    await this.journal.dropSegmentsBefore(firstLive);
    for (const seg of [...this.segEntries.keys()]) if (seg < firstLive) this.segEntries.delete(seg);
  }

  /** Writes every ack not yet on the disk. */
  flush(): Promise<void> {
    return this.acks.flush();
  }

  /** The records held for one firearm's serial, oldest first: what the registry has not yet accepted of it. */
  heldFor(serial: string): OutboxItem[] {
    return this.book.heldFor(serial).map(itemOf);
  }

  /**
   * Puts every in-flight record back at the head of the queue, to be sent again at once. Called
   * when the link comes back: what was in flight may have been lost with the connection.
   */
  requeueInFlight(): void {
    this.book.requeueInFlight();
  }

  private async replay(): Promise<void> {
    this.book.reset();
    this.segEntries.clear();
    for await (const { segment, entry } of this.journal.read()) {
      this.segEntries.set(segment, (this.segEntries.get(segment) ?? 0) + 1);
      this.book.replay(entry, segment);
    }
  }

  private release(h: Held): void {
    this.book.forget(h);
    this.settledSinceCompact++;
  }

  private markSent(h: Held, now: number): Sendable {
    if (h.attempts > 0) this.counters.resent++;
    else this.counters.sent++;
    h.attempts++;
    h.sentAt = now;
    h.state = 'in-flight';
    this.book.inFlight.set(h.id, h);
    return { recordId: h.id, payload: h.payload };
  }

  /** What leaving the outbox means for the record `recordId`, or nothing for a record not held. */
  settlementOf(recordId: string, outcome: Settlement['outcome'], at: string): Settlement | undefined {
    const h = this.book.held.get(recordId);
    return h ? settlementOf(h, outcome, at) : undefined;
  }

  private rejectedOrThrow(recordId: string, action: string): Held {
    const h = this.book.held.get(recordId);
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

  private queueAck(entry: AckEntry): void {
    if (this.opts.readOnly) return;
    this.acks.queueLazily(entry);
  }

  private assertWritable(): void {
    if (!this.running) {
      throw new StamplineError('REGISTRY_OUTBOX_STOPPED', 'the outbox is not running', {});
    }
    if (this.opts.readOnly) {
      throw new StamplineError('REGISTRY_OUTBOX_STOPPED', 'the outbox is open read-only', {});
    }
  }
}
