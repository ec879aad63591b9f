/**
 * A lock file that keeps a second process from writing the same store. Two daemons appending to
 * one log would interleave lines and break the audit chain, so a writer refuses to start while
 * another live process holds the lock. A lock left by a process that died (SIGKILL, power cut) is
 * taken over. It guards against mistakes, not against a hostile process.
 *
 * The same lock, told to wait, guards short read-change-write cycles shared by the daemon and
 * the command line (the users file): a second writer waits for a live holder rather than failing.
 *
 * The lock file is made with its content already in it (a hard link of a temporary file), so no
 * process ever sees it empty. A stale lock is removed only under a second, short-lived lock
 * (`<path>.takeover`) and only after it is judged stale again under it: no other process removes
 * a lock file meanwhile, and the dead owner of a stale one cannot, so what is removed is the file
 * judged stale and never a fresh lock another process made in between.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { StamplineError } from '../errors.js';

/** The state letter from /proc/<pid>/stat, or undefined where there is no /proc. */
function procState(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may contain spaces; the state follows the last ')'.
  const close = text.lastIndexOf(')');
  return text.slice(close + 2, close + 3);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed child that its parent has not reaped yet still answers kill(0), but it is dead.
  const state = procState(pid);
  return state !== 'Z' && state !== 'X';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A takeover lock is held for a few file operations; one older than this was left by a crash. */
const TAKEOVER_STALE_MS = 10_000;
/** How long a takeover waits for another process's takeover of the same lock. */
const TAKEOVER_WAIT_MS = 2_000;

export interface FileLockOptions {
  /**
   * A lock file whose content names no process (written by hand, or by something else) is stale
   * once it is this old. Default 0: at once.
   */
  unreadableStaleMs?: number;
}

export interface AcquireOptions {
  /** How long to wait for a live holder to let go, in ms. Default 0: refuse at once. */
  waitMs?: number;
}

/** One version of a lock file: inode and modification time tell a file from a later one at the same place. */
interface Seen {
  ino: bigint;
  mtimeNs: bigint;
  pid: number | undefined;
  stale: boolean;
}

type Holder = { kind: 'free' } | ({ kind: 'held' } & Seen);

function sameFile(a: { ino: bigint; mtimeNs: bigint }, b: { ino: bigint; mtimeNs: bigint }): boolean {
  return a.ino === b.ino && a.mtimeNs === b.mtimeNs;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** Makes `path` holding our pid, atomically with its content; its identity, or undefined when it exists. */
async function create(path: string): Promise<{ ino: bigint; mtimeNs: bigint } | undefined> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${process.pid}\n`, { mode: 0o644 });
  try {
    await link(tmp, path);
    const s = await stat(tmp, { bigint: true });
    return { ino: s.ino, mtimeNs: s.mtimeNs };
  } catch (err) {
    if (errno(err) === 'EEXIST') return undefined;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** Who holds `path` now, read from one open file so content and identity agree. */
async function look(path: string, unreadableStaleMs: number): Promise<Holder> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if (errno(err) === 'ENOENT') return { kind: 'free' };
    throw err;
  }
  let text: string;
  let s: Awaited<ReturnType<typeof handle.stat>>;
  try {
    s = await handle.stat({ bigint: true });
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  const parsed = Number.parseInt(text.trim(), 10);
  const pid = Number.isInteger(parsed) && parsed > 0 ? parsed : undefined;
  // Our own pid: a lock of this process that was not released (or a previous life of a
  // container whose daemon is always pid 1). Either way no other process holds it.
  const stale =
    pid !== undefined
      ? pid === process.pid || !isAlive(pid)
      : Date.now() - Number(s.mtimeMs) >= unreadableStaleMs;
  return { kind: 'held', ino: s.ino, mtimeNs: s.mtimeNs, pid, stale };
}

/**
 * Removes `path` if it is still the file `seen`: moves it aside to a name of its own first, and
 * puts it back if what was moved is another file.
 */
async function removeIfSame(path: string, seen: { ino: bigint; mtimeNs: bigint }): Promise<void> {
  const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw err;
  }
  const moved = await stat(aside, { bigint: true });
  if (!sameFile(moved, seen)) {
    await link(aside, path).catch((err) => {
      if (errno(err) !== 'EEXIST') throw err;
    });
  }
  await unlink(aside);
}

export class FileLock {
  private mine: { ino: bigint; mtimeNs: bigint } | undefined;
  private readonly unreadableStaleMs: number;

  constructor(
    readonly path: string,
    opts: FileLockOptions = {},
  ) {
    this.unreadableStaleMs = opts.unreadableStaleMs ?? 0;
  }

  /**
   * Takes the lock. A live holder: waits up to `waitMs` for it, then throws STORE_LOCKED naming
   * the process. STORE_UNAVAILABLE when the lock file cannot be made at all.
   */
  async acquire(options: AcquireOptions = {}): Promise<void> {
    const waitMs = options.waitMs ?? 0;
    const deadline = Date.now() + waitMs;
    let delay = 5;
    for (;;) {
      let holder: Holder;
      try {
        const made = await create(this.path);
        if (made) {
          this.mine = made;
          return;
        }
        holder = await look(this.path, this.unreadableStaleMs);
        if (holder.kind === 'free') continue;
        if (holder.stale) {
          await this.takeOver();
          continue;
        }
      } catch (err) {
        if (err instanceof StamplineError) throw err;
        throw new StamplineError(
          'STORE_UNAVAILABLE',
          `cannot take lock ${this.path}: ${(err as Error).message}`,
          { path: this.path },
          { cause: err },
        );
      }
      if (Date.now() >= deadline) throw this.locked(holder.pid, waitMs);
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 100);
    }
  }

  async release(): Promise<void> {
    const mine = this.mine;
    if (!mine) return;
    this.mine = undefined;
    // Only our own file: never one that replaced it.
    await removeIfSame(this.path, mine).catch(() => {});
  }

  /** Removes the lock file if, judged again under the takeover lock, it is still stale. */
  private async takeOver(): Promise<void> {
    const guard = `${this.path}.takeover`;
    const held = await this.takeGuard(guard);
    try {
      const now = await look(this.path, this.unreadableStaleMs);
      if (now.kind === 'held' && now.stale) await removeIfSame(this.path, now);
    } finally {
      await removeIfSame(guard, held).catch(() => {});
    }
  }

  private async takeGuard(guard: string): Promise<{ ino: bigint; mtimeNs: bigint }> {
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      const made = await create(guard);
      if (made) return made;
      const other = await look(guard, 0);
      if (other.kind === 'held') {
        const s = await stat(guard, { bigint: true }).catch(() => undefined);
        const old = s !== undefined && Date.now() - Number(s.mtimeMs) > TAKEOVER_STALE_MS;
        // A dead process's guard, or one left far longer than a takeover takes.
        if ((other.stale && other.pid !== process.pid) || old) {
          await removeIfSame(guard, other);
          continue;
        }
      } else continue;
      if (Date.now() >= deadline) throw this.locked(undefined, TAKEOVER_WAIT_MS);
      await sleep(5);
    }
  }

  private locked(pid: number | undefined, waitedMs: number): StamplineError {
    const who = pid === undefined ? 'an unknown process' : `running process ${pid}`;
    const message =
      waitedMs > 0
        ? `${this.path} is held by ${who} (waited ${waitedMs} ms); try again in a moment (or delete the lock file if no stampline process is running)`
        : `${this.path} is locked by ${who}; stop it first (or delete the lock file if that process is not a stampline daemon)`;
    return new StamplineError('STORE_LOCKED', message, { path: this.path, pid: pid ?? null });
  }
}
