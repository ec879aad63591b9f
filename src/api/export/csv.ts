/**
 * CSV for people who open it in a spreadsheet: RFC 4180 quoting, CRLF line ends, UTF-8 with a
 * byte-order mark (so a spreadsheet does not read it as a legacy code page), and text that a
 * spreadsheet would take for a formula (a cell starting with = + - @, a tab or a carriage
 * return) written with a leading apostrophe, so that a serial or a reason typed by someone
 * cannot run as a formula on a supervisor's machine. Numbers are written as numbers.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';

export type CsvValue = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;

/** One cell, quoted where it must be. */
export function csvCell(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A whole file: a header row, then the rows, each line ended by CRLF, with a byte-order mark. */
export function csvText(header: readonly string[], rows: Iterable<readonly CsvValue[]>): string {
  const lines = [header.map(csvCell).join(',')];
  for (const row of rows) lines.push(row.map(csvCell).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** A file name safe in a Content-Disposition header: letters, digits, dot, dash and underscore. */
export function csvFileName(...parts: string[]): string {
  const base = parts
    .filter((p) => p !== '')
    .join('-')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 120);
  return `${base || 'export'}.csv`;
}

/** Sends the text as a download named `filename`. */
export function sendCsv(reply: FastifyReply, filename: string, text: string): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(text);
}

/** The OpenAPI answer of a CSV route. */
export const CSV_RESPONSE = {
  description: 'a CSV file (UTF-8, RFC 4180), sent as an attachment',
  content: { 'text/csv': { schema: z.string() } },
} as const;
