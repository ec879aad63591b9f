/**
 * The QA log: every case read as entered and every decision taken on a code, appended in order
 * to an AppendLog under `<dataDir>/qa/` and never changed. Reads are the evidence; a decision
 * entry says that the line has applied the verdict the reads gave, so that a decision cut short
 * by a crash is completed at start-up (see QaService.start).
 */
import { join } from 'node:path';
import { AppendLog, type AppendLogRepair } from '../store/index.js';
import type { StoredRead, Verdict } from './types.js';

export interface ReadEntry {
  type: 'read';
  /** the firearm's place in its order, to find it again without a lookup */
  seq: number;
  read: StoredRead;
}

export interface DecisionEntry {
  type: 'decision';
  at: string;
  /** who entered the read that decided it */
  by: string;
  serial: string;
  orderId: string;
  seq: number;
  code: { index: number; text: string };
  verdict: Verdict;
  /** the reads of the code when it was decided */
  readIds: number[];
}

export type QaLogEntry = ReadEntry | DecisionEntry;

export interface LoggedEntry {
  segment: number;
  entry: QaLogEntry;
}

export class ReadLog {
  private readonly log: AppendLog<QaLogEntry>;

  constructor(opts: {
    dataDir: string;
    maxSegmentBytes?: number;
    onRepair?: (note: AppendLogRepair) => void;
  }) {
    this.log = new AppendLog<QaLogEntry>({
      dir: join(opts.dataDir, 'qa'),
      name: 'reads',
      ...(opts.maxSegmentBytes !== undefined ? { maxSegmentBytes: opts.maxSegmentBytes } : {}),
      ...(opts.onRepair ? { onRepair: opts.onRepair } : {}),
    });
  }

  start(): Promise<void> {
    return this.log.start();
  }

  stop(): Promise<void> {
    return this.log.stop();
  }

  /**
   * Appends one entry, durable when it resolves, and gives the segment it went to. Callers
   * append one at a time, so no other append can have moved the log on meanwhile.
   */
  async append(entry: QaLogEntry): Promise<number> {
    await this.log.append([entry]);
    return this.log.currentSegment;
  }

  /** The segment appends go to. */
  get currentSegment(): number {
    return this.log.currentSegment;
  }

  /** Every entry from a segment on (default: all), in order, in batches: for rebuilding at start-up. */
  async *replay(fromSegment?: number): AsyncIterable<LoggedEntry[]> {
    for await (const batch of this.log.readBatches(fromSegment !== undefined ? { fromSegment } : undefined))
      yield batch.map((r) => ({ segment: r.segment, entry: r.entry }));
  }

  /** The entries of these segments that `accept` takes, in log order. */
  async scan(segments: Iterable<number>, accept: (e: QaLogEntry) => boolean): Promise<QaLogEntry[]> {
    const found: QaLogEntry[] = [];
    for (const segment of [...new Set(segments)].sort((a, b) => a - b)) {
      for await (const r of this.log.readSegment(segment)) if (accept(r.entry)) found.push(r.entry);
    }
    return found;
  }
}
