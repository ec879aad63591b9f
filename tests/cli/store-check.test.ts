/**
 * `stampline store check` on a line's data folder, as an operator runs it after restoring a
 * backup: OK and exit 0 on a sound folder, every problem named and exit 1 on a damaged one, and
 * `--repair` moving the allocator past every witnessed index (with an audit entry), rebuilding a
 * lost index, and refusing while a daemon holds the store.
 */
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/line/serial-index.js';
import { order, until } from '../line/harness.js';
import {
  allFirearms,
  copyOf,
  engrave,
  makeHistory,
  removeDir,
  startDaemon,
} from '../store/support/history.js';
import { stampline } from '../support/cli.js';

let history: string;
const copies: string[] = [];

beforeAll(async () => {
  history = await makeHistory();
}, 120_000);

afterAll(async () => {
  for (const d of [history, ...copies]) await removeDir(d);
});

async function copy(): Promise<string> {
  const dir = await copyOf(history);
  copies.push(dir);
  return dir;
}

describe('stampline store check', () => {
  it('prints OK with what it read and exits 0 on a sound folder', async () => {
    const r = await stampline('store', 'check', '--data-dir', history);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK: .*: 3 orders, 7 firearms, \d+ audit entries, \d+ outbox entries/);
    expect(r.stdout).toContain('highest index any witness holds: 1004');
    // A and B are engraved and nobody has read their cases yet: not complete
    expect(r.stdout).toContain('\norders by state: 1 queued, 2 engraved (awaiting QA or the registry)\n');
  }, 30_000);

  it('names orders a store from before the split holds as done', async () => {
    const dir = await copy();
    const file = join(dir, 'docs/orders/B/header.json');
    const header = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...header, state: 'done' }));
    const r = await stampline('store', 'check', '--data-dir', dir);
    expect(r.stdout).toContain(
      'orders by state: 1 queued, 1 engraved (awaiting QA or the registry), 1 done (stored before',
    );
  }, 30_000);

  it('names every damaged file and exits 1; --json says the same', async () => {
    const dir = await copy();
    await rm(join(dir, 'docs/orders/A/firearms-00000.json'));
    await rm(join(dir, 'outbox/outbox.00000001.jsonl'));
    const r = await stampline('store', 'check', '--data-dir', dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^BAD: /);
    expect(r.stdout).toContain(`BAD: ${join(dir, 'docs/orders/A/firearms-00000.json')} is missing`);
    expect(r.stdout).toContain(`BAD: ${join(dir, 'outbox/outbox.00000001.jsonl')} missing`);
    const j = await stampline('store', 'check', '--data-dir', dir, '--json');
    expect(j.code).toBe(1);
    const report = JSON.parse(j.stdout);
    expect(report.ok).toBe(false);
    expect(report.findings.map((f: { file: string }) => f.file)).toEqual(
      expect.arrayContaining([
        join(dir, 'docs/orders/A/firearms-00000.json'),
        join(dir, 'outbox/outbox.00000001.jsonl'),
      ]),
    );
  }, 30_000);

  it('explains an allocator behind its witnesses; --repair moves it past them, audits it, and the line starts after them', async () => {
    const dir = await copy();
    await writeFile(join(dir, 'docs/line/allocator.json'), '{"reserved":[[1000,1000]]}\n');
    const before = await stampline('store', 'check', '--data-dir', dir);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain('allocator.json has not reserved indexes the line has given');
    expect(before.stdout).toContain('the firearms holds 1004');

    const fixed = await stampline('store', 'check', '--data-dir', dir, '--repair');
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('repaired: allocator: reserved 1000..1004');
    expect(fixed.stdout).toMatch(/\nOK: /);
    const audit = await readFile(join(dir, 'audit/audit.00000001.jsonl'), 'utf8');
    expect(audit.trim().split('\n').at(-1)).toContain('"action":"allocator.repair"');

    // never back: a second repair changes nothing
    const again = await stampline('store', 'check', '--data-dir', dir, '--repair');
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('repaired:');

    const { daemon } = await startDaemon(dir);
    try {
      await engrave(daemon, 'D', 2);
      const indexes = (await allFirearms(daemon)).flatMap((f) => (f.code ? [f.code.index] : []));
      expect(new Set(indexes).size).toBe(indexes.length);
      expect(
        Math.min(...(await allFirearms(daemon)).filter((f) => f.orderId === 'D').map((f) => f.code!.index)),
      ).toBeGreaterThan(1004);
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('names an unfinished order an older list of unfinished orders leaves out; --repair lists it again, audited', async () => {
    const dir = await copy();
    const file = join(dir, 'docs/line/active-orders.json');
    const list = JSON.parse(await readFile(file, 'utf8')) as { orderIds: string[] };
    await writeFile(file, `${JSON.stringify({ ...list, orderIds: [] })}\n`);
    const before = await stampline('store', 'check', '--data-dir', dir);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(`BAD: ${file} does not list order C, which is queued`);

    const fixed = await stampline('store', 'check', '--data-dir', dir, '--repair');
    expect(fixed.stderr).toBe('');
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('repaired: list of unfinished orders: listed again C');
    const audit = await readFile(join(dir, 'audit/audit.00000001.jsonl'), 'utf8');
    expect(audit.trim().split('\n').at(-1)).toContain('"action":"orders.relist"');

    const { daemon } = await startDaemon(dir);
    try {
      await daemon.line!.startOrder('C', 'operator');
      await until(
        async () => (await daemon.line!.orderView('C')).order.state === 'engraved',
        'order C done',
        30_000,
      );
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('rebuilds an emptied serial index shard with --repair, after which an engraved serial is refused again', async () => {
    const dir = await copy();
    const shard = join(dir, 'serials', `${shardOf('A-0001').toString(16).padStart(2, '0')}.tsv`);
    await truncate(shard, 0);
    const r = await stampline('store', 'check', '--data-dir', dir, '--repair');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('repaired: serial index: written afresh from 7 firearms');
    const { daemon } = await startDaemon(dir, false);
    try {
      const again = order('E', 1);
      again.firearms = [{ serial: 'A-0001' }];
      await expect(daemon.line!.submitOrder(again, 'http', 'erp')).rejects.toMatchObject({
        code: 'SERIAL_EXISTS',
      });
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('refuses --repair while a daemon holds the store, and changes nothing', async () => {
    const dir = await copy();
    const { daemon } = await startDaemon(dir, false);
    try {
      await writeFile(join(dir, 'docs/line/allocator.json'), '{"reserved":[[1000,1000]]}\n');
      const r = await stampline('store', 'check', '--data-dir', dir, '--repair');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`holds the store in ${dir}: stop the daemon before --repair`);
      expect(await readFile(join(dir, 'docs/line/allocator.json'), 'utf8')).toBe(
        '{"reserved":[[1000,1000]]}\n',
      );
    } finally {
      await daemon.stop();
    }
  }, 60_000);

  it('adopts a folder that lost only its store.json, and is a usage error on a folder that does not exist', async () => {
    const dir = await copy();
    await rm(join(dir, 'store.json'));
    const r = await stampline('store', 'check', '--data-dir', dir, '--repair');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('repaired: store.json: written');
    const { daemon } = await startDaemon(dir, false);
    await daemon.stop();
    const none = await stampline('store', 'check', '--data-dir', join(dir, 'nope'));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no data folder');
  }, 60_000);
});
