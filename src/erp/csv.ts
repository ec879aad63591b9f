/**
 * The drop-folder CSV format (spec: erp-and-qa.md, Orders): a header row
 * `order_id,make,model,caliber,serial,target,destination`, then one row a firearm; the rows of
 * one order_id form one order. A file is taken whole or not at all, so `parseOrdersCsv` either
 * gives every order or lists every problem, each by its row as a spreadsheet numbers it (the
 * header is row 1) so that the person fixing the file can find it.
 */
import { isUtf8 } from 'node:buffer';
import { type CsvError, parse } from 'csv-parse/sync';
import type { Firearm, Order } from './order.js';
import { type CsvProblem, omittedReason, ProblemCollector } from './problems.js';
import {
  caliberProblem,
  destinationProblem,
  LIMITS,
  makeProblem,
  modelProblem,
  normalizeTarget,
  orderIdProblem,
  quote,
  serialProblem,
  type Target,
  targetProblem,
} from './rules.js';

export type { CsvProblem } from './problems.js';

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

type Column = (typeof CSV_COLUMNS)[number] | (typeof CSV_OPTIONAL_COLUMNS)[number];
const KNOWN: ReadonlySet<string> = new Set<string>([...CSV_COLUMNS, ...CSV_OPTIONAL_COLUMNS]);

export type ParseCsvResult =
  | {
      ok: true;
      orders: Order[];
      /** `rows[i][j]` is the row of `orders[i].firearms[j]`, for reports about a valid file. */
      rows: number[][];
    }
  | { ok: false; problems: CsvProblem[] /** every problem found, including any not listed */; total: number };

export interface ParseCsvOptions {
  /** How many problems to list before summarising the rest; 0 lists all. Default 200. */
  maxProblems?: number;
}

const REWORK_TRUE = new Set(['true', 'yes', 'y', '1']);
const REWORK_FALSE = new Set(['', 'false', 'no', 'n', '0']);

/** Offset of the first byte that is not valid UTF-8, or -1. Only run once a file is known to be bad. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Decodes a file's bytes as UTF-8, or says where and why it cannot. */
export function decodeCsvBytes(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; problem: CsvProblem } {
  if (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  ) {
    return {
      ok: false,
      problem: { row: 0, reason: 'the file is UTF-16 text; save it as "CSV UTF-8" (comma delimited)' },
    };
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    return {
      ok: false,
      problem: {
        row: line,
        reason: `line ${line} holds bytes that are not valid UTF-8 (first at byte ${at}); save the file as "CSV UTF-8" (comma delimited)`,
      },
    };
  }
  return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') };
}

function show(v: string): string {
  return v === '' ? 'blank' : quote(v);
}

function reworkValue(v: string): boolean | undefined {
  const s = v.toLowerCase();
  if (REWORK_TRUE.has(s)) return true;
  if (REWORK_FALSE.has(s)) return false;
  return undefined;
}

function quoteError(err: CsvError | undefined): string {
  switch (err?.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field starts on this row and is never closed, so the rest of the file was read as part of it';
    case 'INVALID_OPENING_QUOTE':
      return 'a double quote inside an unquoted field; quote the whole field and double the quote inside it ("")';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text follows a closing double quote; quote the whole field and double any quote inside it ("")';
    default:
      return err ? `cannot be read as CSV: ${err.message}` : 'cannot be read as CSV';
  }
}

type HeaderResult =
  | { ok: true; columns: Map<Column, number>; width: number }
  | { ok: false; problems: CsvProblem[] };

