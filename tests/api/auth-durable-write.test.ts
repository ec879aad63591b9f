/**
 * The users file is written by the store's durable write, which can make the new file private
 * and give it to the data folder's owner before it takes the old one's place.
 */
import { chown, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/api/auth/passwords.js';
import { addUser } from '../../src/api/auth/users.js';
import { UsersFile } from '../../src/api/auth/users-file.js';
import { writeFileDurable } from '../../src/store/durable.js';
import { FAST_HASH, tempDataDir } from './auth-support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function dataDir(): Promise<string> {
  const d = await tempDataDir();
  cleanups.push(d.remove);
  return d.dir;
}

const asRoot = process.getuid?.() === 0;

describe('writeFileDurable', () => {
  it('creates the file with the mode asked for, and answers with the status of what it wrote', async () => {
    const path = join(await dataDir(), 'secret.json');
    const written = await writeFileDurable(path, '{"a":1}\n', { mode: 0o600 });
    const s = await stat(path);
    expect(s.mode & 0o777).toBe(0o600);
    expect(written.ino).toBe(s.ino);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n');
  });

  it.skipIf(!asRoot)('gives the file to the owner asked for', async () => {
    const path = join(await dataDir(), 'owned.json');
    await writeFileDurable(path, 'x', { owner: { uid: 4321, gid: 4322 } });
    const s = await stat(path);
    expect([s.uid, s.gid]).toEqual([4321, 4322]);
  });

  it('without options writes as before: the process owner, the usual permissions', async () => {
    const path = join(await dataDir(), 'plain.txt');
    await writeFileDurable(path, 'x');
    const s = await stat(path);
    expect(s.uid).toBe(process.getuid?.());
    expect(s.mode & 0o600).toBe(0o600);
  });
});

describe('the users file written by root', () => {
  it.skipIf(!asRoot)('belongs to the owner of the data folder, readable by nobody else', async () => {
    const dir = await dataDir();
    await chown(dir, 4321, 4322);
    const password = await hashPassword('long enough password', FAST_HASH);
    const file = new UsersFile(dir);
    const { snapshot } = await file.update((doc) =>
      addUser(doc, { name: 'ada', role: 'admin', password }, 'cli:root', new Date()),
    );
    for (const path of [file.dir, file.path]) {
      const s = await stat(path);
      expect([s.uid, s.gid], path).toEqual([4321, 4322]);
    }
    expect((await stat(file.path)).mode & 0o777).toBe(0o600);
    expect(snapshot.version).toBe(await file.currentVersion());
  });
});
