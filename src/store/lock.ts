/**
 * A lock file that keeps a second process from writing the same store. Two daemons appending to
 * one log would interleave lines and break the audit chain, so a writer refuses to start while
 * another live process holds the lock. A lock left by a process that died (SIGKILL, power cut) is
 * taken over. It guards against mistakes, not against a hostile process.
 */
import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
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

export class FileLock {
  private held = false;

  constructor(readonly path: string) {}

  /** Takes the lock, or throws STORE_UNAVAILABLE naming the process that holds it. */
  async acquire(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(this.path, 'wx');
        try {
          await handle.writeFile(`${process.pid}\n`);
        } finally {
          await handle.close();
        }
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StamplineError(
            'STORE_UNAVAILABLE',
            `cannot create lock ${this.path}: ${(err as Error).message}`,
            { path: this.path },
            { cause: err },
          );
        }
      }
      const owner = Number.parseInt((await readFile(this.path, 'utf8').catch(() => '')).trim(), 10);
      // Our own pid: a store of this process that was not stopped (or a previous life of a
      // container whose daemon is always pid 1). Either way no other process holds it.
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new StamplineError(
          'STORE_LOCKED',
          `${this.path} is locked by running process ${owner}; stop it first (or delete the lock file if that process is not a stampline daemon)`,
          { path: this.path, pid: owner },
        );
      }
      await unlink(this.path).catch(() => {});
    }
    throw new StamplineError('STORE_UNAVAILABLE', `cannot take lock ${this.path}`, { path: this.path });
  }

  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    const owner = await readFile(this.path, 'utf8').catch(() => '');
    if (owner.trim() === String(process.pid)) await unlink(this.path).catch(() => {});
  }
}
