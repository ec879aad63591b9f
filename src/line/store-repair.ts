/**
 * `stampline store check --repair`: fixes what the primary data can fix, with the daemon stopped
 * (it takes the store's locks, so it refuses beside a running daemon). The allocator is moved
 * past every index any witness holds, with an audit entry, and never back; the serial and code
 * indexes are written afresh from the orders' firearms; a folder without its identity is adopted
 * once nothing else is wrong. Anything else (a missing block of firearms, a deleted log segment)
 * can only come back from a backup, and is left for the operator.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import { AuditTrail } from '../store/audit.js';
import { DocumentStore } from '../store/documents.js';
import { StoreIdentity } from '../store/identity.js';
import { ALLOCATOR_DOC, type AllocatorDoc, runsCovering } from './allocator.js';
import { CodeIndex } from './code-index.js';
import { isFinishedOrderState, type OrderHeader } from './model.js';
import { ACTIVE_ORDERS } from './repository.js';
import { SerialIndex } from './serial-index.js';
import { type CheckReport, STORE_FILES } from './store-check.js';

/** What each repair did, in the order done. */
export async function repairStore(dataDir: string, report: CheckReport): Promise<string[]> {
  const done: string[] = [];
  const wants = new Set(report.findings.map((f) => f.repair));
  const store = new DocumentStore({ dir: join(dataDir, 'docs') });
  try {
    await store.start();
  } catch (err) {
    if (err instanceof StamplineError && err.code === 'STORE_LOCKED') {
      throw new StamplineError(
        'STORE_LOCKED',
        `a running process (pid ${String(err.context.pid)}) holds the store in ${dataDir}: stop the daemon before --repair`,
        err.context,
        { cause: err },
      );
    }
    throw err;
  }
  try {
    if (wants.has('allocator')) done.push(await repairAllocator(dataDir, store, report));
    if (wants.has('active-list')) done.push(await relistUnfinished(dataDir, store, report));
    const broken = report.findings.filter((f) => f.repair === undefined);
    const ordersDamaged = broken.some((f) => f.file.includes(join(dataDir, 'docs', 'orders')));
    for (const kind of ['serial-index', 'code-index'] as const) {
      if (!wants.has(kind)) continue;
      if (ordersDamaged) {
        done.push(`${kind}: not rebuilt, because order files are missing or damaged: restore them first`);
        continue;
      }
      done.push(await rebuildIndex(dataDir, kind, report));
    }
    if (wants.has('identity')) {
      if (broken.length > 0) {
        done.push(
          'store.json: not written, because the folder has other problems that only a backup can fix',
        );
      } else {
        const identity = new StoreIdentity(dataDir);
        await identity.create();
        await identity.expect(STORE_FILES);
        done.push(`store.json: written; the folder is adopted as store ${identity.id}`);
      }
    }
  } finally {
    await store.stop();
  }
  return done;
}

async function repairAllocator(dataDir: string, store: DocumentStore, report: CheckReport): Promise<string> {
  const doc = await store.open<AllocatorDoc>(ALLOCATOR_DOC, () => ({ reserved: [] }));
  const before = doc.data.reserved.map(([a, b]) => [a, b] as [number, number]);
  const runs = runsCovering(
    before,
    report.unreserved.map((w) => w.index),
  );
  if (runs.length === 0) return 'allocator: already past every witnessed index';
  await doc.update((d) => {
    d.reserved.push(...runs);
  });
  const trail = new AuditTrail({ dataDir });
  await trail.start();
  try {
    const highest = report.unreserved.reduce((a, w) => (w.index > a.index ? w : a));
    await trail.record({
      actor: 'stampline store check',
      action: 'allocator.repair',
      subject: 'allocator',
      before: { reserved: before.slice(-3) },
      after: { reserved: doc.data.reserved.slice(-3) },
      reason: `witnesses held indexes the allocator had not reserved, up to ${highest.index} (${highest.witness})`,
    });
  } finally {
    await trail.stop();
  }
  return `allocator: reserved ${runs.map(([a, b]) => `${a}..${b - 1}`).join(', ')}; the next index is past ${runs.at(-1)![1] - 1}; audit entry written`;
}

/**
 * Lists again the orders whose header says they are unfinished but the list of unfinished orders
 * leaves out (an older copy of the list): their headers are the primary data.
 */
async function relistUnfinished(dataDir: string, store: DocumentStore, report: CheckReport): Promise<string> {
  const doc = await store.open<{ orderIds: string[] }>(ACTIVE_ORDERS, () => ({ orderIds: [] }));
  const unlisted = report.orders
    .filter((h) => !isFinishedOrderState(h.state) && !doc.data.orderIds.includes(h.id))
    .map((h) => h.id);
  if (unlisted.length === 0) return 'list of unfinished orders: already lists every unfinished order';
  await doc.update((d) => {
    d.orderIds.push(...unlisted);
  });
  const trail = new AuditTrail({ dataDir });
  await trail.start();
  try {
    await trail.record({
      actor: 'stampline store check',
      action: 'orders.relist',
      subject: 'active-orders',
      after: { orderIds: unlisted },
      reason: 'the list of unfinished orders left out orders whose header files say they are unfinished',
    });
  } finally {
    await trail.stop();
  }
  return `list of unfinished orders: listed again ${unlisted.join(', ')}; audit entry written`;
}

async function rebuildIndex(
  dataDir: string,
  kind: 'serial-index' | 'code-index',
  report: CheckReport,
): Promise<string> {
  const dir = join(dataDir, kind === 'serial-index' ? 'serials' : 'codes');
  for (const n of await readdir(dir).catch(() => [] as string[])) {
    if (/^[0-9a-f]{2}\.tsv$/.test(n) || n === 'shards.json') await rm(join(dir, n));
  }
  // Oldest order first: a serial's holders are listed oldest first, the last one holding it now.
  const created = new Map<string, string>(report.orders.map((h: OrderHeader) => [h.id, h.createdAt]));
  const firearms = [...report.firearms].sort(
    (a, b) =>
      (created.get(a.orderId) ?? '').localeCompare(created.get(b.orderId) ?? '') ||
      a.orderId.localeCompare(b.orderId) ||
      a.seq - b.seq,
  );
  if (kind === 'serial-index') {
    const index = new SerialIndex(dir);
    index.start();
    await index.add(firearms.map((f) => ({ serial: f.serial, orderId: f.orderId, seq: f.seq })));
    return `serial index: written afresh from ${firearms.length} firearms`;
  }
  const index = new CodeIndex(dir);
  index.start();
  // In index order, as allocation wrote them: each shard's last line then holds its highest index.
  const entries = firearms
    .flatMap((f) =>
      [...f.voided, ...(f.code ? [f.code] : [])].map((c) => ({
        index: c.index,
        code: c.text,
        orderId: f.orderId,
        seq: f.seq,
        serial: f.serial,
      })),
    )
    .sort((a, b) => a.index - b.index);
  await index.add(entries);
  return `code index: written afresh with ${entries.length} codes of ${firearms.length} firearms`;
}
