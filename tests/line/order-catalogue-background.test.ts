/**
 * The finished orders' headers are loaded after start-up, in the background: the line starts and
 * engraves without them, intake refuses a finished order's id before they are in, listing orders
 * and retiring one wait for them, a failed load is logged and answered with a clear error, and a
 * stop during the load writes nothing after it.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isStamplineError, StamplineError } from '../../src/errors.js';
import type { OrderHeader } from '../../src/line/model.js';
import { LineRepository, ORDER_CATALOGUE } from '../../src/line/repository.js';
import { AppendLog, type AppendLogRecord } from '../../src/store/append-log.js';
import { DocumentStore } from '../../src/store/documents.js';
import {
  type Harness,
  lineWithHistory,
  nextMillisecond,
  order,
  QA_FAIL,
  until,
  useLines,
} from './harness.js';
import { linksDownDaemon } from './support/daemon.js';

const lines = useLines();

afterEach(() => {
  vi.restoreAllMocks();
});

const catalogueFolder = (dir: string) => join(dir, 'docs', ORDER_CATALOGUE.folder);
const byId = (headers: OrderHeader[]) => [...headers].sort((a, b) => (a.id < b.id ? -1 : 1));

/** Every order header as its own file holds it: what the list must show. */
async function headerFiles(dir: string): Promise<OrderHeader[]> {
  const orders = join(dir, 'docs', 'orders');
  const headers: OrderHeader[] = [];
  for (const folder of await readdir(orders)) {
    headers.push(JSON.parse(await readFile(join(orders, folder, 'header.json'), 'utf8')));
  }
  return byId(headers);
}

/** The files of the catalogue's folder that belong to the catalogue, finished or being written. */
async function catalogueFiles(dir: string): Promise<string[]> {
  return (await readdir(catalogueFolder(dir))).filter((n) => n.includes(ORDER_CATALOGUE.name)).sort();
}

/** The ids in the catalogue, one per entry, in the order they were written. */
async function catalogueIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const name of await catalogueFiles(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    for (const line of (await readFile(join(catalogueFolder(dir), name), 'utf8')).split('\n')) {
      if (line) ids.push((JSON.parse(line) as OrderHeader).id);
    }
  }
  return ids;
}

async function setActiveIds(dir: string, ids: string[]): Promise<void> {
  await writeFile(join(dir, 'docs', 'line', 'active-orders.json'), JSON.stringify({ orderIds: ids }));
}

