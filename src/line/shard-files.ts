/**
 * The shard files of a sharded index (`sharded-index.ts`) as files: which shard a key goes to,
 * where a shard's last whole line ends, and the readers that take keys and values from the files
 * alone, for a command beside the running daemon or a reader of every key.
 */
import type { FileHandle } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';

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

const TAIL_CHUNK = 512;

/**
 * Where the file's last whole line ends: its size when it ends in a newline, else just past the
 * last newline (0 when it has none), found by reading back from the end a small chunk at a time.
 */
export async function wholeLinesEnd(handle: FileHandle, size: number): Promise<number> {
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

export async function readFully(
  handle: FileHandle,
  buf: Buffer,
  length: number,
  position: number,
): Promise<void> {
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

export function shardFile(n: number): string {
  return `${n.toString(16).padStart(2, '0')}.tsv`;
}

export function groupByShard<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<number, T[]> {
  const byShard = new Map<number, T[]>();
  for (const item of items) {
    const n = shardOf(keyOf(item));
    const list = byShard.get(n);
    if (list) list.push(item);
    else byShard.set(n, [item]);
  }
  return byShard;
}
