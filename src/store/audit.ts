/**
 * The audit trail: who did what to which thing, when, why, and what it was before and after.
 * Entries are appended to an AppendLog in `<dataDir>/audit/` and chained: each carries the hash
 * of the one before, and its own hash covers every field plus that link, so changing, deleting
 * or reordering an entry breaks the chain at that entry and `verify()` names it.
 *
 * Start-up reads only the last entry to continue the chain. Entries recorded at the same time
 * are chained in call order and committed together with one fsync.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isStamplineError, StamplineError } from '../errors.js';
import { AppendLog, type AppendLogRepair } from './append-log.js';
import { canonicalJson } from './canonical-json.js';
import { WriteBatcher } from './write-batcher.js';

export const GENESIS_HASH = '0'.repeat(64);
const HASH_PATTERN = /^[0-9a-f]{64}$/;
const MAX_FIELD_LENGTH = 512;

export interface AuditEntry {
  seq: number;
  /** ISO 8601, UTC. */
  time: string;
  /** Who: `operator:<name>`, `erp`, `line`, `qa:<station>`… */
  actor: string;
  /** What, as a dotted verb: `order.start`, `job.fault`, `code.void`… */
  action: string;
  /** Which thing: an order id, a serial, a code. */
  subject: string;
  before: unknown;
  after: unknown;
  reason: string | null;
  /** Hash of the previous entry; GENESIS_HASH for the first. */
  prev: string;
  /** SHA-256 (hex) of the canonical JSON of every other field of this entry. */
  hash: string;
}

export interface AuditRecordInput {
  actor: string;
  action: string;
  subject: string;
  before?: unknown;
  after?: unknown;
  reason?: string;
}

export interface AuditQuery {
  subject?: string;
  actor?: string;
  action?: string;
  /** At most this many entries (default 100). */
  limit?: number;
  /** Only entries with a seq below this, for paging back from the last page's oldest seq. */
  before?: number;
}

export interface AuditBadEntry {
  seq: number;
  segment: number;
  line: number;
  reason: string;
}

export type AuditVerifyResult =
  | { ok: true; count: number; head: string }
  | { ok: false; count: number; firstBad: AuditBadEntry };

export interface AuditTrailOptions {
  dataDir: string;
  /** For tools that only read: nothing is created, locked or repaired. */
  readOnly?: boolean;
  /** Clock for entry times; the wall clock by default. */
  now?: () => Date;
  maxSegmentBytes?: number;
  onRepair?: (note: AppendLogRepair) => void;
}

/** SHA-256 hex of the canonical JSON of the entry without its `hash`. */
export function hashAuditEntry(entry: Omit<AuditEntry, 'hash'> & { hash?: unknown }): string {
  const { hash: _ignored, ...rest } = entry;
  return createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex');
}

/** An entry as recorded, before it is given its time and its place in the chain. */
type PendingRecord = Required<Pick<AuditRecordInput, 'actor' | 'action' | 'subject'>> & {
  before: unknown;
  after: unknown;
  reason: string | null;
};

export class AuditTrail {
  private readonly opts: AuditTrailOptions;
  private readonly log: AppendLog<AuditEntry>;
  private headSeq = 0;
  private headHash = GENESIS_HASH;
  /** Entries recorded at the same time are chained in call order and committed in one append. */
  private readonly writes = new WriteBatcher<PendingRecord, AuditEntry>((batch) => this.commit(batch));

  constructor(opts: AuditTrailOptions) {
    this.opts = opts;
    this.log = new AppendLog<AuditEntry>({
      dir: join(opts.dataDir, 'audit'),
      name: 'audit',
      readOnly: opts.readOnly,
      maxSegmentBytes: opts.maxSegmentBytes,
      onRepair: opts.onRepair,
    });
  }

  get dir(): string {
    return join(this.opts.dataDir, 'audit');
  }

  /** The seq and hash of the newest entry (0 and GENESIS_HASH when the trail is empty). */
  get head(): { seq: number; hash: string } {
    return { seq: this.headSeq, hash: this.headHash };
  }

  /** The newest entry as of start() and the records since. */
  lastEntry(): AuditEntry | undefined {
    return this.log.lastEntry();
  }

  async start(): Promise<void> {
    await this.log.start();
    const last = this.log.lastEntry();
    if (last === undefined) {
      this.headSeq = 0;
      this.headHash = GENESIS_HASH;
      return;
    }
    // A reader reports a bad tail through verify(); only a writer must refuse to chain onto it.
    if (this.opts.readOnly) return;
    if (!Number.isSafeInteger(last.seq) || typeof last.hash !== 'string' || !HASH_PATTERN.test(last.hash)) {
      await this.log.stop();
      throw new StamplineError(
        'AUDIT_CHAIN_BROKEN',
        `the last audit entry has no valid seq and hash; run "stampline audit verify"`,
        { dir: this.dir },
      );
    }
    this.headSeq = last.seq;
    this.headHash = last.hash;
  }

  async stop(): Promise<void> {
    await this.writes.idle();
    await this.log.stop();
  }

  /** Appends an entry; resolves with it once it is on the disk. */
  record(input: AuditRecordInput): Promise<AuditEntry> {
    let normalised: PendingRecord;
    try {
      normalised = normalise(input);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.writes.add(normalised);
  }

