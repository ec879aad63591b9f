/**
 * Traffic a simulator server has seen, the same for every transport: for the benchmark, and for
 * tests that prove what a host did on the wire (how many requests, whether it ever overlapped
 * them).
 */

export interface LinkStats {
  requests: number;
  bytesIn: number;
  bytesOut: number;
  /**
   * The most requests ever received on one connection (TCP) or one bus (serial) and not yet
   * answered. A host that waits for each reply before it sends the next request keeps it at 1;
   * more means it overlapped requests. A withheld reply counts as answered when it is dropped.
   */
  maxInFlight: number;
}

export function createLinkStats(): LinkStats {
  return { requests: 0, bytesIn: 0, bytesOut: 0, maxInFlight: 0 };
}

/**
 * Requests in flight on one connection or one bus. A new one is made when a connection is
 * accepted or a port opened, so a reply still pending from before a drop cannot lower the count
 * of the link that replaced it.
 */
export class InFlight {
  private current = 0;

  constructor(private readonly stats: LinkStats) {}

  /** `count` requests have arrived (several when they came in one read). */
  received(count = 1): void {
    this.current += count;
    if (this.current > this.stats.maxInFlight) this.stats.maxInFlight = this.current;
  }

  /** One request has had its reply written, or been left unanswered on purpose. */
  answered(): void {
    if (this.current > 0) this.current--;
  }

  get count(): number {
    return this.current;
  }
}
