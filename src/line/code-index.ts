/**
 * Every code the line has given a firearm, and which firearm, so that a QA station can find a
 * firearm by the code it scans, voided codes included, without reading all of history.
 *
 * Lines are `code<TAB>seq<TAB>serial<TAB>orderId` in a sharded index (`sharded-index.ts`),
 * written when the code is allocated. An entry may name a firearm that does not carry the code
 * (a crash between the entry and the firearm's own write): lookups check the firearm.
 */
import { StamplineError } from '../errors.js';
import { readValues, ShardedIndex, type ShardedIndexOptions, scanKeys } from './sharded-index.js';

export interface CodeHolder {
  orderId: string;
  seq: number;
  serial: string;
}

function holderOf(value: string): CodeHolder | undefined {
  const [seq, serial, ...rest] = value.split('\t');
  const n = Number(seq);
  if (!Number.isSafeInteger(n) || serial === undefined || rest.length === 0) return undefined;
  return { seq: n, serial, orderId: rest.join('\t') };
}

/**
 * Every code of the code index in `dir`, voided ones included, read from its files without
 * opening the index (safe beside the daemon that writes it). A code may come more than once.
 */
export function scanCodes(dir: string): AsyncGenerator<string> {
  return scanKeys(dir);
}

/** The firearms a code was given to, read from the index files alone (see `scanCodes`). */
export async function readCodeHolders(dir: string, code: string): Promise<CodeHolder[]> {
  return (await readValues(dir, code)).flatMap((v) => holderOf(v) ?? []);
}

export class CodeIndex {
  private readonly index: ShardedIndex;

  /** `options.maxLoadedShards` bounds the shards held in memory (see `sharded-index.ts`). */
  constructor(dir: string, options: ShardedIndexOptions = {}) {
    this.index = new ShardedIndex(dir, 'code index', options);
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

  get recordFile(): string {
    return this.index.recordFile;
  }

  /** The firearms this code (10 characters, no dash) was given to, oldest first. */
  async lookup(code: string): Promise<CodeHolder[]> {
    const values = (await this.index.lookup([code])).get(code) ?? [];
    return values.flatMap((v) => holderOf(v) ?? []);
  }

  /**
   * The code on the last line of each shard: codes are indexed as they are allocated, in
   * increasing index order, so the greatest index among them is the greatest the index holds.
   */
  async lastCodes(): Promise<string[]> {
    return (await this.index.lastEntries()).map((e) => e.key);
  }

  /** Records the firearms these codes were given to; durable before it resolves. */
  async add(entries: Array<{ code: string } & CodeHolder>): Promise<void> {
    for (const e of entries) {
      if (/[\t\n]/.test(e.serial) || /[\t\n]/.test(e.orderId)) {
        throw new StamplineError(
          'INTERNAL',
          `code index entries cannot hold tabs or newlines: ${JSON.stringify(e)}`,
        );
      }
    }
    await this.index.add(entries.map((e) => ({ key: e.code, value: `${e.seq}\t${e.serial}\t${e.orderId}` })));
  }
}
