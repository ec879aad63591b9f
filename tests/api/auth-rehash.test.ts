/**
 * A stronger hash is stored only over the very hash a login just checked, and a new password is
 * told from a rehash of the old one by `passwordChangedAt` alone, which every change moves.
 */
import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { withFileLock } from '../../src/api/auth/lock.js';
import { hashPassword } from '../../src/api/auth/passwords.js';
import { changeUser } from '../../src/api/auth/users.js';
import { emptyDoc, UsersFile } from '../../src/api/auth/users-file.js';
import { FAST_HASH, login, PASSWORD, type Rig, rig } from './auth-support.js';

let r: Rig | undefined;
afterEach(async () => {
  await r?.close();
  r = undefined;
});

const users = () => [
  { name: 'ana', role: 'operator' as const, password: PASSWORD },
  { name: 'ada', role: 'admin' as const, password: PASSWORD },
];

describe('the rehash after a login', () => {
  it('leaves alone a password changed meanwhile, even one also hashed with weak parameters', async () => {
    // stored with FAST_HASH (N = 1024); the daemon wants N = 2048, so a login rehashes
    const rg = await rig(users(), { hashParams: { N: 2048, r: 8, p: 1 } });
    r = rg;
    const file = new UsersFile(rg.dataDir);
    const weakNew = await hashPassword('a brand new passphrase', FAST_HASH);
    // The lock stands for `stampline user passwd` in another process: it changes the password
    // after the login checked the old one and before the rehash can write.
    await withFileLock(file.lockPath, async () => {
      await login(rg.app, 'ana', PASSWORD);
      const { doc } = await file.read();
      changeUser(doc, 'ana', { password: weakNew }, 'cli:test', new Date());
      await writeFile(file.path, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
    });
    await rg.auth.stop(); // waits for the rehash to finish
    const ana = (await file.read()).doc.users.find((u) => u.name === 'ana');
    expect(ana?.password).toEqual(weakNew);
  });
});

describe('passwordChangedAt', () => {
  it('moves with every new password, even twice within one millisecond', async () => {
    const doc = emptyDoc();
    const at = new Date('2030-01-01T08:00:00.000Z');
    const hash = await hashPassword('first long passphrase', FAST_HASH);
    doc.users.push({
      name: 'ana',
      role: 'operator',
      password: hash,
      createdAt: at.toISOString(),
      createdBy: 'cli:test',
      passwordChangedAt: at.toISOString(),
      disabled: false,
    });
    const seen = [at.toISOString()];
    for (let i = 0; i < 3; i++) {
      changeUser(doc, 'ana', { password: hash }, 'ada', at);
      seen.push(doc.users[0]!.passwordChangedAt);
    }
    expect(new Set(seen).size).toBe(4);
    expect([...seen].sort()).toEqual(seen);
  });

  it('a new password set at the same instant as the last still ends the other sessions', async () => {
    const rg = await rig(users());
    r = rg;
    const admin = await login(rg.app, 'ada', PASSWORD);
    const change = (password: string) =>
      rg.app.inject({
        method: 'PATCH',
        url: '/api/v1/users/ana',
        headers: { cookie: admin },
        payload: { password },
      });
    expect((await change('second long passphrase')).statusCode).toBe(200);
    const ana = await login(rg.app, 'ana', 'second long passphrase');
    // the clock has not moved since the first change
    expect((await change('third long passphrase')).statusCode).toBe(200);
    const whoAmI = await rg.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: ana } });
    expect(whoAmI.statusCode).toBe(401);
  });
});
