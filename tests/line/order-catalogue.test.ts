import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { OrderHeader } from '../../src/line/model.js';
import { LineRepository, ORDER_CATALOGUE, orderCatalogueSegment } from '../../src/line/repository.js';
import { DocumentStore } from '../../src/store/documents.js';
import { lineWithHistory, nextMillisecond, order, QA_FAIL, until, useLines } from './harness.js';

const lines = useLines();

const docsOf = (dir: string) => join(dir, 'docs');
const byId = (headers: OrderHeader[]) => [...headers].sort((a, b) => (a.id < b.id ? -1 : 1));

/** Every order header as its own file holds it: what the list must show. */
async function headerFiles(dir: string): Promise<OrderHeader[]> {
  const orders = join(docsOf(dir), 'orders');
  const headers: OrderHeader[] = [];
  for (const folder of await readdir(orders)) {
    headers.push(JSON.parse(await readFile(join(orders, folder, 'header.json'), 'utf8')));
  }
  return byId(headers);
}

async function catalogueFiles(dir: string): Promise<string[]> {
  const folder = join(docsOf(dir), ORDER_CATALOGUE.folder);
  return (await readdir(folder))
    .filter((n) => n.startsWith(`${ORDER_CATALOGUE.name}.`) && n.endsWith('.jsonl'))
    .sort()
    .map((n) => join(folder, n));
}

/** The ids in the catalogue, one per entry, in the order they were written. */
async function catalogueIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const file of await catalogueFiles(dir)) {
    for (const line of (await readFile(file, 'utf8')).split('\n')) {
      if (line) ids.push((JSON.parse(line) as OrderHeader).id);
    }
  }
  return ids;
}

async function activeIds(dir: string): Promise<string[]> {
  const file = join(docsOf(dir), 'line', 'active-orders.json');
  return (JSON.parse(await readFile(file, 'utf8')) as { orderIds: string[] }).orderIds;
}

async function setActiveIds(dir: string, ids: string[]): Promise<void> {
  await writeFile(join(docsOf(dir), 'line', 'active-orders.json'), JSON.stringify({ orderIds: ids }));
}

