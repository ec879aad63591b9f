/**
 * The demo gives one user per role a new random password at every start, so that `npm start` is
 * usable at once without any default password: the passwords of the last start work, those of
 * the start before no longer do, and each change is waiting for the audit trail.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_PEOPLE, prepareDemoUsers } from '../../simulators/demo-users.js';
import { verifyPassword } from '../../src/api/auth/passwords.js';
import { UsersFile } from '../../src/api/auth/users-file.js';
import { tempFolderPerTest } from '../support/temp.js';

const folder = tempFolderPerTest('demo-users');

describe('the demo users', () => {
  it('are made with random passwords, which the next start replaces', async () => {
    const first = await prepareDemoUsers(folder.path);
    expect(first.map((p) => [p.name, p.role])).toEqual(DEMO_PEOPLE.map((p) => [p.name, p.role]));
    expect(new Set(first.map((p) => p.password)).size).toBe(first.length);
    for (const p of first) expect(p.password.length).toBeGreaterThanOrEqual(12);

    const second = await prepareDemoUsers(folder.path);
    const { doc } = await new UsersFile(folder.path).read();
    expect(doc.users).toHaveLength(DEMO_PEOPLE.length);
    for (const [i, p] of second.entries()) {
      const stored = doc.users.find((u) => u.name === p.name)!;
      expect(stored.role).toBe(p.role);
      expect(await verifyPassword(p.password, stored.password)).toBe(true);
      expect(await verifyPassword(first[i]!.password, stored.password)).toBe(false);
    }
    const actions = doc.pending.map((e) => e.action);
    expect(actions.filter((a) => a === 'user.create')).toHaveLength(DEMO_PEOPLE.length);
    expect(actions.filter((a) => a === 'user.password')).toHaveLength(DEMO_PEOPLE.length);
    expect(JSON.stringify(doc.pending)).not.toContain(second[0]!.password);
  }, 60_000);
});
