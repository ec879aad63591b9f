/**
 * An append-only log of JSON lines in numbered segment files, for records whose order matters
 * (the audit trail, the registry outbox). Appends are durable when their promise resolves, and
 * appends that arrive while a write is on its way to the disk are committed together by the
 * next write and fsync (`WriteBatcher`), so many concurrent writers cost one fsync per batch,
 * not one each.
 *
 * The cost of an append never depends on how much is already in the log, and start-up reads
 * only the tail of the last segment. A crash can leave only the last line of the last segment
 * half written (it was never acknowledged); start-up cuts it off and reports it. A bad line
 * anywhere else is corruption and is reported, naming the file and the line, never skipped.
 */
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { fsyncDir, mkdirDurable } from './durable.js';
import { FileLock } from './lock.js';
import { noteRepair } from './repairs.js';
import {
  missingError,
  readSegmentRecord,
  type SegmentRecord,
  segmentProblems,
  writeSegmentRecord,
} from './segment-record.js';
import { WriteBatcher } from './write-batcher.js';
import { durableStep } from './write-gate.js';

export interface AppendLogOptions {
  dir: string;
  name: string;
  /** A segment is closed and the next one begun once a write would take it past this. Default 8 MiB. */
  maxSegmentBytes?: number;
  /**
   * Open for reading only: nothing is created, locked, repaired or written. For tools such as
   * `stampline audit verify` that may run beside a daemon that is appending.
   */
  readOnly?: boolean;
  /** Called when start() cuts off a torn last line. */
  onRepair?: (note: AppendLogRepair) => void;
}

/** What start() cut off: the bytes after the last complete line of the last segment. */
export interface AppendLogRepair {
  file: string;
  segment: number;
  /** Length of the file after the repair. */
  keptBytes: number;
  droppedBytes: number;
}

export interface AppendLogRecord<T> {
  segment: number;
  /** 1-based line number within the segment file. */
  line: number;
  entry: T;
}

export const DEFAULT_MAX_SEGMENT_BYTES = 8 * 1024 * 1024;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const READ_CHUNK = 1024 * 1024;
const NEWLINE = 0x0a;

/** One append waiting for its batch's write: its lines and how many entries they hold. */
interface Pending {
  text: string;
  count: number;
}

type State = 'new' | 'starting' | 'started' | 'stopping' | 'stopped';

export class AppendLog<T> {
  private readonly opts: AppendLogOptions;
  private state: State = 'new';
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private lock: FileLock | undefined;
  private ids: number[] = [];
  private current = 0;
  private handle: FileHandle | undefined;
  /** Bytes of the current segment known to be on the disk. */
  private size = 0;
  private lastLine: string | undefined;
  private readonly writes = new WriteBatcher<Pending>((batch) => this.commit(batch));
  /** Set when a failed write could not be undone; every later append is refused. */
  private broken: StamplineError | undefined;
  private repair: AppendLogRepair | undefined;
  private record: SegmentRecord | undefined;
  private readonly counters = { batches: 0, entries: 0 };

  constructor(opts: AppendLogOptions) {
    this.opts = opts;
  }

  /** The id of the segment that appends go to (the newest). */
  get currentSegment(): number {
    return this.current;
  }

  /** What the last start() cut off, if anything. */
  get lastRepair(): AppendLogRepair | undefined {
    return this.repair;
  }

  /** Writes (each one fsync) and entries committed since construction: entries / batches is the group-commit factor. */
  get stats(): { batches: number; entries: number } {
    return { ...this.counters };
  }

  private get maxSegmentBytes(): number {
    return this.opts.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
  }

  private fileOf(segment: number): string {
    return join(this.opts.dir, `${this.opts.name}.${String(segment).padStart(8, '0')}.jsonl`);
  }

  start(): Promise<void> {
    if (this.state === 'starting' || this.state === 'started') return this.startPromise!;
    if (this.state === 'stopping') {
      return Promise.reject(new StamplineError('STORE_UNAVAILABLE', `log ${this.opts.name} is stopping`));
    }
    this.state = 'starting';
    this.stopPromise = undefined;
    this.startPromise = this.doStart().then(
      () => {
        this.state = 'started';
      },
      async (err) => {
        await this.handle?.close().catch(() => {});
        this.handle = undefined;
        await this.lock?.release();
        this.state = 'stopped';
        throw err;
      },
    );
    return this.startPromise;
  }

