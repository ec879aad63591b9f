/**
 * The data folder's identity, `<dataDir>/store.json`: written once when a line first starts on a
 * new folder, and listing every file the store must hold from then on (the allocator, the list of
 * unfinished orders, each log's segment record, each index's shard record). A missing file is
 * never a fresh start: a listed file that is gone is refused, naming it, and a folder that holds a
 * line's data but no identity is refused, because its identity (and whatever else) was deleted.
 *
 * It is rewritten only when the list grows (a new kind of file appears, at a start), never on a
 * firearm's write.
 */
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { readFileIfExists, writeFileDurable } from './durable.js';

export const IDENTITY_FILE = 'store.json';

export interface StoreIdentityDoc {
  format: 1;
  id: string;
  createdAt: string;
  /** Paths relative to the data folder, `/`-separated, that must exist. */
  expects: string[];
}

/**
 * Folders of the data folder that hold a line's data once it has any. Lock files and empty
 * folders do not count; anything else in the folder (users, configuration) is not the store's.
 */
export const DATA_FOLDERS = [
  'docs/line',
  'docs/orders',
  'audit',
  'outbox',
  'serials',
  'codes',
  'qa',
  'journal',
];

export class StoreIdentity {
  private doc: StoreIdentityDoc | undefined;

  constructor(readonly dataDir: string) {}

  get file(): string {
    return join(this.dataDir, IDENTITY_FILE);
  }

  get id(): string | undefined {
    return this.doc?.id;
  }

  /**
   * Reads the identity and checks every file it lists; on a folder holding no data, writes a new
   * one. Refuses (STORE_MISSING) a listed file that is gone, or data without an identity.
   */
  async open(): Promise<'created' | 'opened'> {
    const doc = await this.read();
    if (doc) {
      this.doc = doc;
      const missing = await this.missing();
      if (missing.length > 0) {
        const file = join(this.dataDir, missing[0]!);
        throw new StamplineError(
          'STORE_MISSING',
          `${file} is missing, though the store (${this.file}) holds it: the data folder has been damaged; restore it from a backup and run \`stampline store check\``,
          { file, missing: missing.map((m) => join(this.dataDir, m)) },
        );
      }
      return 'opened';
    }
    const found = await this.dataPresent();
    if (found.length > 0) {
      throw new StamplineError(
        'STORE_MISSING',
        `${this.dataDir} holds a line's data (${found.join(', ')}) but no ${this.file}: it was deleted, or the folder was copied without it; run \`stampline store check --repair\` to verify the folder and adopt it`,
        { file: this.file, found },
      );
    }
    await this.create();
    return 'created';
  }

  /** Writes a new identity listing nothing yet (a new folder, or one `store check --repair` adopts). */
  async create(expects: string[] = []): Promise<void> {
    const doc: StoreIdentityDoc = {
      format: 1,
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      expects: [...new Set(expects)].sort(),
    };
    await writeFileDurable(this.file, `${JSON.stringify(doc)}\n`);
    this.doc = doc;
  }

  /** Writes an identity for a folder that has none, without checking it (the line's own tests). */
  async ensure(): Promise<void> {
    this.doc = (await this.read()) ?? this.doc;
    if (!this.doc) await this.create();
  }

  /** Adds to the list the paths among these that exist now; writes only when the list grows. */
  async expect(paths: string[]): Promise<void> {
    const doc = this.doc ?? (await this.read());
    if (!doc) throw new StamplineError('INTERNAL', `${this.file} is not open`);
    const add: string[] = [];
    for (const p of paths) if (!doc.expects.includes(p) && (await exists(join(this.dataDir, p)))) add.push(p);
    if (add.length === 0) return;
    const next = { ...doc, expects: [...doc.expects, ...add].sort() };
    await writeFileDurable(this.file, `${JSON.stringify(next)}\n`);
    this.doc = next;
  }

  /** Listed paths that are gone. */
  async missing(): Promise<string[]> {
    const doc = this.doc ?? (await this.read());
    if (!doc) return [];
    const gone: string[] = [];
    for (const p of doc.expects) if (!(await exists(join(this.dataDir, p)))) gone.push(p);
    return gone;
  }

  /** The identity as stored, or undefined when there is none; STORE_CORRUPT when it does not parse. */
  async read(): Promise<StoreIdentityDoc | undefined> {
    const text = await readFileIfExists(this.file);
    if (text === undefined) return undefined;
    let doc: Partial<StoreIdentityDoc> | undefined;
    try {
      doc = JSON.parse(text) as Partial<StoreIdentityDoc>;
    } catch {
      doc = undefined;
    }
    if (
      doc?.format !== 1 ||
      typeof doc.id !== 'string' ||
      !Array.isArray(doc.expects) ||
      !doc.expects.every((p) => typeof p === 'string')
    ) {
      throw new StamplineError('STORE_CORRUPT', `${this.file} is not a store identity`, { file: this.file });
    }
    return doc as StoreIdentityDoc;
  }

  /** The data folders that hold something other than lock files. */
  async dataPresent(): Promise<string[]> {
    const found: string[] = [];
    for (const rel of DATA_FOLDERS) {
      let names: string[];
      try {
        names = await readdir(join(this.dataDir, rel));
      } catch {
        continue;
      }
      if (names.some((n) => !n.endsWith('.lock') && !n.endsWith('.tmp'))) found.push(rel);
    }
    return found;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new StamplineError('STORE_UNAVAILABLE', `cannot look for ${path}: ${(err as Error).message}`, {
      path,
    });
  }
}
