/** User names that the audit trail already uses for machines cannot be taken by a person. */
import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/api/auth/passwords.js';
import { addUser } from '../../src/api/auth/users.js';
import { emptyDoc, userNameProblem } from '../../src/api/auth/users-file.js';
import { isStamplineError } from '../../src/errors.js';
import { FAST_HASH } from './auth-support.js';

describe('reserved user names', () => {
  for (const name of ['testfire', 'demo']) {
    it(`${name} is refused: the line writes it as an actor of its own`, async () => {
      expect(userNameProblem(name)).toMatch(/reserved/);
      const password = await hashPassword('long enough password', FAST_HASH);
      let err: unknown;
      try {
        addUser(emptyDoc(), { name, role: 'operator', password }, 'cli:test', new Date());
      } catch (e) {
        err = e;
      }
      expect(isStamplineError(err, 'INVALID_INPUT')).toBe(true);
    });
  }

  it('names that merely begin with one are people like any other', () => {
    expect(userNameProblem('demo-operator')).toBeUndefined();
    expect(userNameProblem('testfirer')).toBeUndefined();
  });
});
