/**
 * Durable file primitives. Everything the line must not lose goes through here: a write is on
 * the disk (file and directory entry) before the promise resolves, so a power cut after it
 * cannot undo it.
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StamplineError } from '../errors.js';

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

let tmpCounter = 0;

/**
 * Replaces a file atomically and durably: write a temporary file beside it, fsync it, rename it
 * over the target, fsync the directory. A reader sees the old content or the new, never a mix.
 */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    await fsyncDir(dir);
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

export { fsyncDir };
