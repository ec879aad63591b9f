/** The Audit and Records screens' tables as CSV: the same rows the screens list, a cell per fact. */
import type { AuditEntry } from '../../store/audit.js';
import type { FirearmRecord } from '../routes/context.js';
import { csvText } from './csv.js';

function groupCode(text: string | undefined): string {
  return text ? `${text.slice(0, 5)}-${text.slice(5)}` : '';
}

function json(value: unknown): string {
  return value === undefined || value === null ? '' : JSON.stringify(value);
}

export function auditCsv(entries: readonly AuditEntry[]): string {
  return csvText(
    ['Seq', 'Time', 'Actor', 'Action', 'Subject', 'Reason', 'Before', 'After', 'Hash'],
    entries.map((e) => [
      e.seq,
      e.time,
      e.actor,
      e.action,
      e.subject,
      e.reason,
      json(e.before),
      json(e.after),
      e.hash,
    ]),
  );
}

export function recordsCsv(records: readonly FirearmRecord[]): string {
  return csvText(
    [
      'Serial',
      'Order',
      'Make',
      'Model',
      'State',
      'Code',
      'Engraved at',
      'Voided codes',
      'Reads',
      'Verdict',
      'QA at',
      'Grade',
      'Registry',
    ],
    records.map(({ order, firearm: f, reads, verdict }) => [
      f.serial,
      order.id,
      order.make,
      order.model,
      f.state,
      groupCode(f.code?.text),
      f.engravedAt ?? '',
      f.voided.length,
      reads.length,
      verdict?.status ?? f.qa?.result ?? '',
      f.qa?.at ?? '',
      verdict?.grade ?? f.qa?.grade ?? '',
      f.registry?.state ?? '',
    ]),
  );
}
