/**
 * A short-lived lock around one read-change-write of a small file, shared by the daemon and
 * `stampline user ...` on the same machine. It is held for milliseconds, so a second writer
 * waits for it rather than failing. The lock file is made with its content already in it (a
 * hard link of a temporary file), so no other process ever sees it empty and takes it for a
 * stale one. A lock left by a process that died is taken over. Inside one process the users
 * of a path take turns first, because a lock file holding our own pid says nothing about which
 * part of the process holds it.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { StamplineError } from '../../errors.js';

const turns = new Map<string, Promise<unknown>>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A lock file whose owner is unknown (written by hand, or by something else) is stale after this. */
const UNREADABLE_STALE_MS = 30_000;

async function tryTake(path: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${process.pid}\n`, { mode: 0o600 });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** The pid holding the lock, or undefined when the lock is free or stale (and then removed). */
async function holder(path: string): Promise<number | undefined> {
  let text: string;
  let age: number;
  try {
    [text, age] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => Date.now() - s.mtimeMs)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number.parseInt(text.trim(), 10);
  const known = Number.isInteger(pid) && pid > 0;
  // Our own pid can only be a leftover: within the process the turns above come first.
  const stale = known ? pid === process.pid || !isAlive(pid) : age > UNREADABLE_STALE_MS;
  if (!stale) return known ? pid : -1;
  await unlink(path).catch(() => {});
  return undefined;
}

async function acquire(path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      if (await tryTake(path)) return;
      const pid = await holder(path);
      if (pid === undefined) continue;
      if (Date.now() >= deadline) {
        throw new StamplineError(
          'STORE_LOCKED',
          `${path} is held by ${pid > 0 ? `process ${pid}` : 'an unknown process'}; try again in a moment (or delete the lock file if no stampline process is running)`,
          { path, pid },
        );
      }
    } catch (err) {
      if (err instanceof StamplineError) throw err;
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot take lock ${path}: ${(err as Error).message}`,
        { path },
        { cause: err },
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
}

async function release(path: string): Promise<void> {
  const owner = await readFile(path, 'utf8').catch(() => '');
  if (owner.trim() === String(process.pid)) await unlink(path).catch(() => {});
}

/** Runs `fn` holding the lock file `path`; waits up to `timeoutMs` for another holder to finish. */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const before = turns.get(path) ?? Promise.resolve();
  const mine = before.then(async () => {
    await acquire(path, timeoutMs);
    try {
      return await fn();
    } finally {
      await release(path);
    }
  });
  const settled = mine.catch(() => {});
  turns.set(path, settled);
  settled.then(() => {
    if (turns.get(path) === settled) turns.delete(path);
  });
  return mine;
}