/** Lets every callback already due run (file operations take longer: see `until`). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

/** Whether a promise has settled, read without waiting for it. */
function watch(p: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  p.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

/** The catalogue's log, told from the other logs a daemon keeps (audit trail, outbox). */
function isOrderCatalogue(log: AppendLog<unknown>): boolean {
  return (log as unknown as { opts: { name: string } }).opts.name === ORDER_CATALOGUE.name;
}

/** Where a load is held: `reached` resolves once it comes there, and it goes on after `release()`. */
interface Hold {
  reached: Promise<void>;
  release: () => void;
}

/** A hold, and what the held code awaits at the place it is held. */
function hold(): Hold & { stay: () => Promise<void> } {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let reach!: () => void;
  const reached = new Promise<void>((r) => {
    reach = r;
  });
  return {
    reached,
    release,
    stay: () => {
      reach();
      return released;
    },
  };
}

/** Holds the reading of the order catalogue until `release()`. */
function holdCatalogueRead(): Hold {
  const { stay, ...held } = hold();
  const read = AppendLog.prototype.readBatches;
  vi.spyOn(AppendLog.prototype, 'readBatches').mockImplementation(async function* (
    this: AppendLog<unknown>,
    opts?: { fromSegment?: number },
  ): AsyncGenerator<AppendLogRecord<unknown>[]> {
    if (isOrderCatalogue(this)) await stay();
    yield* read.call(this, opts);
  });
  return held;
}

/** Holds a rebuild of the catalogue where it lists the order folders, until `release()`. */
function holdCatalogueRebuild(): Hold {
  const { stay, ...held } = hold();
  const folders = DocumentStore.prototype.folders;
  vi.spyOn(DocumentStore.prototype, 'folders').mockImplementation(async function (
    this: DocumentStore,
    prefix: string,
  ) {
    if (prefix === 'orders') await stay();
    return folders.call(this, prefix);
  });
  return held;
}

/**
 * A line with history, restarted with the load of its finished orders held as it reads the
 * catalogue: answers the line as it was, the restarted line, and the hold.
 */
async function restartedHeldAtRead(): Promise<{ h: Harness; x: Harness; hold: Hold }> {
  const h = await lineWithHistory(lines, 2);
  const hold = holdCatalogueRead();
  try {
    const x = await lines.restart(h);
    await hold.reached;
    return { h, x, hold };
  } catch (err) {
    hold.release();
    throw err;
  }
}

/**
 * A line with history, restarted after its catalogue was removed: answers the line as it was, the
 * restarted line, and the hold its rebuild waits at.
 */
async function restartedHeldAtRebuild(): Promise<{ h: Harness; x: Harness; hold: Hold }> {
  const h = await lineWithHistory(lines, 2);
  await h.stop();
  for (const name of await catalogueFiles(h.dir)) await rm(join(catalogueFolder(h.dir), name));
  const hold = holdCatalogueRebuild();
  const x = await lines.restart(h);
  await hold.reached;
  return { h, x, hold };
}

describe('the finished orders, loaded after start-up', () => {
  it('do not hold up the line: it starts and engraves an unfinished order while they load', async () => {
    const { x, hold } = await restartedHeldAtRead();
    try {
      const loaded = watch(x.repo.finishedOrdersLoaded());

      await x.line.startOrder('o4', 'operator');
      await until(
        async () => (await x.line.orderView('o4')).firearms.every((f) => f.state === 'engraved'),
        'both firearms of o4 engraved',
      );
      expect(x.records.filter((r) => r.event === 'engraved').map((r) => r.firearm.serial)).toEqual([
        'O4-0000',
        'O4-0001',
      ]);
      expect(loaded.settled).toBe(false);
    } finally {
      hold.release();
    }
  });

  it('are waited for by the order list, which then holds every order as last written', async () => {
    const h = await lineWithHistory(lines, 2);
    const o1 = (await h.line.orderView('o1')).order;
    const pin = (await h.line.orderView('o1')).firearms[1]!;
    const hold = holdCatalogueRead();
    const x = await lines.restart(h);
    await hold.reached;

    // While the load is held: QA reopens finished o1, whose new pin is engraved (its retirement
    // then waits for the load), and a new order comes in.
    await nextMillisecond();
    await x.line.applyVerdict({ orderId: 'o1', seq: 1 }, pin.code!, QA_FAIL);
    await until(async () => (await x.line.orderView('o1')).order.state === 'engraved', 'o1 done again');
    await x.line.submitOrder(order('o6', 1), 'http', 'erp');
    const fromLine = x.line.listOrders();
    const fromRepo = x.repo.listOrders();
    const listed = watch(fromLine);
    await settle();
    expect(listed.settled).toBe(false);

    hold.release();
    const all = await fromLine;
    expect(all.map((o) => o.id)).toEqual(['o6', 'o5', 'o4', 'o3', 'o2', 'o1']);
    expect(byId(all)).toEqual(await headerFiles(h.dir));
    // the header the line wrote since start, not the catalogue's older one
    expect(all.find((o) => o.id === 'o1')!.finishedAt! > o1.finishedAt!).toBe(true);
    expect(byId(await fromRepo)).toEqual(await headerFiles(h.dir));
    await until(async () => x.line.status().activeOrders.every((o) => o.id !== 'o1'), 'o1 retired again');
    expect(await catalogueIds(h.dir)).toEqual(['o1', 'o2', 'o3', 'o1']);
  });

  it('are not needed to refuse an order id or a serial that a finished order holds', async () => {
    const { x, hold } = await restartedHeldAtRead();
    try {
      const loaded = watch(x.repo.finishedOrdersLoaded());

      const again = await x.line.submitOrder(order('o1', 1), 'http', 'erp').catch((e: unknown) => e);
      expect(isStamplineError(again, 'ORDER_EXISTS')).toBe(true);
      expect(await x.repo.orderExists('o3')).toBe(true);
      const serial = await x.line
        .submitOrder({ ...order('o7', 1), firearms: [{ serial: 'O2-0001' }] }, 'http', 'erp')
        .catch((e: unknown) => e);
      expect(isStamplineError(serial, 'SERIAL_EXISTS')).toBe(true);
      // a new order is taken as usual
      await x.line.submitOrder(order('o8', 1), 'http', 'erp');
      expect(await x.repo.orderExists('o8')).toBe(true);
      expect(loaded.settled).toBe(false);
    } finally {
      hold.release();
    }
  });

  it('are waited for by a retirement, and the catalogue then lists the finished orders and the one retired', async () => {
    const { h, x, hold } = await restartedHeldAtRead();

    await x.line.startOrder('o5', 'operator');
    await until(
      async () => (await x.line.orderView('o5')).firearms.every((f) => f.state === 'engraved'),
      'the firearm of o5 engraved',
    );
    await settle();
    // o5 is finished, and its retirement waits for the load
    expect(await catalogueIds(h.dir)).toEqual(['o1', 'o2', 'o3']);
    expect(x.line.status().activeOrders.map((o) => o.id)).toEqual(['o4', 'o5']);

    hold.release();
    await until(async () => x.line.status().activeOrders.length === 1, 'o5 retired');
    expect(await catalogueIds(h.dir)).toEqual(['o1', 'o2', 'o3', 'o5']);
    expect((await x.line.listOrders()).find((o) => o.id === 'o5')!.state).toBe('engraved');

    const y = await lines.restart(x);
    await y.repo.finishedOrdersLoaded();
    expect(y.repo.catalogueRebuild).toBeUndefined();
    expect(byId(await y.line.listOrders())).toEqual(await headerFiles(h.dir));
  });

  it('are waited for by a retirement beside a rebuild, which the retirement does not undo', async () => {
    const { h, x, hold } = await restartedHeldAtRebuild();

    // Aborting finishes both orders at once; each retirement waits for the rebuild.
    const aborting = Promise.all([
      x.line.abortOrder('o5', 'operator', 'cancelled by the customer'),
      x.line.abortOrder('o4', 'operator', 'cancelled by the customer'),
    ]);
    await settle();
    expect((await catalogueFiles(h.dir)).filter((n) => !n.endsWith('.lock'))).toEqual([]);

    hold.release();
    await aborting;
    await until(async () => x.line.status().activeOrders.length === 0, 'o4 and o5 retired');
    await x.repo.finishedOrdersLoaded();
    expect(x.repo.catalogueRebuild).toEqual({ reason: 'absent', orders: 3 });
    expect((await catalogueIds(h.dir)).sort()).toEqual(['o1', 'o2', 'o3', 'o4', 'o5']);
    expect(byId(await x.line.listOrders())).toEqual(await headerFiles(h.dir));
  });

  it('leave no catalogue file behind when the line stops during a rebuild, and the next start writes it', async () => {
    const { h, x, hold } = await restartedHeldAtRebuild();

    const stopping = x.stop();
    const stopped = watch(stopping);
    await settle();
    expect(stopped.settled).toBe(false);
    hold.release();
    await stopping;
    expect((await catalogueFiles(h.dir)).filter((n) => !n.endsWith('.lock'))).toEqual([]);
    const failure = await x.repo.finishedOrdersLoaded().catch((e: unknown) => e);
    expect(isStamplineError(failure, 'STORE_UNAVAILABLE')).toBe(true);

    vi.restoreAllMocks();
    const y = await lines.restart(x);
    await y.repo.finishedOrdersLoaded();
    expect(y.repo.catalogueRebuild).toEqual({ reason: 'absent', orders: 3 });
    expect((await catalogueIds(h.dir)).sort()).toEqual(['o1', 'o2', 'o3']);
  });

  it('leave the catalogue as it was when the line stops while it is read', async () => {
    const h = await lineWithHistory(lines, 2);
    await h.stop();
    const before = await catalogueFiles(h.dir);
    const text = await readFile(join(catalogueFolder(h.dir), before.find((n) => n.endsWith('.jsonl'))!));
    const hold = holdCatalogueRead();
    const x = await lines.restart(h);
    await hold.reached;

    const stopping = x.stop();
    hold.release();
    await stopping;
    expect(await catalogueFiles(h.dir)).toEqual(before);
    expect(await readFile(join(catalogueFolder(h.dir), before.find((n) => n.endsWith('.jsonl'))!))).toEqual(
      text,
    );
  });

  it('wait, for a caller still starting up, until it asks for them or something needs them', async () => {
    const h = await lineWithHistory(lines, 2);
    await h.stop();
    const store = new DocumentStore({ dir: join(h.dir, 'docs') });
    await store.start();
    const read = vi.spyOn(AppendLog.prototype, 'readBatches');
    const repo = new LineRepository(store, join(h.dir, 'serials'));
    try {
      await repo.start({ finishedOrders: 'when-asked' });
      const loaded = watch(repo.finishedOrdersLoaded());
      // ample for a load begun at once to have read a catalogue of three entries
      await new Promise((r) => setTimeout(r, 300));
      expect(read).not.toHaveBeenCalled();
      expect(loaded.settled).toBe(false);
      expect(await repo.orderExists('o1')).toBe(true);

      expect((await repo.listOrders()).map((o) => o.id)).toEqual(['o5', 'o4', 'o3', 'o2', 'o1']);
      expect(read).toHaveBeenCalledTimes(1);
      await repo.finishedOrdersLoaded();
    } finally {
      await repo.stop();
      await store.stop();
    }

    // stopped before anything asked: nothing is read, and waiting answers why
    read.mockClear();
    await store.start();
    const idle = new LineRepository(store, join(h.dir, 'serials'));
    await idle.start({ finishedOrders: 'when-asked' });
    await idle.stop();
    await store.stop();
    expect(read).not.toHaveBeenCalled();
    const why = await idle.finishedOrdersLoaded().catch((e: unknown) => e);
    expect(isStamplineError(why, 'STORE_UNAVAILABLE')).toBe(true);
    expect((why as StamplineError).message).toMatch(/stopped before the order catalogue/);
  });

  it('that cannot be loaded make the order list fail with an error naming the catalogue, and leave a finished order held', async () => {
    const h = await lineWithHistory(lines, 2);
    await h.stop();
    await breakCatalogue(h.dir);
    // o2 finished, but a crash came before it was retired: start-up retires it, or cannot
    await setActiveIds(h.dir, ['o4', 'o5', 'o2']);

    const x = await lines.restart(h);
    const err = await x.line.listOrders().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StamplineError);
    expect((err as StamplineError).code).toBe('STORE_UNAVAILABLE');
    expect((err as StamplineError).message).toContain(join(catalogueFolder(h.dir), 'order-catalogue.'));
    expect(x.line.status().activeOrders.map((o) => [o.id, o.state])).toEqual([
      ['o4', 'queued'],
      ['o5', 'queued'],
      ['o2', 'engraved'],
    ]);
    // the line still engraves
    await x.line.startOrder('o4', 'operator');
    await until(
      async () => (await x.line.orderView('o4')).firearms.every((f) => f.state === 'engraved'),
      'both firearms of o4 engraved',
    );
  });
});

