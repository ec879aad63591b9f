/**
 * Every serial number the line has ever held, the orders that held it and its place in each,
 * so that "never engraved before on this line" can be checked, and a firearm found by its
 * serial, against all of history without reading all of history at start-up.
 *
 * Lines are `serial<TAB>orderId<TAB>seq` in a sharded index (`sharded-index.ts`); a serial held
 * again by a rework order has a line per order, oldest first. Lines written before the place
 * was kept have no seq.
 */
import { StamplineError } from '../errors.js';
import { ShardedIndex, type ShardedIndexOptions } from './sharded-index.js';

export { SHARDS, shardOf } from './sharded-index.js';

export interface SerialHolder {
  orderId: string;
  /** the firearm's position in the order; absent in entries older than this field */
  seq?: number;
}

export class SerialIndex {
  private readonly index: ShardedIndex;

  /** `options.maxLoadedShards` bounds the shards held in memory (see `sharded-index.ts`). */
  constructor(dir: string, options: ShardedIndexOptions = {}) {
    this.index = new ShardedIndex(dir, 'serial index', options);
  }

  /** Shards in memory or being read, for tests and metrics. */
  loadedShards(): number {
    return this.index.loadedShards();
  }

  /** Refuses (STORE_MISSING) when a shard the index recorded is missing or empty. */
  start(): void {
    this.index.start();
  }

  /** What is wrong with the shards against their record, for `store check`. */
  problems(): Array<{ file: string; problem: string }> {
    return this.index.problems();
  }

  /**
   * The order named by the newest line of each shard: the orders whose serials were indexed
   * last, one small read a shard (see `active-witness.ts`).
   */
  async recentOrders(): Promise<string[]> {
    return (await this.index.lastEntries()).map((e) => {
      const tab = e.value.indexOf('\t');
      return tab < 0 ? e.value : e.value.slice(0, tab);
    });
  }

  get recordFile(): string {
    return this.index.recordFile;
  }

  /** The orders that have held each of these serials, oldest first, for those the line has held. */
  async lookup(serials: Iterable<string>): Promise<Map<string, readonly string[]>> {
    const found = new Map<string, readonly string[]>();
    for (const [serial, holders] of await this.locate(serials)) {
      const ids: string[] = [];
      for (const h of holders) if (ids.at(-1) !== h.orderId) ids.push(h.orderId);
      found.set(serial, ids);
    }
    return found;
  }

  /** Where each of these serials has been held: order and place, oldest first. */
  async locate(serials: Iterable<string>): Promise<Map<string, SerialHolder[]>> {
    const found = new Map<string, SerialHolder[]>();
    for (const [serial, values] of await this.index.lookup(serials)) {
      found.set(
        serial,
        values.map((v) => {
          const tab = v.indexOf('\t');
          if (tab < 0) return { orderId: v };
          const seq = Number(v.slice(tab + 1));
          return Number.isSafeInteger(seq) ? { orderId: v.slice(0, tab), seq } : { orderId: v.slice(0, tab) };
        }),
      );
    }
    return found;
  }

  /** Records that these serials are now held by these orders; durable before it resolves. */
  async add(entries: Array<{ serial: string; orderId: string; seq?: number }>): Promise<void> {
    for (const e of entries) {
      if (/[\t\n]/.test(e.serial) || /[\t\n]/.test(e.orderId)) {
        throw new StamplineError(
          'INTERNAL',
          `serial index entries cannot hold tabs or newlines: ${JSON.stringify(e)}`,
        );
      }
    }
    await this.index.add(
      entries.map((e) => ({
        key: e.serial,
        value: e.seq === undefined ? e.orderId : `${e.orderId}\t${e.seq}`,
      })),
    );
  }
}
