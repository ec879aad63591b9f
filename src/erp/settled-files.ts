/**
 * When a file dropped into a watched folder is complete, shared by the ERP's CSV drop folder
 * (drop-folder.ts) and the QA station's image folder (src/qa/image-folder.ts). The folder is
 * polled, which works the same on local disks and network shares, where change notifications
 * are unreliable.
 *
 * A candidate file is ready when its size, modification time and inode have not changed for
 * `settleMs`; with `completion: 'done-file'` it is not even looked at until its writer has put
 * `<name>.done` beside it. It is then read whole, and taken only if it did not change during the
 * read. A file that cannot be opened (locked by its writer, a share gone) is retried with
 * backoff, as is any step its owner defers.
 */
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { IntakeLogger } from './drop-folder.js';

export type DropCompletion = 'settle' | 'done-file';
export const DONE_SUFFIX = '.done';
const MAX_BACKOFF_MS = 60_000;

/** What a file was when it last changed. */
export interface Seen {
  size: number;
  mtimeMs: number;
  ino: number;
  since: number;
}

export interface SettledFilesOptions {
  dir: string;
  pollMs: number;
  settleMs: number;
  completion: DropCompletion;
  /** the names the folder takes (the rest, markers and reports included, are left alone) */
  isCandidate: (name: string) => boolean;
  logger: IntakeLogger;
  /** how the log names the folder: `drop folder`, `image folder` */
  label: string;
}

/** A file read whole, or too large to read (`bytes` undefined). */
export interface ReadWhole {
  bytes: Buffer | undefined;
  size: number;
}

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class SettledFiles {
  readonly #o: SettledFilesOptions;
  readonly #seen = new Map<string, Seen>();
  readonly #retry = new Map<string, { at: number; attempts: number }>();

  constructor(o: SettledFilesOptions) {
    this.#o = o;
  }

  get completion(): DropCompletion {
    return this.#o.completion;
  }

  /**
   * Removes the markers whose file is gone (a stop between a move and the marker's removal), so
   * that a later file of that name is not taken before its writer is done. `listed`: the folder.
   */
  async pruneMarkers(listed: readonly string[]): Promise<void> {
    if (this.#o.completion !== 'done-file') return;
    const waiting = new Set(listed.filter(this.#o.isCandidate));
    for (const n of listed) {
      if (n.endsWith(DONE_SUFFIX) && !waiting.has(n.slice(0, -DONE_SUFFIX.length))) {
        await unlink(join(this.#o.dir, n)).catch(() => {});
      }
    }
  }

  /**
   * Notes the candidates of a listing of the folder and gives those ready to be taken: settled,
   * and not waiting for a retry; oldest first (by modification time, then name).
   */
  async ready(listed: readonly string[]): Promise<Array<[string, Seen]>> {
    const names = listed.filter(this.#o.isCandidate);
    const done =
      this.#o.completion === 'done-file' ? new Set(listed.filter((n) => n.endsWith(DONE_SUFFIX))) : undefined;
    const now = performance.now();
    const present = new Set<string>();
    for (const name of names) {
      // Not complete until the writer says so; until then the file is not even watched.
      if (done && !done.has(`${name}${DONE_SUFFIX}`)) continue;
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(join(this.#o.dir, name));
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      present.add(name);
      const before = this.#seen.get(name);
      if (!before || before.size !== st.size || before.mtimeMs !== st.mtimeMs || before.ino !== st.ino) {
        this.#seen.set(name, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, since: now });
      }
    }
    for (const name of this.#seen.keys()) {
      if (!present.has(name)) this.forget(name);
    }
    return [...this.#seen.entries()]
      .filter(([name, s]) => now - s.since >= this.#o.settleMs && (this.#retry.get(name)?.at ?? 0) <= now)
      .sort(([a, x], [b, y]) => x.mtimeMs - y.mtimeMs || (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The file has left the folder (or changed): it is looked at afresh if it comes back. */
  forget(name: string): void {
    this.#seen.delete(name);
    this.#retry.delete(name);
  }

  /** Leaves the file where it is and tries it again later, waiting longer each time. */
  defer(name: string, err: unknown, what: string): void {
    const attempts = (this.#retry.get(name)?.attempts ?? 0) + 1;
    const wait = Math.min(MAX_BACKOFF_MS, this.#o.pollMs * 2 ** Math.min(attempts, 16));
    this.#retry.set(name, { at: performance.now() + wait, attempts });
    this.#o.logger.warn(
      { file: name, err: message(err), attempts, retryInMs: wait },
      `${this.#o.label}: ${what}; will retry`,
    );
  }

  /**
   * Reads a settled file whole, unless it is over `maxBytes` (then `bytes` is undefined).
   * Undefined when it is not to be taken now: it changed since it settled or during the read
   * (it settles again first), it is gone, or it cannot be opened (deferred).
   */
  async read(name: string, settled: Seen, maxBytes: number): Promise<ReadWhole | undefined> {
    const path = join(this.#o.dir, name);
    let bytes: Buffer | undefined;
    let size = 0;
    try {
      const handle = await open(path, 'r');
      try {
        const st = await handle.stat();
        size = st.size;
        if (st.size !== settled.size || st.mtimeMs !== settled.mtimeMs || st.ino !== settled.ino) {
          this.#seen.delete(name);
          return undefined;
        }
        if (st.size <= maxBytes) bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
      const after = await stat(path);
      if (
        after.size !== settled.size ||
        after.mtimeMs !== settled.mtimeMs ||
        (bytes !== undefined && bytes.length !== settled.size)
      ) {
        this.#seen.delete(name);
        return undefined;
      }
    } catch (err) {
      if (errno(err) === 'ENOENT') {
        this.#seen.delete(name);
        return undefined;
      }
      // A file locked by its writer (EBUSY on shares) or not yet readable: not settled.
      this.defer(name, err, 'cannot open the file');
      return undefined;
    }
    return { bytes, size };
  }

  /** The file's size now when it is no longer as it was read (its writer went on after it settled), else undefined. */
  async changedSince(name: string, read: Seen): Promise<{ size: number } | undefined> {
    const now = await stat(join(this.#o.dir, name)).catch(() => undefined);
    if (!now || (now.size === read.size && now.mtimeMs === read.mtimeMs && now.ino === read.ino))
      return undefined;
    return { size: now.size };
  }

  /** The writer's marker goes once its file has left the folder. */
  async removeMarker(name: string): Promise<void> {
    if (this.#o.completion !== 'done-file') return;
    await unlink(join(this.#o.dir, `${name}${DONE_SUFFIX}`)).catch((err) => {
      if (errno(err) !== 'ENOENT') throw err;
    });
  }
}
