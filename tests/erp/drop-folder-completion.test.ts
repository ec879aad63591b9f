/**
 * A writer that pauses at a row boundary for longer than settleMs must not have its order cut.
 * With `completion: 'done-file'` a file is taken only once the ERP has put `<name>.done` beside
 * it, however long it pauses; with the default `settle`, a file that grew after it was read is
 * reported at once as an error, never passed over in silence.
 */
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CSV_HEADER } from '../../src/erp/csv.js';
import { DropFolder, type DropFolderOptions } from '../../src/erp/drop-folder.js';
import { FakeLine, list, memoryLogger, sleep, tempDir, waitFor } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
const folders: DropFolder[] = [];

beforeEach(async () => {
  const t = await tempDir();
  dir = join(t.path, 'drop');
  cleanup = t.remove;
  await mkdir(dir, { recursive: true });
});

afterEach(async () => {
  for (const f of folders.splice(0)) await f.stop();
  await cleanup();
});

const rowOf = (id: string, serial: string) => `${id},Acme,P-9,9mm,${serial},,\n`;

async function start(opts: Partial<DropFolderOptions> = {}) {
  const line = new FakeLine();
  const logger = memoryLogger();
  const f = new DropFolder({ dir, pollMs: 10, settleMs: 50, accept: line.accept, logger, ...opts });
  folders.push(f);
  await f.start();
  return { line, logger, f };
}

describe("a writer's pause at a row boundary", () => {
  it('with done-file, the whole order is taken however long the writer pauses', async () => {
    const { line } = await start({ completion: 'done-file' });
    const path = join(dir, 'orders.csv');
    await writeFile(path, `${CSV_HEADER}\n${rowOf('PO-1', 'A-1')}${rowOf('PO-1', 'A-2')}`);
    // Ten times settleMs: a settle rule alone would have taken the file by now.
    await sleep(500);
    expect(line.calls).toEqual([]);
    expect(await readdir(dir)).toContain('orders.csv');
    await appendFile(path, rowOf('PO-1', 'A-3'));
    await writeFile(join(dir, 'orders.csv.done'), '');
    await waitFor(async () => (await list(join(dir, 'processed'))).includes('orders.csv'), 'the file taken');
    expect(line.calls).toHaveLength(1);
    expect(line.orders.get('PO-1')?.firearms.map((f) => f.serial)).toEqual(['A-1', 'A-2', 'A-3']);
    // The marker goes with its file, so a later file of that name waits for its own.
    expect(
      (await readdir(dir)).filter((n) => !n.startsWith('.') && n !== 'processed' && n !== 'rejected'),
    ).toEqual([]);
  });

  it('with done-file, a stale marker left by a stop does not let a later file in early', async () => {
    await writeFile(join(dir, 'orders.csv.done'), '');
    const { line } = await start({ completion: 'done-file' });
    await writeFile(join(dir, 'orders.csv'), `${CSV_HEADER}\n${rowOf('PO-2', 'B-1')}`);
    await sleep(300);
    expect(line.calls).toEqual([]);
  });

  it('with settle, a file that grew after it was read is reported as an error naming it', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const line = new FakeLine();
    const logger = memoryLogger();
    const f = new DropFolder({
      dir,
      pollMs: 10,
      settleMs: 50,
      logger,
      accept: async (orders, file, intake) => {
        // The writer wakes while the line is taking what it read.
        await held;
        return line.accept(orders, file, intake);
      },
    });
    folders.push(f);
    await f.start();
    const path = join(dir, 'slow.csv');
    await writeFile(path, `${CSV_HEADER}\n${rowOf('PO-3', 'C-1')}`);
    await waitFor(async () => logger.entries.some((e) => /watching/.test(e.msg ?? '')), 'started');
    await sleep(200);
    await appendFile(path, rowOf('PO-3', 'C-2'));
    release();
    await waitFor(async () => (await list(join(dir, 'processed'))).includes('slow.csv'), 'the file moved');
    const error = logger.entries.find((e) => e.level === 'error');
    expect(error?.msg).toMatch(/changed after it was read/);
    expect(error?.obj).toMatchObject({ file: 'slow.csv', orderIds: ['PO-3'] });
  });
});
