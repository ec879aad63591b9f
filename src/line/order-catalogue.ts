/**
 * The order catalogue: the header of every finished order in one append-only log, written when
 * an order is retired, so that every header is read in one go instead of one file per order. It
 * is read in the background after start-up (`LineRepository`), and written afresh from the
 * header files when it is missing or damaged.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { AppendLog } from '../store/append-log.js';
import { removeFileDurable, writeFileDurable } from '../store/durable.js';
import { segmentRecordFile } from '../store/segment-record.js';
import { type OrderHeader, readOrderState } from './model.js';

/**
 * The order catalogue's log: `<store>/line/order-catalogue.NNNNNNNN.jsonl`, one order header a
 * line, the last line of an order the one that counts. It lives among the documents it lists, so
 * that a store and its catalogue go together.
 */
export const ORDER_CATALOGUE = { folder: 'line', name: 'order-catalogue' } as const;

/** The file of one segment of the order catalogue of the document store in `storeDir`. */
export function orderCatalogueSegment(storeDir: string, segment = 1): string {
  return join(
    storeDir,
    ORDER_CATALOGUE.folder,
    `${ORDER_CATALOGUE.name}.${String(segment).padStart(8, '0')}.jsonl`,
  );
}

/**
 * What the load of the finished orders had to write: the whole catalogue afresh (`absent`,
 * `corrupt`, `missing`), or the finished orders it lacked, found by their header files
 * (`incomplete`: a catalogue cut at a line boundary).
 */
export type CatalogueRebuild = {
  reason: 'absent' | 'corrupt' | 'missing' | 'incomplete';
  orders: number;
  detail?: string;
};

/**
 * The headers of finished orders, all in memory (about 300 bytes each: some 30 MB for 100,000
 * orders). Appends are durable before they resolve and cost the same however long the line has
 * run; the log is read once after start-up, a torn last line (a retirement cut short) cut off by
 * the log.
 */
export class OrderCatalogue {
  private readonly dir: string;
  /** The catalogue's files, as errors name them. */
  readonly files: string;
  private log: AppendLog<OrderHeader> | undefined;
  private readonly byId = new Map<string, OrderHeader>();
  private abandoned = false;
  rebuild: CatalogueRebuild | undefined;

  constructor(private readonly storeDir: string) {
    this.dir = join(storeDir, ORDER_CATALOGUE.folder);
    this.files = join(this.dir, `${ORDER_CATALOGUE.name}.*.jsonl`);
  }

  /**
   * Reads the catalogue, or writes it afresh from `onDisk()` when there is none or it cannot be
   * read. The fresh catalogue is one segment written whole (temporary file, then rename), so a
   * crash during a rebuild leaves either no catalogue or a complete one.
   */
  async start(onDisk: () => Promise<OrderHeader[]>): Promise<void> {
    this.checkNotAbandoned();
    const segments = await this.segmentsPresent();
    if (segments.length > 0) {
      const log = this.newLog();
      try {
        await log.start();
        for await (const batch of log.readBatches()) {
          this.checkNotAbandoned();
          for (const { segment, line, entry } of batch) {
            if (typeof entry?.id !== 'string' || typeof entry.createdAt !== 'string') {
              throw new StamplineError(
                'STORE_CORRUPT',
                `order catalogue segment ${segment} line ${line}: not an order header`,
                { segment, line },
              );
            }
            this.byId.set(entry.id, readOrderState(entry));
          }
        }
        this.log = log;
        return;
      } catch (err) {
        await log.stop();
        if (
          !(err instanceof StamplineError) ||
          (err.code !== 'STORE_CORRUPT' && err.code !== 'STORE_MISSING')
        )
          throw err;
        this.byId.clear();
        this.rebuild = {
          reason: err.code === 'STORE_MISSING' ? 'missing' : 'corrupt',
          orders: 0,
          detail: err.message,
        };
        // The fresh catalogue starts a new account of its segments; the old one lists what is gone.
        await removeFileDurable(segmentRecordFile(this.dir, ORDER_CATALOGUE.name));
      }
    }
    const headers = await onDisk();
    // Past here the fresh catalogue is written, renamed into place and opened, stop or not.
    this.checkNotAbandoned();
    const next = (segments.at(-1) ?? 0) + 1;
    const file = orderCatalogueSegment(this.storeDir, next);
    await writeFileDurable(file, headers.map((h) => `${JSON.stringify(h)}\n`).join(''));
    const log = this.newLog();
    try {
      await log.start();
      // The segments of a catalogue that could not be read go once the fresh one is in place.
      await log.dropSegmentsBefore(next);
    } catch (err) {
      await log.stop();
      throw err;
    }
    for (const h of headers) this.byId.set(h.id, h);
    this.log = log;
    this.rebuild = { ...(this.rebuild ?? { reason: 'absent' }), orders: headers.length };
  }

  /** Forgets what the last load found, before the next. */
  reset(): void {
    this.byId.clear();
    this.rebuild = undefined;
    this.abandoned = false;
  }

  /** Makes a load in progress, or one not begun, give up at its next step that writes nothing. */
  abandon(): void {
    this.abandoned = true;
  }

  checkNotAbandoned(): void {
    if (this.abandoned) {
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `the line stopped before the order catalogue ${this.files} was loaded`,
        { catalogue: this.files, stopped: true },
      );
    }
  }

  /** What listing and retiring orders answer after the load failed with `err`. */
  failure(err: unknown): StamplineError {
    if (err instanceof StamplineError && err.context.catalogue === this.files) return err;
    return new StamplineError(
      'STORE_UNAVAILABLE',
      `the order catalogue ${this.files} could not be loaded (${err instanceof Error ? err.message : String(err)}): orders cannot be listed or retired until the daemon is restarted`,
      { catalogue: this.files },
      { cause: err },
    );
  }

  async stop(): Promise<void> {
    await this.log?.stop();
    this.log = undefined;
  }

  /** Lists a finished order's header; durable before it resolves. */
  async add(header: OrderHeader): Promise<void> {
    if (!this.log) throw new StamplineError('STORE_UNAVAILABLE', 'the order catalogue is not started');
    await this.log.append([header]);
    this.byId.set(header.id, header);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  headers(): IterableIterator<OrderHeader> {
    return this.byId.values();
  }

  private newLog(): AppendLog<OrderHeader> {
    return new AppendLog<OrderHeader>({ dir: this.dir, name: ORDER_CATALOGUE.name });
  }

  private async segmentsPresent(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot list ${this.dir}: ${(err as Error).message}`,
        { dir: this.dir },
        { cause: err },
      );
    }
    const pattern = new RegExp(`^${ORDER_CATALOGUE.name}\\.(\\d{8,})\\.jsonl$`);
    const ids: number[] = [];
    for (const n of names) {
      const m = pattern.exec(n);
      if (m) ids.push(Number(m[1]));
    }
    return ids.sort((a, b) => a - b);
  }
}
