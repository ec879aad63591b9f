/**
 * Where the line keeps orders and firearms. Each order is a header document plus its firearms
 * in chunks of CHUNK_SIZE, so a firearm's state change rewrites one small chunk whatever the size
 * of the order or the history of the line. Only unfinished orders are held in memory; finished
 * ones are read from disk on demand.
 *
 * Serial numbers the line has ever held are in an append-only log, loaded at start-up, because
 * "never engraved before on this line" must be checked against all of history.
 */
import { StamplineError } from '../errors.js';
import { AppendLog } from '../store/append-log.js';
import type { Doc, DocumentStore } from '../store/documents.js';
import { safeName } from '../store/names.js';
import type { Firearm, OrderCounts, OrderHeader } from './model.js';
import { isFinished } from './model.js';

export const CHUNK_SIZE = 128;

interface ChunkDoc {
  firearms: Firearm[];
}

interface ActiveDoc {
  orderIds: string[];
}

interface SerialEntry {
  s: string;
  o: string;
}

/** An order held in memory while it is unfinished. */
export interface LoadedOrder {
  header: Doc<OrderHeader>;
  chunks: Doc<ChunkDoc>[];
}

export class LineRepository {
  private readonly active = new Map<string, LoadedOrder>();
  private activeDoc!: Doc<ActiveDoc>;
  /** serial -> id of the order that last held it */
  private readonly serials = new Map<string, string>();
  private readonly serialLog: AppendLog<SerialEntry>;

  constructor(
    private readonly store: DocumentStore,
    serialLogDir: string,
  ) {
    this.serialLog = new AppendLog<SerialEntry>({ dir: serialLogDir, name: 'serials' });
  }

  async start(): Promise<void> {
    await this.serialLog.start();
    for await (const { entry } of this.serialLog.read()) this.serials.set(entry.s, entry.o);
    this.activeDoc = await this.store.open<ActiveDoc>('line/active-orders', () => ({ orderIds: [] }));
    const missingSerials: SerialEntry[] = [];
    for (const id of this.activeDoc.data.orderIds) {
      const order = await this.loadOrder(id);
      if (!order) continue;
      this.active.set(id, order);
      for (const f of firearmsOf(order)) {
        if (this.serials.get(f.serial) !== id) {
          this.serials.set(f.serial, id);
          missingSerials.push({ s: f.serial, o: id });
        }
      }
    }
    // An order whose serials had not reached the log when the line stopped.
    if (missingSerials.length > 0) await this.serialLog.append(missingSerials);
  }

  async stop(): Promise<void> {
    await this.serialLog.stop();
  }

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

  /** Which order holds this serial, if any, and whether that order is still unfinished. */
  holderOf(serial: string): { orderId: string; unfinished: boolean } | undefined {
    const orderId = this.serials.get(serial);
    if (orderId === undefined) return undefined;
    const state = this.active.get(orderId)?.header.data.state;
    return { orderId, unfinished: state !== undefined && state !== 'done' && state !== 'aborted' };
  }

  async orderExists(id: string): Promise<boolean> {
    return this.active.has(id) || (await this.store.exists(`${this.orderPath(id)}/header`));
  }

  /**
   * Stores a new order. Chunks first, the header last: an order exists once its header does, so
   * a crash part-way leaves only unreferenced chunks, which the next creation overwrites.
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
    const headerDoc = await this.store.open<OrderHeader>(`${base}/header`, () => header);
    await headerDoc.update((d) => {
      Object.assign(d, header);
    });
    await this.activeDoc.update((d) => {
      if (!d.orderIds.includes(header.id)) d.orderIds.push(header.id);
    });
    const order = { header: headerDoc, chunks };
    this.active.set(header.id, order);
    await this.serialLog.append(firearms.map((f) => ({ s: f.serial, o: header.id })));
    for (const f of firearms) this.serials.set(f.serial, header.id);
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
