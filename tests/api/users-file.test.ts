import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/api/auth/lock.js';
import { hashPassword } from '../../src/api/auth/passwords.js';
import { addUser } from '../../src/api/auth/users.js';
import { UsersFile } from '../../src/api/auth/users-file.js';
import { isStamplineError } from '../../src/errors.js';
import {
  errorBody,
  errorCollector,
  FAST_HASH,
  login,
  PASSWORD,
  type Rig,
  rig,
  seedUsers,
  startAuthApp,
  tempDataDir,
} from './auth-support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function dataDir(): Promise<string> {
  const d = await tempDataDir();
  cleanups.push(d.remove);
  return d.dir;
}

async function started(users: Parameters<typeof rig>[0] = []): Promise<Rig & { errors: string[] }> {
  const { logger, errors } = errorCollector();
  const r = await rig(users, { logger });
  cleanups.push(r.close);
  return Object.assign(r, { errors });
}

const admin = [{ name: 'ada', role: 'admin' as const, password: PASSWORD }];

describe('the users file', () => {
  it('is readable by its owner only, in a folder that is too', async () => {
    const dir = await dataDir();
    await seedUsers(dir, admin);
    const file = new UsersFile(dir);
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect((await stat(file.dir)).mode & 0o777).toBe(0o700);
    // nothing left behind by the atomic replacement
    expect((await readdir(file.dir)).sort()).toEqual(['users.json']);
  });

  it('loses no change when several are made at once', async () => {
    const dir = await dataDir();
    const hash = await hashPassword(PASSWORD, FAST_HASH);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        // a separate instance for each, as separate processes would have
        new UsersFile(dir).update((doc) => {
          addUser(doc, { name: `user${i}`, role: 'qa', password: hash }, 'cli:test', new Date());
        }),
      ),
    );
    const { doc } = await new UsersFile(dir).read();
    expect(doc.users.map((u) => u.name).sort()).toEqual(
      Array.from({ length: 20 }, (_, i) => `user${i}`).sort(),
    );
    expect(doc.pending).toHaveLength(20);
  });

  for (const [what, damage] of [
    ['torn (cut short in the middle)', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['garbage', () => '\u0000\u0000\u0013binary garbage'],
    ['empty', () => ''],
    [
      'valid JSON of the wrong shape',
      () => JSON.stringify({ version: 1, users: [{ name: 'x' }], pending: [] }),
    ],
    ['from a newer version', () => JSON.stringify({ version: 9, users: [], pending: [] })],
  ] as const) {
    it(`when ${what}: a clear error naming the file, nothing overwritten, and back once repaired`, async () => {
      const dir = await dataDir();
      await seedUsers(dir, admin);
      const file = new UsersFile(dir);
      const good = await readFile(file.path, 'utf8');
      const bad = damage(good);
      await writeFile(file.path, bad);

      const r = await startedIn(dir);
      expect(r.errors.join('\n')).toContain(file.path);
      const res = await r.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { username: 'ada', password: PASSWORD },
      });
      expect(res.statusCode).toBe(500);
      expect(errorBody(res).error.code).toBe('STORE_CORRUPT');
      expect(errorBody(res).error.message).toContain(file.path);
      expect(errorBody(res).error.message).toContain('left as it is');

      const change = await file
        .update((doc) => {
          doc.users = [];
        })
        .catch((e: unknown) => e);
      expect(isStamplineError(change, 'STORE_CORRUPT')).toBe(true);
      expect(await readFile(file.path, 'utf8')).toBe(bad);

      await writeFile(file.path, good);
      await expect(login(r.app, 'ada', PASSWORD)).resolves.toBeTruthy();
    });
  }

  it('damaged while the daemon runs: the users last read still log in, and changes are refused', async () => {
    const r = await started(admin);
    const cookie = await login(r.app, 'ada', PASSWORD);
    const file = new UsersFile(r.dataDir);
    await writeFile(file.path, '{"version": 1, "users": [');
    await expect(login(r.app, 'ada', PASSWORD)).resolves.toBeTruthy();
    const add = await r.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: { cookie },
      payload: { name: 'bob', role: 'qa', password: 'long enough password' },
    });
    expect(add.statusCode).toBe(500);
    expect(errorBody(add).error.code).toBe('STORE_CORRUPT');
    expect(await readFile(file.path, 'utf8')).toBe('{"version": 1, "users": [');
    expect(r.errors.join('\n')).toContain('not a valid users file');
  });

  it('is refused, never overwritten, by a change written wrongly', async () => {
    const dir = await dataDir();
    await seedUsers(dir, admin);
    const file = new UsersFile(dir);
    const before = await readFile(file.path, 'utf8');
    const err = await file
      .update((doc) => {
        doc.users[0]!.role = 'boss' as 'admin';
      })
      .catch((e: unknown) => e);
    expect(isStamplineError(err, 'STORE_CORRUPT')).toBe(true);
    expect(await readFile(file.path, 'utf8')).toBe(before);
  });
});

async function startedIn(dir: string) {
  const { logger, errors } = errorCollector();
  const { app, close } = await startAuthApp(dir, { logger });
  cleanups.push(close);
  return { app, errors };
}

describe('the lock of the users file', () => {
  it('waits for a live holder and then says who holds it', async () => {
    const dir = await dataDir();
    const lock = join(dir, 'users.lock');
    // the test runner's parent: a live process other than this one
    await writeFile(lock, `${process.ppid}\n`);
    const err = await withFileLock(lock, async () => 'ran', 300).catch((e: unknown) => e);
    expect(isStamplineError(err, 'STORE_LOCKED')).toBe(true);
    expect((err as Error).message).toContain(`process ${process.ppid}`);
  });

  it('takes over a lock left by a process that died', async () => {
    const dir = await dataDir();
    await mkdir(dir, { recursive: true });
    const lock = join(dir, 'users.lock');
    await writeFile(lock, '999999999\n');
    await expect(withFileLock(lock, async () => 'ran', 300)).resolves.toBe('ran');
    await expect(stat(lock)).rejects.toThrow();
  });
});