/** Makes the catalogue unreadable: its segment is a folder, which the log cannot open. */
async function breakCatalogue(dir: string): Promise<void> {
  for (const name of await catalogueFiles(dir)) {
    if (!name.endsWith('.jsonl')) continue;
    await rm(join(catalogueFolder(dir), name));
    await mkdir(join(catalogueFolder(dir), name));
  }
}

describe('the daemon, when the finished orders cannot be loaded', () => {
  it('logs why, answers the order list with a clear error, and leaves no rejection unhandled', async () => {
    const h = await lineWithHistory(lines, 2);
    await h.stop();
    await breakCatalogue(h.dir);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    const { daemon, erpToken, logged } = await linksDownDaemon(h.dir, 'background-test');
    try {
      await daemon.start();
      await daemon.repo!.finishedOrdersLoaded().catch(() => {});
      await settle();
      const errors = logged().filter((e) => e.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toMatch(/cannot load the finished orders/);
      expect(errors[0]!.err?.message).toContain(join(catalogueFolder(h.dir), 'order-catalogue.'));

      const answer = await fetch(`${daemon.address!.url}/api/v1/orders`, {
        headers: { authorization: `Bearer ${erpToken}` },
      });
      expect(answer.status).toBe(503);
      const body = (await answer.json()) as { code?: string; message?: string; error?: unknown };
      expect(JSON.stringify(body)).toContain('STORE_UNAVAILABLE');
      expect(JSON.stringify(body)).toContain('order-catalogue');
    } finally {
      await daemon.stop();
      await settle();
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  }, 60_000);
});
