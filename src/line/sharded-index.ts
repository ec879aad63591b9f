/**
 * A durable multimap from a key to the values recorded for it, oldest first, cheap to append to
 * and read only where a lookup needs it: the serial index and the code index are built on it.
 *
 * Keys are spread over SHARDS append-only text files by a hash of the key. Lines are
 * `key<TAB>value`; a value may itself hold tabs, never a newline. Appends are fsynced before
 * `add` resolves, and never read the shard: what an append costs does not grow with how long the
 * line has run. A shard is read only when a lookup needs it, and kept while it is among the
 * `maxLoadedShards` most recently used, so that memory stays bounded however long the history.
 *
 * A value equal to the last one recorded for its key is not recorded again: an append skips it
 * when its shard is in memory, and the read of a shard collapses the ones appended while it was
 * not. A crash can leave a torn last line, which has no newline: it is ignored when read, and the
 * next append cuts it off, finding it from the file's last bytes when the shard is not in memory.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { KeyedSerialQueue, SerialQueue } from '../serial-queue.js';
import { fsyncDir, writeFileDurable } from '../store/durable.js';
import { durableStep } from '../store/write-gate.js';

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
 * serial) reads every shard. 32 shards keep an index near 27 MB. A lookup of many keys is grouped
 * by shard and takes the shards one at a time, so however many keys, it holds no more than the
 * cap. The price is reading a shard again after it went, and only lookups pay it: a QA scan of a
 * code, or an intake checking its serials (a 100,000-serial intake reads most of the index once,
 * one small file at a time). Appends never read a shard, so a firearm's writes (a code on a
 * random shard of the code index for every allocation) cost the same whatever the cap.
 */
export const DEFAULT_MAX_LOADED_SHARDS = 32;

