/**
 * `stampline store check`: the whole data folder verified offline, as an operator runs it after
 * restoring a backup. Every file the store accounts for, every log line, the audit chain, every
 * order's blocks of firearms, both indexes against the firearms, and the allocator against every
 * code any witness holds. It reads only; `repairStore` (below) fixes what can be fixed from the
 * primary data and never moves the allocator back.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppendLog } from '../store/append-log.js';
import { AuditTrail } from '../store/audit.js';
import { DATA_FORMAT, StoreIdentity } from '../store/identity.js';
import { fromSafeName } from '../store/names.js';
import { readSegmentRecord, segmentProblems } from '../store/segment-record.js';
import { type AllocatorDoc, isReserved } from './allocator.js';
import { CodeIndex } from './code-index.js';
import { type Firearm, isFinishedOrderState, type OrderHeader } from './model.js';
import { CHUNK_SIZE } from './repository.js';
import { SerialIndex } from './serial-index.js';
import { codesInAuditEntry, indexOfCode, unreservedWitnesses, type WitnessIndex } from './witness.js';

/** The files that must exist once a line has run, relative to the data folder. */
export const STORE_FILES = [
  'docs/line/allocator.json',
  'docs/line/active-orders.json',
  'audit/audit.segments.json',
  'outbox/outbox.segments.json',
  'qa/reads.segments.json',
  'serials/shards.json',
  'codes/shards.json',
];

/** One thing wrong, and whether `--repair` can fix it. */
export interface Finding {
  file: string;
  problem: string;
  repair?: 'allocator' | 'serial-index' | 'code-index' | 'identity' | 'active-list';
}

export interface CheckReport {
  ok: boolean;
  findings: Finding[];
  /** What was read, for the operator to see the check covered the folder. */
  counts: {
    orders: number;
    firearms: number;
    auditEntries: number;
    outboxEntries: number;
    codesWitnessed: number;
  };
  /** The allocator's runs, and the highest index any witness holds. */
  allocator: { reserved: Array<[number, number]>; highestWitnessed: number | null };
  /**
   * The data format `store.json` gives (null without one, or when it cannot be read), this
   * release's, and a migration cut short, if any.
   */
  format: { found: number | null; current: number; migrating?: { to: number; done: string[] } };
  /** Internal: what the repair needs, not printed. */
  firearms: Firearm[];
  orders: OrderHeader[];
  unreserved: WitnessIndex[];
}

export interface CheckOptions {
  dataDir: string;
  /** With the issuer and key, codes no firearm holds are decoded to their index too. */
  issuer?: { number: number; key: Buffer };
}

/** The logs of a line's data folder: folder, name, and what they are called in findings. */
export const LOGS = [
  { folder: 'audit', name: 'audit' },
  { folder: 'outbox', name: 'outbox' },
  { folder: 'qa', name: 'reads' },
  { folder: 'docs/line', name: 'order-catalogue' },
] as const;

