/**
 * Every serial number the line has ever held, and the order that last held it, so that "never
 * engraved before on this line" can be checked against all of history without reading all of
 * history at start-up.
 *
 * Serials are spread over SHARDS append-only text files by a hash of the serial; a shard is read
 * the first time a lookup needs it and kept. Lines are `serial<TAB>orderId`; a serial held again
 * by a rework order has a line per order, oldest first. Appends are fsynced before `add` resolves. A crash
 * can leave a torn last line, which has no newline: it is ignored when read, and the next append
 * starts on a fresh line.
 */
import { mkdirSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { fsyncDir } from '../store/durable.js';

export const SHARDS = 256;

/** FNV-1a over the serial's UTF-16 code units: cheap, stable, and spreads similar serials. */
export function shardOf(serial: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < serial.length; i++) {
    h ^= serial.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

interface Shard {
  map: Map<string, string[]>;
  /** Bytes up to the end of the last whole line; more than that on disk is a torn line. */
  cleanBytes: number;
  torn: boolean;
}

export class SerialIndex {
  private readonly shards = new Map<number, Promise<Shard>>();

  constructor(private readonly dir: string) {}

  start(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  private file(shard: number): string {
    return join(this.dir, `${shard.toString(16).padStart(2, '0')}.tsv`);
  }

  private shard(n: number): Promise<Shard> {
    let s = this.shards.get(n);
    if (!s) {
      s = this.load(n);
      this.shards.set(n, s);
      s.catch(() => this.shards.delete(n));
    }
    return s;
  }

  private async load(n: number): Promise<Shard> {
    let text: string;
    try {
      text = await readFile(this.file(n), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        return { map: new Map(), cleanBytes: 0, torn: false };
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
    return { map, cleanBytes: Buffer.byteLength(text.slice(0, end + 1)), torn: end !== text.length - 1 };
  }

  /** The orders that have held each of these serials, oldest first, for those the line has held. */
  async lookup(serials: Iterable<string>): Promise<Map<string, readonly string[]>> {
    const found = new Map<string, readonly string[]>();
    const byShard = new Map<number, string[]>();
    for (const s of serials) {
      const n = shardOf(s);
      const list = byShard.get(n);
      if (list) list.push(s);
      else byShard.set(n, [s]);
    }
    for (const [n, list] of byShard) {
      const shard = await this.shard(n);
      for (const s of list) {
        const order = shard.map.get(s);
        if (order !== undefined) found.set(s, order);
      }
    }
    return found;
  }

  /** Records that these serials are now held by these orders; durable before it resolves. */
  async add(entries: Array<{ serial: string; orderId: string }>): Promise<void> {
    const byShard = new Map<number, Array<{ serial: string; orderId: string }>>();
    for (const e of entries) {
      if (/[\t\n]/.test(e.serial) || /[\t\n]/.test(e.orderId)) {
        throw new StamplineError(
          'INTERNAL',
          `serial index entries cannot hold tabs or newlines: ${JSON.stringify(e)}`,
        );
      }
      const n = shardOf(e.serial);
      const list = byShard.get(n);
      if (list) list.push(e);
      else byShard.set(n, [e]);
    }
    let created = false;
    for (const [n, list] of byShard) {
      const shard = await this.shard(n);
      const text = list.map((e) => `${e.serial}\t${e.orderId}\n`).join('');
      const handle = await open(this.file(n), 'a+');
      try {
        created ||= (await handle.stat()).size === 0;
        if (shard.torn) await handle.truncate(shard.cleanBytes);
        await handle.appendFile(text);
        await handle.datasync();
      } catch (err) {
        throw new StamplineError(
          'STORE_UNAVAILABLE',
          `cannot write ${this.file(n)}: ${(err as Error).message}`,
        );
      } finally {
        await handle.close();
      }
      shard.torn = false;
      shard.cleanBytes += Buffer.byteLength(text);
      for (const e of list) push(shard.map, e.serial, e.orderId);
    }
    if (created) await fsyncDir(this.dir);
  }
}

function push(map: Map<string, string[]>, serial: string, orderId: string): void {
  const list = map.get(serial);
  if (!list) map.set(serial, [orderId]);
  else if (list.at(-1) !== orderId) list.push(orderId);
}