/** Bytes read at a time, backwards from the end, to find where a torn last line starts. */
const TAIL_CHUNK = 512;

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
   * The reads and appends queued on each shard (a `KeyedSerialQueue`). They run one at a time:
   * an append that cut a torn line off while another was appending would cut that append off
   * too, and a read beside an append could not tell whether it saw the append's lines. An append to a shard in memory
   * adds its values to it once they are durable; a shard with work queued is never evicted, so
   * that the append keeps the copy it updates and a lookup meanwhile does not read it again.
   */
  private readonly queue = new KeyedSerialQueue<number>({ onIdle: () => this.evict() });
  /**
   * For each shard whose length is known (read, or appended to by this index), the bytes up to
   * the end of its last acknowledged line. Anything past it on disk is a torn line or the lines
   * of an append that failed part-way, never acknowledged: the next append cuts it off, and a
   * read stops there. A shard not listed has its length found from the file's tail on its next
   * append. One number per shard, whatever the history.
   */
  private readonly acknowledged = new Map<number, number>();
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

  /**
   * Shards known to hold lines, as `shards.json` records them. A shard is listed once its first
   * line is durable (at most SHARDS writes of the record, ever), so a listed shard that is gone
   * or empty was deleted or emptied, and its entries would silently go missing.
   */
  private readonly created = new Set<number>();
  private readonly recordWrites = new SerialQueue();

  get recordFile(): string {
    return join(this.dir, 'shards.json');
  }

  /**
   * Checks the shards against their record and refuses (STORE_MISSING, naming the file) when a
   * listed shard is missing or empty: its lines cannot be taken as never written. Shards present
   * but not listed (a first append cut short before its record, or an index older than the
   * record) are taken in.
   */
  start(): void {
    mkdirSync(this.dir, { recursive: true });
    const problems = this.problems();
    if (problems.length > 0) {
      const p = problems[0]!;
      throw new StamplineError(
        'STORE_MISSING',
        `${this.what}: ${p.file} ${p.problem}; run \`stampline store check --repair\` to rebuild the index from the orders`,
        { file: p.file, problem: p.problem, problems },
      );
    }
    const before = this.created.size;
    for (const n of this.presentShards()) this.created.add(n);
    if (this.created.size !== before || !existsSync(this.recordFile)) this.writeRecordSync();
  }

  /**
   * What is wrong with the shards against their record (for start-up and `store check`).
   * Synchronous, like `start()`: a few hundred `stat`s, once.
   */
  problems(): Array<{ file: string; problem: string }> {
    this.created.clear();
    let text: string;
    try {
      text = readFileSync(this.recordFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot read ${this.recordFile}: ${(err as Error).message}`,
      );
    }
    let listed: number[];
    try {
      const parsed = JSON.parse(text) as { shards?: unknown };
      if (!Array.isArray(parsed.shards) || !parsed.shards.every((n) => Number.isSafeInteger(n)))
        throw new Error();
      listed = parsed.shards as number[];
    } catch {
      return [{ file: this.recordFile, problem: 'is not a shard record' }];
    }
    const problems: Array<{ file: string; problem: string }> = [];
    for (const n of listed) {
      this.created.add(n);
      let size: number;
      try {
        size = statSync(this.file(n)).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw this.cannotRead(n, err);
        problems.push({ file: this.file(n), problem: 'is missing (the shard record lists it)' });
        continue;
      }
      if (size === 0) problems.push({ file: this.file(n), problem: 'is empty (the shard record lists it)' });
    }
    return problems;
  }

  private presentShards(): number[] {
    const found: number[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = /^([0-9a-f]{2})\.tsv$/.exec(name);
      if (!m) continue;
      const n = Number.parseInt(m[1]!, 16);
      if (statSync(this.file(n)).size > 0) found.push(n);
    }
    return found;
  }

  private recordText(): string {
    return `${JSON.stringify({ shards: [...this.created].sort((a, b) => a - b) })}\n`;
  }

  private writeRecordSync(): void {
    const tmp = join(this.dir, `.shards.json.${process.pid}.tmp`);
    try {
      const fd = openSync(tmp, 'w');
      try {
        writeSync(fd, this.recordText());
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.recordFile);
      const dirFd = openSync(this.dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } catch (err) {
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot write ${this.recordFile}: ${(err as Error).message}`,
      );
    }
  }

  private writeRecord(): Promise<void> {
    return this.recordWrites.run(async () => {
      await writeFileDurable(this.recordFile, this.recordText());
    });
  }

  /**
   * The last whole line's entry of every listed shard: one small read each, whatever the
   * history. For a key appended in increasing order (a code's index), the greatest there is the
   * greatest in the index.
   */
  async lastEntries(): Promise<IndexEntry[]> {
    const entries: IndexEntry[] = [];
    for (const n of [...this.created].sort((a, b) => a - b)) {
      let handle: FileHandle;
      try {
        handle = await open(this.file(n), 'r');
      } catch (err) {
        throw this.cannotRead(n, err);
      }
      try {
        const size = (await handle.stat()).size;
        const end = await wholeLinesEnd(handle, size);
        if (end === 0) continue;
        const start = await wholeLinesEnd(handle, end - 1);
        const buf = Buffer.alloc(end - 1 - start);
        await readFully(handle, buf, buf.length, start);
        const line = buf.toString('utf8');
        const tab = line.indexOf('\t');
        if (tab > 0) entries.push({ key: line.slice(0, tab), value: line.slice(tab + 1) });
      } finally {
        await handle.close();
      }
    }
    return entries;
  }

  private cannotRead(n: number, err: unknown): StamplineError {
    return new StamplineError('STORE_UNAVAILABLE', `cannot read ${this.file(n)}: ${(err as Error).message}`);
  }

  /**
   * Shards in memory or being read. It exceeds `maxLoadedShards` only while the shards over the
   * cap are being read or appended to.
   */
  loadedShards(): number {
    return this.shards.size;
  }

  private file(shard: number): string {
    return join(this.dir, shardFile(shard));
  }

  private shard(n: number): Promise<Shard> {
    const cached = this.shards.get(n);
    if (cached) {
      this.shards.delete(n);
      this.shards.set(n, cached);
      return cached.promise;
    }
    const slot: Slot = {
      promise: this.queued(n, async () => {
        slot.shard = await this.load(n);
        return slot.shard;
      }),
    };
    this.shards.set(n, slot);
    slot.promise.then(
      () => this.evict(),
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
      if (slot.shard === undefined || this.queue.busy(n)) continue;
      this.shards.delete(n);
    }
  }

  /** Reads a shard up to its acknowledged length; runs in the shard's queue. */
  private async load(n: number): Promise<Shard> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file(n));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new StamplineError(
          'STORE_UNAVAILABLE',
          `cannot read ${this.file(n)}: ${(err as Error).message}`,
        );
      }
      bytes = Buffer.alloc(0);
    }
    const limit = Math.min(bytes.length, this.acknowledged.get(n) ?? bytes.length);
    const clean = limit === 0 ? 0 : bytes.lastIndexOf(0x0a, limit - 1) + 1;
    if (!this.acknowledged.has(n)) this.acknowledged.set(n, clean);
    const text = bytes.toString('utf8', 0, clean);
    const map = new Map<string, string[]>();
    let at = 0;
    while (at < text.length) {
      const nl = text.indexOf('\n', at);
      const tab = text.indexOf('\t', at);
      if (tab > at && tab < nl) push(map, text.slice(at, tab), text.slice(tab + 1, nl));
      at = nl + 1;
    }
    return { map };
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
      if (await this.queued(n, () => this.append(n, all))) {
        created = true;
        this.created.add(n);
      }
    }
    if (created) {
      await fsyncDir(this.dir);
      await this.writeRecord();
    }
  }

  private queued<T>(n: number, fn: () => Promise<T>): Promise<T> {
    // the queue holds only shards with work still queued; one left idle may be evicted
    return this.queue.run(n, fn);
  }

  /**
   * Appends to one shard without reading it; runs in the shard's queue, so the shard is in
   * memory for the whole append or not at all. True when the file had no acknowledged line, so
   * that its directory entry may be new.
   */
  private append(n: number, all: IndexEntry[]): Promise<boolean> {
    return durableStep(() => this.appendNow(n, all));
  }

  private async appendNow(n: number, all: IndexEntry[]): Promise<boolean> {
    const loaded = this.shards.get(n)?.shard;
    const last = new Map<string, string | undefined>();
    const list = all.filter((e) => {
      const before = last.has(e.key) ? last.get(e.key) : loaded?.map.get(e.key)?.at(-1);
      last.set(e.key, e.value);
      return before !== e.value;
    });
    if (list.length === 0) return false;
    const text = list.map((e) => `${e.key}\t${e.value}\n`).join('');
    let handle: FileHandle;
    try {
      handle = await open(this.file(n), 'a+');
    } catch (err) {
      throw this.cannotWrite(n, err);
    }
    let keep: number | undefined;
    try {
      const size = (await handle.stat()).size;
      keep = this.acknowledged.get(n);
      if (keep !== undefined && size < keep) {
        // the file is shorter than this index wrote it: what it held of the shard is stale
        keep = undefined;
        if (loaded) this.shards.delete(n);
      }
      keep ??= await wholeLinesEnd(handle, size);
      // until this append succeeds, whatever it writes is past the acknowledged lines: if it
      // fails part-way, the next append cuts it off and a read stops before it
      this.acknowledged.set(n, keep);
      if (size > keep) await handle.truncate(keep);
      await handle.appendFile(text);
      await handle.datasync();
    } catch (err) {
      throw this.cannotWrite(n, err);
    } finally {
      await handle.close();
    }
    this.acknowledged.set(n, keep + Buffer.byteLength(text));
    if (loaded) for (const e of list) push(loaded.map, e.key, e.value);
    return keep === 0;
  }

  private cannotWrite(n: number, err: unknown): StamplineError {
    return new StamplineError('STORE_UNAVAILABLE', `cannot write ${this.file(n)}: ${(err as Error).message}`);
  }
}

