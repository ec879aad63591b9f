/**
 * An order is engraved when its pins are marked and complete when QA has passed every firearm and
 * the registry has accepted every record. Until then it stays in the line's backlog (what the Line
 * screen shows beside the engraver), with its firearms counted engraved, verified and accepted.
 * An order stored as `done` before the two were told apart reads as the state its firearms say.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORDER_CATALOGUE } from '../../src/line/order-catalogue.js';
import type { HeldRecord } from '../../src/line/registry-status.js';
import type { QaDecision, RecordSink } from '../../src/line/types.js';
import type { Settlement } from '../../src/registry/outbox.js';
import type { RegistryRecord } from '../../src/registry/record.js';
import { type Harness, order, QA_FAIL, until, useLines } from './harness.js';

const lines = useLines();

const PASS: QaDecision = {
  result: 'pass',
  policy: 'every-case',
  grade: 'B',
  casings: 3,
  reason: 'every case grades C or better',
  at: new Date().toISOString(),
  by: 'alice',
};

/** A record sink that holds every record until the test plays the registry's ack. */
function holdingSink() {
  const held = new Map<string, RegistryRecord & { enqueuedAt: string }>();
  const sink: RecordSink = {
    async report(records) {
      for (const r of records) held.set(r.recordId, { ...r, enqueuedAt: new Date().toISOString() });
    },
    held(serial: string): HeldRecord[] {
      return [...held.values()]
        .filter((r) => r.firearm.serial === serial)
        .map((r) => ({
          recordId: r.recordId,
          event: r.event,
          code: r.code,
          state: 'waiting',
          enqueuedAt: r.enqueuedAt,
        }));
    },
  };
  /** The registry accepts the held records `which` picks (or an operator dismisses them), as the outbox settles them. */
  async function ack(
    h: Harness,
    which: (r: RegistryRecord) => boolean,
    outcome: Settlement['outcome'] = 'accepted',
  ): Promise<number> {
    const settled: Settlement[] = [...held.values()].filter(which).map((r) => ({
      recordId: r.recordId,
      event: r.event,
      serial: r.firearm.serial,
      orderId: r.order.id,
      code: r.code,
      outcome,
      at: new Date().toISOString(),
      ...(outcome === 'dismissed' ? { reason: 'sent by hand', by: 'olga' } : {}),
    }));
    await h.line.noteSettled(settled);
    for (const s of settled) held.delete(s.recordId);
    return settled.length;
  }
  return { sink, ack, held };
}

async function engraved(h: Harness, id: string, size: number) {
  await h.line.submitOrder(order(id, size), 'http', 'erp');
  await h.line.startOrder(id, 'operator');
  await until(async () => (await h.line.orderView(id)).order.state === 'engraved', `${id} engraved`);
  // engraved, then retired: the line no longer works on it
  await until(() => !h.line.summary(50).activeOrders.some((o) => o.id === id), `${id} retired`);
  await h.line.settledCompletion();
}

async function pass(h: Harness, id: string, seq: number): Promise<void> {
  const f = (await h.line.orderView(id)).firearms[seq]!;
  await h.line.applyVerdict({ orderId: id, seq }, { index: f.code!.index, text: f.code!.text }, PASS);
  await h.line.settledCompletion();
}

