/**
 * The lock of the users file (the store's FileLock, waiting): a live holder is waited for, a
 * dead one's lock is taken over, and the takeover never removes a fresh lock that another
 * process made between the judgement "stale" and the removal.
 */
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withFileLock } from '../../src/api/auth/lock.js';
import { isStamplineError } from '../../src/errors.js';
import { FileLock } from '../../src/store/lock.js';
import { tempDataDir } from './auth-support.js';

/** Runs once, just before the lock code removes or moves the file at `path`. */
const hook: { path?: string; run?: () => Promise<void> } = {};

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const before = async (path: unknown) => {
    if (hook.run && path === hook.path) {
      const run = hook.run;
      hook.run = undefined;
      await run();
    }
  };
  return {
    ...real,
    unlink: async (path: string) => {
      await before(path);
      return real.unlink(path);
    },
    rename: async (from: string, to: string) => {
      await before(from);
      return real.rename(from, to);
    },
  };
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  hook.run = undefined;
  for (const c of cleanups.splice(0)) await c();
});

async function lockPath(): Promise<string> {
  const d = await tempDataDir();
  cleanups.push(d.remove);
  return join(d.dir, 'users.lock');
}

const DEAD = '999999999\n';
/** The test runner's parent: a live process other than this one. */
const LIVE = `${process.ppid}\n`;

describe('the lock of the users file', () => {
  it('does not remove a fresh lock made by another process while it took over a stale one', async () => {
    const path = await lockPath();
    await fsp.writeFile(path, DEAD);
    hook.path = path;
    hook.run = async () => {
      // a third process takes the stale lock over first and holds it
      const real = await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises');
      await real.unlink(path);
      await real.writeFile(path, LIVE);
    };
    let ran = false;
    const err = await withFileLock(
      path,
      async () => {
        ran = true;
      },
      300,
    ).catch((e: unknown) => e);
    expect(hook.run).toBeUndefined();
    expect(ran).toBe(false);
    expect(isStamplineError(err, 'STORE_LOCKED')).toBe(true);
    expect(await fsp.readFile(path, 'utf8')).toBe(LIVE);
  });

  it('waits for a live holder that lets go, then runs', async () => {
    const path = await lockPath();
    await fsp.writeFile(path, LIVE);
    const released = new Promise((r) => setTimeout(r, 200)).then(() => fsp.unlink(path));
    await expect(withFileLock(path, async () => 'ran', 30_000)).resolves.toBe('ran');
    await released;
    await expect(fsp.stat(path)).rejects.toThrow();
  });

  it('waits for a lock naming no process while it is recent, and takes it over once old', async () => {
    const path = await lockPath();
    await fsp.writeFile(path, 'not a pid\n');
    const err = await withFileLock(path, async () => 'ran', 200).catch((e: unknown) => e);
    expect(isStamplineError(err, 'STORE_LOCKED')).toBe(true);
    expect((err as Error).message).toContain('an unknown process');
    const old = new Date(Date.now() - 120_000);
    await fsp.utimes(path, old, old);
    await expect(withFileLock(path, async () => 'ran', 200)).resolves.toBe('ran');
  });

  it('leaves nothing behind: no temporary, takeover or stale file', async () => {
    const path = await lockPath();
    await fsp.writeFile(path, DEAD);
    await withFileLock(path, async () => {});
    await Promise.all([1, 2, 3].map(() => withFileLock(path, async () => {})));
    const dir = join(path, '..');
    expect(await fsp.readdir(dir)).toEqual([]);
  });
});

describe('FileLock without waiting (the stores)', () => {
  it('refuses at once while a live process holds it, and releases only its own file', async () => {
    const path = await lockPath();
    await fsp.writeFile(path, LIVE);
    const err = await new FileLock(path).acquire().catch((e: unknown) => e);
    expect(isStamplineError(err, 'STORE_LOCKED')).toBe(true);
    await fsp.unlink(path);

    const lock = new FileLock(path);
    await lock.acquire();
    // someone replaced it by hand meanwhile: not ours to delete
    await fsp.unlink(path);
    await fsp.writeFile(path, LIVE);
    await lock.release();
    expect(await fsp.readFile(path, 'utf8')).toBe(LIVE);
  });
});
