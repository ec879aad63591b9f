/**
 * The data folder's identity, `<dataDir>/store.json`: written once when a line first starts on a
 * new folder, and listing every file the store must hold from then on (the allocator, the list of
 * unfinished orders, each log's segment record, each index's shard record). A missing file is
 * never a fresh start: a listed file that is gone is refused, naming it, and a folder that holds a
 * line's data but no identity is refused, because its identity (and whatever else) was deleted.
 *
 * It is rewritten only when the list grows (a new kind of file appears, at a start) or the folder is
 * migrated to a newer data format (`migrations.ts`), never on a firearm's write.
 *
 * `format` is the data format version: the shape of everything in the folder, not only of this
 * file. A release reads the formats it knows and no newer one: a folder written by a newer release
 * is refused, naming both versions, before anything in it is touched.
 */
import { randomUUID } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { readFileIfExists, writeFileDurable } from './durable.js';

export const IDENTITY_FILE = 'store.json';

/**
 * The data format this release writes. 1: the folders written before the format was checked at
 * start-up. 2: `expects` holds each path once, and `migrations` records how the folder got here.
 * Raising it needs a migration from the one before (`migrations.ts`) and a fixture of the older
 * format (`tests/fixtures/format-N/`).
 */
export const DATA_FORMAT = 2;

/** One migration the folder has been through, oldest first. */
export interface MigrationNote {
  from: number;
  to: number;
  at: string;
  /** the stampline release that ran it */
  release: string;
}

export interface StoreIdentityDoc {
  format: number;
  id: string;
  createdAt: string;
  /** Paths relative to the data folder, `/`-separated, that must exist. Each once, sorted. */
  expects: string[];
  /** Format 2 and later. */
  migrations?: MigrationNote[];
  /**
   * Set while a migration is under way: the steps of the migration to `to` that are done. The
   * next start carries on from the first step not listed.
   */
  migrating?: { to: number; done: string[]; startedAt: string };
}

/** A folder written by a release newer than this one: refused, and nothing in it is changed. */
export function newerFormatError(file: string, format: number): StamplineError {
  return new StamplineError(
    'STORE_FORMAT_NEWER',
    `${file} says the data is in format ${format}, written by a newer release of stampline; this release reads data formats up to ${DATA_FORMAT}. Upgrade stampline to the release that wrote it, or restore a backup taken by this release; nothing in the folder was changed`,
    { file, format, known: DATA_FORMAT },
  );
}

/**
 * Folders of the data folder that hold a line's data once it has any. Lock files and empty
 * folders do not count; anything else in the folder (users, configuration) is not the store's.
 */
export const DATA_FOLDERS = ['docs/line', 'docs/orders', 'audit', 'outbox', 'serials', 'codes', 'qa'];

export class StoreIdentity {
  private doc: StoreIdentityDoc | undefined;

  constructor(readonly dataDir: string) {}

  get file(): string {
    return join(this.dataDir, IDENTITY_FILE);
  }

  get id(): string | undefined {
    return this.doc?.id;
  }

  /** The data format of the identity as last read or written. */
  get format(): number | undefined {
    return this.doc?.format;
  }

  /**
   * Reads the identity and checks every file it lists; on a folder holding no data, writes a new
   * one. Refuses (STORE_MISSING) a listed file that is gone, or data without an identity; refuses
   * a data format other than this release's (migrate an older one first: `migrateStore`).
   */
  async open(): Promise<'created' | 'opened'> {
    const doc = await this.read();
    if (doc) {
      if (doc.format !== DATA_FORMAT || doc.migrating) {
        throw new StamplineError(
          'STORE_UNAVAILABLE',
          `${this.file} holds data format ${doc.format}${doc.migrating ? ` part-way through its migration to ${doc.migrating.to}` : ''}; this release opens format ${DATA_FORMAT} only once the folder is migrated`,
          { file: this.file, format: doc.format },
        );
      }
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
      format: DATA_FORMAT,
      id: randomUUID(),
      createdAt: new Date().toISOString(),
      expects: [...new Set(expects)].sort(),
      migrations: [],
    };
    await this.write(doc);
  }

  /** Replaces the identity durably (temp file, fsync, rename, folder fsync). */
  async write(doc: StoreIdentityDoc): Promise<void> {
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
    for (const p of new Set(paths))
      if (!doc.expects.includes(p) && (await exists(join(this.dataDir, p)))) add.push(p);
    if (add.length === 0) return;
    await this.write({ ...doc, expects: [...new Set([...doc.expects, ...add])].sort() });
  }

  /** Listed paths that are gone. */
  async missing(): Promise<string[]> {
    const doc = this.doc ?? (await this.read());
    if (!doc) return [];
    const gone: string[] = [];
    for (const p of doc.expects) if (!(await exists(join(this.dataDir, p)))) gone.push(p);
    return gone;
  }

  /**
   * The identity as stored, or undefined when there is none; STORE_CORRUPT when it does not parse,
   * STORE_FORMAT_NEWER when a newer release wrote it. An older format is returned as it is.
   */
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
      !Number.isSafeInteger(doc?.format) ||
      (doc?.format as number) < 1 ||
      typeof doc?.id !== 'string' ||
      !Array.isArray(doc.expects) ||
      !doc.expects.every((p) => typeof p === 'string')
    ) {
      throw new StamplineError('STORE_CORRUPT', `${this.file} is not a store identity`, { file: this.file });
    }
    if ((doc.format as number) > DATA_FORMAT) throw newerFormatError(this.file, doc.format as number);
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
