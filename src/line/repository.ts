/**
 * Where the line keeps orders and firearms. Each order is a header document plus its firearms
 * in chunks of CHUNK_SIZE, so a firearm's state change rewrites one small chunk whatever the size
 * of the order or the history of the line. Only unfinished orders are held in memory; finished
 * ones are read from disk on demand.
 *
 * The headers of finished orders are also listed in the order catalogue, an append-only log
 * written when an order is retired, so that every header is read in one go instead of one file
 * per order (100,000 files for a million firearms in orders of ten). It is read in the background
 * after start-up, which the line does not need it for: only listing orders and retiring one wait
 * for it, so start-up does not grow with the line's history.
 *
 * Serial numbers the line has ever held are in a sharded index read on demand, because "never
 * engraved before on this line" must be checked against all of history, which start-up must not
 * read. Codes the line has given firearms are in another, so that QA finds a firearm by the code
 * on its cases.
 */
import { dirname, join, relative, sep } from 'node:path';
import { StamplineError } from '../errors.js';
import type { Doc, DocumentStore } from '../store/documents.js';
import { StoreIdentity } from '../store/identity.js';
import { activeListBehind, orderIsFinished, type UnlistedOrder, unlistedOrders } from './active-witness.js';
import { CodeIndex } from './code-index.js';
import {
  CHUNK_SIZE,
  type ChunkDoc,
  type FirearmRef,
  firearmAt,
  firearmChunkName,
  firearmsOf,
  type LoadedOrder,
  orderDocPath,
  pad,
  placeholderHeader,
  type StoredFirearm,
} from './loaded-order.js';
import type { Firearm, OrderHeader } from './model.js';
import { isFinishedOrderState, newestFirst, readOrderState } from './model.js';
import { type CatalogueRebuild, OrderCatalogue } from './order-catalogue.js';
import { SerialIndex } from './serial-index.js';

export {
  allFinished,
  CHUNK_SIZE,
  countFirearms,
  type FirearmRef,
  firearmAt,
  firearmChunkName,
  firearmsOf,
  type LoadedOrder,
  orderDocPath,
  type StoredFirearm,
} from './loaded-order.js';
export {
  type CatalogueRebuild,
  ORDER_CATALOGUE,
  orderCatalogueSegment,
} from './order-catalogue.js';

/** The list of unfinished orders: a document that must exist once the line has started. */
export const ACTIVE_ORDERS = 'line/active-orders';

interface ActiveDoc {
  orderIds: string[];
  /**
   * The orders retired last, newest last (at most RECENTLY_RETIRED): start-up takes an order the
   * serial index names recently as finished when it is here, without reading its header
   * (`active-witness.ts`). Absent in folders written before it.
   */
  retired?: string[];
}

/** How many retired orders the list of unfinished orders remembers (one per serial index shard). */
const RECENTLY_RETIRED = 256;

export class LineRepository {
  private readonly active = new Map<string, LoadedOrder>();
  private readonly dataDir: string;
  /** Unfinished orders the last start dropped because their creation never finished. */
  unborn: string[] = [];
  private activeDoc!: Doc<ActiveDoc>;
  private readonly serials: SerialIndex;
  private readonly codes: CodeIndex;
  private readonly catalogue: OrderCatalogue;
  /** The background load of the catalogue; never rejects: a failure is kept in `catalogueFailure`. */
  private catalogueLoad: Promise<void> = Promise.resolve();
  private catalogueFailure: StamplineError | undefined;
  /** Lets the load begin; calling it again does nothing. */
  private beginLoad: () => void = () => {};

  /** The code index lives beside the serial index (`<dataDir>/codes`) unless told otherwise. */
  constructor(
    private readonly store: DocumentStore,
    serialIndexDir: string,
    codeIndexDir = join(dirname(serialIndexDir), 'codes'),
  ) {
    this.dataDir = dirname(serialIndexDir);
    this.serials = new SerialIndex(serialIndexDir);
    this.codes = new CodeIndex(codeIndexDir);
    this.catalogue = new OrderCatalogue(store.dir);
  }

