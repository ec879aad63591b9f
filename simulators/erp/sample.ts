/**
 * Sample orders for the demo, the tests and hand testing. Serials are derived from the order id
 * (`PO-17` gives `PO-17-000001`, `PO-17-000002`, ...) so orders with different ids never share a
 * serial.
 */

import { type Firearm, LIMITS, type Order, type Target } from '../../src/erp/order.js';
import { StamplineError } from '../../src/errors.js';

export interface SampleOrderOptions {
  id: string;
  /** How many firearms. Any count, so that a too-large or empty order can be produced on purpose. */
  firearms: number;
  make?: string;
  model?: string;
  /** `null` leaves the caliber out. */
  caliber?: string | null;
  target?: Target;
  destination?: string;
  /** Serials are `<prefix>-<number>`; by default the prefix comes from the order id. */
  serialPrefix?: string;
  /** Marks every n-th firearm as a rework (0 or absent: none). */
  reworkEvery?: number;
}

/** An upper-case serial prefix from an order id: `po 17/b` gives `PO-17-B`. */
export function serialPrefixFor(id: string): string {
  const p = id
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return p === '' ? 'SN' : p.slice(0, 20).replace(/-+$/, '');
}

export function sampleOrder(opts: SampleOrderOptions): Order {
  if (!Number.isInteger(opts.firearms) || opts.firearms < 0) {
    throw new StamplineError(
      'INVALID_INPUT',
      `the number of firearms must be a whole number >= 0, not ${opts.firearms}`,
    );
  }
  const prefix = opts.serialPrefix ?? serialPrefixFor(opts.id);
  const width = Math.max(6, String(opts.firearms).length);
  if (prefix.length + 1 + width > LIMITS.serialLength) {
    throw new StamplineError(
      'INVALID_INPUT',
      `serial prefix ${JSON.stringify(prefix)} is too long: a serial is at most ${LIMITS.serialLength} characters`,
    );
  }
  const firearms: Firearm[] = [];
  for (let i = 1; i <= opts.firearms; i++) {
    const serial = `${prefix}-${String(i).padStart(width, '0')}`;
    firearms.push(opts.reworkEvery && i % opts.reworkEvery === 0 ? { serial, rework: true } : { serial });
  }
  const order: Order = {
    id: opts.id,
    make: opts.make ?? 'Acme Arms',
    model: opts.model ?? 'P-9 Compact',
  } as Order;
  const caliber = opts.caliber === undefined ? '9mm Luger' : opts.caliber;
  if (caliber !== null) order.caliber = caliber;
  order.target = opts.target ?? 'firing-pin';
  if (opts.destination !== undefined) order.destination = opts.destination;
  order.firearms = firearms;
  return order;
}
