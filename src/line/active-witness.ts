/**
 * The list of unfinished orders (`docs/line/active-orders.json`) is rewritten on every creation
 * and retirement, so an older copy of it (a restored backup, a file copied back by hand) parses
 * and looks whole, yet leaves out orders created since: they would vanish from the line, queued
 * or half engraved. Two witnesses catch it, each against the orders' header files:
 *
 *  - at start-up, cheaply: the newest line of each serial index shard names an order the line
 *    created recently (an order's serials are indexed before it is listed); each such order whose
 *    header says it is unfinished must be listed;
 *  - beside the line, once the finished orders are loaded: every order folder with a header is
 *    either listed as unfinished or in the order catalogue. One unfinished by its header and not
 *    listed is refused the same way; one finished and missing from the catalogue (a catalogue cut
 *    at a line boundary) is put back into the catalogue, and the repair logged.
 */
import { StamplineError } from '../errors.js';
import { isFinishedOrderState, type OrderHeader } from './model.js';

/** Whether an order is engraved, complete or aborted: it then belongs in the catalogue, not the list. */
export const orderIsFinished = (h: OrderHeader): boolean => isFinishedOrderState(h.state);

/** An order whose header says it is unfinished, though the list of unfinished orders leaves it out. */
export interface UnlistedOrder {
  orderId: string;
  state: OrderHeader['state'];
  header: string;
}

/**
 * The orders among `orderIds` not listed as unfinished whose header (read by `header`, undefined
 * when there is none: a creation that stopped before its header) says they are unfinished.
 */
export async function unlistedOrders(
  orderIds: Iterable<string>,
  listed: (orderId: string) => boolean,
  header: (orderId: string) => Promise<{ header: OrderHeader; file: string } | undefined>,
): Promise<UnlistedOrder[]> {
  const found: UnlistedOrder[] = [];
  for (const orderId of new Set(orderIds)) {
    if (listed(orderId)) continue;
    const h = await header(orderId);
    if (h && !orderIsFinished(h.header)) found.push({ orderId, state: h.header.state, header: h.file });
  }
  return found;
}

/** The refusal for a list of unfinished orders that leaves out `orders`. */
export function activeListBehind(file: string, orders: readonly UnlistedOrder[]): StamplineError {
  const named = orders
    .slice(0, 5)
    .map((o) => `order ${o.orderId} (${o.state}, ${o.header})`)
    .join('; ');
  const more = orders.length > 5 ? ` and ${orders.length - 5} more` : '';
  return new StamplineError(
    'STORE_MISSING',
    `${file} does not list ${named}${more}, though their header files say they are unfinished: the list is an older copy or was cut. Restore it from the same backup as the rest of the folder, or run \`stampline store check\` to see every order it leaves out`,
    { file, orders: orders.map((o) => o.orderId) },
  );
}
