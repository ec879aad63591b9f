/**
 * A short-lived lock around one read-change-write of a small file, shared by the daemon and
 * `stampline user ...` on the same machine: the store's `FileLock`, told to wait, since it is
 * held for milliseconds and a second writer should wait for it rather than fail. Inside one
 * process the users of a path take turns first, because a lock file holding our own pid says
 * nothing about which part of the process holds it.
 */
import { KeyedSerialQueue } from '../../serial-queue.js';
import { FileLock } from '../../store/lock.js';

const turns = new KeyedSerialQueue<string>();

/** A lock file whose owner is unknown (written by hand, or by something else) is stale after this. */
const UNREADABLE_STALE_MS = 30_000;

/** Runs `fn` holding the lock file `path`; waits up to `timeoutMs` for another holder to finish. */
export async function withFileLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  return turns.run(path, async () => {
    const lock = new FileLock(path, { unreadableStaleMs: UNREADABLE_STALE_MS });
    await lock.acquire({ waitMs: timeoutMs });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  });
}
