/**
 * Many small lowdb documents in a folder tree, one JSON file each. Splitting state into small
 * documents (an order, a block of its firearms) keeps the cost of a durable write independent
 * of how long the line has run; start-up reads nothing, and documents are read when opened.
 *
 * There is at most one live `Doc` per name: callers that open the same name share it, so two
 * writers can never overwrite each other's changes. Recently used documents are kept in a
 * bounded cache; beyond it, a document stays in memory only while someone holds it.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { StamplineError } from '../errors.js';
import { SerialQueue } from '../serial-queue.js';
import { DurableJsonAdapter } from './adapter.js';
import { mkdirDurable, removeFileDurable } from './durable.js';
import { FileLock } from './lock.js';
import { checkName } from './names.js';

export interface DocumentStoreOptions {
  dir: string;
  /** Documents kept in memory after their last use. Default 256. */
  cacheSize?: number;
}

export interface Doc<T> {
  readonly name: string;
  /** The document as last written (or its defaults, before the first write). */
  readonly data: T;
  /**
   * Changes the document and makes the change durable before resolving. `fn` gets a copy: if it
   * throws, or the write fails, nothing is written and `data` is unchanged. Updates of one
   * document run one at a time, in call order.
   */
  update(fn: (draft: T) => void | Promise<void>): Promise<void>;
  /** Writes `data` as it is now (after changing it in place, lowdb-style). Prefer `update`. */
  write(): Promise<void>;
}

const DOC_SUFFIX = '.json';

class DocImpl<T> implements Doc<T> {
  private readonly queue = new SerialQueue();
  removed = false;

  constructor(
    readonly name: string,
    private readonly low: Low<T>,
    private readonly store: DocumentStore,
  ) {}

  get data(): T {
    return this.low.data;
  }

  /** Resolves when every queued operation has finished. */
  settled(): Promise<unknown> {
    return this.queue.settled();
  }

  enqueue<R>(task: () => Promise<R>): Promise<R> {
    return this.queue.run(() => {
      this.assertUsable();
      return task();
    });
  }

  private assertUsable(): void {
    if (this.removed) {
      throw new StamplineError('NOT_FOUND', `document ${this.name} was removed`, { name: this.name });
    }
    this.store.assertStarted();
  }

  update(fn: (draft: T) => void | Promise<void>): Promise<void> {
    return this.enqueue(async () => {
      const draft = structuredClone(this.low.data);
      await fn(draft);
      await this.low.adapter.write(draft);
      this.low.data = draft;
    });
  }

  write(): Promise<void> {
    return this.enqueue(() => this.low.write());
  }
}

export class DocumentStore {
  private readonly opts: DocumentStoreOptions;
  private started = false;
  private lock: FileLock | undefined;
  /** Every live document, held weakly so that one nobody holds can be collected. */
  private readonly live = new Map<string, WeakRef<DocImpl<unknown>>>();
  /** Recently used documents, held strongly, least recent first. */
  private readonly recent = new Map<string, DocImpl<unknown>>();
  private readonly opening = new Map<string, Promise<DocImpl<unknown>>>();
  private readonly finalizer = new FinalizationRegistry<string>((name) => {
    if (this.live.get(name)?.deref() === undefined) this.live.delete(name);
  });

  constructor(opts: DocumentStoreOptions) {
    this.opts = opts;
  }

  get dir(): string {
    return this.opts.dir;
  }

  private get cacheSize(): number {
    return this.opts.cacheSize ?? 256;
  }

