/**
 * A log's account of its own segment files, `<dir>/<name>.segments.json`: the first and last
 * segment it holds and the size of every closed one. Without it a deleted segment, or a deleted
 * last segment, reads as a shorter log, and the records in it are silently gone.
 *
 * It is written only when a segment is created or dropped (every few MiB), never on an append,
 * so an append costs what it did. Closed segments never change again, so their sizes are exact;
 * the segment being written is checked only for presence (its tail is repaired as before).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { readFileIfExists, writeFileDurable } from './durable.js';

export interface SegmentRecord {
  first: number;
  last: number;
  /** Bytes of each closed segment (every segment but the last), by segment id. */
  sizes: Record<string, number>;
  /**
   * Bytes the last segment held at the log's last start or clean stop. Appends only add to it (a
   * torn tail cut off at start-up lies past it), so a last segment shorter than this was cut.
   */
  lastAtLeast?: number;
}

export function segmentRecordFile(dir: string, name: string): string {
  return join(dir, `${name}.segments.json`);
}

export function segmentFile(dir: string, name: string, segment: number): string {
  return join(dir, `${name}.${String(segment).padStart(8, '0')}.jsonl`);
}

export async function readSegmentRecord(dir: string, name: string): Promise<SegmentRecord | undefined> {
  const file = segmentRecordFile(dir, name);
  const text = await readFileIfExists(file);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const r = parsed as Partial<SegmentRecord> | undefined;
  if (
    !r ||
    !Number.isSafeInteger(r.first) ||
    !Number.isSafeInteger(r.last) ||
    typeof r.sizes !== 'object' ||
    r.sizes === null
  ) {
    throw new StamplineError('STORE_CORRUPT', `${file} is not a segment record`, { file });
  }
  return {
    first: r.first!,
    last: r.last!,
    sizes: { ...r.sizes },
    ...(Number.isSafeInteger(r.lastAtLeast) ? { lastAtLeast: r.lastAtLeast } : {}),
  };
}

export async function writeSegmentRecord(dir: string, name: string, record: SegmentRecord): Promise<void> {
  await writeFileDurable(segmentRecordFile(dir, name), `${JSON.stringify(record)}\n`);
}

/** One thing wrong with a log's files, as `store check` lists it. */
export interface SegmentProblem {
  file: string;
  problem: string;
}

/**
 * What is wrong with the segment files present (`ids`, ascending) against the record: a segment
 * the record holds is missing, or a closed one no longer has the size it was closed with.
 * Segments before `first` (a drop cut short) and after `last` (a roll cut short) are no problem.
 */
export async function segmentProblems(
  dir: string,
  name: string,
  record: SegmentRecord,
  ids: readonly number[],
): Promise<SegmentProblem[]> {
  const present = new Set(ids);
  const problems: SegmentProblem[] = [];
  for (let id = record.first; id <= record.last; id++) {
    const file = segmentFile(dir, name, id);
    if (!present.has(id)) {
      problems.push({ file, problem: 'missing (the segment record lists it)' });
      continue;
    }
    const size = id === record.last ? record.lastAtLeast : record.sizes[String(id)];
    if (size === undefined) continue;
    let actual: number;
    try {
      actual = (await stat(file)).size;
    } catch (err) {
      problems.push({ file, problem: `cannot be read: ${(err as Error).message}` });
      continue;
    }
    if (id === record.last ? actual < size : actual !== size) {
      problems.push({
        file,
        problem:
          id === record.last
            ? `holds ${actual} bytes but held ${size} when the log last started or stopped (cut short)`
            : `holds ${actual} bytes but was closed at ${size} bytes (${actual < size ? 'cut short' : 'replaced or written to'})`,
      });
    }
  }
  return problems;
}

/** The first problem as the error start-up refuses with. */
export function missingError(name: string, problems: SegmentProblem[]): StamplineError {
  const p = problems[0]!;
  return new StamplineError(
    'STORE_MISSING',
    `log ${name}: ${p.file} ${p.problem}; restore it from a backup, or see \`stampline store check\``,
    { file: p.file, problem: p.problem, problems },
  );
}
