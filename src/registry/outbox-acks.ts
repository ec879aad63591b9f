/**
 * The one writer of the outbox's acks and operator actions (`outbox.ts`), so they reach the log
 * in the order they happened (an operator's retry must not land before the rejection it
 * answers), batched while a write is in flight. Acks go lazily: losing one in a crash only means
 * the record is sent again. Operator actions are awaited until they are on the disk.
 */
import type { AppendLog } from '../store/append-log.js';
import type { RegistryLogger } from './logger.js';
import type { AckEntry, Entry } from './outbox-types.js';

export class OutboxAckWriter {
  private queue: AckEntry[] = [];
  private waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly journal: AppendLog<Entry>,
    private readonly log: RegistryLogger,
    /** Told how many entries went to which segment. */
    private readonly noteWritten: (segment: number, entries: number) => void,
  ) {}

  /** Whether a write is under way (stop waits for it). */
  get writing(): Promise<void> | undefined {
    return this.flushing;
  }

  /** Queues an entry to be written with the next batch. */
  queueLazily(entry: AckEntry): void {
    this.queue.push(entry);
    this.kick();
  }

  /** Queues an entry and resolves once it is on the disk. */
  writeDurably(entry: AckEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push(entry);
      this.waiters.push({ resolve, reject });
      this.kick();
    });
  }

  /** Writes every entry not yet on the disk. */
  async flush(): Promise<void> {
    if (this.queue.length === 0 && !this.flushing) return;
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.loop().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0 || this.waiters.length > 0) this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0 || this.waiters.length > 0) {
      const batch = this.queue;
      const waiters = this.waiters;
      this.queue = [];
      this.waiters = [];
      try {
        if (batch.length > 0) {
          const seg = this.journal.currentSegment;
          await this.journal.append(batch);
          this.noteWritten(seg, batch.length);
        }
        for (const w of waiters) w.resolve();
      } catch (err) {
        // Lost acks only cost a resend; the caller of a durable write hears of the failure.
        this.log.error({ err: (err as Error).message, entries: batch.length }, 'cannot write outbox acks');
        for (const w of waiters) w.reject(err);
      }
    }
  }
}