  /**
   * Loads the unfinished orders, and the catalogue of finished ones in the background (see
   * `finishedOrdersLoaded`): at once, or with `finishedOrders: 'when-asked'` once
   * `loadFinishedOrders()` is called or something needs them, so that a caller still starting up
   * does not share the thread with the read. An order both unfinished and in the catalogue (a
   * retirement cut short after its entry, or a rework reopening it) is taken from its own header
   * file, which is always the newer. Without a catalogue (a store written before there was one, or
   * a catalogue deleted) every header file is read once to write it.
   */
  async start(
    options: {
      finishedOrders?: 'at-once' | 'when-asked';
      /** Whether an order was ever created (its audit entry), asked only of an unfinished order with no header. */
      wasCreated?: (orderId: string) => Promise<boolean>;
    } = {},
  ): Promise<void> {
    const identity = new StoreIdentity(this.dataDir);
    await identity.ensure();
    this.serials.start();
    this.codes.start();
    this.activeDoc = await this.store.open<ActiveDoc>(ACTIVE_ORDERS, () => ({ orderIds: [] }));
    // Written at once, so that from now on its absence is damage, never a line with no orders.
    if (!(await this.store.exists(ACTIVE_ORDERS))) await this.activeDoc.update(() => {});
    const unborn: string[] = [];
    this.unborn = [];
    for (const id of this.activeDoc.data.orderIds) {
      const order = await this.loadOrder(id);
      if (order) this.active.set(id, order);
      else {
        await this.checkUnborn(id, options.wasCreated);
        unborn.push(id);
      }
    }
    this.unborn = unborn;
    await identity.expect(this.parts());
    // An older copy of the list of unfinished orders leaves out the orders created since.
    const retired = new Set(this.activeDoc.data.retired ?? []);
    const unlisted = await unlistedOrders(
      await this.serials.recentOrders(),
      (id) => this.active.has(id) || unborn.includes(id) || retired.has(id),
      (id) => this.headerOnDisk(id),
    );
    if (unlisted.length > 0) throw activeListBehind(this.store.file(ACTIVE_ORDERS), unlisted);
    // An order whose creation stopped before its header was written does not exist.
    if (unborn.length > 0) {
      await this.activeDoc.update((d) => {
        d.orderIds = d.orderIds.filter((id) => !unborn.includes(id));
      });
    }
    this.catalogue.reset();
    this.catalogueFailure = undefined;
    const asked = new Promise<void>((resolve) => {
      this.beginLoad = resolve;
    });
    this.catalogueLoad = asked
      .then(() => this.catalogue.start(() => this.finishedHeadersOnDisk()))
      .then(() => this.accountForOrderFolders())
      .catch((err: unknown) => {
        this.catalogueFailure = this.catalogue.failure(err);
      });
    if (options.finishedOrders !== 'when-asked') this.beginLoad();
  }

  /** The files this repository keeps that must never go missing, relative to the data folder. */
  parts(): string[] {
    const rel = (file: string) => relative(this.dataDir, file).split(sep).join('/');
    return [rel(this.store.file(ACTIVE_ORDERS)), rel(this.serials.recordFile), rel(this.codes.recordFile)];
  }

  /**
   * An unfinished order without a header is one whose creation stopped before its header was
   * written, unless its firearms moved on: they change only once the order exists, so then its
   * header was deleted, and the order is refused rather than dropped.
   */
  private async checkUnborn(id: string, wasCreated?: (orderId: string) => Promise<boolean>): Promise<void> {
    const base = this.orderPath(id);
    if (await wasCreated?.(id)) {
      const file = this.store.file(`${base}/header`);
      throw new StamplineError(
        'STORE_MISSING',
        `${file} is missing, though order ${id} is unfinished and the audit trail records its creation; restore it from a backup`,
        { file, orderId: id },
      );
    }
    for (const name of await this.store.list(base)) {
      if (!/\/firearms-\d+$/.test(name)) continue;
      const chunk = await this.store.open<ChunkDoc>(name, () => ({ firearms: [] }));
      this.store.close(name);
      if (chunk.data.firearms.some((f) => f.state !== 'queued' || f.code !== undefined)) {
        const file = this.store.file(`${base}/header`);
        throw new StamplineError(
          'STORE_MISSING',
          `${file} is missing, though order ${id} is unfinished and its firearms have been worked on; restore it from a backup`,
          { file, orderId: id },
        );
      }
    }
  }

  /** Begins loading the finished orders' headers, if it has not begun. */
  loadFinishedOrders(): void {
    this.beginLoad();
  }