function readHeader(cells: string[]): HeaderResult {
  const names = cells.map((c) => c.trim().toLowerCase());
  const problems: CsvProblem[] = [];
  if (!names.some((n) => KNOWN.has(n))) {
    const line = cells.join(',');
    const sep = [';', '\t', '|'].find((s) => line.includes(s));
    const reason = sep
      ? `the header is separated by ${sep === '\t' ? 'tabs' : `"${sep}"`}; this format uses commas: ${CSV_HEADER}`
      : `row 1 must be the header ${CSV_HEADER}; found ${quote(line, 80)}`;
    return { ok: false, problems: [{ row: 1, reason }] };
  }
  const columns = new Map<Column, number>();
  names.forEach((n, i) => {
    if (n === '') {
      problems.push({ row: 1, reason: `column ${i + 1} of the header has no name` });
    } else if (!KNOWN.has(n)) {
      problems.push({
        row: 1,
        field: cells[i]!.trim(),
        reason: `is not a column of this format (the columns are ${CSV_HEADER}, and optionally rework)`,
      });
    } else if (columns.has(n as Column)) {
      problems.push({
        row: 1,
        field: n,
        reason: `appears twice (columns ${columns.get(n as Column)! + 1} and ${i + 1})`,
      });
    } else {
      columns.set(n as Column, i);
    }
  });
  for (const c of CSV_COLUMNS) {
    if (!columns.has(c)) problems.push({ row: 1, field: c, reason: `the header has no ${c} column` });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, columns, width: names.length };
}

interface Group {
  id: string;
  firstRow: number;
  make: string;
  model: string;
  caliber: string;
  target: Target;
  destination: string;
  firearms: Firearm[];
  rows: number[];
  overfull: boolean;
}

/** Thrown from inside the parser to stop reading a file whose header makes its rows meaningless. */
const STOP = Symbol('stop');

