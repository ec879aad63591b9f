/**
 * The lines of an append-log segment file: where its whole lines end, the text of its last line,
 * its entries read in batches, and the errors that name a file and a line. `AppendLog` keeps the
 * segments, their record and the writes; this reads and writes bytes at a place in one file.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { StamplineError } from '../errors.js';

/** One entry read from a segment, with where it was. */
export interface LogLine<T> {
  segment: number;
  /** 1-based line number within the segment file. */
  line: number;
  entry: T;
}

export const READ_CHUNK = 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * The entries of the first `length` bytes of a segment, in arrays of up to a read chunk's worth.
 * Bytes after the last newline are an incomplete line: STORE_CORRUPT unless `tolerateTail` (the
 * segment being written, or read beside its writer). The good entries before a bad line are
 * delivered, in order, before the error.
 */
export async function* readLines<T>(
  handle: FileHandle,
  at: { file: string; segment: number; length: number; tolerateTail: boolean },
): AsyncGenerator<LogLine<T>[]> {
  const { file, segment, length } = at;
  let line = 0;
  let carry: Buffer | undefined;
  let position = 0;
  const chunk = Buffer.allocUnsafe(READ_CHUNK);
  while (position < length) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(READ_CHUNK, length - position), position);
    if (bytesRead === 0) break;
    position += bytesRead;
    const data = carry ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
    const lastNewline = data.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      carry = Buffer.from(data);
      continue;
    }
    // A newline byte never occurs inside a multi-byte UTF-8 character, so decoding up to one
    // never splits a character.
    const lines = data.toString('utf8', 0, lastNewline).split('\n');
    carry = lastNewline + 1 < data.length ? Buffer.from(data.subarray(lastNewline + 1)) : undefined;
    const batch: LogLine<T>[] = new Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      line++;
      try {
        batch[i] = { segment, line, entry: parseLine<T>(lines[i]!, file, segment, line) };
      } catch (err) {
        if (i > 0) yield batch.slice(0, i);
        throw err;
      }
    }
    yield batch;
  }
  if (carry && !at.tolerateTail) throw corrupt(file, segment, line + 1, 'the last line is incomplete');
}

export function unavailable(path: string, err: unknown): StamplineError {
  if (err instanceof StamplineError) return err;
  return new StamplineError(
    'STORE_UNAVAILABLE',
    `cannot use ${path}: ${(err as Error).message}`,
    { path },
    { cause: err },
  );
}

export function corrupt(file: string, segment: number, line: number, reason: string): StamplineError {
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

export async function writeAt(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** Offset just after the last newline before `length` (0 when there is none). */
export async function lastNewlineEnd(handle: FileHandle, length: number): Promise<number> {
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
export async function lineEndingAt(handle: FileHandle, end: number): Promise<string> {
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
export async function countLines(handle: FileHandle, end: number): Promise<number> {
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

/**
 * The text of the last complete line of a log's segments (oldest first), walking back over empty
 * ones; `writing` is the last segment's open handle and the bytes of it known to be on the disk.
 * An older segment that ends in an incomplete line, or a last line that is not JSON, is
 * STORE_CORRUPT.
 */
export async function lastWholeLine(
  segments: Array<{ segment: number; file: string }>,
  writing: { handle: FileHandle; size: number } | undefined,
): Promise<string | undefined> {
  for (let i = segments.length - 1; i >= 0; i--) {
    const { segment, file } = segments[i]!;
    const isLast = i === segments.length - 1;
    let handle: FileHandle;
    try {
      handle = isLast && writing ? writing.handle : await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw unavailable(file, err);
    }
    try {
      const length = isLast && writing ? writing.size : (await handle.stat()).size;
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
      return text;
    } finally {
      if (handle !== writing?.handle) await handle.close();
    }
  }
  return undefined;
}
