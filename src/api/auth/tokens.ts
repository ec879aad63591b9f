/**
 * The bearer tokens of machines (configuration `auth.erpToken`, `auth.operatorToken`,
 * `auth.qaToken`). A presented token is compared with every configured one through SHA-256
 * digests of equal length in constant time, so neither its content nor its length shows in
 * the time of the answer.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Identity, MachineRole } from './types.js';

export type MachineTokens = Partial<Record<MachineRole, string>>;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class TokenTable {
  private readonly entries: { role: MachineRole; digest: Buffer }[];

  constructor(tokens: MachineTokens) {
    this.entries = (Object.entries(tokens) as [MachineRole, string | undefined][])
      .filter((e): e is [MachineRole, string] => typeof e[1] === 'string' && e[1].length > 0)
      .map(([role, token]) => ({ role, digest: digest(token) }));
  }

  get roles(): MachineRole[] {
    return this.entries.map((e) => e.role);
  }

  identify(token: string): Identity | undefined {
    const presented = digest(token);
    let found: MachineRole | undefined;
    for (const e of this.entries) {
      // No early exit: every token is compared whichever matches.
      if (timingSafeEqual(presented, e.digest) && found === undefined) found = e.role;
    }
    return found === undefined ? undefined : { kind: 'token', name: found, role: found };
  }
}