/** Reads a drop-folder file (bytes as read from disk, or text) into orders, or every problem in it. */
export function parseOrdersCsv(input: string | Uint8Array, options: ParseCsvOptions = {}): ParseCsvResult {
  const problems = new ProblemCollector<CsvProblem>(options.maxProblems);
  const fail = (): ParseCsvResult => ({
    ok: false,
    problems: problems.finish((omitted, listed) => ({ row: 0, reason: omittedReason(omitted, listed) })),
    total: problems.total,
  });

  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    const decoded = decodeCsvBytes(input);
    if (!decoded.ok) {
      problems.add(decoded.problem);
      return fail();
    }
    text = decoded.text;
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (/^\s*$/.test(text)) {
    problems.add({ row: 1, reason: `the file is empty; its first row must be the header ${CSV_HEADER}` });
    return fail();
  }

  let row = 0;
  let dataRows = 0;
  let header: (HeaderResult & { ok: true }) | undefined;
  let quoteErrorRow: number | undefined;
  const groups = new Map<string, Group>();
  const serialAt = new Map<string, { row: number; order: string }>();

  const onRow = (cells: string[]): void => {
    row++;
    if (header === undefined) {
      const h = readHeader(cells);
      if (!h.ok) {
        for (const p of h.problems) problems.add(p);
        throw STOP;
      }
      header = h;
      return;
    }
    if (cells.every((c) => c.trim() === '')) return;
    dataRows++;
    if (cells.length !== header.width) {
      problems.add({ row, reason: `has ${cells.length} fields; the header has ${header.width}` });
      return;
    }
    const cols = header.columns;
    const cell = (c: Column): string => {
      const i = cols.get(c);
      return i === undefined ? '' : cells[i]!.trim();
    };
    const id = cell('order_id');
    let g = id === '' ? undefined : groups.get(id);
    if (id === '') {
      problems.add({ row, field: 'order_id', reason: 'is required' });
    } else if (g === undefined) {
      const check = (field: Column, reason: string | undefined) => {
        if (reason !== undefined) problems.add({ row, field, reason });
      };
      check('order_id', orderIdProblem(id));
      check('make', makeProblem(cell('make')));
      check('model', modelProblem(cell('model')));
      check('caliber', caliberProblem(cell('caliber')));
      check('target', targetProblem(cell('target')));
      check('destination', destinationProblem(cell('destination')));
      g = {
        id,
        firstRow: row,
        make: cell('make'),
        model: cell('model'),
        caliber: cell('caliber'),
        target: normalizeTarget(cell('target')),
        destination: cell('destination'),
        firearms: [],
        rows: [],
        overfull: false,
      };
      groups.set(id, g);
    } else {
      const firstRow = g.firstRow;
      const agree = (field: Column, value: string, first: string) => {
        if (value !== first) {
          problems.add({
            row,
            field,
            reason: `${show(value)} differs from ${show(first)} on row ${firstRow}, the first row of order ${quote(id)}; the rows of one order must agree`,
          });
        }
      };
      agree('make', cell('make'), g.make);
      agree('model', cell('model'), g.model);
      agree('caliber', cell('caliber'), g.caliber);
      const target = cell('target');
      if (normalizeTarget(target) !== g.target) agree('target', target, g.target);
      agree('destination', cell('destination'), g.destination);
    }

    const serial = cell('serial');
    const sp = serialProblem(serial);
    if (sp) {
      problems.add({ row, field: 'serial', reason: sp });
    } else if (g !== undefined) {
      const seen = serialAt.get(serial);
      if (seen === undefined) {
        serialAt.set(serial, { row, order: id });
      } else if (seen.order === id) {
        problems.add({
          row,
          field: 'serial',
          reason: `${quote(serial)} is also on row ${seen.row}; a serial appears once in an order`,
        });
      } else {
        problems.add({
          row,
          field: 'serial',
          reason: `${quote(serial)} is also on row ${seen.row}, in order ${quote(seen.order)}; a serial may be in only one order`,
        });
      }
    }
    let rework = false;
    if (cols.has('rework')) {
      const v = reworkValue(cell('rework'));
      if (v === undefined) {
        problems.add({
          row,
          field: 'rework',
          reason: `must be true or false (or yes/no, 1/0, blank for false), not ${quote(cell('rework'))}`,
        });
      } else {
        rework = v;
      }
    }
    if (g === undefined) return;
    if (g.firearms.length >= LIMITS.firearms) {
      if (!g.overfull) {
        g.overfull = true;
        problems.add({
          row,
          reason: `order ${quote(id)} has more than ${LIMITS.firearms} firearms (this is its row ${LIMITS.firearms + 1}); split it into several orders`,
        });
      }
      return;
    }
    g.firearms.push(rework ? { serial, rework: true } : { serial });
    g.rows.push(row);
  };

  try {
    parse(text, {
      relax_column_count: true,
      skip_records_with_error: true,
      on_record: (record: string[]) => {
        onRow(record);
        return null;
      },
      on_skip: (err) => {
        row++;
        // After one quote error the parser may misread what follows; say so rather than mislead.
        const after =
          quoteErrorRow === undefined
            ? ''
            : ` (perhaps a consequence of the problem on row ${quoteErrorRow})`;
        quoteErrorRow ??= row;
        problems.add({ row, reason: `${quoteError(err)}${after}` });
        // Without a header no later row can be read.
        if (header === undefined) throw STOP;
        return undefined;
      },
    });
  } catch (err) {
    if (err !== STOP) problems.add({ row: row + 1, reason: quoteError(err as CsvError) });
  }

  if (header !== undefined && dataRows === 0 && problems.empty) {
    problems.add({ row: 2, reason: 'the file has a header and no firearm rows' });
  }
  if (!problems.empty) return fail();

  const orders: Order[] = [];
  const rows: number[][] = [];
  for (const g of groups.values()) {
    const order: Order = { id: g.id, make: g.make, model: g.model } as Order;
    if (g.caliber !== '') order.caliber = g.caliber;
    order.target = g.target;
    if (g.destination !== '') order.destination = g.destination;
    order.firearms = g.firearms;
    orders.push(order);
    rows.push(g.rows);
  }
  return { ok: true, orders, rows };
}

/** Finds the row of an order (its first row) or of one of its firearms in a parsed file. */
export class CsvRowIndex {
  readonly #orders: Order[];
  readonly #rows: number[][];
  readonly #byId = new Map<string, number>();
  readonly #bySerial = new Map<number, Map<string, number>>();

  constructor(orders: Order[], rows: number[][]) {
    this.#orders = orders;
    this.#rows = rows;
    orders.forEach((o, i) => {
      this.#byId.set(o.id, i);
    });
  }

  row(orderId: string, serial?: string): number | undefined {
    const i = this.#byId.get(orderId);
    if (i === undefined) return undefined;
    const rows = this.#rows[i]!;
    if (serial === undefined) return rows[0];
    let index = this.#bySerial.get(i);
    if (index === undefined) {
      index = new Map(this.#orders[i]!.firearms.map((f, j) => [f.serial, rows[j]!]));
      this.#bySerial.set(i, index);
    }
    return index.get(serial);
  }
}

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
