/**
 * The firearms' write-ahead journal (docs/architecture.md, "Storage"; docs/store.md, "The
 * firearm journal"). A firearm's change is one line appended to an append-only log (with group
 * commit) instead of a rewrite of its chunk of 128 firearms (a temporary file, two fsyncs and a
 * rename). The chunks are brought up to date in the background, once a journal segment is full
 * (`fold`), and at a clean stop; start-up replays what they lack.
 *
 * Each line holds the whole firearm as changed and a journal number `n`. A chunk notes the
 * highest number it holds (`ChunkDoc.journal`), so a line is replayed only into a chunk written
 * before it, and a chunk written after a line was appended (its order retired, a background fold)
 * is never taken back by it.
 *
 * A change may be deferred: it is applied in memory at once and goes to the disk with the next
 * change the line waits for (or shortly after, if none comes). The job machine defers the
 * `allocated` and `loaded` steps, which no recovery row needs on the disk before `marking`: lost
 * in a crash, they leave the firearm `queued` or `allocated`, which a restart handles as if the
 * step had not happened (a new code, or the job loaded again), and nothing was started.
 */
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { AppendLog, type AppendLogRecord, type AppendLogRepair } from '../store/append-log.js';
import type { Doc } from '../store/documents.js';
import { segmentFile, segmentRecordFile } from '../store/segment-record.js';
import { CHUNK_SIZE, type ChunkDoc, type LoadedOrder } from './loaded-order.js';
import type { Firearm } from './model.js';

/** The journal's folder in the data folder, and its log's name. */
export const JOURNAL_DIR = 'journal';
export const JOURNAL_NAME = 'firearms';
/** A full segment is folded into the chunks and dropped: this bounds what start-up replays. */
export const JOURNAL_SEGMENT_BYTES = 1024 * 1024;
/** How long a deferred change may wait for a change the line waits for before it is written alone. */
const DEFER_MS = 200;

/** One line of the journal: the firearm `f` of order `o` as changed, with its journal number. */
export interface JournalEntry {
  n: number;
  o: string;
  f: Firearm;
}

export interface FirearmWrite {
  /** Applied in memory now, durable with the next change that is not deferred. */
  deferred?: boolean;
  /**
   * Another durable write of the same step (the code's index entry), begun with the write that
   * puts this change on the disk (a deferred change: the next one the line waits for), never
   * before it; waited for by the next change the line waits for after that.
   */
  after?: () => Promise<void>;
}

export class FirearmJournal {
  private readonly log: AppendLog<JournalEntry>;
  private lsn = 0;
  private deferred: JournalEntry[] = [];
  /** Writes waiting for the deferred changes to reach the disk, and writes begun since. */
  private later: Array<() => Promise<void>> = [];
  private alongside: Promise<void>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Chunks changed since the last fold. */
  private readonly dirty = new Set<Doc<ChunkDoc>>();
  private folding: Promise<void> | undefined;
  /** Segments below this are folded into the chunks (or are being). */
  private foldFrom = 0;
  private started = false;

  constructor(
    readonly dir: string,
    opts: { maxSegmentBytes?: number; onRepair?: (note: AppendLogRepair) => void } = {},
  ) {
    this.log = new AppendLog<JournalEntry>({
      dir,
      name: JOURNAL_NAME,
      maxSegmentBytes: opts.maxSegmentBytes ?? JOURNAL_SEGMENT_BYTES,
      ...(opts.onRepair ? { onRepair: opts.onRepair } : {}),
    });
  }

  /** The journal's segment record: store.json lists it, so a journal deleted whole is refused. */
  get recordFile(): string {
    return segmentRecordFile(this.dir, JOURNAL_NAME);
  }

  /** What the last start cut off the journal's tail, if anything. */
  get lastRepair(): AppendLogRepair | undefined {
    return this.log.lastRepair;
  }

  /** Durable writes (each one fsync) and lines written since construction. */
  get stats(): { batches: number; entries: number } {
    return this.log.stats;
  }

