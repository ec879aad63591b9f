/**
 * Slows down password guessing. Failed logins are counted in a row per user name and per
 * client address; from the fifth, each further attempt must wait twice as long as the one
 * before (1 s, 2 s, 4 s ... up to 15 min). During the wait every attempt is refused, even one
 * with the right password, so a guesser learns nothing from trying. A success ends the row.
 *
 * An attempt counts as failed from the moment it starts until it succeeds: a burst of
 * simultaneous guesses cannot all slip in before the first of them has been judged.
 */

export const FREE_FAILURES = 5;
export const FIRST_WAIT_MS = 1000;
export const LONGEST_WAIT_MS = 15 * 60_000;
/** Entries kept per kind (names, addresses); the oldest idle ones go first beyond it. */
const MAX_ENTRIES = 10_000;

interface Row {
  failures: number;
  waitUntil: number;
  lastAt: number;
}

export function waitAfter(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  const exp = failures - FREE_FAILURES;
  // 2^exp overflows nothing useful past 2^20; the cap is reached long before.
  return Math.min(FIRST_WAIT_MS * 2 ** Math.min(exp, 20), LONGEST_WAIT_MS);
}

class Rows {
  private readonly rows = new Map<string, Row>();

  get(key: string): Row | undefined {
    return this.rows.get(key);
  }

  fail(key: string, now: number): void {
    const row = this.rows.get(key) ?? { failures: 0, waitUntil: 0, lastAt: now };
    row.failures++;
    row.lastAt = now;
    row.waitUntil = now + waitAfter(row.failures);
    // Re-inserted so the map's order is the order of last activity.
    this.rows.delete(key);
    this.rows.set(key, row);
    if (this.rows.size > MAX_ENTRIES) this.prune(now);
  }

  clear(key: string): void {
    this.rows.delete(key);
  }

  private prune(now: number): void {
    for (const [key, row] of this.rows) {
      if (this.rows.size <= MAX_ENTRIES * 0.9) break;
      if (row.waitUntil <= now) this.rows.delete(key);
    }
    // Still too many rows that are all waiting: drop the oldest rather than grow for ever.
    for (const key of this.rows.keys()) {
      if (this.rows.size <= MAX_ENTRIES) break;
      this.rows.delete(key);
    }
  }
}

export class LoginThrottle {
  private readonly names = new Rows();
  private readonly addresses = new Rows();

  constructor(private readonly now: () => number) {}

  /** Milliseconds to wait before `name` may be tried from `address`; 0 when it may now. */
  waitFor(name: string, address: string): number {
    const t = this.now();
    const until = Math.max(this.names.get(name)?.waitUntil ?? 0, this.addresses.get(address)?.waitUntil ?? 0);
    return Math.max(0, until - t);
  }

  /** Counts an attempt as failed; `succeeded` takes it back. */
  begin(name: string, address: string): void {
    const t = this.now();
    this.names.fail(name, t);
    this.addresses.fail(address, t);
  }

  succeeded(name: string, address: string): void {
    this.names.clear(name);
    this.addresses.clear(address);
  }

  /** Failures in a row of a name, for the audit trail. */
  failures(name: string): number {
    return this.names.get(name)?.failures ?? 0;
  }
}
