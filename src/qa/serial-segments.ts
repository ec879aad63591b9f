/**
 * Which read-log segments hold entries of a serial, for the segments a checkpoint covers: an
 * on-disk multimap `serial<TAB>segment` spread over SHARDS append-only text files by a hash of
 * the serial (as the line's indexes), read one shard at a time when a firearm's reads are asked
 * for and not kept, so memory does not grow with the history.
 *
 * Lines are added in bulk before the checkpoint that covers their segments is written; a crash
 * in between adds them again at the next checkpoint, so a serial may be listed twice for a
 * segment (harmless: lookups give each segment once). Every append starts with a newline, so a
 * torn last line never joins the next one; a line that does not parse is skipped.
 */
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { shardOf } from '../line/sharded-index.js';
import { mkdirDurable } from '../store/durable.js';
import { durableStep } from '../store/write-gate.js';

export class SerialSegments {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'qa', 'serials');
  }

  private file(shard: number): string {
    return join(this.dir, `${shard.toString(16).padStart(2, '0')}.tsv`);
  }

  /** Appends and fsyncs every pair; durable when it resolves. */
  async add(pairs: Iterable<[string, Iterable<number>]>): Promise<void> {
    const byShard = new Map<number, string[]>();
    for (const [serial, segments] of pairs) {
      const shard = shardOf(serial);
      let lines = byShard.get(shard);
      if (!lines) {
        lines = [];
        byShard.set(shard, lines);
      }
      for (const s of segments) lines.push(`${serial}\t${s}`);
    }
    if (byShard.size === 0) return;
    await mkdirDurable(this.dir);
    await durableStep(() => this.write(byShard));
  }

  private async write(byShard: Map<number, string[]>): Promise<void> {
    await Promise.all(
      [...byShard].map(async ([shard, lines]) => {
        const handle = await open(this.file(shard), 'a');
        try {
          await handle.write(`\n${lines.join('\n')}\n`);
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    );
    // A new shard's directory entry must be durable too.
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /** The segments listed for a serial. */
  async lookup(serial: string): Promise<Set<number>> {
    const found = new Set<number>();
    let text: string;
    try {
      text = await readFile(this.file(shardOf(serial)), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return found;
      throw err;
    }
    const prefix = `${serial}\t`;
    for (const line of text.split('\n')) {
      if (!line.startsWith(prefix)) continue;
      const segment = Number(line.slice(prefix.length));
      if (Number.isInteger(segment) && segment > 0) found.add(segment);
    }
    return found;
  }
}

/**
 * Which read-log segments hold each serial's entries: those since the last checkpoint in memory,
 * the rest in the on-disk index. A checkpoint moves the memory's lists to the index in the
 * background; until the index has them durably they stay visible to lookups, and if it cannot
 * take them they return to memory for the next checkpoint.
 */
export class SegmentsBySerial {
  private recent = new Map<string, number[]>();
  private readonly flushing = new Set<Map<string, number[]>>();
  private readonly index: SerialSegments;

  constructor(dataDir: string) {
    this.index = new SerialSegments(dataDir);
  }

  /** Forgets what is in memory (at start, before the log is replayed). */
  reset(): void {
    this.recent = new Map();
    this.flushing.clear();
  }

  note(serial: string, segment: number): void {
    const list = this.recent.get(serial);
    if (!list) this.recent.set(serial, [segment]);
    else if (!list.includes(segment)) list.push(segment);
  }

  /** The segments holding this serial: memory first, then the disk, for a list leaves memory only once it is durable there. */
  async of(serial: string): Promise<number[]> {
    const found: number[] = [];
    for (const map of [this.recent, ...this.flushing]) found.push(...(map.get(serial) ?? []));
    return [...found, ...(await this.index.lookup(serial))];
  }

  /**
   * Takes the lists noted so far out of memory (a checkpoint covers them) and returns the write
   * of them to the index, which resolves once they are durable there, and rejects when they
   * could not be written, having noted them again.
   */
  detach(): () => Promise<void> {
    const flushed = this.recent;
    this.recent = new Map();
    this.flushing.add(flushed);
    return async () => {
      try {
        await this.index.add(flushed);
      } catch (err) {
        for (const [serial, list] of flushed) for (const n of list) this.note(serial, n);
        throw err;
      } finally {
        this.flushing.delete(flushed);
      }
    };
  }
}