  /**
   * Opens the journal (a store written before it has none: it starts empty) and replays it into
   * the unfinished orders `active` finds, then folds what it replayed into their chunks. A line
   * naming a firearm its order does not hold is STORE_CORRUPT, naming the journal's file.
   */
  async start(active: (orderId: string) => LoadedOrder | undefined): Promise<void> {
    await this.log.start();
    this.started = true;
    this.lsn = this.log.lastEntry()?.n ?? 0;
    this.foldFrom = this.log.currentSegment;
    const segments = this.log.segments();
    for (const segment of segments) {
      for await (const record of this.log.readSegment(segment, segment === segments.at(-1)))
        this.replay(record, active);
    }
    await this.foldAll();
  }

  private replay(
    record: AppendLogRecord<JournalEntry>,
    active: (orderId: string) => LoadedOrder | undefined,
  ) {
    const { entry, segment, line } = record;
    const file = segmentFile(this.dir, JOURNAL_NAME, segment);
    if (!isEntry(entry)) throw corrupt(file, segment, line, 'is not a line of the firearm journal');
    this.lsn = Math.max(this.lsn, entry.n);
    // An order no longer unfinished had every chunk written when it was retired.
    const order = active(entry.o);
    if (!order) return;
    const chunk = order.chunks[Math.floor(entry.f.seq / CHUNK_SIZE)];
    const at = entry.f.seq % CHUNK_SIZE;
    const held = chunk?.data.firearms[at];
    if (!chunk || !held || held.serial !== entry.f.serial || entry.f.orderId !== entry.o) {
      throw corrupt(
        file,
        segment,
        line,
        `names firearm ${entry.f.seq} (${entry.f.serial}) of order ${entry.o}, which that order does not hold`,
      );
    }
    if (entry.n <= (chunk.data.journal ?? 0)) return;
    chunk.data.firearms[at] = entry.f;
    chunk.data.journal = entry.n;
    this.dirty.add(chunk);
  }

  /**
   * Changes firearm `seq` of `order` with `change` (on a copy: if it throws, nothing changes) and
   * appends it to the journal; resolves with the firearm as changed once it is durable, with
   * every change deferred before it (or at once, for a deferred change).
   */
  async change(
    order: LoadedOrder,
    seq: number,
    change: (f: Firearm) => void,
    how: FirearmWrite = {},
  ): Promise<Firearm> {
    const id = order.header.data.id;
    const chunk = order.chunks[Math.floor(seq / CHUNK_SIZE)];
    const at = seq % CHUNK_SIZE;
    const prev = chunk?.data.firearms[at];
    if (!chunk || !prev) throw new StamplineError('INTERNAL', `firearm ${seq} of order ${id} is missing`);
    const next = structuredClone(prev);
    change(next);
    const n = Math.max(this.lsn, chunk.data.journal ?? 0) + 1;
    this.lsn = n;
    chunk.data.firearms[at] = next;
    chunk.data.journal = n;
    this.dirty.add(chunk);
    if (how.after) this.later.push(how.after);
    const entry: JournalEntry = { n, o: id, f: next };
    if (how.deferred) {
      this.deferred.push(entry);
      this.timer ??= setTimeout(() => this.flushDeferred(), DEFER_MS).unref();
      return next;
    }
    try {
      // The writes alongside are on the disk before this change is: a firearm past `marking`
      // always has its code's index entry.
      await Promise.all(this.alongside.splice(0));
      const lines = this.takeDeferred();
      lines.push(entry);
      const appended = this.log.append(lines);
      // Begun with the write that puts their firearms on the disk, not before it.
      this.beginLater();
      await appended;
    } catch (err) {
      // Not on the disk: memory goes back to what the disk holds for this step.
      if (chunk.data.firearms[at] === next) chunk.data.firearms[at] = prev;
      throw err;
    }
    this.foldIfRolled();
    return next;
  }

  /** Begins the writes that waited for the changes now on the disk. */
  private beginLater(): void {
    for (const begin of this.later.splice(0)) {
      const write = begin();
      // Handled here so that a failure waits, unreported, for the change that waits for it.
      write.catch(() => {});
      this.alongside.push(write);
    }
  }