  private async doStart(): Promise<void> {
    const { dir, name } = this.opts;
    if (!NAME_PATTERN.test(name)) {
      throw new StamplineError('INVALID_INPUT', `log name ${JSON.stringify(name)} is not valid`, { name });
    }
    const max = this.maxSegmentBytes;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new StamplineError('INVALID_INPUT', `maxSegmentBytes must be a positive integer, not ${max}`, {
        maxSegmentBytes: max,
      });
    }
    this.broken = undefined;
    this.repair = undefined;
    this.lastLine = undefined;
    if (this.opts.readOnly) {
      this.ids = await this.listSegments();
      this.current = this.ids.at(-1) ?? 0;
      this.size = 0;
      await this.findLastLine();
      return;
    }
    try {
      await mkdirDurable(dir);
    } catch (err) {
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot create ${dir}: ${(err as Error).message}`,
        { dir },
        { cause: err },
      );
    }
    this.lock = new FileLock(join(dir, `${name}.lock`));
    await this.lock.acquire();
    this.ids = await this.listSegments();
    await this.reconcileRecord();
    if (this.ids.length === 0) {
      this.current = 1;
      this.handle = await this.openFile(this.fileOf(1), 'w');
      await this.syncDir();
      this.ids = [1];
      this.size = 0;
      await this.writeRecord({ first: 1, last: 1, sizes: {} });
      return;
    }
    this.current = this.ids.at(-1)!;
    const file = this.fileOf(this.current);
    this.handle = await this.openFile(file, 'r+');
    const length = (await this.handle.stat()).size;
    const kept = await lastNewlineEnd(this.handle, length);
    if (kept < length) {
      try {
        await this.handle.truncate(kept);
        await this.handle.datasync();
      } catch (err) {
        throw new StamplineError(
          'STORE_UNAVAILABLE',
          `cannot repair ${file}: ${(err as Error).message}`,
          { file },
          { cause: err },
        );
      }
      this.repair = { file, segment: this.current, keptBytes: kept, droppedBytes: length - kept };
      noteRepair(this.repair);
      this.opts.onRepair?.(this.repair);
    }
    this.size = kept;
    await this.findLastLine();
    await this.noteLastSize();
  }

  /** Records the last segment's length as a lower bound for the next start (start, clean stop). */
  private async noteLastSize(): Promise<void> {
    const r = this.record;
    if (!r || this.broken || r.last !== this.current || r.lastAtLeast === this.size) return;
    await this.writeRecord({ ...r, lastAtLeast: this.size });
  }

  /**
   * Checks the segments present against the log's segment record, so that a deleted or cut
   * segment is refused rather than read as a shorter log. Segments left by a drop cut short are
   * deleted; a segment left by a roll cut short is taken in. A log without a record (written
   * before there was one) is taken as it is and its record written.
   */
  private async reconcileRecord(): Promise<void> {
    const { dir, name } = this.opts;
    const record = await readSegmentRecord(dir, name);
    if (!record) {
      this.record = undefined;
      if (this.ids.length > 0)
        await this.writeRecord({ first: this.ids[0]!, last: this.ids.at(-1)!, sizes: {} });
      return;
    }
    const problems = await segmentProblems(dir, name, record, this.ids);
    if (problems.length > 0) throw missingError(name, problems);
    for (const id of this.ids.filter((x) => x < record.first)) {
      await unlink(this.fileOf(id)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw unavailable(this.fileOf(id), err);
      });
    }
    this.ids = this.ids.filter((x) => x >= record.first);
    this.record = record;
    const newest = this.ids.at(-1);
    if (newest !== undefined && newest > record.last) {
      const { lastAtLeast: _stale, ...rest } = record;
      await this.writeRecord({ ...rest, last: newest });
    }
  }

  private async writeRecord(record: SegmentRecord): Promise<void> {
    try {
      await writeSegmentRecord(this.opts.dir, this.opts.name, record);
    } catch (err) {
      throw unavailable(this.opts.dir, err);
    }
    this.record = record;
  }

  /** Finds the last complete line of the log, walking back over empty segments. */
  private async findLastLine(): Promise<void> {
    for (let i = this.ids.length - 1; i >= 0; i--) {
      const segment = this.ids[i]!;
      const file = this.fileOf(segment);
      const isLast = i === this.ids.length - 1;
      let handle: FileHandle;
      try {
        handle = isLast && this.handle ? this.handle : await open(file, 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw unavailable(file, err);
      }
      try {
        const length = isLast && this.handle ? this.size : (await handle.stat()).size;
        const end = await lastNewlineEnd(handle, length);
        if (!isLast && end < length) {
          throw corrupt(file, segment, (await countLines(handle, end)) + 1, 'the last line is incomplete');
        }
        if (end === 0) continue;
        const text = await lineEndingAt(handle, end);
        try {
          JSON.parse(text);
        } catch {
          throw corrupt(file, segment, await countLines(handle, end), 'not valid JSON');
        }
        this.lastLine = text;
        return;
      } finally {
        if (handle !== this.handle) await handle.close();
      }
    }
  }

  /**
   * The newest entry in the log, as of start() and the appends since (parsed afresh on each
   * call, so callers may keep or change it). Lets an owner continue a sequence or a hash chain
   * without reading the whole log.
   */
  lastEntry(): T | undefined {
    return this.lastLine === undefined ? undefined : (JSON.parse(this.lastLine) as T);
  }

  stop(): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    if (this.state === 'new' || this.state === 'stopped') return Promise.resolve();
    this.stopPromise = this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    await this.startPromise?.catch(() => {});
    this.state = 'stopping';
    await this.writes.idle();
    if (!this.opts.readOnly && this.handle) await this.noteLastSize().catch(() => {});
    await this.handle?.close().catch(() => {});
    this.handle = undefined;
    await this.lock?.release();
    this.lock = undefined;
    this.state = 'stopped';
  }

  append(entries: T[]): Promise<void> {
    if (this.state !== 'started' || this.opts.readOnly) {
      return Promise.reject(
        new StamplineError(
          'STORE_UNAVAILABLE',
          `log ${this.opts.name} is ${this.opts.readOnly ? 'read-only' : 'not started'}`,
          { name: this.opts.name },
        ),
      );
    }
    if (this.broken) return Promise.reject(this.broken);
    if (!Array.isArray(entries)) {
      return Promise.reject(new StamplineError('INVALID_INPUT', 'append takes an array of entries'));
    }
    if (entries.length === 0) return Promise.resolve();
    let text = '';
    for (let i = 0; i < entries.length; i++) {
      let line: string | undefined;
      try {
        line = JSON.stringify(entries[i]);
      } catch (err) {
        return Promise.reject(
          new StamplineError(
            'INVALID_INPUT',
            `entry ${i} cannot be stored as JSON: ${(err as Error).message}`,
            { index: i },
            { cause: err },
          ),
        );
      }
      if (typeof line !== 'string') {
        return Promise.reject(
          new StamplineError('INVALID_INPUT', `entry ${i} cannot be stored as JSON`, { index: i }),
        );
      }
      text += `${line}\n`;
    }
    return this.writes.add({ text, count: entries.length });
  }

  /** Group commit: everything that queued up while the previous write was in flight goes in one write and one fsync. */
  private async commit(batch: Pending[]): Promise<undefined> {
    if (this.broken) throw this.broken;
    const text = batch.length === 1 ? batch[0]!.text : batch.map((p) => p.text).join('');
    const bytes = Buffer.from(text, 'utf8');
    try {
      await durableStep(async () => {
        if (this.size > 0 && this.size + bytes.length > this.maxSegmentBytes) await this.roll();
        await writeAt(this.handle!, bytes, this.size);
        await this.handle!.datasync();
      });
    } catch (err) {
      const failure = unavailable(this.fileOf(this.current), err);
      await this.undoPartialWrite(failure);
      throw failure;
    }
    this.size += bytes.length;
    this.counters.batches++;
    for (const p of batch) this.counters.entries += p.count;
    this.lastLine = text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1);
    return undefined;
  }

  /**
   * After a failed write the file may hold part of the batch. Cutting it back to what is known
   * to be on the disk keeps the next batch from landing after a torn line; if even that fails
   * the log stops taking appends until it is restarted, which repairs the tail.
   */
  private async undoPartialWrite(failure: StamplineError): Promise<void> {
    try {
      await this.handle!.truncate(this.size);
      await this.handle!.datasync();
    } catch {
      this.broken = new StamplineError(
        'STORE_UNAVAILABLE',
        `log ${this.opts.name} stopped taking appends after a failed write (${failure.message}); restart to repair it`,
        { name: this.opts.name, file: this.fileOf(this.current) },
        { cause: failure },
      );
    }
  }

  private async roll(): Promise<void> {
    const next = this.current + 1;
    // The new segment is opened and its directory entry made durable before the old one is
    // let go, so a failure here leaves the current segment in use.
    const handle = await this.openFile(this.fileOf(next), 'w');
    try {
      await this.syncDir();
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    try {
      const before = this.record ?? { first: this.ids[0] ?? this.current, last: this.current, sizes: {} };
      await this.writeRecord({
        first: before.first,
        last: next,
        sizes: { ...before.sizes, [String(this.current)]: this.size },
        lastAtLeast: 0,
      });
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    await this.handle!.close().catch(() => {});
    this.handle = handle;
    this.current = next;
    this.size = 0;
    this.ids.push(next);
  }

  /** Entries in order, from the given segment on (default: all). */
  async *read(opts?: { fromSegment?: number }): AsyncIterable<AppendLogRecord<T>> {
    for await (const batch of this.readBatches(opts)) yield* batch;
  }

  /**
   * Entries in order, in arrays of up to a read chunk's worth. For owners that rebuild an index
   * from a whole log at start-up: one await per chunk instead of one per entry.
   */
  async *readBatches(opts?: { fromSegment?: number }): AsyncIterable<AppendLogRecord<T>[]> {
    const from = opts?.fromSegment ?? Number.NEGATIVE_INFINITY;
    const ids = this.opts.readOnly ? await this.listSegments() : [...this.ids];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < from) continue;
      yield* this.segmentBatches(id, i === ids.length - 1);
    }
  }

  /** The entries of one segment, in order. A segment dropped meanwhile reads as empty. */
  async *readSegment(
    segment: number,
    isLast = segment === this.ids.at(-1),
  ): AsyncIterable<AppendLogRecord<T>> {
    for await (const batch of this.segmentBatches(segment, isLast)) yield* batch;
  }

  private async *segmentBatches(segment: number, isLast: boolean): AsyncGenerator<AppendLogRecord<T>[]> {
    const file = this.fileOf(segment);
    let handle: FileHandle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw unavailable(file, err);
    }
    try {
      // Only bytes already fsynced are read from the segment being written, so a reader never
      // sees a line that a crash could still take back.
      const writing = !this.opts.readOnly && segment === this.current && this.handle !== undefined;
      const length = writing ? this.size : (await handle.stat()).size;
      // A read-only reader may run beside a writer: a line still being written is not yet there.
      const tolerateTail = isLast && (this.opts.readOnly === true || writing);
      let line = 0;
      let carry: Buffer | undefined;
      let position = 0;
      const chunk = Buffer.allocUnsafe(READ_CHUNK);
      while (position < length) {
        const { bytesRead } = await handle.read(chunk, 0, Math.min(READ_CHUNK, length - position), position);
        if (bytesRead === 0) break;
        position += bytesRead;
        const data = carry
          ? Buffer.concat([carry, chunk.subarray(0, bytesRead)])
          : chunk.subarray(0, bytesRead);
        const lastNewline = data.lastIndexOf(NEWLINE);
        if (lastNewline === -1) {
          carry = Buffer.from(data);
          continue;
        }
        // A newline byte never occurs inside a multi-byte UTF-8 character, so decoding up to one
        // never splits a character.
        const lines = data.toString('utf8', 0, lastNewline).split('\n');
        carry = lastNewline + 1 < data.length ? Buffer.from(data.subarray(lastNewline + 1)) : undefined;
        const batch: AppendLogRecord<T>[] = new Array(lines.length);
        for (let i = 0; i < lines.length; i++) {
          line++;
          try {
            batch[i] = { segment, line, entry: parseLine<T>(lines[i]!, file, segment, line) };
          } catch (err) {
            // the good entries before a bad line are still delivered, in order, before the error
            if (i > 0) yield batch.slice(0, i);
            throw err;
          }
        }
        yield batch;
      }
      if (carry && !tolerateTail) throw corrupt(file, segment, line + 1, 'the last line is incomplete');
    } finally {
      await handle.close();
    }
  }

  /** Ids of the segment files present, ascending. */
  segments(): number[] {
    return [...this.ids];
  }

  /** Deletes every segment older than the given one. The segment being written is never deleted. */
  async dropSegmentsBefore(segment: number): Promise<void> {
    if (this.opts.readOnly) {
      throw new StamplineError('STORE_UNAVAILABLE', `log ${this.opts.name} is read-only`);
    }
    if (this.state !== 'started') {
      throw new StamplineError('STORE_UNAVAILABLE', `log ${this.opts.name} is not started`);
    }
    const doomed = this.ids.filter((id) => id < segment && id !== this.current);
    if (doomed.length === 0) return;
    // The record goes first: a crash part-way leaves segments before its first, which start-up
    // deletes, never a record listing segments already gone.
    const kept = this.ids.filter((id) => !doomed.includes(id));
    const sizes = { ...(this.record?.sizes ?? {}) };
    for (const id of doomed) delete sizes[String(id)];
    await this.writeRecord({ ...this.record, first: kept[0] ?? this.current, last: this.current, sizes });
    for (const id of doomed) {
      try {
        await unlink(this.fileOf(id));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unavailable(this.fileOf(id), err);
      }
      this.ids = this.ids.filter((x) => x !== id);
    }
    await this.syncDir();
  }

  private async listSegments(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.opts.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && this.opts.readOnly) return [];
      throw unavailable(this.opts.dir, err);
    }
    const prefix = `${this.opts.name}.`;
    const ids: number[] = [];
    for (const n of names) {
      if (!n.startsWith(prefix) || !n.endsWith('.jsonl')) continue;
      const digits = n.slice(prefix.length, -'.jsonl'.length);
      if (/^\d{8,}$/.test(digits)) ids.push(Number(digits));
    }
    return ids.sort((a, b) => a - b);
  }

  private async openFile(file: string, flags: string): Promise<FileHandle> {
    try {
      return await open(file, flags);
    } catch (err) {
      throw unavailable(file, err);
    }
  }

  private async syncDir(): Promise<void> {
    try {
      await fsyncDir(this.opts.dir);
    } catch (err) {
      throw unavailable(this.opts.dir, err);
    }
  }
}

function unavailable(path: string, err: unknown): StamplineError {
  if (err instanceof StamplineError) return err;
  return new StamplineError(
    'STORE_UNAVAILABLE',
    `cannot use ${path}: ${(err as Error).message}`,
    { path },
    { cause: err },
  );
}

function corrupt(file: string, segment: number, line: number, reason: string): StamplineError {
  return new StamplineError('STORE_CORRUPT', `${file} line ${line}: ${reason}`, {
    file,
    segment,
    line,
    reason,
  });
}

function parseLine<T>(text: string, file: string, segment: number, line: number): T {
  if (text.length === 0) throw corrupt(file, segment, line, 'empty line');
  try {
    return JSON.parse(text) as T;
  } catch {
    throw corrupt(file, segment, line, 'not valid JSON');
  }
}

async function writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** Offset just after the last newline before `length` (0 when there is none). */
async function lastNewlineEnd(handle: FileHandle, length: number): Promise<number> {
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let end = length;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const { bytesRead } = await handle.read(chunk, 0, end - start, start);
    const nl = chunk.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (nl !== -1) return start + nl + 1;
    end = start;
  }
  return 0;
}

/** The text of the line that ends with the newline at `end - 1`. */
async function lineEndingAt(handle: FileHandle, end: number): Promise<string> {
  const start = await lastNewlineEnd(handle, end - 1);
  const bytes = Buffer.allocUnsafe(end - 1 - start);
  let done = 0;
  while (done < bytes.length) {
    const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return bytes.toString('utf8');
}

/** Number of newlines before `end`, to name a line in an error. Only used on the error path. */
async function countLines(handle: FileHandle, end: number): Promise<number> {
  const chunk = Buffer.allocUnsafe(READ_CHUNK);
  let count = 0;
  for (let pos = 0; pos < end; ) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, end - pos), pos);
    if (bytesRead === 0) break;
    for (let i = chunk.indexOf(NEWLINE); i !== -1 && i < bytesRead; i = chunk.indexOf(NEWLINE, i + 1))
      count++;
    pos += bytesRead;
  }
  return count;
}