  /**
   * Waits for a catalogue load in progress, or stops it early where it has written nothing, so
   * that nothing is written once this resolves; a rebuild already writing its file finishes.
   */
  async stop(): Promise<void> {
    this.catalogue.abandon();
    // A load never begun ends at once, having read nothing.
    this.beginLoad();
    await this.catalogueLoad;
    await this.catalogue.stop();
  }

  /**
   * Resolves once the finished orders' headers are loaded; rejects with STORE_UNAVAILABLE, naming
   * the catalogue, when they could not be (until a restart), or when the repository stopped first.
   * Waiting does not begin the load (see `loadFinishedOrders`).
   */
  async finishedOrdersLoaded(): Promise<void> {
    await this.catalogueLoad;
    if (this.catalogueFailure) throw this.catalogueFailure;
  }

  /** Set once the load of the finished orders has had to write the catalogue afresh from the header files. */
  get catalogueRebuild(): CatalogueRebuild | undefined {
    return this.catalogue.rebuild;
  }

  /**
   * Every header file of an order not unfinished: read only to rebuild the catalogue, which runs
   * beside the line. An order's id is listed as unfinished before its header is written, so an
   * order created meanwhile is never taken for a finished one.
   */
  private async finishedHeadersOnDisk(): Promise<OrderHeader[]> {
    return this.unlistedHeaders(await this.store.folders('orders'));
  }

  /**
   * The headers in `folders` of orders not listed as unfinished, all finished: an unfinished one
   * means the list of unfinished orders is an older copy, and is refused (`active-witness.ts`).
   */
  private async unlistedHeaders(folders: Iterable<string>): Promise<OrderHeader[]> {
    const headers: OrderHeader[] = [];
    const unlisted: UnlistedOrder[] = [];
    for (const folder of folders) {
      this.catalogue.checkNotAbandoned();
      const name = `${folder}/header`;
      if (!(await this.store.exists(name))) continue;
      const doc = await this.store.open<OrderHeader>(name, placeholderHeader);
      this.store.close(name);
      const h = readOrderState(doc.data);
      if (this.active.has(h.id) || this.activeDoc.data.orderIds.includes(h.id)) continue;
      if (orderIsFinished(h)) headers.push(h);
      else unlisted.push({ orderId: h.id, state: h.state, header: this.store.file(name) });
    }
    if (unlisted.length > 0) throw activeListBehind(this.store.file(ACTIVE_ORDERS), unlisted);
    return headers;
  }

  /**
   * After the catalogue is read: every order folder is accounted for, listed as unfinished or in
   * the catalogue. A finished order the catalogue lacks (cut at a line boundary) goes back in.
   */
  private async accountForOrderFolders(): Promise<void> {
    const known = new Set<string>();
    for (const id of this.activeDoc.data.orderIds) known.add(this.orderPath(id));
    for (const h of this.catalogue.headers()) known.add(this.orderPath(h.id));
    const folders = (await this.store.folders('orders')).filter((f) => !known.has(f));
    const lacking = await this.unlistedHeaders(folders);
    if (lacking.length === 0) return;
    this.catalogue.checkNotAbandoned();
    for (const h of lacking) await this.catalogue.add(h);
    this.catalogue.rebuild = {
      reason: 'incomplete',
      orders: lacking.length,
      detail: `finished orders missing from the catalogue: ${lacking
        .slice(0, 10)
        .map((h) => h.id)
        .join(', ')}${lacking.length > 10 ? ', …' : ''}`,
    };
  }

  /** An order's header as its file holds it, or undefined when it has none. */
  private async headerOnDisk(id: string): Promise<{ header: OrderHeader; file: string } | undefined> {
    const name = `${this.orderPath(id)}/header`;
    if (!(await this.store.exists(name))) return undefined;
    const doc = await this.store.open<OrderHeader>(name, placeholderHeader);
    this.store.close(name);
    return { header: readOrderState(doc.data), file: this.store.file(name) };
  }

  private orderPath(id: string): string {
    return orderDocPath(id);
  }

  private async loadOrder(id: string): Promise<LoadedOrder | undefined> {
    const base = this.orderPath(id);
    if (!(await this.store.exists(`${base}/header`))) return undefined;
    const header = await this.store.open<OrderHeader>(`${base}/header`, placeholderHeader);
    readOrderState(header.data);
    const chunks: Doc<ChunkDoc>[] = [];
    const count = Math.ceil(header.data.size / CHUNK_SIZE);
    for (let i = 0; i < count; i++)
      chunks.push(await this.chunkOf({ orderId: id, seq: i * CHUNK_SIZE }, header.data));
    return { header, chunks };
  }