  private takeDeferred(): JournalEntry[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return this.deferred.splice(0);
  }

  /**
   * Writes the deferred changes on their own when no change the line waits for came. A failure
   * loses only them: memory is ahead of the disk until the firearm's next change, which holds the
   * whole firearm.
   */
  private flushDeferred(): Promise<void> {
    const lines = this.takeDeferred();
    if (lines.length === 0) return this.flushing;
    this.flushing = this.log.append(lines).then(
      () => {
        this.beginLater();
        this.foldIfRolled();
      },
      () => {},
    );
    return this.flushing;
  }

  /** The chunks of a retired order were written whole: they need no fold. */
  released(order: LoadedOrder): void {
    for (const c of order.chunks) this.dirty.delete(c);
  }

  /** Once the journal has begun a new segment, the ones before it are folded in the background. */
  private foldIfRolled(): void {
    if (this.folding || this.log.currentSegment <= this.foldFrom) return;
    const upTo = this.log.currentSegment;
    this.folding = this.fold(upTo)
      .catch(() => {
        // The chunks stay dirty and the segments stay; the next roll or the stop tries again.
      })
      .finally(() => {
        this.folding = undefined;
      });
  }

  /**
   * Writes every chunk changed since the last fold (each as it is in memory, which holds every
   * line appended so far), then drops the segments before `upTo`: each of their lines is in a
   * chunk on the disk.
   */
  private async fold(upTo: number): Promise<void> {
    this.foldFrom = upTo;
    const chunks = [...this.dirty];
    this.dirty.clear();
    try {
      for (const c of chunks) await c.write();
    } catch (err) {
      for (const c of chunks) this.dirty.add(c);
      throw err;
    }
    await this.log.dropSegmentsBefore(upTo);
  }

  private async foldAll(): Promise<void> {
    await this.fold(this.log.currentSegment);
  }

  /**
   * Writes what is deferred, waits for a fold under way, folds everything into the chunks and
   * closes the journal: after a clean stop the chunks hold every change.
   */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.flushDeferred();
    this.beginLater();
    await Promise.allSettled(this.alongside.splice(0));
    await this.folding;
    try {
      await this.foldAll();
    } finally {
      await this.log.stop();
    }
  }
}

/**
 * The newest journal line of each firearm, by order and place, as a reader beside the line sees
 * it (read-only: `stampline store check`). A firearm's chunk is behind its line when the chunk's
 * `journal` number is lower.
 */
export async function readJournal(dataDir: string): Promise<Map<string, JournalEntry>> {
  const dir = join(dataDir, JOURNAL_DIR);
  const log = new AppendLog<JournalEntry>({ dir, name: JOURNAL_NAME, readOnly: true });
  const newest = new Map<string, JournalEntry>();
  await log.start();
  try {
    for await (const batch of log.readBatches()) {
      for (const { entry, segment, line } of batch) {
        if (!isEntry(entry))
          throw corrupt(
            segmentFile(dir, JOURNAL_NAME, segment),
            segment,
            line,
            'is not a line of the firearm journal',
          );
        const key = journalKey(entry.o, entry.f.seq);
        if ((newest.get(key)?.n ?? 0) < entry.n) newest.set(key, entry);
      }
    }
  } finally {
    await log.stop();
  }
  return newest;
}

export function journalKey(orderId: string, seq: number): string {
  return `${orderId}\u0000${seq}`;
}

function isEntry(e: unknown): e is JournalEntry {
  const x = e as Partial<JournalEntry> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    Number.isSafeInteger(x.n) &&
    x.n! > 0 &&
    typeof x.o === 'string' &&
    typeof x.f === 'object' &&
    x.f !== null &&
    Number.isSafeInteger(x.f.seq) &&
    x.f.seq >= 0 &&
    typeof x.f.serial === 'string' &&
    typeof x.f.state === 'string' &&
    Array.isArray(x.f.history) &&
    Array.isArray(x.f.voided)
  );
}

function corrupt(file: string, segment: number, line: number, what: string): StamplineError {
  return new StamplineError('STORE_CORRUPT', `${file} line ${line} ${what}`, { file, segment, line });
}
