/**
 * The daemon warns when the load of the finished orders after start-up had to write the order
 * catalogue afresh from the order header files (none there, or one that could not be read), and
 * says nothing when it read the catalogue or when the data folder is new.
 */
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORDER_CATALOGUE } from '../../src/line/repository.js';
import { order, until, useLines } from './harness.js';
import { type LogEntry, linksDownDaemon } from './support/daemon.js';

const lines = useLines();
const MESSAGE = 'order catalogue written afresh from the order header files';

/** Starts and stops a daemon on the line's data folder, with its links down; answers what it logged. */
async function runDaemon(dir: string): Promise<LogEntry[]> {
  const { daemon, logged } = await linksDownDaemon(dir, 'catalogue-test');
  try {
    await daemon.start();
    // The finished orders load after start-up, and the daemon tells what became of it then.
    await daemon.repo!.finishedOrdersLoaded();
    await new Promise((r) => setImmediate(r));
  } finally {
    await daemon.stop();
  }
  return logged();
}

describe('the daemon at start-up', () => {
  it('warns, with how many orders and why, when the order catalogue was written afresh, and not when it was read', async () => {
    const h = await lines.start();
    await h.line.submitOrder(order('o1', 1), 'http', 'erp');
    await h.line.startOrder('o1', 'operator');
    await until(async () => (await h.line.listOrders())[0]?.state === 'engraved', 'o1 done');
    await h.stop();
    const folder = join(h.dir, 'docs', ORDER_CATALOGUE.folder);
    for (const name of await readdir(folder))
      if (name.startsWith(`${ORDER_CATALOGUE.name}.`)) await rm(join(folder, name));

    const rebuilt = (await runDaemon(h.dir)).filter((e) => e.msg === MESSAGE);
    expect(rebuilt).toEqual([
      expect.objectContaining({ level: 40, catalogue: { reason: 'absent', orders: 1 } }),
    ]);
    expect((await runDaemon(h.dir)).filter((e) => e.msg === MESSAGE)).toEqual([]);
  }, 60_000);

  it('says nothing on a new data folder, which has no orders to rebuild the catalogue from', async () => {
    const fresh = join(tmpdir(), `stampline-catalogue-${process.pid}-${Date.now()}`);
    try {
      const logged = await runDaemon(fresh);
      expect(logged.some((e) => e.msg === 'daemon started' || e.level === 30)).toBe(true);
      expect(logged.filter((e) => e.msg === MESSAGE)).toEqual([]);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }, 60_000);
});