describe('engraved and complete', () => {
  it('keeps an engraved order in the backlog until QA passed every firearm and the registry accepted every record', async () => {
    const registry = holdingSink();
    const h = await lines.start({ sink: registry.sink });
    await engraved(h, 'o1', 2);

    let view = await h.line.orderView('o1');
    expect(view.order.state).toBe('engraved');
    expect(view.order.finishedAt).toEqual(expect.any(String));
    expect(view.order.completedAt).toBeUndefined();
    expect(view.counts).toMatchObject({ engraved: 2, verified: 0, accepted: 0 });
    let backlog = h.line.summary(50).backlog;
    expect(backlog.awaitingQa).toBe(2);
    expect(backlog.engravedTotal).toBe(1);
    expect(backlog.engravedOrders.map((o) => [o.id, o.state, o.counts.engraved])).toEqual([
      ['o1', 'engraved', 2],
    ]);

    // The registry has the pins, but QA has not seen them: still engraved.
    expect(await registry.ack(h, (r) => r.event === 'engraved')).toBe(2);
    await h.line.settledCompletion();
    expect((await h.line.orderView('o1')).order.state).toBe('engraved');

    await pass(h, 'o1', 0);
    view = await h.line.orderView('o1');
    expect(view.order.state).toBe('engraved');
    expect(view.counts).toMatchObject({ engraved: 2, verified: 1, accepted: 0 });
    backlog = h.line.summary(50).backlog;
    expect(backlog.awaitingQa).toBe(1);
    expect(backlog.engravedOrders[0]!.counts).toMatchObject({ verified: 1, accepted: 0 });

    await registry.ack(h, () => true);
    await h.line.settledCompletion();
    expect((await h.line.orderView('o1')).counts).toMatchObject({ verified: 1, accepted: 1 });
    expect(h.line.summary(50).backlog.engravedOrders[0]!.counts.accepted).toBe(1);

    // Every firearm passed, but the last verified record still waits for the registry.
    await pass(h, 'o1', 1);
    view = await h.line.orderView('o1');
    expect(view.order.state).toBe('engraved');
    expect(view.counts).toMatchObject({ verified: 2, accepted: 1 });
    expect(h.audit.map((e) => e.action)).not.toContain('order.complete');

    await registry.ack(h, () => true);
    await h.line.settledCompletion();
    view = await h.line.orderView('o1');
    expect(view.order.state).toBe('complete');
    expect(view.order.completedAt).toEqual(expect.any(String));
    expect(view.counts).toMatchObject({ engraved: 2, verified: 2, accepted: 2 });
    expect(h.line.summary(50).backlog).toEqual({ awaitingQa: 0, engravedOrders: [], engravedTotal: 0 });
    expect((await h.line.listOrders()).find((o) => o.id === 'o1')!.state).toBe('complete');
    expect(h.audit.filter((e) => e.action === 'order.complete')).toEqual([
      expect.objectContaining({ actor: 'line', subject: 'order:o1', before: { state: 'engraved' } }),
    ]);

    // Complete is kept across a restart, from the header file and the catalogue alike.
    const again = await lines.restart(h);
    await again.line.settledCompletion();
    expect((await again.line.orderView('o1')).order.state).toBe('complete');
    expect((await again.line.listOrders()).find((o) => o.id === 'o1')!.state).toBe('complete');
  });

  it('counts an engraved order again at start-up, and completes one whose last ack came before the stop', async () => {
    const registry = holdingSink();
    const h = await lines.start({ sink: registry.sink });
    await engraved(h, 'o1', 1);
    await engraved(h, 'o2', 1);
    await pass(h, 'o1', 0);
    await registry.ack(h, (r) => r.order.id === 'o1');
    await h.line.settledCompletion();
    expect((await h.line.orderView('o1')).order.state).toBe('complete');

    const again = await lines.restart(h, { sink: registry.sink });
    await again.line.settledCompletion();
    const backlog = again.line.summary(50).backlog;
    expect(backlog.engravedOrders.map((o) => o.id)).toEqual(['o2']);
    expect(backlog.awaitingQa).toBe(1);
  });

  it('reads an order stored as done as engraved, or complete when QA and the registry are through with it', async () => {
    // Without a `held` in the sink nothing waits for the registry: a QA pass completes a firearm.
    const h = await lines.start();
    await engraved(h, 'o1', 2);
    await engraved(h, 'o2', 2);
    await pass(h, 'o1', 0);
    await pass(h, 'o1', 1);
    await pass(h, 'o2', 0);
    expect((await h.line.orderView('o1')).order.state).toBe('complete');
    expect((await h.line.orderView('o2')).order.state).toBe('engraved');
    await h.stop();

    // What a store written before the split holds: `done` in the header files and the catalogue.
    const docs = join(h.dir, 'docs');
    for (const id of ['o1', 'o2']) {
      const file = join(docs, 'orders', id, 'header.json');
      const header = JSON.parse(await readFile(file, 'utf8'));
      header.state = 'done';
      delete header.completedAt;
      await writeFile(file, JSON.stringify(header));
    }
    const folder = join(docs, ORDER_CATALOGUE.folder);
    for (const name of await readdir(folder)) {
      if (!name.startsWith(`${ORDER_CATALOGUE.name}.`) || !name.endsWith('.jsonl')) continue;
      const text = await readFile(join(folder, name), 'utf8');
      await writeFile(
        join(folder, name),
        text
          .split('\n')
          .filter((l) => l !== '' && !l.includes('"complete"'))
          .map((l) => `${l.replace('"state":"engraved"', '"state":"done"')}\n`)
          .join(''),
      );
    }
    expect(await readFile(join(docs, 'orders', 'o1', 'header.json'), 'utf8')).toContain('"done"');

    const again = await lines.restart(h);
    expect((await again.line.orderView('o2')).order.state).toBe('engraved');
    await again.line.settledCompletion();
    const listed = await again.line.listOrders();
    expect(listed.map((o) => [o.id, o.state])).toEqual([
      ['o2', 'engraved'],
      ['o1', 'complete'],
    ]);
    expect((await again.line.orderView('o1')).order.state).toBe('complete');
    expect(JSON.parse(await readFile(join(docs, 'orders', 'o1', 'header.json'), 'utf8')).state).toBe(
      'complete',
    );
    expect(again.line.summary(50).backlog).toMatchObject({ awaitingQa: 1, engravedTotal: 1 });
  });

  it('keeps an order whose record an operator dismissed engraved: the registry does not have that firearm', async () => {
    const registry = holdingSink();
    const h = await lines.start({ sink: registry.sink });
    await engraved(h, 'o1', 1);
    await pass(h, 'o1', 0);
    await registry.ack(h, (r) => r.event === 'engraved');
    await registry.ack(h, (r) => r.event === 'verified', 'dismissed');
    await h.line.settledCompletion();
    const view = await h.line.orderView('o1');
    expect(view.firearms[0]!.registry!.records.map((r) => [r.event, r.state])).toEqual([
      ['engraved', 'accepted'],
      ['verified', 'dismissed'],
    ]);
    expect(view.order.state).toBe('engraved');
    expect(view.counts).toMatchObject({ verified: 1, accepted: 0 });
    expect(h.line.summary(50).backlog.engravedOrders.map((o) => o.id)).toEqual(['o1']);
  });

  it('takes an engraved order a QA failure reopens out of the backlog, and back once the new pin is marked', async () => {
    const registry = holdingSink();
    const h = await lines.start({ sink: registry.sink });
    await engraved(h, 'o1', 2);
    const f = (await h.line.orderView('o1')).firearms[1]!;
    await h.line.applyVerdict(
      { orderId: 'o1', seq: 1 },
      { index: f.code!.index, text: f.code!.text },
      QA_FAIL,
    );
    await h.line.settledCompletion();
    expect(h.line.summary(50).backlog.engravedOrders).toEqual([]);

    // reopened running: the line engraves the new pin by itself
    expect(h.audit.filter((e) => e.action === 'order.reopen')).toEqual([
      expect.objectContaining({ before: { state: 'engraved' }, after: { state: 'running' } }),
    ]);
    await until(async () => (await h.line.orderView('o1')).order.state === 'engraved', 'the new pin');
    await until(() => !h.line.summary(50).activeOrders.some((o) => o.id === 'o1'), 'o1 retired again');
    await h.line.settledCompletion();
    const backlog = h.line.summary(50).backlog;
    expect(backlog.engravedOrders.map((o) => [o.id, o.counts.engraved, o.counts.verified])).toEqual([
      ['o1', 2, 0],
    ]);
    expect(backlog.awaitingQa).toBe(2);
  });
});
