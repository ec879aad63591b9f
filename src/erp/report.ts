/**
 * The report written beside a rejected drop-folder file: `<file>.report.txt` for the person who
 * fixes the file, `<file>.report.json` for a program that reacts to rejections.
 */
import { CSV_HEADER } from './csv.js';

export interface ReportProblem {
  /** Row as a spreadsheet numbers it (header = 1); 0 when the problem is about the file as a whole. */
  row: number;
  field?: string;
  orderId?: string;
  serial?: string;
  reason: string;
}

export type RejectionKind =
  /** The file is not a valid order file; nothing was offered to the line. */
  | 'invalid'
  /** The file is valid, but the line refused its orders (an order id or a serial it already holds). */
  | 'refused'
  /** The file is larger than the folder takes. */
  | 'too-large';

export interface RejectionReport {
  schema: 'stampline.intake-rejection/v1';
  file: string;
  movedTo: string;
  rejectedAt: string;
  sha256?: string;
  kind: RejectionKind;
  /** Every problem found; `problems` may list fewer (it then ends with a summary). */
  total: number;
  problems: ReportProblem[];
}

const HEADLINE: Record<RejectionKind, string> = {
  invalid: 'the file is not a valid order file',
  refused: 'the line refused the orders in this file',
  'too-large': 'the file is too large to take',
};

function where(p: ReportProblem): string {
  const parts: string[] = [p.row === 0 ? 'file' : `row ${p.row}`];
  if (p.field) parts.push(p.field);
  const subject = [
    p.orderId !== undefined ? `order ${p.orderId}` : '',
    p.serial !== undefined ? `serial ${p.serial}` : '',
  ]
    .filter((s) => s !== '')
    .join(', ');
  return subject ? `${parts.join(', ')} (${subject})` : parts.join(', ');
}

export function renderReportText(r: RejectionReport): string {
  const lines = [
    `REJECTED: ${r.file}`,
    `Nothing in this file was taken: ${HEADLINE[r.kind]}.`,
    '',
    `file:         ${r.movedTo}`,
    `rejected at:  ${r.rejectedAt}`,
  ];
  if (r.sha256) lines.push(`sha-256:      ${r.sha256}`);
  lines.push(`problems:     ${r.total}`, '');
  for (const p of r.problems) lines.push(`${where(p)}: ${p.reason}`);
  if (r.problems.length === 0) lines.push('(no reason was given)');
  lines.push(
    '',
    'Rows are numbered as a spreadsheet numbers them: the header is row 1.',
    `The header must be: ${CSV_HEADER} (and optionally rework).`,
    'A file is taken whole or not at all: fix every row listed above, then drop the whole file again',
    '(write it under a temporary name such as .name.tmp and rename it to name.csv when complete).',
    '',
  );
  return lines.join('\n');
}