  /**
   * For each of these serials the line holds, the order that last held it and whether that order
   * is unfinished. Index entries of an order whose creation never finished are passed over.
   */
  async holders(serials: Iterable<string>): Promise<Map<string, { orderId: string; unfinished: boolean }>> {
    const result = new Map<string, { orderId: string; unfinished: boolean }>();
    const exists = new Map<string, boolean>();
    for (const [serial, orderIds] of await this.serials.lookup(serials)) {
      for (let i = orderIds.length - 1; i >= 0; i--) {
        const orderId = orderIds[i]!;
        let real = exists.get(orderId);
        if (real === undefined) {
          real = await this.orderExists(orderId);
          exists.set(orderId, real);
        }
        if (!real) continue;
        const state = this.active.get(orderId)?.header.data.state;
        result.set(serial, {
          orderId,
          unfinished: state !== undefined && !isFinishedOrderState(state),
        });
        break;
      }
    }
    return result;
  }

  /**
   * Right before the catalogue is loaded too: every order keeps its header file, and an order
   * exists once that file does, so the file answers for a finished order the catalogue has not
   * listed yet.
   */
  async orderExists(id: string): Promise<boolean> {
    return (
      this.active.has(id) ||
      this.catalogue.has(id) ||
      (await this.store.exists(`${this.orderPath(id)}/header`))
    );
  }

  /**
   * Stores a new order. Chunks, serial index and the list of unfinished orders first, the header
   * last: an order exists once its header does, so a crash part-way leaves only unreferenced
   * chunks (overwritten by the next creation), index entries naming an order that does not exist
   * (passed over by lookups) and an unfinished id without a header (dropped by start()). An
   * order never exists without being unfinished or in the catalogue, so the order list holds it.
   */
  async createOrder(header: OrderHeader, firearms: Firearm[]): Promise<LoadedOrder> {
    const base = this.orderPath(header.id);
    const chunks: Doc<ChunkDoc>[] = [];
    for (let i = 0; i * CHUNK_SIZE < firearms.length; i++) {
      const doc = await this.store.open<ChunkDoc>(`${base}/firearms-${pad(i)}`, () => ({ firearms: [] }));
      const slice = firearms.slice(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE);
      await doc.update((d) => {
        d.firearms = slice;
      });
      chunks.push(doc);
    }
    await this.serials.add(firearms.map((f) => ({ serial: f.serial, orderId: header.id, seq: f.seq })));
    await this.activeDoc.update((d) => {
      if (!d.orderIds.includes(header.id)) d.orderIds.push(header.id);
    });
    const headerDoc = await this.store.open<OrderHeader>(`${base}/header`, () => header);
    await headerDoc.update((d) => {
      Object.assign(d, header);
    });
    const order = { header: headerDoc, chunks };
    this.active.set(header.id, order);
    return order;
  }

  activeOrders(): LoadedOrder[] {
    return [...this.active.values()];
  }

  activeOrder(id: string): LoadedOrder | undefined {
    return this.active.get(id);
  }

  /** An order, active or finished; finished orders are read from disk and not kept. */
  async order(id: string): Promise<LoadedOrder | undefined> {
    const order = this.active.get(id) ?? (await this.loadOrder(id));
    if (!order) this.checkListed(id);
    return order;
  }

  /** A finished order the catalogue lists has a header file: its absence is damage, not "no such order". */
  private checkListed(id: string): void {
    if (!this.catalogue.has(id)) return;
    const file = this.store.file(`${this.orderPath(id)}/header`);
    throw new StamplineError(
      'STORE_MISSING',
      `${file} is missing, though the order catalogue lists order ${id}; restore it from a backup`,
      { file, orderId: id },
    );
  }

  /**
   * Headers of every order, active or finished, newest first, from memory: unfinished orders'
   * own headers and the catalogue's for the rest, once it is loaded. The stored objects: do not
   * change them.
   */
  async listOrders(): Promise<OrderHeader[]> {
    return (await this.orderHeaders()).sort(newestFirst);
  }

