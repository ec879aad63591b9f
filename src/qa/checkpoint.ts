/**
 * The QA checkpoint: everything `QaService.start()` would rebuild from the read log up to the end
 * of a closed segment (the statistics, the reads of codes still open, the last read id), so that
 * start-up reads the checkpoint and only the segments after it. It is written whole with the
 * store's durable write (temporary file, fsync, rename, fsync of the folder) and carries a
 * SHA-256 of its body: a checkpoint that is missing, torn, of another version or that names a
 * segment the log does not have is not used, and the log is replayed whole.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readFileIfExists, writeFileDurable } from '../store/durable.js';
import type { StatsSnapshot } from './stats.js';
import type { StoredRead } from './types.js';

/** 2: statistics kept per day and hour (1 kept them for all time; such a checkpoint is replayed). */
export const CHECKPOINT_VERSION = 2;

export interface OpenCodeSnapshot {
  ref: { orderId: string; seq: number };
  serial: string;
  code: { index: number; text: string };
  reads: StoredRead[];
}

export interface QaCheckpoint {
  version: typeof CHECKPOINT_VERSION;
  /** every entry of the segments up to this one is folded in, and none after it */
  segment: number;
  lastReadId: number;
  stats: StatsSnapshot;
  open: OpenCodeSnapshot[];
}

export function checkpointPath(dataDir: string): string {
  return join(dataDir, 'qa', 'checkpoint.json');
}

function digest(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The file's text: the digest of the body on the first line, the body on the second. */
export function serialiseCheckpoint(c: QaCheckpoint): string {
  const body = JSON.stringify(c);
  return `${digest(body)}\n${body}\n`;
}

export async function writeCheckpoint(dataDir: string, text: string): Promise<void> {
  await writeFileDurable(checkpointPath(dataDir), text);
}

export type CheckpointLoad = { checkpoint: QaCheckpoint } | { missing: true } | { unusable: string };

/** Reads the checkpoint, saying why when it cannot be used. */
export async function readCheckpoint(dataDir: string): Promise<CheckpointLoad> {
  let text: string | undefined;
  try {
    text = await readFileIfExists(checkpointPath(dataDir));
  } catch (err) {
    return { unusable: (err as Error).message };
  }
  if (text === undefined) return { missing: true };
  const cut = text.indexOf('\n');
  const body = cut < 0 ? '' : text.slice(cut + 1).replace(/\n$/, '');
  if (cut < 0 || text.slice(0, cut) !== digest(body))
    return { unusable: 'torn or altered (digest mismatch)' };
  let c: QaCheckpoint;
  try {
    c = JSON.parse(body) as QaCheckpoint;
  } catch {
    return { unusable: 'not valid JSON' };
  }
  if (c === null || typeof c !== 'object' || c.version !== CHECKPOINT_VERSION)
    return {
      unusable: `version ${JSON.stringify((c as { version?: unknown } | null)?.version)} is not ${CHECKPOINT_VERSION}`,
    };
  if (!Number.isInteger(c.segment) || !Number.isInteger(c.lastReadId) || !Array.isArray(c.open) || !c.stats)
    return { unusable: 'incomplete' };
  return { checkpoint: c };
}
