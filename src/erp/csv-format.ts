/**
 * The columns of the drop-folder CSV format (spec: erp-and-qa.md, Orders), and orders written in
 * it. Reading a file is `csv.ts`.
 */
import type { Order } from './order.js';

export const CSV_COLUMNS = [
  'order_id',
  'make',
  'model',
  'caliber',
  'serial',
  'target',
  'destination',
] as const;
/** Columns a file may add after the required ones. */
export const CSV_OPTIONAL_COLUMNS = ['rework'] as const;
export const CSV_HEADER = CSV_COLUMNS.join(',');

function csvField(v: string): string {
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** Writes orders in the drop-folder format (with a rework column only when some firearm needs it). */
export function formatOrdersCsv(orders: readonly Order[]): string {
  const withRework = orders.some((o) => o.firearms.some((f) => f.rework === true));
  const lines = [withRework ? `${CSV_HEADER},rework` : CSV_HEADER];
  for (const o of orders) {
    const fixed = [o.id, o.make, o.model, o.caliber ?? ''].map(csvField).join(',');
    const tail = [o.target, o.destination ?? ''].map(csvField).join(',');
    for (const f of o.firearms) {
      const line = `${fixed},${csvField(f.serial)},${tail}`;
      lines.push(withRework ? `${line},${f.rework === true}` : line);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
