/**
 * Where the line keeps orders and firearms. Each order is a header document plus its firearms
 * in chunks of CHUNK_SIZE, so a firearm's state change rewrites one small chunk whatever the size
 * of the order or the history of the line. Only unfinished orders are held in memory; finished
 * ones are read from disk on demand.
 *
 * Serial numbers the line has ever held are in a sharded index read on demand, because "never
 * engraved before on this line" must be checked against all of history, which start-up must not
 * read. Codes the line has given firearms are in another, so that QA finds a firearm by the code
 * on its cases.
 */
import { dirname, join } from 'node:path';
import { StamplineError } from '../errors.js';
import type { Doc, DocumentStore } from '../store/documents.js';
import { safeName } from '../store/names.js';
import { CodeIndex } from './code-index.js';
import type { Firearm, OrderCounts, OrderHeader } from './model.js';
import { isFinished } from './model.js';
import { SerialIndex } from './serial-index.js';

export const CHUNK_SIZE = 128;

interface ChunkDoc {
  firearms: Firearm[];
}

interface ActiveDoc {
  orderIds: string[];
}

/** An order held in memory while it is unfinished. */
export interface LoadedOrder {
  header: Doc<OrderHeader>;
  chunks: Doc<ChunkDoc>[];
}

/** Where a firearm is kept: its order and its place in it. */
export interface FirearmRef {
  orderId: string;
  seq: number;
}

/** A firearm as stored, with its order's header. Both are the stored objects: do not change them. */
export interface StoredFirearm {
  order: OrderHeader;
  firearm: Firearm;
}

export class LineRepository {
  private readonly active = new Map<string, LoadedOrder>();
  private activeDoc!: Doc<ActiveDoc>;
  private readonly serials: SerialIndex;
  private readonly codes: CodeIndex;

  /** The code index lives beside the serial index (`<dataDir>/codes`) unless told otherwise. */
  constructor(
    private readonly store: DocumentStore,
    serialIndexDir: string,
    codeIndexDir = join(dirname(serialIndexDir), 'codes'),
  ) {
    this.serials = new SerialIndex(serialIndexDir);
    this.codes = new CodeIndex(codeIndexDir);
  }

  async start(): Promise<void> {
    this.serials.start();
    this.codes.start();
    this.activeDoc = await this.store.open<ActiveDoc>('line/active-orders', () => ({ orderIds: [] }));
    for (const id of this.activeDoc.data.orderIds) {
      const order = await this.loadOrder(id);
      if (order) this.active.set(id, order);
    }
  }

  async stop(): Promise<void> {}

  private orderPath(id: string): string {
    return `orders/${safeName(id)}`;
  }

  private async loadOrder(id: string): Promise<LoadedOrder | undefined> {
    const base = this.orderPath(id);
    if (!(await this.store.exists(`${base}/header`))) return undefined;
    const header = await this.store.open<OrderHeader>(`${base}/header`, placeholderHeader);
    const chunks: Doc<ChunkDoc>[] = [];
    const count = Math.ceil(header.data.size / CHUNK_SIZE);
    for (let i = 0; i < count; i++) {
      chunks.push(await this.store.open<ChunkDoc>(`${base}/firearms-${pad(i)}`, () => ({ firearms: [] })));
    }
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
          unfinished: state !== undefined && state !== 'done' && state !== 'aborted',
        });
        break;
      }
    }
    return result;
  }

  async orderExists(id: string): Promise<boolean> {
    return this.active.has(id) || (await this.store.exists(`${this.orderPath(id)}/header`));
  }

  /**
   * Stores a new order. Chunks and serial index first, the header last: an order exists once its
   * header does, so a crash part-way leaves only unreferenced chunks (overwritten by the next
   * creation) and index entries naming an order that does not exist (passed over by lookups).
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
    const headerDoc = await this.store.open<OrderHeader>(`${base}/header`, () => header);
    await headerDoc.update((d) => {
      Object.assign(d, header);
    });
    await this.activeDoc.update((d) => {
      if (!d.orderIds.includes(header.id)) d.orderIds.push(header.id);
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
    return this.active.get(id) ?? (await this.loadOrder(id));
  }

  /** Headers of every order, active or finished, newest first. */
  async listOrders(): Promise<OrderHeader[]> {
    const headers: OrderHeader[] = [];
    for (const folder of await this.store.folders('orders')) {
      const name = `${folder}/header`;
      if (!(await this.store.exists(name))) continue;
      const doc = await this.store.open<OrderHeader>(name, placeholderHeader);
      headers.push(this.active.get(doc.data.id)?.header.data ?? doc.data);
    }
    return headers.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
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

  async updateHeader(order: LoadedOrder, change: (h: OrderHeader) => void): Promise<void> {
    await order.header.update(change);
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
    if (!(await this.store.exists(`${base}/header`))) return undefined;
    const header = await this.store.open<OrderHeader>(`${base}/header`, placeholderHeader);
    if (ref.seq >= header.data.size) return undefined;
    const chunk = await this.chunkOf(ref);
    const f = chunk.data.firearms[ref.seq % CHUNK_SIZE];
    return f ? { order: header.data, firearm: f } : undefined;
  }

  private chunkOf(ref: FirearmRef): Promise<Doc<ChunkDoc>> {
    const name = `${this.orderPath(ref.orderId)}/firearms-${pad(Math.floor(ref.seq / CHUNK_SIZE))}`;
    return this.store.open<ChunkDoc>(name, () => ({ firearms: [] }));
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

  /** Takes a finished order out of memory; it stays on disk and is read on demand. */
  async retire(order: LoadedOrder): Promise<void> {
    // The chunks' last in-memory changes (such as `reported`) are written before letting go.
    for (const c of order.chunks) await c.write();
    await this.activeDoc.update((d) => {
      d.orderIds = d.orderIds.filter((id) => id !== order.header.data.id);
    });
    this.active.delete(order.header.data.id);
    const base = this.orderPath(order.header.data.id);
    for (let i = 0; i < order.chunks.length; i++) this.store.close(`${base}/firearms-${pad(i)}`);
    this.store.close(`${base}/header`);
  }
}

export function firearmAt(order: LoadedOrder, seq: number): Firearm | undefined {
  return order.chunks[Math.floor(seq / CHUNK_SIZE)]?.data.firearms[seq % CHUNK_SIZE];
}

export function* firearmsOf(order: LoadedOrder): Generator<Firearm> {
  for (const chunk of order.chunks) yield* chunk.data.firearms;
}

export function countFirearms(order: LoadedOrder): OrderCounts {
  const counts: OrderCounts = { queued: 0, inProgress: 0, engraved: 0, cancelled: 0, voidedCodes: 0 };
  for (const f of firearmsOf(order)) {
    if (f.state === 'queued') counts.queued++;
    else if (f.state === 'engraved') counts.engraved++;
    else if (f.state === 'cancelled') counts.cancelled++;
    else counts.inProgress++;
    counts.voidedCodes += f.voided.length;
  }
  return counts;
}

export function allFinished(order: LoadedOrder): boolean {
  for (const f of firearmsOf(order)) if (!isFinished(f.state)) return false;
  return true;
}

/** Defaults of a header document; only ever seen if the file vanished between two calls. */
function placeholderHeader(): OrderHeader {
  return {
    id: '',
    make: '',
    model: '',
    target: 'firing-pin',
    state: 'aborted',
    createdAt: '',
    size: 0,
    source: 'http',
  };
}

function pad(i: number): string {
  return String(i).padStart(5, '0');
}
