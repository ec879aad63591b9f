import { type CsvError, parse } from 'csv-parse/sync';
import { decodeCsvBytes } from './csv-bytes.js';
import { CSV_COLUMNS, CSV_HEADER, CSV_OPTIONAL_COLUMNS } from './csv-format.js';
import type { Firearm, Order } from './order.js';
import { type CsvProblem, omittedReason, ProblemCollector } from './problems.js';
import {
  caliberProblem,
  destinationProblem,
  LIMITS,
  makeProblem,
  modelProblem,
  normalizeTarget,
  normalizeText,
  orderIdProblem,
  quote,
  serialProblem,
  type Target,
  targetProblem,
} from './rules.js';

export { decodeCsvBytes } from './csv-bytes.js';
export { CSV_COLUMNS, CSV_HEADER, CSV_OPTIONAL_COLUMNS, formatOrdersCsv } from './csv-format.js';
export { CsvRowIndex } from './csv-rows.js';
export type { CsvProblem } from './problems.js';

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

  // csv-parse gives all records at once (its per-record callback costs more than the rest of
  // the intake); records it had to skip are reported with how many good records came before.
  const skips: Array<{ after: number; err: CsvError | undefined }> = [];
  let records: string[][] = [];
  let fatal: CsvError | undefined;
  try {
    records = parse(text, {
      relax_column_count: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        skips.push({ after: typeof err?.records === 'number' ? err.records : 0, err });
        return undefined;
      },
    }) as string[][];
  } catch (err) {
    fatal = err as CsvError;
  }

  const rowsOf = new RowReader(problems);
  let s = 0;
  const skipped = (until: number): boolean => {
    while (s < skips.length && skips[s]!.after <= until) {
      if (!rowsOf.skip(skips[s]!.err)) return false;
      s++;
    }
    return true;
  };
  let going = true;
  for (let r = 0; r < records.length && going; r++) {
    going = skipped(r) && rowsOf.read(records[r]!);
  }
  if (going && skipped(Number.POSITIVE_INFINITY) && fatal) rowsOf.skip(fatal);

  if (rowsOf.header !== undefined && rowsOf.dataRows === 0 && problems.empty) {
    problems.add({ row: 2, reason: 'the file has a header and no firearm rows' });
  }
  if (!problems.empty) return fail();

  const orders: Order[] = [];
  const rows: number[][] = [];
  for (const g of rowsOf.groups.values()) {
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

/** Column positions, once the header is known; -1 for an optional column that is absent. */
interface Positions {
  width: number;
  id: number;
  make: number;
  model: number;
  caliber: number;
  serial: number;
  target: number;
  destination: number;
  rework: number;
}

/**
 * Reads the records of a file one by one, in order, numbering rows as a spreadsheet does and
 * grouping firearms into orders. `read` and `skip` answer false once nothing further can be read.
 */
class RowReader {
  readonly groups = new Map<string, Group>();
  header: Positions | undefined;
  dataRows = 0;
  readonly #problems: ProblemCollector<CsvProblem>;
  readonly #serialAt = new Map<string, { row: number; order: string }>();
  #row = 0;
  #quoteErrorRow: number | undefined;

  constructor(problems: ProblemCollector<CsvProblem>) {
    this.#problems = problems;
  }

  #add(row: number, field: string | undefined, reason: string | undefined): void {
    if (reason === undefined) return;
    this.#problems.add(field === undefined ? { row, reason } : { row, field, reason });
  }

  skip(err: CsvError | undefined): boolean {
    const row = ++this.#row;
    // After one quote error the parser may misread what follows; say so rather than mislead.
    const after =
      this.#quoteErrorRow === undefined
        ? ''
        : ` (perhaps a consequence of the problem on row ${this.#quoteErrorRow})`;
    this.#quoteErrorRow ??= row;
    this.#add(row, undefined, `${quoteError(err)}${after}`);
    // Without a header no later row can be read.
    return this.header !== undefined;
  }

  read(cells: string[]): boolean {
    const row = ++this.#row;
    const h = this.header;
    if (h === undefined) {
      const result = readHeader(cells);
      if (!result.ok) {
        for (const p of result.problems) this.#problems.add(p);
        return false;
      }
      const at = (c: Column) => result.columns.get(c) ?? -1;
      this.header = {
        width: result.width,
        id: at('order_id'),
        make: at('make'),
        model: at('model'),
        caliber: at('caliber'),
        serial: at('serial'),
        target: at('target'),
        destination: at('destination'),
        rework: at('rework'),
      };
      return true;
    }
    if (isBlank(cells)) return true;
    this.dataRows++;
    if (cells.length !== h.width) {
      this.#add(row, undefined, `has ${cells.length} fields; the header has ${h.width}`);
      return true;
    }
    const id = cells[h.id]!.trim();
    // In NFC, as the JSON intake stores them, so rows that spell a make two ways still agree.
    const make = normalizeText(cells[h.make]!);
    const model = normalizeText(cells[h.model]!);
    const caliber = normalizeText(cells[h.caliber]!);
    const target = cells[h.target]!.trim();
    const destination = cells[h.destination]!.trim();
    let g = id === '' ? undefined : this.groups.get(id);
    if (id === '') {
      this.#add(row, 'order_id', 'is required');
    } else if (g === undefined) {
      this.#add(row, 'order_id', orderIdProblem(id));
      this.#add(row, 'make', makeProblem(make));
      this.#add(row, 'model', modelProblem(model));
      this.#add(row, 'caliber', caliberProblem(caliber));
      this.#add(row, 'target', targetProblem(target));
      this.#add(row, 'destination', destinationProblem(destination));
      g = {
        id,
        firstRow: row,
        make,
        model,
        caliber,
        target: normalizeTarget(target),
        destination,
        firearms: [],
        rows: [],
        overfull: false,
      };
      this.groups.set(id, g);
    } else {
      if (make !== g.make) this.#add(row, 'make', disagree(make, g.make, g));
      if (model !== g.model) this.#add(row, 'model', disagree(model, g.model, g));
      if (caliber !== g.caliber) this.#add(row, 'caliber', disagree(caliber, g.caliber, g));
      if (normalizeTarget(target) !== g.target) this.#add(row, 'target', disagree(target, g.target, g));
      if (destination !== g.destination)
        this.#add(row, 'destination', disagree(destination, g.destination, g));
    }

    const serial = cells[h.serial]!.trim();
    const sp = serialProblem(serial);
    if (sp) {
      this.#add(row, 'serial', sp);
    } else if (g !== undefined) {
      const seen = this.#serialAt.get(serial);
      if (seen === undefined) {
        this.#serialAt.set(serial, { row, order: id });
      } else if (seen.order === id) {
        this.#add(
          row,
          'serial',
          `${quote(serial)} is also on row ${seen.row}; a serial appears once in an order`,
        );
      } else {
        this.#add(
          row,
          'serial',
          `${quote(serial)} is also on row ${seen.row}, in order ${quote(seen.order)}; a serial may be in only one order`,
        );
      }
    }
    let rework = false;
    if (h.rework >= 0) {
      const raw = cells[h.rework]!.trim();
      const v = reworkValue(raw);
      if (v === undefined) {
        this.#add(
          row,
          'rework',
          `must be true or false (or yes/no, 1/0, blank for false), not ${quote(raw)}`,
        );
      } else {
        rework = v;
      }
    }
    if (g === undefined) return true;
    if (g.firearms.length >= LIMITS.firearms) {
      if (!g.overfull) {
        g.overfull = true;
        this.#add(
          row,
          undefined,
          `order ${quote(id)} has more than ${LIMITS.firearms} firearms (this is its row ${LIMITS.firearms + 1}); split it into several orders`,
        );
      }
      return true;
    }
    g.firearms.push(rework ? { serial, rework: true } : { serial });
    g.rows.push(row);
    return true;
  }
}

function isBlank(cells: string[]): boolean {
  for (const c of cells) if (c.trim() !== '') return false;
  return true;
}

function disagree(value: string, first: string, g: Group): string {
  return `${show(value)} differs from ${show(first)} on row ${g.firstRow}, the first row of order ${quote(g.id)}; the rows of one order must agree`;
}
