import type { Order } from './order.js';

/**
 * Finds the row of an order (its first row) or of a firearm in a parsed file. A serial is enough
 * to find a firearm: a valid file holds each serial once.
 */
export class CsvRowIndex {
  readonly #orders: Order[];
  readonly #rows: number[][];
  readonly #byId = new Map<string, number>();
  #bySerial: Map<string, { order: string; row: number }> | undefined;

  constructor(orders: Order[], rows: number[][]) {
    this.#orders = orders;
    this.#rows = rows;
    orders.forEach((o, i) => {
      this.#byId.set(o.id, i);
    });
  }

  row(orderId: string | undefined, serial?: string): number | undefined {
    if (serial !== undefined) {
      if (this.#bySerial === undefined) {
        const index = new Map<string, { order: string; row: number }>();
        this.#orders.forEach((o, i) => {
          const rows = this.#rows[i]!;
          o.firearms.forEach((f, j) => {
            index.set(f.serial, { order: o.id, row: rows[j]! });
          });
        });
        this.#bySerial = index;
      }
      const at = this.#bySerial.get(serial);
      return at !== undefined && (orderId === undefined || at.order === orderId) ? at.row : undefined;
    }
    if (orderId === undefined) return undefined;
    const i = this.#byId.get(orderId);
    return i === undefined ? undefined : this.#rows[i]![0];
  }
}