  /** `listOrders` unsorted, for a caller that keeps its own list. */
  async orderHeaders(): Promise<OrderHeader[]> {
    this.beginLoad();
    await this.finishedOrdersLoaded();
    const headers: OrderHeader[] = [];
    for (const h of this.catalogue.headers()) if (!this.active.has(h.id)) headers.push(h);
    for (const order of this.active.values()) headers.push(order.header.data);
    return headers;
  }

  /** Writes a firearm's chunk durably after `change` has been applied to it. */
  async updateFirearm(order: LoadedOrder, seq: number, change: (f: Firearm) => void): Promise<Firearm> {
    const chunk = order.chunks[Math.floor(seq / CHUNK_SIZE)];
    if (!chunk)
      throw new StamplineError('INTERNAL', `firearm ${seq} of order ${order.header.data.id} has no chunk`);
    const at = seq % CHUNK_SIZE;
    await chunk.update((d) => {
      const f = d.firearms[at];
      if (!f)
        throw new StamplineError('INTERNAL', `firearm ${seq} of order ${order.header.data.id} is missing`);
      change(f);
    });
    return chunk.data.firearms[at]!;
  }

  /**
   * Writes an order's header. A retired order's catalogue entry follows it (a new last line): the
   * header file first, so a crash in between leaves the catalogue behind its file, never ahead.
   */
  async updateHeader(order: LoadedOrder, change: (h: OrderHeader) => void): Promise<void> {
    await order.header.update(change);
    if (this.active.has(order.header.data.id)) return;
    this.beginLoad();
    await this.finishedOrdersLoaded();
    await this.catalogue.add(order.header.data);
  }

  /** The code on the last line of each code index shard (see `CodeIndex.lastCodes`). */
  codeIndexTails(): Promise<string[]> {
    return this.codes.lastCodes();
  }

  get codeIndexDir(): string {
    return dirname(this.codes.recordFile);
  }

  /** Records that a firearm was given a code; durable before it resolves. */
  async indexCode(code: string, firearm: Firearm): Promise<void> {
    await this.codes.add([{ code, orderId: firearm.orderId, seq: firearm.seq, serial: firearm.serial }]);
  }

  /** True when the code index names this firearm for this code. */
  async codeIndexed(code: string, firearm: Firearm): Promise<boolean> {
    return (await this.codes.lookup(code)).some(
      (h) => h.orderId === firearm.orderId && h.seq === firearm.seq,
    );
  }

  /**
   * The firearms that were given this code (current or voided), as stored. Index entries whose
   * firearm does not carry the code (a crash between the two writes) are passed over.
   */
  async firearmsWithCode(code: string): Promise<StoredFirearm[]> {
    const found: StoredFirearm[] = [];
    for (const h of await this.codes.lookup(code)) {
      const stored = await this.firearm(h);
      if (!stored) continue;
      const f = stored.firearm;
      if (f.code?.text === code || f.voided.some((v) => v.text === code)) found.push(stored);
    }
    return found;
  }

  /** Every firearm that has held this serial, oldest order first, as stored. */
  async firearmsWithSerial(serial: string): Promise<StoredFirearm[]> {
    const holders = (await this.serials.locate([serial])).get(serial) ?? [];
    const found: StoredFirearm[] = [];
    for (const h of holders) {
      let stored: StoredFirearm | undefined;
      if (h.seq !== undefined) {
        stored = await this.firearm({ orderId: h.orderId, seq: h.seq });
      } else {
        // entries written before the place was kept: the order is searched
        const order = await this.order(h.orderId);
        if (order) {
          for (const f of firearmsOf(order)) {
            if (f.serial === serial) {
              stored = { order: order.header.data, firearm: f };
              break;
            }
          }
        }
      }
      if (stored && stored.firearm.serial === serial) found.push(stored);
    }
    return found;
  }

  /**
   * One firearm and its order's header, from memory for an unfinished order, else from its
   * chunk on disk (the rest of the order is not read).
   */
  async firearm(ref: FirearmRef): Promise<StoredFirearm | undefined> {
    const active = this.active.get(ref.orderId);
    if (active) {
      const f = firearmAt(active, ref.seq);
      return f ? { order: active.header.data, firearm: f } : undefined;
    }
    const base = this.orderPath(ref.orderId);
    if (!Number.isSafeInteger(ref.seq) || ref.seq < 0) return undefined;
    if (!(await this.store.exists(`${base}/header`))) {
      this.checkListed(ref.orderId);
      return undefined;
    }
    const header = await this.store.open<OrderHeader>(`${base}/header`, placeholderHeader);
    readOrderState(header.data);
    if (ref.seq >= header.data.size) return undefined;
    const chunk = await this.chunkOf(ref, header.data);
    const f = chunk.data.firearms[ref.seq % CHUNK_SIZE];
    return f ? { order: header.data, firearm: f } : undefined;
  }