  /** Chains a batch onto the head and commits it in one append; the head moves once it is durable. */
  private async commit(batch: PendingRecord[]): Promise<AuditEntry[]> {
    const time = (this.opts.now?.() ?? new Date()).toISOString();
    let seq = this.headSeq;
    let prev = this.headHash;
    const entries: AuditEntry[] = [];
    for (const input of batch) {
      const body = { seq: ++seq, time, ...input, prev };
      const entry: AuditEntry = { ...body, hash: hashAuditEntry(body) };
      entries.push(entry);
      prev = entry.hash;
    }
    // On failure the head is unchanged, so the next entry still chains to the last one on the disk.
    await this.log.append(entries);
    this.headSeq = seq;
    this.headHash = prev;
    return entries;
  }

  /** Reads the whole trail and checks every entry's hash, sequence number and link. */
  async verify(): Promise<AuditVerifyResult> {
    let count = 0;
    let expectedSeq = 1;
    let prev = GENESIS_HASH;
    let segment = this.log.segments()[0] ?? 0;
    let line = 0;
    try {
      for await (const rec of this.log.read()) {
        segment = rec.segment;
        line = rec.line;
        const problem = checkEntry(rec.entry, expectedSeq, prev);
        if (problem !== undefined) {
          const seq = Number.isSafeInteger(rec.entry?.seq) ? rec.entry.seq : expectedSeq;
          return { ok: false, count, firstBad: { seq, segment, line, reason: problem } };
        }
        count++;
        expectedSeq++;
        prev = rec.entry.hash;
      }
    } catch (err) {
      if (isStamplineError(err, 'STORE_CORRUPT')) {
        const ctx = err.context as { segment?: number; line?: number; reason?: string };
        return {
          ok: false,
          count,
          firstBad: {
            seq: expectedSeq,
            segment: ctx.segment ?? segment,
            line: ctx.line ?? line + 1,
            reason: `unreadable line: ${ctx.reason ?? err.message}`,
          },
        };
      }
      throw err;
    }
    return { ok: true, count, head: prev };
  }

  /** Matching entries, newest first. Scans back from the newest segment; meant for people, not hot paths. */
  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = q.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new StamplineError('INVALID_INPUT', `limit must be a positive whole number, not ${q.limit}`, {
        limit: q.limit,
      });
    }
    if (q.before !== undefined && !Number.isSafeInteger(q.before)) {
      throw new StamplineError('INVALID_INPUT', `before must be a whole number, not ${q.before}`, {
        before: q.before,
      });
    }
    const out: AuditEntry[] = [];
    const ids = this.log.segments();
    for (let i = ids.length - 1; i >= 0 && out.length < limit; i--) {
      const entries: AuditEntry[] = [];
      for await (const rec of this.log.readSegment(ids[i]!, i === ids.length - 1)) entries.push(rec.entry);
      for (let j = entries.length - 1; j >= 0 && out.length < limit; j--) {
        const e = entries[j]!;
        if (q.before !== undefined && !(e.seq < q.before)) continue;
        if (q.subject !== undefined && e.subject !== q.subject) continue;
        if (q.actor !== undefined && e.actor !== q.actor) continue;
        if (q.action !== undefined && e.action !== q.action) continue;
        out.push(e);
      }
    }
    return out;
  }
}

function checkEntry(entry: AuditEntry, expectedSeq: number, prev: string): string | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return 'not an audit entry';
  if (typeof entry.hash !== 'string' || !HASH_PATTERN.test(entry.hash)) return 'no valid hash';
  if (hashAuditEntry(entry) !== entry.hash)
    return 'content does not match its hash (changed after it was written)';
  if (!Number.isSafeInteger(entry.seq)) return 'no valid seq';
  if (entry.seq > expectedSeq) {
    const gap =
      entry.seq - expectedSeq === 1 ? `seq ${expectedSeq} is` : `seqs ${expectedSeq}..${entry.seq - 1} are`;
    return `seq ${entry.seq} follows seq ${expectedSeq - 1}: ${gap} missing or out of place`;
  }
  if (entry.seq < expectedSeq)
    return `seq ${entry.seq} comes after seq ${expectedSeq - 1}: out of order or repeated`;
  if (entry.prev !== prev) return 'prev is not the hash of the entry before it';
  return undefined;
}

function normalise(input: AuditRecordInput): PendingRecord {
  if (input === null || typeof input !== 'object') {
    throw new StamplineError('INVALID_INPUT', 'an audit record needs actor, action and subject');
  }
  for (const field of ['actor', 'action', 'subject'] as const) {
    const v = input[field];
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_FIELD_LENGTH) {
      throw new StamplineError(
        'INVALID_INPUT',
        `audit ${field} must be a string of 1..${MAX_FIELD_LENGTH} characters`,
        { field, value: v },
      );
    }
  }
  if (input.reason !== undefined && typeof input.reason !== 'string') {
    throw new StamplineError('INVALID_INPUT', 'audit reason must be a string', { field: 'reason' });
  }
  return {
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    // Through JSON now, so what is hashed is exactly what is read back later.
    before: toJsonValue(input.before, 'before'),
    after: toJsonValue(input.after, 'after'),
    reason: input.reason ?? null,
  };
}

function toJsonValue(value: unknown, field: string): unknown {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new StamplineError(
      'INVALID_INPUT',
      `audit ${field} is not JSON: ${(err as Error).message}`,
      { field },
      { cause: err },
    );
  }
  return text === undefined ? null : JSON.parse(text);
}
