/**
 * Every tail repair made in this process (a torn last line cut off a log at start-up), for
 * `/metrics` and the Line screen: the logs report here themselves, so no owner can forget to.
 * The owners also log each repair, with the bytes dropped.
 */
import { basename, dirname } from 'node:path';
import type { AppendLogRepair } from './append-log.js';

export interface StoreRepair extends AppendLogRepair {
  /** The log, as `<folder>/<name>` (`outbox/outbox`, `audit/audit`), for a metric's label. */
  log: string;
  at: string;
}

const repairs: StoreRepair[] = [];
/** The last repairs kept for the Line screen; the counts are kept for every log. */
const KEEP = 50;
const counts = new Map<string, { repairs: number; droppedBytes: number }>();
const listeners = new Set<(repair: StoreRepair) => void>();

/** Tells `listener` of every repair from now on (the daemon raises an alarm); returns the unsubscribe. */
export function onRepairNoted(listener: (repair: StoreRepair) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** `log` names the store for the metric's label; by default `<folder>/<log name>` from the file. */
export function noteRepair(repair: AppendLogRepair, log = defaultLabel(repair.file)): void {
  const noted: StoreRepair = { ...repair, log, at: new Date().toISOString() };
  repairs.push(noted);
  if (repairs.length > KEEP) repairs.shift();
  for (const listener of listeners) listener(noted);
  const c = counts.get(log) ?? { repairs: 0, droppedBytes: 0 };
  c.repairs++;
  c.droppedBytes += repair.droppedBytes;
  counts.set(log, c);
}

function defaultLabel(file: string): string {
  return `${basename(dirname(file))}/${basename(file).replace(/\.\d{8,}\.jsonl$/, '')}`;
}

/** The latest repairs, oldest first. */
export function recentRepairs(): readonly StoreRepair[] {
  return repairs;
}

/** Repairs and bytes dropped per log since the process started. */
export function repairCounts(): ReadonlyMap<string, { repairs: number; droppedBytes: number }> {
  return counts;
}