describe('the order catalogue', () => {
  it('lets start-up list every order, finished and unfinished, as its file holds it, without reading the finished orders’ files', async () => {
    const h = await lineWithHistory(lines);
    await h.stop();
    expect(await catalogueIds(h.dir)).toEqual(['o1', 'o2', 'o3']);

    const store = new DocumentStore({ dir: docsOf(h.dir) });
    await store.start();
    const open = vi.spyOn(store, 'open');
    const folders = vi.spyOn(store, 'folders');
    const repo = new LineRepository(store, join(h.dir, 'serials'));
    try {
      await repo.start();
      await repo.finishedOrdersLoaded();
      expect(repo.catalogueRebuild).toBeUndefined();
      // One listing of the order folders' names, to account for every order (active-witness.ts);
      // no file of a finished order is read.
      expect(folders.mock.calls.length).toBeLessThanOrEqual(1);
      const opened = open.mock.calls.map(([name]) => name);
      expect(opened.filter((n) => n.startsWith('orders/o4/') || n.startsWith('orders/o5/'))).not.toEqual([]);
      expect(opened.filter((n) => /^orders\/o[123]\//.test(n))).toEqual([]);
      const listed = await repo.listOrders();
      expect(listed.map((o) => [o.id, o.state])).toEqual([
        ['o5', 'queued'],
        ['o4', 'queued'],
        ['o3', 'aborted'],
        ['o2', 'engraved'],
        ['o1', 'engraved'],
      ]);
      expect(byId(listed)).toEqual(await headerFiles(h.dir));
    } finally {
      vi.restoreAllMocks();
      await repo.stop();
      await store.stop();
    }

    const again = await lines.restart(h);
    expect(byId(await again.line.listOrders())).toEqual(await headerFiles(h.dir));
  });

  it('shows the newest header of a finished order that QA reopened and that finished again', async () => {
    let h = await lines.start();
    await h.line.submitOrder(order('o1', 2), 'http', 'erp');
    await h.line.startOrder('o1', 'operator');
    await until(async () => (await h.line.orderView('o1')).order.state === 'engraved', 'o1 done');
    const first = (await h.line.orderView('o1')).order;
    const f = (await h.line.orderView('o1')).firearms[1]!;
    h = await lines.restart(h);

    await nextMillisecond();
    const applied = await h.line.applyVerdict({ orderId: 'o1', seq: 1 }, f.code!, QA_FAIL);
    expect(applied.order.state).toBe('running');
    await until(
      async () => h.line.status().activeOrders.length === 0,
      'o1 engraved its new pin and finished again',
    );
    h = await lines.restart(h);

    expect(await catalogueIds(h.dir)).toEqual(['o1', 'o1']);
    const listed = await h.line.listOrders();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toEqual((await headerFiles(h.dir))[0]);
    expect(listed[0]!.state).toBe('engraved');
    expect(listed[0]!.finishedAt! > first.finishedAt!).toBe(true);
  });

  it('passes over a torn last entry, and the next retirement lands after it cleanly', async () => {
    const h = await lineWithHistory(lines);
    await h.stop();
    const [file] = await catalogueFiles(h.dir);
    await appendFile(file!, '{"id":"o9","make":"Ac');

    let x = await lines.restart(h);
    await x.repo.finishedOrdersLoaded();
    expect(x.repo.catalogueRebuild).toBeUndefined();
    expect(byId(await x.line.listOrders())).toEqual(await headerFiles(h.dir));
    await x.line.abortOrder('o5', 'operator', 'cancelled by the customer');

    x = await lines.restart(x);
    expect(await catalogueIds(h.dir)).toEqual(['o1', 'o2', 'o3', 'o5']);
    expect(byId(await x.line.listOrders())).toEqual(await headerFiles(h.dir));
  });

  it('is written afresh from the header files when it is missing, and read from then on', async () => {
    const h = await lineWithHistory(lines);
    await h.stop();
    for (const file of await catalogueFiles(h.dir)) await rm(file);

    let x = await lines.restart(h);
    await x.repo.finishedOrdersLoaded();
    expect(x.repo.catalogueRebuild).toEqual({ reason: 'absent', orders: 3 });
    expect(byId(await x.line.listOrders())).toEqual(await headerFiles(h.dir));
    expect((await catalogueIds(h.dir)).sort()).toEqual(['o1', 'o2', 'o3']);

    x = await lines.restart(x);
    await x.repo.finishedOrdersLoaded();
    expect(x.repo.catalogueRebuild).toBeUndefined();
    expect(byId(await x.line.listOrders())).toEqual(await headerFiles(h.dir));
  });

  it('is written afresh from the header files when a line other than the last is damaged', async () => {
    const h = await lineWithHistory(lines);
    await h.stop();
    const [file] = await catalogueFiles(h.dir);
    const text = await readFile(file!, 'utf8');
    // the same length, so that the damage is found by reading the line (a shorter log is cut short)
    const first = text.slice(0, text.indexOf('\n'));
    await writeFile(file!, `${'{"id":"o1",'.padEnd(first.length, ' ')}${text.slice(first.length)}`);

    const x = await lines.restart(h);
    await x.repo.finishedOrdersLoaded();
    expect(x.repo.catalogueRebuild).toMatchObject({ reason: 'corrupt', orders: 3 });
    expect(byId(await x.line.listOrders())).toEqual(await headerFiles(h.dir));
    expect(await catalogueFiles(h.dir)).toEqual([orderCatalogueSegment(docsOf(h.dir), 2)]);
  });

  it('mends a retirement cut short between the final header and the catalogue entry', async () => {
    const h = await lineWithHistory(lines);
    await h.stop();
    // On disk as a crash leaves it: o2's header says done, it is still unfinished, no entry.
    const [file] = await catalogueFiles(h.dir);
    const kept = (await readFile(file!, 'utf8'))
      .split('\n')
      .filter((l) => l && (JSON.parse(l) as OrderHeader).id !== 'o2');
    await writeFile(file!, kept.map((l) => `${l}\n`).join(''));
    await setActiveIds(h.dir, [...(await activeIds(h.dir)), 'o2']);

    let x = await lines.restart(h);
    const listed = await x.line.listOrders();
    expect(byId(listed)).toEqual(await headerFiles(h.dir));
    expect(listed.find((o) => o.id === 'o2')!.state).toBe('engraved');
    expect(x.line.status().activeOrders.map((o) => o.id)).toEqual(['o4', 'o5']);
    expect(await catalogueIds(h.dir)).toEqual(['o1', 'o3', 'o2']);
    expect(await activeIds(h.dir)).not.toContain('o2');

    x = await lines.restart(x);
    expect(byId(await x.line.listOrders())).toEqual(await headerFiles(h.dir));
  });

  it('mends a retirement cut short between the catalogue entry and leaving the unfinished orders', async () => {
    const h = await lineWithHistory(lines);
    await h.stop();
    await setActiveIds(h.dir, [...(await activeIds(h.dir)), 'o1']);

    const x = await lines.restart(h);
    const listed = await x.line.listOrders();
    expect(listed.filter((o) => o.id === 'o1')).toHaveLength(1);
    expect(byId(listed)).toEqual(await headerFiles(h.dir));
    expect(x.line.status().activeOrders.map((o) => o.id)).toEqual(['o4', 'o5']);
    expect(await activeIds(h.dir)).not.toContain('o1');
  });

  it('forgets an unfinished order whose creation stopped before its header was written', async () => {
    const h = await lineWithHistory(lines);
    await h.stop();
    await setActiveIds(h.dir, [...(await activeIds(h.dir)), 'o6']);

    const x = await lines.restart(h);
    expect((await x.line.listOrders()).map((o) => o.id)).not.toContain('o6');
    expect(await activeIds(h.dir)).toEqual(['o4', 'o5']);
    expect(await x.repo.orderExists('o6')).toBe(false);
    await x.line.submitOrder(order('o6', 1), 'http', 'erp');
    expect((await x.line.listOrders()).map((o) => o.id)).toContain('o6');
  });
});
