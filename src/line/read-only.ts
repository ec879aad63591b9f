/**
 * The line's codes and firearms read straight from its data folder, for a command run on the
 * line PC beside the daemon. Nothing is opened for writing and no lock is taken: documents are
 * replaced whole by a rename (store/durable.ts), so a reader sees the old or the new one, and
 * index shards are read up to their last whole line.
 */
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { DurableJsonAdapter } from '../store/adapter.js';
import { readCodeHolders, scanCodes } from './code-index.js';
import type { IdentifySource } from './identify.js';
import { type Firearm, type OrderHeader, readOrderState } from './model.js';
import { CHUNK_SIZE, firearmChunkName, orderDocPath, type StoredFirearm } from './repository.js';

export class ReadOnlyLineFiles implements IdentifySource {
  private readonly docs: string;
  private readonly codesDir: string;

  constructor(dataDir: string) {
    this.docs = join(dataDir, 'docs');
    this.codesDir = join(dataDir, 'codes');
  }

  codes(): AsyncIterable<string> {
    return scanCodes(this.codesDir);
  }

  async firearmsWithCode(code: string): Promise<StoredFirearm[]> {
    const found: StoredFirearm[] = [];
    for (const h of await readCodeHolders(this.codesDir, code)) {
      const header = await this.read<OrderHeader>(`${orderDocPath(h.orderId)}/header`);
      if (!header) continue;
      const chunk = await this.read<{ firearms: Firearm[] }>(firearmChunkName(h));
      const f = chunk?.firearms[h.seq % CHUNK_SIZE];
      // an index entry whose firearm never got the code (a crash between the writes) names nothing
      if (f && (f.code?.text === code || f.voided.some((v) => v.text === code)))
        found.push({ order: readOrderState(header), firearm: f });
    }
    return found;
  }

  private async read<T>(name: string): Promise<T | undefined> {
    const file = join(this.docs, ...name.split('/'));
    const data = await new DurableJsonAdapter<T>(`${file}.json`).read().catch((err: unknown) => {
      if (err instanceof StamplineError) throw err;
      throw new StamplineError('STORE_UNAVAILABLE', `cannot read ${file}.json: ${(err as Error).message}`);
    });
    return data ?? undefined;
  }
}
