/**
 * A durable multimap from a key to the values recorded for it, oldest first, cheap to append to
 * and read only where a lookup needs it: the serial index and the code index are built on it.
 *
 * Keys are spread over SHARDS append-only text files by a hash of the key; a shard is read the
 * first time a lookup or an append needs it and kept while it is among the `maxLoadedShards`
 * most recently used, so that memory stays bounded however long the line's history. Lines are
 * `key<TAB>value`; a value may itself hold tabs, never a newline. Appends are fsynced before
 * `add` resolves. A crash can leave a torn last line, which has no newline: it is ignored when
 * read, and the next append starts on a fresh line.
 */
import { mkdirSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { fsyncDir } from '../store/durable.js';

export const SHARDS = 256;

/** FNV-1a over the key's UTF-16 code units: cheap, stable, and spreads similar keys. */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

interface Shard {
  map: Map<string, string[]>;
  /** Bytes up to the end of the last whole line; more than that on disk is a torn line. */
  cleanBytes: number;
  torn: boolean;
  /**
   * An append failed part-way: whole lines of it may be on disk past `cleanBytes`, never
   * acknowledged. Only this object knows to cut them off (a reload would keep them), so the
   * shard stays loaded until an append succeeds.
   */
  failedWrite: boolean;
}

/** A shard in the cache: `shard` is set once it is read. */
interface Slot {
  promise: Promise<Shard>;
  shard?: Shard;
}

export interface IndexEntry {
  key: string;
  value: string;
}

/**
 * At 1,000,000 firearms a shard of the serial index holds about 3,900 serials (a file of about
 * 125 kB) and takes about 0.8 MB of heap once read (measured with `serial<TAB>order<TAB>seq`
 * lines), so the whole index would be about 210 MB, and one big order intake (which checks every
 * serial) reads every shard. 32 shards keep an index near 27 MB. A lookup or an add of many keys
 * is grouped by shard and takes the shards one at a time, so however many keys, it holds no more
 * than the cap. The price is reading a shard again after it went: a 100,000-serial intake checks
 * its serials (every shard) and then records them (every shard again), so with a long history it
 * reads most of the index twice, one small file at a time.
 */
export const DEFAULT_MAX_LOADED_SHARDS = 32;

export interface ShardedIndexOptions {
  /** Shards kept in memory at most, least recently used read again from disk; 1 or more. */
  maxLoadedShards?: number;
}

export class ShardedIndex {
  /**
   * Shards read or being read, least recently used first (a Map iterates in insertion order).
   * A shard being read is never evicted: a second lookup would read it again beside the first.
   */
  private readonly shards = new Map<number, Slot>();
  /**
   * The last append queued on each shard. Appends to one shard run one at a time: one that cut a
   * torn line off while another was appending would cut that append off too. A shard with an
   * append queued is never evicted: the append dedupes against the shard's map and cuts a torn
   * line at its `cleanBytes`, and a copy read again mid-append could take the append's own
   * unfinished line for a torn one and cut it off after it completed.
   */
  private readonly writing = new Map<number, Promise<unknown>>();
  private readonly maxLoaded: number;

  /** `what` names the index in errors ("serial index"). */
  constructor(
    private readonly dir: string,
    private readonly what: string,
    options: ShardedIndexOptions = {},
  ) {
    const max = options.maxLoadedShards ?? DEFAULT_MAX_LOADED_SHARDS;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new StamplineError(
        'INTERNAL',
        `${what}: maxLoadedShards must be a whole number of 1 or more, not ${max}`,
      );
    }
    this.maxLoaded = max;
  }

  start(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  /**
   * Shards in memory or being read. It exceeds `maxLoadedShards` only while the shards over the
   * cap are being read or appended to (or kept after a failed append).
   */
  loadedShards(): number {
    return this.shards.size;
  }

  private file(shard: number): string {
    return join(this.dir, `${shard.toString(16).padStart(2, '0')}.tsv`);
  }

  private shard(n: number): Promise<Shard> {
    const cached = this.shards.get(n);
    if (cached) {
      this.shards.delete(n);
      this.shards.set(n, cached);
      return cached.promise;
    }
    const slot: Slot = { promise: this.load(n) };
    this.shards.set(n, slot);
    slot.promise.then(
      (shard) => {
        slot.shard = shard;
        this.evict();
      },
      () => {
        if (this.shards.get(n) === slot) this.shards.delete(n);
      },
    );
    this.evict();
    return slot.promise;
  }

  /** Drops least recently used shards down to the cap, passing over those that must stay. */
  private evict(): void {
    for (const [n, slot] of this.shards) {
      if (this.shards.size <= this.maxLoaded) return;
      if (slot.shard === undefined || slot.shard.failedWrite || this.writing.has(n)) continue;
      this.shards.delete(n);
    }
  }

  private async load(n: number): Promise<Shard> {
    let text: string;
    try {
      text = await readFile(this.file(n), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { map: new Map(), cleanBytes: 0, torn: false, failedWrite: false };
      throw new StamplineError('STORE_UNAVAILABLE', `cannot read ${this.file(n)}: ${(err as Error).message}`);
    }
    const map = new Map<string, string[]>();
    const end = text.lastIndexOf('\n');
    let at = 0;
    while (at < end) {
      const nl = text.indexOf('\n', at);
      const tab = text.indexOf('\t', at);
      if (tab > at && tab < nl) push(map, text.slice(at, tab), text.slice(tab + 1, nl));
      at = nl + 1;
    }
    return {
      map,
      cleanBytes: Buffer.byteLength(text.slice(0, end + 1)),
      torn: end !== text.length - 1,
      failedWrite: false,
    };
  }

  /** The values recorded for each of these keys, oldest first, for the keys that have any. */
  async lookup(keys: Iterable<string>): Promise<Map<string, readonly string[]>> {
    const found = new Map<string, readonly string[]>();
    for (const [n, list] of groupByShard(keys, (k) => k)) {
      const shard = await this.shard(n);
      for (const k of list) {
        const values = shard.map.get(k);
        if (values !== undefined) found.set(k, values);
      }
    }
    return found;
  }

  /**
   * Records these values; durable before it resolves. A value equal to the last one recorded
   * for its key is not recorded again.
   */
  async add(entries: IndexEntry[]): Promise<void> {
    for (const e of entries) {
      if (e.key.length === 0 || /[\t\n]/.test(e.key) || e.value.includes('\n')) {
        throw new StamplineError(
          'INTERNAL',
          `${this.what} entries cannot hold tabs or newlines: ${JSON.stringify(e)}`,
        );
      }
    }
    let created = false;
    for (const [n, all] of groupByShard(entries, (e) => e.key)) {
      created = (await this.queued(n, () => this.append(n, all))) || created;
    }
    if (created) await fsyncDir(this.dir);
  }

  private queued<T>(n: number, fn: () => Promise<T>): Promise<T> {
    const run = (this.writing.get(n) ?? Promise.resolve()).then(fn);
    const settled = run.catch(() => {});
    this.writing.set(n, settled);
    // the map holds only shards with an append still queued
    void settled.then(() => {
      if (this.writing.get(n) !== settled) return;
      this.writing.delete(n);
      this.evict();
    });
    return run;
  }

  /** Appends to one shard; true when the shard's file was created by it. */
  private async append(n: number, all: IndexEntry[]): Promise<boolean> {
    const shard = await this.shard(n);
    const list = all.filter((e) => shard.map.get(e.key)?.at(-1) !== e.value);
    if (list.length === 0) return false;
    const text = list.map((e) => `${e.key}\t${e.value}\n`).join('');
    let created = false;
    const handle = await open(this.file(n), 'a+');
    try {
      created = (await handle.stat()).size === 0;
      if (shard.torn) await handle.truncate(shard.cleanBytes);
      await handle.appendFile(text);
      await handle.datasync();
    } catch (err) {
      // part of the text may be on disk: the next append cuts it off
      shard.torn = true;
      shard.failedWrite = true;
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot write ${this.file(n)}: ${(err as Error).message}`,
      );
    } finally {
      await handle.close();
    }
    shard.torn = false;
    shard.failedWrite = false;
    shard.cleanBytes += Buffer.byteLength(text);
    for (const e of list) push(shard.map, e.key, e.value);
    return created;
  }
}

function groupByShard<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<number, T[]> {
  const byShard = new Map<number, T[]>();
  for (const item of items) {
    const n = shardOf(keyOf(item));
    const list = byShard.get(n);
    if (list) list.push(item);
    else byShard.set(n, [item]);
  }
  return byShard;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (list.at(-1) !== value) list.push(value);
}
