/**
 * Link-level fault injection, the same for every simulator server (Modbus TCP, Modbus RTU,
 * ASCII serial). Device-level faults (a job that faults, interlock, no part, power cycle) live on
 * `EngraverDevice`; these act on the wire.
 */
import type { LinkStats } from './link-stats.js';

export interface LinkFaults {
  /** Every reply is sent this long after its request. */
  delayRepliesMs: number;
  /** The next N requests get no reply at all; `Infinity`: every request. */
  withholdReplies: number;
  /**
   * The next N replies get a bad checksum (ASCII) or CRC (Modbus RTU); Modbus TCP has no checksum
   * of its own, so there the frame is malformed. `Infinity`: every reply.
   */
  corruptReplies: number;
  /** Closes the connection or the port now; the server keeps listening (TCP) or reopens (serial). */
  dropLink(): void;
}

export interface SimulatedLink {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly faults: LinkFaults;
  readonly stats: LinkStats;
}

/** A fresh set of faults whose `dropLink` calls `drop`. */
export function createLinkFaults(drop: () => void): LinkFaults {
  return { delayRepliesMs: 0, withholdReplies: 0, corruptReplies: 0, dropLink: drop };
}

/** What to do with the next reply; consumes one withheld or corrupted reply from the counters. */
export type ReplyFate = 'send' | 'withhold' | 'corrupt';

export function nextReplyFate(faults: LinkFaults): ReplyFate {
  if (faults.withholdReplies > 0) {
    faults.withholdReplies--;
    return 'withhold';
  }
  if (faults.corruptReplies > 0) {
    faults.corruptReplies--;
    return 'corrupt';
  }
  return 'send';
}
