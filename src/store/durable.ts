/**
 * Durable file primitives. Everything the line must not lose goes through here: a write is on
 * the disk (file and directory entry) before the promise resolves, so a power cut after it
 * cannot undo it.
 */
import type { Stats } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StamplineError } from '../errors.js';
import { durableStep } from './write-gate.js';

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates a directory and any missing parents, and makes the new directory entries durable
 * (fsync of each parent that gained one), so a file written into it cannot vanish with its
 * folder after a power cut.
 */
async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const top = dirname(first);
  for (let p = dir; p !== top; p = dirname(p)) await fsyncDir(dirname(p));
}

/** Deletes a file durably (the directory is fsynced). Returns false when it did not exist. */
function removeFileDurable(path: string): Promise<boolean> {
  return durableStep(() => removeNow(path));
}

async function removeNow(path: string): Promise<boolean> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new StamplineError(
      'STORE_UNAVAILABLE',
      `cannot delete ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  try {
    await fsyncDir(dirname(path));
  } catch (err) {
    throw new StamplineError(
      'STORE_UNAVAILABLE',
      `cannot sync ${dirname(path)}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  return true;
}

let tmpCounter = 0;

export interface DurableWriteOptions {
  /** Permissions of the new file from its creation on (the umask still applies); default 0o666. */
  mode?: number;
  /** Owner given to the new file before it takes the target's place (needs the right to chown). */
  owner?: { uid: number; gid: number };
}

/**
 * Replaces a file atomically and durably: write a temporary file beside it, fsync it, rename it
 * over the target, fsync the directory. A reader sees the old content or the new, never a mix.
 * Resolves with the status of the file written (its inode is the target's from now on).
 */
export function writeFileDurable(
  path: string,
  data: string | Uint8Array,
  options: DurableWriteOptions = {},
): Promise<Stats> {
  return durableStep(() => writeNow(path, data, options));
}

async function writeNow(
  path: string,
  data: string | Uint8Array,
  options: DurableWriteOptions,
): Promise<Stats> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  try {
    await mkdirDurable(dir);
    const handle = await open(tmp, 'w', options.mode ?? 0o666);
    let written: Stats;
    try {
      await handle.writeFile(data);
      if (options.owner) await handle.chown(options.owner.uid, options.owner.gid);
      await handle.sync();
      written = await handle.stat();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    await fsyncDir(dir);
    return written;
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw new StamplineError(
      'STORE_UNAVAILABLE',
      `cannot write ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

/** Reads a file, or returns undefined when it does not exist. */
export async function readFileIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StamplineError(
      'STORE_UNAVAILABLE',
      `cannot read ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

export { fsyncDir, mkdirDurable, removeFileDurable };
