/**
 * An order as the line holds it in memory while it is unfinished (its header and its chunks of
 * CHUNK_SIZE firearms), where a firearm is kept, and what is read from a loaded order.
 */
import type { Doc } from '../store/documents.js';
import { safeName } from '../store/names.js';
import type { Firearm, OrderCounts, OrderHeader } from './model.js';
import { isFinished } from './model.js';

export const CHUNK_SIZE = 128;

export interface ChunkDoc {
  firearms: Firearm[];
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

/** The folder of an order's documents in the document store. */
export function orderDocPath(id: string): string {
  return `orders/${safeName(id)}`;
}

/** The document that holds a firearm (its chunk of CHUNK_SIZE), for readers beside the line. */
export function firearmChunkName(ref: FirearmRef): string {
  return `${orderDocPath(ref.orderId)}/firearms-${pad(Math.floor(ref.seq / CHUNK_SIZE))}`;
}

export function firearmAt(order: LoadedOrder, seq: number): Firearm | undefined {
  return order.chunks[Math.floor(seq / CHUNK_SIZE)]?.data.firearms[seq % CHUNK_SIZE];
}

export function* firearmsOf(order: LoadedOrder): Generator<Firearm> {
  for (const chunk of order.chunks) yield* chunk.data.firearms;
}

/**
 * The order's firearms by state. `accepted` says which verified firearms the registry has
 * accepted every record of: only the line knows the outbox, so without it none are counted.
 */
export function countFirearms(
  order: LoadedOrder,
  accepted: (f: Firearm) => boolean = () => false,
): OrderCounts {
  const counts: OrderCounts = {
    queued: 0,
    inProgress: 0,
    engraved: 0,
    verified: 0,
    accepted: 0,
    cancelled: 0,
    voidedCodes: 0,
  };
  for (const f of firearmsOf(order)) {
    if (f.state === 'queued') counts.queued++;
    else if (f.state === 'engraved') {
      counts.engraved++;
      if (f.qa?.result === 'pass') {
        counts.verified++;
        if (accepted(f)) counts.accepted++;
      }
    } else if (f.state === 'cancelled') counts.cancelled++;
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
export function placeholderHeader(): OrderHeader {
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

export function pad(i: number): string {
  return String(i).padStart(5, '0');
}
