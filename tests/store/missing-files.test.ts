/**
 * A file of the store that is deleted, cut short or replaced is never read as empty: start-up
 * refuses naming it, or (a log's torn tail, the order catalogue) repairs or rebuilds and logs it.
 * Each case damages a copy of one line's data folder, made by the real daemon.
 */
import { appendFile, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StamplineError } from '../../src/errors.js';
import { shardOf } from '../../src/line/serial-index.js';
import { until } from '../line/harness.js';
import { copyOf, engrave, makeHistory, OPERATOR_TOKEN, removeDir, startDaemon } from './support/history.js';

let history: string;
const copies: string[] = [];

beforeAll(async () => {
  history = await makeHistory();
}, 120_000);

afterAll(async () => {
  for (const d of [history, ...copies]) await removeDir(d);
});

async function damaged(damage: (dir: string) => Promise<void>): Promise<string> {
  const dir = await copyOf(history);
  copies.push(dir);
  await damage(dir);
  return dir;
}

/** The refusal of a start on `dir`, which must be refused. */
async function refusal(dir: string): Promise<StamplineError> {
  try {
    const { daemon } = await startDaemon(dir, false);
    await daemon.stop();
  } catch (err) {
    expect(err).toBeInstanceOf(StamplineError);
    return err as StamplineError;
  }
  throw new Error(`the daemon started on ${dir}`);
}

const cut = async (file: string, keep: (size: number) => number) => {
  const size = (await readFile(file)).length;
  await truncate(file, keep(size));
};

const shardFile = (dir: string, index: 'serials' | 'codes', key: string) =>
  join(dir, index, `${shardOf(key).toString(16).padStart(2, '0')}.tsv`);

