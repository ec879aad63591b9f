/**
 * Finding firearms by serial and by code through the indexes, as the repository answers them:
 * an index entry is a pointer, and the firearm's own record decides.
 */
import type { CodeIndex } from './code-index.js';
import { type FirearmRef, firearmsOf, type LoadedOrder, type StoredFirearm } from './loaded-order.js';
import { isFinishedOrderState } from './model.js';
import type { SerialIndex } from './serial-index.js';

/** What the lookups read: the indexes, and the orders and firearms they point to. */
export interface LookupSource {
  readonly serials: SerialIndex;
  readonly codes: CodeIndex;
  orderExists(id: string): Promise<boolean>;
  activeOrder(id: string): LoadedOrder | undefined;
  order(id: string): Promise<LoadedOrder | undefined>;
  firearm(ref: FirearmRef): Promise<StoredFirearm | undefined>;
}

/**
 * For each of these serials the line holds, the order that last held it and whether that order
 * is unfinished. Index entries of an order whose creation never finished are passed over.
 */
export async function holders(
  repo: LookupSource,
  serials: Iterable<string>,
): Promise<Map<string, { orderId: string; unfinished: boolean }>> {
  const result = new Map<string, { orderId: string; unfinished: boolean }>();
  const exists = new Map<string, boolean>();
  for (const [serial, orderIds] of await repo.serials.lookup(serials)) {
    for (let i = orderIds.length - 1; i >= 0; i--) {
      const orderId = orderIds[i]!;
      let real = exists.get(orderId);
      if (real === undefined) {
        real = await repo.orderExists(orderId);
        exists.set(orderId, real);
      }
      if (!real) continue;
      const state = repo.activeOrder(orderId)?.header.data.state;
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
 * The firearms that were given this code (current or voided), as stored. Index entries whose
 * firearm does not carry the code (a crash between the two writes) are passed over.
 */
export async function firearmsWithCode(repo: LookupSource, code: string): Promise<StoredFirearm[]> {
  const found: StoredFirearm[] = [];
  for (const h of await repo.codes.lookup(code)) {
    const stored = await repo.firearm(h);
    if (!stored) continue;
    const f = stored.firearm;
    if (f.code?.text === code || f.voided.some((v) => v.text === code)) found.push(stored);
  }
  return found;
}

/** Every firearm that has held this serial, oldest order first, as stored. */
export async function firearmsWithSerial(repo: LookupSource, serial: string): Promise<StoredFirearm[]> {
  const holders = (await repo.serials.locate([serial])).get(serial) ?? [];
  const found: StoredFirearm[] = [];
  for (const h of holders) {
    let stored: StoredFirearm | undefined;
    if (h.seq !== undefined) {
      stored = await repo.firearm({ orderId: h.orderId, seq: h.seq });
    } else {
      // entries written before the place was kept: the order is searched
      const order = await repo.order(h.orderId);
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
