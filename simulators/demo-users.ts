/**
 * People for the embedded demo. A real line has no default user: its first admin is made with
 * `stampline user add` on the line PC. The demo must be usable at once, so `stampline demo`
 * (and only it) gives one user per role a new random password at every start and prints them;
 * nothing guessable is ever accepted, and the change is in the audit trail like any other.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword } from '../src/api/auth/passwords.js';
import type { UserRole } from '../src/api/auth/types.js';
import { addUser, changeUser } from '../src/api/auth/users.js';
import { UsersFile } from '../src/api/auth/users-file.js';

export const DEMO_PEOPLE: ReadonlyArray<{ name: string; role: UserRole }> = [
  { name: 'demo-operator', role: 'operator' },
  { name: 'demo-qa', role: 'qa' },
  { name: 'demo-supervisor', role: 'supervisor' },
  { name: 'demo-admin', role: 'admin' },
];

/** Creates the demo's people, or gives them new passwords; returns name, role and password. */
export async function prepareDemoUsers(
  dataDir: string,
): Promise<Array<{ name: string; role: UserRole; password: string }>> {
  const people = await Promise.all(
    DEMO_PEOPLE.map(async (p) => {
      const password = randomBytes(9).toString('base64url');
      return { ...p, password, hash: await hashPassword(password) };
    }),
  );
  const file = new UsersFile(dataDir);
  await file.update((doc) => {
    const now = new Date();
    for (const p of people) {
      if (doc.users.some((u) => u.name === p.name)) {
        changeUser(doc, p.name, { password: p.hash, role: p.role, disabled: false }, 'demo', now);
      } else {
        addUser(doc, { name: p.name, role: p.role, password: p.hash }, 'demo', now);
      }
    }
  });
  return people.map(({ name, role, password }) => ({ name, role, password }));
}