describe('start-up on a damaged data folder', () => {
  it('refuses a deleted allocator, naming it, instead of handing out indexes 1000, 1001… again', async () => {
    const dir = await damaged((d) => rm(join(d, 'docs/line/allocator.json')));
    const err = await refusal(dir);
    expect(err.code).toBe('STORE_MISSING');
    expect(err.message).toContain(join(dir, 'docs/line/allocator.json'));
  }, 30_000);

  it('refuses an allocator replaced by an older copy, naming every witness that is ahead of it', async () => {
    const dir = await damaged((d) =>
      writeFile(join(d, 'docs/line/allocator.json'), '{"reserved":[[1000,1000]]}\n'),
    );
    const err = await refusal(dir);
    expect(err.code).toBe('STORE_WITNESS_AHEAD');
    expect(err.message).toContain(join(dir, 'docs/line/allocator.json'));
    expect(err.message).toContain('code index holds index 1004');
    expect(err.message).toContain('outbox holds index 1004');
  }, 30_000);

  it('refuses an allocator cut short as corrupt, naming it', async () => {
    const dir = await damaged((d) => cut(join(d, 'docs/line/allocator.json'), (n) => n - 5));
    const err = await refusal(dir);
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toContain(join(dir, 'docs/line/allocator.json'));
  }, 30_000);

  it('refuses a deleted list of unfinished orders instead of losing order C', async () => {
    const dir = await damaged((d) => rm(join(d, 'docs/line/active-orders.json')));
    const err = await refusal(dir);
    expect(err.code).toBe('STORE_MISSING');
    expect(err.message).toContain(join(dir, 'docs/line/active-orders.json'));
  }, 30_000);

  it('refuses a list of unfinished orders replaced by an older copy that leaves out order C', async () => {
    // The list as it was before order C was created: whole, parseable, and C missing from it.
    const dir = await damaged(async (d) => {
      const file = join(d, 'docs/line/active-orders.json');
      const list = JSON.parse(await readFile(file, 'utf8')) as { orderIds: string[] };
      await writeFile(
        file,
        `${JSON.stringify({ ...list, orderIds: list.orderIds.filter((id) => id !== 'C') })}\n`,
      );
    });
    const err = await refusal(dir);
    expect(err.code).toBe('STORE_MISSING');
    expect(err.message).toContain(join(dir, 'docs/line/active-orders.json'));
    expect(err.message).toContain('order C (queued');
  }, 30_000);

  it('puts back a finished order missing from an order catalogue cut at a line boundary after a crash, and logs it', async () => {
    const dir = await damaged(async (d) => {
      const file = join(d, 'docs/line/order-catalogue.00000001.jsonl');
      const text = await readFile(file, 'utf8');
      const kept = text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1);
      expect(kept.length).toBeLessThan(text.length);
      await writeFile(file, kept);
      // After a crash the catalogue's record knows only the size at the last start.
      const record = join(d, 'docs/line/order-catalogue.segments.json');
      const r = JSON.parse(await readFile(record, 'utf8')) as { lastAtLeast?: number };
      await writeFile(record, `${JSON.stringify({ ...r, lastAtLeast: kept.length })}\n`);
    });
    const t = await startDaemon(dir, false);
    try {
      await t.daemon.repo!.finishedOrdersLoaded();
      const listed = (await t.daemon.line!.listOrders()).map((o) => o.id).sort();
      expect(listed).toEqual(['A', 'B', 'C']);
      expect(t.daemon.repo!.catalogueRebuild).toMatchObject({ reason: 'incomplete', orders: 1 });
      await until(
        async () =>
          t.logged().some((l) => String(l.msg).startsWith('order catalogue lacked finished orders')),
        'the repair logged',
      );
    } finally {
      await t.daemon.stop();
    }
  }, 30_000);

  it('refuses an unfinished order whose block of firearms is deleted, cut short or another order’s', async () => {
    const chunk = 'docs/orders/C/firearms-00000.json';
    const deleted = await refusal(await damaged((d) => rm(join(d, chunk))));
    expect(deleted.code).toBe('STORE_MISSING');
    expect(deleted.message).toContain(chunk);
    const short = await refusal(await damaged((d) => cut(join(d, chunk), (n) => n - 3)));
    expect(short.code).toBe('STORE_CORRUPT');
    expect(short.message).toContain(chunk);
    const replaced = await refusal(
      await damaged(async (d) =>
        writeFile(join(d, chunk), await readFile(join(d, 'docs/orders/B/firearms-00000.json'))),
      ),
    );
    expect(replaced.code).toBe('STORE_MISSING');
    expect(replaced.message).toContain(chunk);
    expect(replaced.message).toContain('not those of order C');
  }, 60_000);

  it('does not show a finished order whose firearms are deleted as done with none engraved', async () => {
    const dir = await damaged((d) => rm(join(d, 'docs/orders/A/firearms-00000.json')));
    const { daemon } = await startDaemon(dir, false);
    try {
      await expect(daemon.line!.orderView('A')).rejects.toMatchObject({
        code: 'STORE_MISSING',
        message: expect.stringContaining('docs/orders/A/firearms-00000.json'),
      });
      await expect(daemon.line!.findFirearms({ serial: 'A-0000' })).rejects.toMatchObject({
        code: 'STORE_MISSING',
      });
    } finally {
      await daemon.stop();
    }
  }, 30_000);

  it('refuses a deleted outbox segment or outbox folder, naming it, instead of dropping the records owed', async () => {
    const segment = await refusal(await damaged((d) => rm(join(d, 'outbox/outbox.00000001.jsonl'))));
    expect(segment.code).toBe('STORE_MISSING');
    expect(segment.message).toContain('outbox/outbox.00000001.jsonl');
    const folder = await refusal(await damaged((d) => rm(join(d, 'outbox'), { recursive: true })));
    expect(folder.code).toBe('STORE_MISSING');
    expect(folder.message).toContain('outbox');
  }, 60_000);

  it('refuses an outbox cut short by whole records, which no crash leaves', async () => {
    const dir = await damaged(async (d) => {
      const file = join(d, 'outbox/outbox.00000001.jsonl');
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
    });
    const err = await refusal(dir);
    expect(err.code).toBe('STORE_MISSING');
    expect(err.message).toContain('outbox/outbox.00000001.jsonl');
    expect(err.message).toContain('cut short');
  }, 30_000);

  it('logs the bytes it cut off the outbox’s torn tail (a crash mid-write), and counts the repair', async () => {
    const dir = await damaged((d) =>
      appendFile(join(d, 'outbox/outbox.00000001.jsonl'), '{"k":"rec","id":"torn'),
    );
    const t = await startDaemon(dir, false);
    try {
      const warned = t.logged().find((l) => String(l.msg).startsWith('outbox: cut off a torn last entry'));
      expect(warned).toMatchObject({ note: { droppedBytes: expect.any(Number) } });
      expect((warned!.note as { droppedBytes: number }).droppedBytes).toBeGreaterThan(0);
      const metrics = await (await fetch(`${t.daemon.address!.url}/metrics`)).text();
      expect(metrics).toMatch(/stampline_store_repairs_total\{log="outbox\/outbox"\} [1-9]/);
      // the Line screen lists it, from the line's status
      const status = await fetch(`${t.daemon.address!.url}/api/v1/line`, {
        headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
      });
      expect(status.status).toBe(200);
      expect(((await status.json()) as { storeRepairs: unknown[] }).storeRepairs).toContainEqual(
        expect.objectContaining({ file: join(dir, 'outbox/outbox.00000001.jsonl'), droppedBytes: 21 }),
      );
    } finally {
      await t.daemon.stop();
    }
  }, 30_000);

  it('refuses an audit trail whose segment is deleted', async () => {
    const err = await refusal(await damaged((d) => rm(join(d, 'audit/audit.00000001.jsonl'))));
    expect(err.code).toBe('STORE_MISSING');
    expect(err.message).toContain('audit/audit.00000001.jsonl');
  }, 30_000);

  it('refuses a serial index shard deleted or emptied, instead of taking an engraved serial again', async () => {
    for (const damage of [(f: string) => rm(f), (f: string) => truncate(f, 0)]) {
      const err = await refusal(await damaged((d) => damage(shardFile(d, 'serials', 'A-0000'))));
      expect(err.code).toBe('STORE_MISSING');
      expect(err.message).toContain(shardFile('', 'serials', 'A-0000').slice(1));
    }
  }, 60_000);

  it('refuses a code index shard deleted', async () => {
    const dir = await damaged(async (d) => {
      const names = (await readdir(join(d, 'codes'))).filter((n) => n.endsWith('.tsv'));
      await rm(join(d, 'codes', names[0]!));
    });
    const err = await refusal(dir);
    expect(err.code).toBe('STORE_MISSING');
    expect(err.message).toContain(join(dir, 'codes'));
  }, 30_000);

  it('refuses a data folder whose store identity is deleted', async () => {
    const err = await refusal(await damaged((d) => rm(join(d, 'store.json'))));
    expect(err.code).toBe('STORE_MISSING');
    expect(err.message).toContain('store.json');
    expect(err.message).toContain('stampline store check --repair');
  }, 30_000);

  it('starts on the undamaged copy and engraves on, with no index given twice', async () => {
    const dir = await damaged(async () => {});
    const { daemon } = await startDaemon(dir);
    try {
      await engrave(daemon, 'D', 2);
      const view = await daemon.line!.orderView('D');
      expect(view.order.state).toBe('engraved');
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});