export async function checkStore(o: CheckOptions): Promise<CheckReport> {
  const findings: Finding[] = [];
  const report: CheckReport = {
    ok: true,
    findings,
    counts: { orders: 0, firearms: 0, auditEntries: 0, outboxEntries: 0, codesWitnessed: 0 },
    allocator: { reserved: [], highestWitnessed: null },
    format: { found: null, current: DATA_FORMAT },
    firearms: [],
    orders: [],
    unreserved: [],
  };
  const dir = o.dataDir;

  // The identity and the files it lists.
  const identity = new StoreIdentity(dir);
  try {
    const doc = await identity.read();
    if (doc) {
      report.format.found = doc.format;
      if (doc.migrating) report.format.migrating = { to: doc.migrating.to, done: doc.migrating.done };
      for (const m of await identity.missing())
        findings.push({ file: join(dir, m), problem: 'is missing (store.json lists it)' });
    } else if ((await identity.dataPresent()).length > 0) {
      findings.push({
        file: identity.file,
        problem: 'is missing though the folder holds a line’s data',
        repair: 'identity',
      });
    }
  } catch (err) {
    findings.push({ file: identity.file, problem: (err as Error).message });
  }

  // Every log: its segments against its record, and every line.
  const outboxCodes: string[] = [];
  const auditCodes: string[] = [];
  for (const { folder, name } of LOGS) {
    const logDir = join(dir, folder);
    const log = new AppendLog<unknown>({ dir: logDir, name, readOnly: true });
    await log.start();
    try {
      const record = await readSegmentRecord(logDir, name).catch((err: Error) => {
        findings.push({ file: join(logDir, `${name}.segments.json`), problem: err.message });
        return undefined;
      });
      if (record) findings.push(...(await segmentProblems(logDir, name, record, log.segments())));
      for await (const batch of log.readBatches()) {
        for (const { entry } of batch) {
          if (name === 'outbox') {
            report.counts.outboxEntries++;
            const j = (entry as { k?: string; j?: unknown }).j;
            const code = typeof j === 'string' ? /"code":"([0-9A-Z]{10})"/.exec(j)?.[1] : undefined;
            if (code) outboxCodes.push(code);
          } else if (name === 'audit') {
            report.counts.auditEntries++;
            auditCodes.push(...codesInAuditEntry(entry));
          }
        }
      }
    } catch (err) {
      findings.push({
        file: (err as { context?: { file?: string } }).context?.file ?? logDir,
        problem: (err as Error).message,
      });
    } finally {
      await log.stop();
    }
  }
  const trail = new AuditTrail({ dataDir: dir, readOnly: true });
  await trail.start();
  try {
    const verified = await trail.verify();
    if (!verified.ok) {
      const bad = verified.firstBad;
      findings.push({
        file: join(trail.dir, `audit.${String(bad.segment).padStart(8, '0')}.jsonl`),
        problem: `audit entry seq ${bad.seq} (line ${bad.line}): ${bad.reason}`,
      });
    }
  } finally {
    await trail.stop();
  }

  // Documents: the allocator, the list of unfinished orders, every order and its blocks.
  const docs = join(dir, 'docs');
  const allocator = await readJson<AllocatorDoc>(join(docs, 'line/allocator.json'), findings);
  report.allocator.reserved = Array.isArray(allocator?.reserved) ? allocator.reserved : [];
  const active = await readJson<{ orderIds: string[] }>(join(docs, 'line/active-orders.json'), findings);
  const activeIds = new Set(active?.orderIds ?? []);
  let folders: string[] = [];
  try {
    folders = (await readdir(join(docs, 'orders'), { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {}
  for (const folder of folders) {
    const base = join(docs, 'orders', folder);
    const header = await readJson<OrderHeader>(join(base, 'header.json'), findings, true);
    if (!header) continue;
    report.orders.push(header);
    report.counts.orders++;
    const unfinished = !isFinishedOrderState(header.state);
    if (unfinished && !activeIds.has(header.id)) {
      findings.push({
        file: join(docs, 'line/active-orders.json'),
        problem: `does not list order ${header.id}, which is ${header.state}`,
        repair: 'active-list',
      });
    }
    for (let i = 0; i * CHUNK_SIZE < header.size; i++) {
      const file = join(base, `firearms-${String(i).padStart(5, '0')}.json`);
      const chunk = await readJson<{ firearms: Firearm[] }>(file, findings);
      if (!chunk) continue;
      const expected = Math.min(CHUNK_SIZE, header.size - i * CHUNK_SIZE);
      const list = Array.isArray(chunk.firearms) ? chunk.firearms : [];
      if (list.length !== expected) {
        findings.push({ file, problem: `holds ${list.length} firearms where the order puts ${expected}` });
      } else if (list.some((f, j) => f?.orderId !== header.id || f.seq !== i * CHUNK_SIZE + j)) {
        findings.push({ file, problem: `holds firearms that are not those of order ${header.id}` });
      } else {
        report.firearms.push(...list);
      }
    }
    if (fromSafeName(folder) !== header.id)
      findings.push({
        file: join(base, 'header.json'),
        problem: `is order ${header.id}, not ${fromSafeName(folder)}`,
      });
  }
  report.counts.firearms = report.firearms.length;

  // The indexes: their shards against their records, and every firearm in them.
  const serials = new SerialIndex(join(dir, 'serials'));
  const codes = new CodeIndex(join(dir, 'codes'));
  const serialShardsBad = serials.problems();
  const codeShardsBad = codes.problems();
  for (const p of serialShardsBad) findings.push({ ...p, repair: 'serial-index' });
  for (const p of codeShardsBad) findings.push({ ...p, repair: 'code-index' });
  const located = await serials.locate(report.firearms.map((f) => f.serial));
  for (const f of report.firearms) {
    const held = located.get(f.serial) ?? [];
    if (!held.some((h) => h.orderId === f.orderId && (h.seq === undefined || h.seq === f.seq))) {
      findings.push({
        file: join(dir, 'serials'),
        problem: `does not hold serial ${f.serial} of order ${f.orderId}`,
        repair: 'serial-index',
      });
    }
  }
  const codeIndexCodes: string[] = [];
  for (const f of report.firearms) {
    for (const c of [...(f.code ? [f.code] : []), ...f.voided]) {
      const holders = await codes.lookup(c.text);
      if (!holders.some((h) => h.orderId === f.orderId && h.seq === f.seq)) {
        findings.push({
          file: join(dir, 'codes'),
          problem: `does not hold code ${c.text} of order ${f.orderId} firearm ${f.seq}`,
          repair: 'code-index',
        });
      }
    }
  }
  codeIndexCodes.push(...(await allIndexedCodes(join(dir, 'codes'))));

  // The allocator against every witness.
  const byCode = new Map<string, number>();
  const seen: WitnessIndex[] = [];
  for (const f of report.firearms) {
    for (const c of [...(f.code ? [f.code] : []), ...f.voided]) {
      byCode.set(c.text, c.index);
      seen.push({
        witness: 'firearms',
        where: `order ${f.orderId} firearm ${f.seq}`,
        index: c.index,
        code: c.text,
      });
    }
  }
  const unknown = new Set<string>();
  const witness = (w: WitnessIndex['witness'], where: string, code: string) => {
    const index =
      byCode.get(code) ?? (o.issuer ? indexOfCode(code, o.issuer.number, o.issuer.key) : undefined);
    if (index === undefined) unknown.add(`${code} (${w})`);
    else seen.push({ witness: w, where, index, code });
  };
  for (const c of codeIndexCodes) witness('code index', join(dir, 'codes'), c);
  for (const c of outboxCodes) witness('outbox', join(dir, 'outbox'), c);
  for (const c of auditCodes) witness('audit trail', join(dir, 'audit'), c);
  report.counts.codesWitnessed = seen.length;
  report.allocator.highestWitnessed = seen.length > 0 ? Math.max(...seen.map((w) => w.index)) : null;
  if (unknown.size > 0) {
    findings.push({
      file: join(dir, 'codes'),
      problem: `${unknown.size} code(s) held by no firearm cannot be placed without the issuer key (run with --config): ${[...unknown].slice(0, 5).join(', ')}`,
    });
  }
  report.unreserved = unreservedWitnesses(report.allocator.reserved, seen);
  if (allocator && report.unreserved.length > 0) {
    findings.push({
      file: join(docs, 'line/allocator.json'),
      problem: `has not reserved indexes the line has given: ${report.unreserved.map((w) => `the ${w.witness} holds ${w.index} (${w.code})`).join('; ')}`,
      repair: 'allocator',
    });
  }
  // every witnessed index, for the repair to move past (not only the highest of each witness)
  report.unreserved = seen.filter((w) => !isReserved(report.allocator.reserved, w.index));
  report.ok = findings.length === 0;
  return report;
}

/** Every code on a line of the code index's shards. */
async function allIndexedCodes(dir: string): Promise<string[]> {
  const codes: string[] = [];
  let names: string[] = [];
  try {
    names = (await readdir(dir)).filter((n) => /^[0-9a-f]{2}\.tsv$/.test(n));
  } catch {
    return codes;
  }
  for (const n of names) {
    const text = await readFile(join(dir, n), 'utf8');
    for (const line of text.split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) codes.push(line.slice(0, tab));
    }
  }
  return codes;
}

/** A JSON document, or a finding naming it when it is missing (unless `optional`) or does not parse. */
async function readJson<T>(file: string, findings: Finding[], optional = false): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!optional) findings.push({ file, problem: 'is missing' });
    } else findings.push({ file, problem: `cannot be read: ${(err as Error).message}` });
    return undefined;
  }
  try {
    const v = JSON.parse(text) as T;
    if (v === null || typeof v !== 'object') throw new Error('not an object');
    return v;
  } catch {
    findings.push({ file, problem: 'does not parse (cut short or damaged)' });
    return undefined;
  }
}