  /**
   * The block of firearms holding `ref`, which must be on the disk, hold as many firearms as its
   * order's size says and be this order's: a block deleted, cut short or copied from another order
   * is STORE_MISSING naming its file, never an order with fewer firearms.
   */
  private async chunkOf(ref: FirearmRef, header?: OrderHeader): Promise<Doc<ChunkDoc>> {
    const i = Math.floor(ref.seq / CHUNK_SIZE);
    const name = firearmChunkName(ref);
    const chunk = await this.store.openExisting<ChunkDoc>(
      name,
      `a block of the firearms of order ${ref.orderId}, whose header is on the disk`,
    );
    if (header) {
      const expected = Math.min(CHUNK_SIZE, header.size - i * CHUNK_SIZE);
      const firearms = Array.isArray(chunk.data.firearms) ? chunk.data.firearms : [];
      const wrong =
        firearms.length !== expected
          ? `holds ${firearms.length} firearms where order ${ref.orderId} of ${header.size} puts ${expected}`
          : firearms.findIndex((f, j) => f?.orderId !== ref.orderId || f.seq !== i * CHUNK_SIZE + j) >= 0
            ? `holds firearms that are not those of order ${ref.orderId} at their places`
            : undefined;
      if (wrong) {
        this.store.close(name);
        const file = this.store.file(name);
        throw new StamplineError(
          'STORE_MISSING',
          `${file} ${wrong}: it was cut short or replaced; restore it from a backup`,
          {
            file,
            orderId: ref.orderId,
          },
        );
      }
    }
    return chunk;
  }

  /**
   * Changes one firearm of any order, active or finished, and writes its chunk durably. A
   * finished order is not loaded: only the firearm's chunk is read and written.
   */
  async updateStoredFirearm(ref: FirearmRef, change: (f: Firearm) => void): Promise<Firearm> {
    const active = this.active.get(ref.orderId);
    if (active) return this.updateFirearm(active, ref.seq, change);
    const chunk = await this.chunkOf(ref);
    const at = ref.seq % CHUNK_SIZE;
    await chunk.update((d) => {
      const f = d.firearms[at];
      if (!f) throw new StamplineError('INTERNAL', `firearm ${ref.seq} of order ${ref.orderId} is missing`);
      change(f);
    });
    return chunk.data.firearms[at]!;
  }

  /** Brings a finished order back into memory, unfinished again (a rework reopened it). */
  async reactivate(orderId: string): Promise<LoadedOrder> {
    const held = this.active.get(orderId);
    if (held) return held;
    const order = await this.loadOrder(orderId);
    if (!order) throw new StamplineError('ORDER_NOT_FOUND', `no order ${orderId}`, { orderId });
    await this.activeDoc.update((d) => {
      if (!d.orderIds.includes(orderId)) d.orderIds.push(orderId);
    });
    this.active.set(orderId, order);
    return order;
  }

  /**
   * Takes a finished order out of memory; it stays on disk and is read on demand. Its header goes
   * into the catalogue before the order leaves the list of unfinished ones, so a crash in between
   * leaves it in both, and start-up takes it from its header file and retires it again. It
   * waits for the catalogue's load, so that an entry is never appended beside a rebuild, which
   * writes a catalogue whole.
   */
  async retire(order: LoadedOrder): Promise<void> {
    this.beginLoad();
    await this.finishedOrdersLoaded();
    // The chunks' last in-memory changes (such as `reported`) are written before letting go.
    for (const c of order.chunks) await c.write();
    await this.catalogue.add(order.header.data);
    const id = order.header.data.id;
    await this.activeDoc.update((d) => {
      d.orderIds = d.orderIds.filter((o) => o !== id);
      d.retired = [...(d.retired ?? []).filter((o) => o !== id), id].slice(-RECENTLY_RETIRED);
    });
    this.active.delete(order.header.data.id);
    const base = this.orderPath(order.header.data.id);
    for (let i = 0; i < order.chunks.length; i++) this.store.close(`${base}/firearms-${pad(i)}`);
    this.store.close(`${base}/header`);
  }
}
