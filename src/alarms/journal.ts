/**
 * The alarm journal: every raise, acknowledgement (by whom) and clear, durable in an append log
 * under `<dataDir>/alarms`. It stays small however long the line runs: segments are small, only
 * the last few are kept, and each segment begins its life with a `carry` entry holding every
 * alarm then active, so dropping older segments never loses an active alarm, only old history.
 */
import { join } from 'node:path';
import { AppendLog, type AppendLogRepair } from '../store/append-log.js';
import type { Alarm } from './model.js';

export type JournalEntry =
  | { t: 'raise'; alarm: Alarm }
  | { t: 'ack'; id: number; by: string; at: string }
  | { t: 'clear'; id: number; at: string }
  /** the alarms active when a segment began, and the next id */
  | { t: 'carry'; alarms: Alarm[]; next: number };

export interface AlarmJournalOptions {
  dataDir: string;
  /** Default 64 KiB: some 250 entries. */
  maxSegmentBytes?: number;
  /** Segments kept. Default 4. */
  keepSegments?: number;
  /** Cleared alarms kept in memory for the journal view. Default 1,000. */
  keepCleared?: number;
  onRepair?: (note: AppendLogRepair) => void;
}

export interface JournalPage {
  /** newest first */
  alarms: Alarm[];
  /** the `before` that gives the next page, or null on the last one */
  next: number | null;
}

export class AlarmJournal {
  private readonly log: AppendLog<JournalEntry>;
  private readonly alarms = new Map<number, Alarm>();
  private nextId = 1;
  /** Segments known to hold a carry entry: only these may become the oldest one kept. */
  private readonly carried = new Set<number>();

  constructor(private readonly o: AlarmJournalOptions) {
    this.log = new AppendLog<JournalEntry>({
      dir: join(o.dataDir, 'alarms'),
      name: 'journal',
      maxSegmentBytes: o.maxSegmentBytes ?? 64 * 1024,
      ...(o.onRepair ? { onRepair: o.onRepair } : {}),
    });
  }

  /** Opens the log (cutting off a torn last entry, which `onRepair` reports) and reads it. */
  async start(): Promise<void> {
    await this.log.start();
    this.alarms.clear();
    this.carried.clear();
    for await (const batch of this.log.readBatches()) {
      for (const { segment, entry } of batch) {
        if (entry.t === 'carry') this.carried.add(segment);
        this.apply(entry);
      }
    }
    this.trim();
    if (!this.carried.has(this.log.currentSegment)) await this.carry();
  }

  stop(): Promise<void> {
    return this.log.stop();
  }

  /** The alarms not yet cleared. */
  active(): Alarm[] {
    return [...this.alarms.values()].filter((a) => a.clearedAt === null).map((a) => ({ ...a }));
  }

  /** The id after every one ever given. */
  get next(): number {
    return this.nextId;
  }

  get segments(): number[] {
    return this.log.segments();
  }

  /** Durable when it resolves. */
  async write(entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.log.append(entries);
    for (const e of entries) this.apply(e);
    this.trim();
    if (!this.carried.has(this.log.currentSegment)) {
      await this.carry();
      await this.dropOld();
    }
  }

  /** Alarms newest first, `limit` at a time, those with an id below `before`. */
  page(opts: { before?: number; limit: number }): JournalPage {
    const ids = [...this.alarms.keys()]
      .filter((id) => opts.before === undefined || id < opts.before)
      .sort((a, b) => b - a);
    const taken = ids.slice(0, opts.limit);
    return {
      alarms: taken.map((id) => ({ ...this.alarms.get(id)! })),
      next: ids.length > taken.length ? taken.at(-1)! : null,
    };
  }

  private apply(e: JournalEntry): void {
    if (e.t === 'raise') {
      this.alarms.set(e.alarm.id, { ...e.alarm });
      this.nextId = Math.max(this.nextId, e.alarm.id + 1);
    } else if (e.t === 'carry') {
      for (const a of e.alarms) this.alarms.set(a.id, { ...a });
      this.nextId = Math.max(this.nextId, e.next);
    } else {
      const a = this.alarms.get(e.id);
      if (!a) return;
      if (e.t === 'ack') {
        a.acknowledgedAt = e.at;
        a.acknowledgedBy = e.by;
      } else a.clearedAt = e.at;
    }
  }

  private async carry(): Promise<void> {
    await this.log.append([{ t: 'carry', alarms: this.active(), next: this.nextId }]);
    this.carried.add(this.log.currentSegment);
  }

  private async dropOld(): Promise<void> {
    const segs = this.log.segments();
    const keep = this.o.keepSegments ?? 4;
    if (segs.length <= keep) return;
    const cut = segs[segs.length - keep]!;
    const from = Math.max(...[...this.carried].filter((s) => s <= cut), Number.NEGATIVE_INFINITY);
    if (!Number.isFinite(from)) return;
    await this.log.dropSegmentsBefore(from);
    for (const s of [...this.carried]) if (s < from) this.carried.delete(s);
  }

  /** Forgets the oldest cleared alarms beyond what the journal view keeps. */
  private trim(): void {
    const keep = this.o.keepCleared ?? 1000;
    const cleared = [...this.alarms.values()].filter((a) => a.clearedAt !== null);
    if (cleared.length <= keep) return;
    cleared.sort((a, b) => a.id - b.id);
    for (const a of cleared.slice(0, cleared.length - keep)) this.alarms.delete(a.id);
  }
}