  async start(): Promise<void> {
    if (this.started) return;
    const size = this.cacheSize;
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new StamplineError('INVALID_INPUT', `cacheSize must be a whole number, not ${size}`, {
        cacheSize: size,
      });
    }
    try {
      await mkdirDurable(this.opts.dir);
    } catch (err) {
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot create ${this.opts.dir}: ${(err as Error).message}`,
        { dir: this.opts.dir },
        { cause: err },
      );
    }
    this.lock = new FileLock(join(this.opts.dir, '.lock'));
    await this.lock.acquire();
    this.started = true;
  }

  /** Waits for every queued write, then lets go of the documents. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.started) return;
    await Promise.allSettled([...this.opening.values()]);
    const docs = [...this.live.values()].map((r) => r.deref()).filter((d) => d !== undefined);
    await Promise.all(docs.map((d) => d.settled()));
    this.started = false;
    this.recent.clear();
    this.live.clear();
    await this.lock?.release();
    this.lock = undefined;
  }

  assertStarted(): void {
    if (!this.started) {
      throw new StamplineError('STORE_UNAVAILABLE', `the document store in ${this.opts.dir} is not started`, {
        dir: this.opts.dir,
      });
    }
  }

  private fileOf(name: string): string {
    const parts = checkName(name);
    return join(this.opts.dir, ...parts.slice(0, -1), `${parts.at(-1)}${DOC_SUFFIX}`);
  }

  /**
   * The document with this name, read from disk or, when there is no file yet, holding
   * `defaults()` (not written until the first update). A corrupt file is STORE_CORRUPT.
   */
  async open<T>(name: string, defaults: () => T): Promise<Doc<T>> {
    this.assertStarted();
    const file = this.fileOf(name);
    const existing = this.live.get(name)?.deref();
    if (existing) {
      this.touch(name, existing);
      return existing as unknown as Doc<T>;
    }
    let pending = this.opening.get(name);
    if (!pending) {
      pending = (async () => {
        const low = new Low<T>(new DurableJsonAdapter<T>(file), defaults());
        await low.read();
        return new DocImpl<T>(name, low, this) as unknown as DocImpl<unknown>;
      })();
      this.opening.set(name, pending);
      try {
        const doc = await pending;
        this.live.set(name, new WeakRef(doc));
        this.finalizer.register(doc, name);
        this.touch(name, doc);
      } finally {
        this.opening.delete(name);
      }
    }
    return (await pending) as unknown as Doc<T>;
  }

  /**
   * A document that must have been written: STORE_MISSING, naming its file, when it has not. For
   * a document whose absence would otherwise read as its defaults (an order's block of firearms).
   */
  async openExisting<T>(name: string, what: string): Promise<Doc<T>> {
    const live = this.live.get(name)?.deref();
    if (!live && !(await this.exists(name))) {
      const file = this.fileOf(name);
      throw new StamplineError('STORE_MISSING', `${file} is missing: ${what}; restore it from a backup`, {
        file,
        name,
      });
    }
    const doc = await this.open<T>(name, () => null as T);
    if (doc.data === null) {
      this.close(name);
      throw new StamplineError('STORE_MISSING', `${this.fileOf(name)} vanished while it was opened`, {
        file: this.fileOf(name),
        name,
      });
    }
    return doc;
  }

  /** The file a document is kept in. */
  file(name: string): string {
    return this.fileOf(name);
  }

  private touch(name: string, doc: DocImpl<unknown>): void {
    this.recent.delete(name);
    if (this.cacheSize === 0) return;
    this.recent.set(name, doc);
    while (this.recent.size > this.cacheSize) {
      const oldest = this.recent.keys().next().value as string;
      this.recent.delete(oldest);
    }
  }

  /**
   * Lets the cache forget a document. Holders of its `Doc` may go on using it; once nobody
   * does, the next open reads it from disk again.
   */
  close(name: string): void {
    this.recent.delete(name);
  }

  /** Documents held in memory right now (cached or still in use). */
  get openCount(): number {
    let n = 0;
    for (const ref of this.live.values()) if (ref.deref()) n++;
    return n;
  }

  /** True when the document has been written (defaults that were never written do not count). */
  async exists(name: string): Promise<boolean> {
    this.assertStarted();
    try {
      return (await stat(this.fileOf(name))).isFile();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot look for ${name}: ${(err as Error).message}`,
        { name },
        { cause: err },
      );
    }
  }

  /** Names of the documents directly in a folder (`''` for the top), sorted. */
  async list(prefix: string): Promise<string[]> {
    return (await this.entries(prefix))
      .filter((e) => e.isFile() && e.name.endsWith(DOC_SUFFIX) && !e.name.startsWith('.'))
      .map((e) => this.join(prefix, e.name.slice(0, -DOC_SUFFIX.length)))
      .sort();
  }

  /** Names of the sub-folders directly in a folder, sorted. */
  async folders(prefix: string): Promise<string[]> {
    return (await this.entries(prefix))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => this.join(prefix, e.name))
      .sort();
  }

  private join(prefix: string, base: string): string {
    const parts = checkName(prefix, true);
    return [...parts, base].join('/');
  }

  private async entries(prefix: string) {
    this.assertStarted();
    const folder = join(this.opts.dir, ...checkName(prefix, true));
    try {
      return await readdir(folder, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw new StamplineError(
        'STORE_UNAVAILABLE',
        `cannot list ${folder}: ${(err as Error).message}`,
        { folder },
        { cause: err },
      );
    }
  }

  /**
   * Deletes a document durably, after any update already queued on it. A `Doc` still held for
   * it refuses further updates; opening the name again starts from defaults.
   */
  async remove(name: string): Promise<void> {
    this.assertStarted();
    const file = this.fileOf(name);
    await this.opening.get(name)?.catch(() => {});
    const doc = this.live.get(name)?.deref();
    if (!doc) {
      await removeFileDurable(file);
      return;
    }
    await doc.enqueue(async () => {
      await removeFileDurable(file);
      doc.removed = true;
    });
    this.recent.delete(name);
    if (this.live.get(name)?.deref() === doc) this.live.delete(name);
  }
}