/**
 * Where the file's last whole line ends: its size when it ends in a newline, else just past the
 * last newline (0 when it has none), found by reading back from the end a small chunk at a time.
 */
async function wholeLinesEnd(handle: FileHandle, size: number): Promise<number> {
  const buf = Buffer.alloc(TAIL_CHUNK);
  let end = size;
  let length = 1; // the last byte alone first: almost always a newline
  while (end > 0) {
    const start = Math.max(0, end - length);
    await readFully(handle, buf, end - start, start);
    const at = buf.subarray(0, end - start).lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
    end = start;
    length = TAIL_CHUNK;
  }
  return 0;
}

async function readFully(handle: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  for (let got = 0; got < length; ) {
    const { bytesRead } = await handle.read(buf, got, length - got, position + got);
    if (bytesRead === 0) throw new Error(`the file ended at ${position + got} bytes while its tail was read`);
    got += bytesRead;
  }
}

/**
 * Every key of the index in `dir`, shard by shard, read from the files alone: for a reader
 * that must not disturb the index (a command beside the running daemon) or that needs all keys
 * once (the issued codes). A torn last line is left out, as a lookup does.
 */
export async function* scanKeys(dir: string): AsyncGenerator<string> {
  for (let n = 0; n < SHARDS; n++) {
    const file = join(dir, shardFile(n));
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new StamplineError('STORE_UNAVAILABLE', `cannot read ${file}: ${(err as Error).message}`);
    }
    const end = text.lastIndexOf('\n') + 1;
    let at = 0;
    while (at < end) {
      const nl = text.indexOf('\n', at);
      const tab = text.indexOf('\t', at);
      if (tab > at && tab < nl) yield text.slice(at, tab);
      at = nl + 1;
    }
  }
}

/** The values of one key, read from its shard file alone (see `scanKeys`). */
export async function readValues(dir: string, key: string): Promise<string[]> {
  const file = join(dir, shardFile(shardOf(key)));
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new StamplineError('STORE_UNAVAILABLE', `cannot read ${file}: ${(err as Error).message}`);
  }
  const values: string[] = [];
  const prefix = `${key}\t`;
  for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) {
    if (line.startsWith(prefix)) {
      const v = line.slice(prefix.length);
      if (values.at(-1) !== v) values.push(v);
    }
  }
  return values;
}

function shardFile(n: number): string {
  return `${n.toString(16).padStart(2, '0')}.tsv`;
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
