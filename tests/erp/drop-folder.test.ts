import { spawn } from 'node:child_process';
import { appendFile, chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropOrders } from '../../simulators/erp/feeder.js';
import { sampleOrder } from '../../simulators/erp/sample.js';
import { CSV_HEADER } from '../../src/erp/csv.js';
import {
  type AcceptOrders,
  DropFolder,
  type DropFolderOptions,
  type IntakeLogger,
  type RejectedEvent,
} from '../../src/erp/drop-folder.js';
import { IntakeJournal } from '../../src/erp/intake-journal.js';
import type { Order } from '../../src/erp/order.js';
import { StamplineError } from '../../src/errors.js';
import { FakeLine, list, memoryLogger, sleep, tempDir, waitFor } from './support.js';

let dir: string;
let cleanup: () => Promise<void>;
const folders: DropFolder[] = [];

beforeEach(async () => {
  const t = await tempDir();
  dir = join(t.path, 'drop');
  cleanup = t.remove;
});

afterEach(async () => {
  for (const f of folders.splice(0)) await f.stop();
  await cleanup();
});

function folder(accept: AcceptOrders, opts: Partial<DropFolderOptions> = {}) {
  const logger = memoryLogger();
  const f = new DropFolder({ dir, pollMs: 20, settleMs: 150, accept, logger, ...opts });
  folders.push(f);
  return { f, logger };
}

const rowOf = (id: string, serial: string) => `${id},Acme,P-9,9mm,${serial},,`;
const csv = (...rows: string[]) => `${CSV_HEADER}\n${rows.join('\n')}\n`;

/** Writes a file the way an integrator should: a temporary dot-name, then a rename. */
async function drop(name: string, text: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${name}.tmp`);
  await writeFile(tmp, text);
  const { rename } = await import('node:fs/promises');
  await rename(tmp, join(dir, name));
}

const processed = () => list(join(dir, 'processed'));
const rejected = () => list(join(dir, 'rejected'));

describe('DropFolder', () => {
  it('takes a valid file: the line gets its orders and the file moves to processed/', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept);
    const events: string[] = [];
    f.on('processed', (e) => events.push(e.movedTo));
    await f.start();
    await drop('batch.csv', csv(rowOf('PO-1', 'A-1'), rowOf('PO-1', 'A-2'), rowOf('PO-2', 'B-1')));
    await waitFor(() => events.length > 0, 'the processed event');
    expect(await list(dir)).toEqual(['.stampline-intake', 'processed', 'rejected']);
    expect(await readFile(join(dir, 'processed', 'batch.csv'), 'utf8')).toBe(
      csv(rowOf('PO-1', 'A-1'), rowOf('PO-1', 'A-2'), rowOf('PO-2', 'B-1')),
    );
    expect([...line.orders.keys()]).toEqual(['PO-1', 'PO-2']);
    expect(line.calls).toEqual([
      {
        ids: ['PO-1', 'PO-2'],
        file: 'batch.csv',
        intake: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), replay: false },
        firearms: 3,
      },
    ]);
    expect(events).toEqual([join(dir, 'processed', 'batch.csv')]);
    expect(await rejected()).toEqual([]);
    expect(await list(join(dir, '.stampline-intake'))).toEqual([]);
  });

  it('rejects a file with one bad row among good ones whole, with a report naming the row', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept);
    const events: RejectedEvent[] = [];
    f.on('rejected', (e) => events.push(e));
    await f.start();
    const rows = Array.from({ length: 50 }, (_, i) => rowOf('PO-1', i === 36 ? 'a-37' : `A-${i + 1}`));
    await drop('orders.csv', csv(...rows));
    await waitFor(() => events.length > 0, 'the rejected event');
    expect(await rejected()).toEqual(['orders.csv', 'orders.csv.report.json', 'orders.csv.report.txt']);
    expect(line.calls).toEqual([]);
    expect(line.orders.size).toBe(0);
    const txt = await readFile(join(dir, 'rejected', 'orders.csv.report.txt'), 'utf8');
    expect(txt).toContain('Nothing in this file was taken');
    expect(txt).toMatch(/^row 38, serial: has lower-case letters \("a-37"\)/m);
    const json = JSON.parse(await readFile(join(dir, 'rejected', 'orders.csv.report.json'), 'utf8'));
    expect(json).toMatchObject({
      file: 'orders.csv',
      kind: 'invalid',
      total: 1,
      problems: [{ row: 38, field: 'serial' }],
    });
    expect(events.map((e) => [e.kind, e.total])).toEqual([['invalid', 1]]);
  });

  it('rejects a malformed CSV with a report', async () => {
    const { f } = folder(new FakeLine().accept);
    await f.start();
    await drop('broken.csv', 'order_id;make;model;caliber;serial;target;destination\nPO-1;A;B;C;D;;\n');
    await waitFor(async () => (await rejected()).includes('broken.csv.report.txt'), 'the report');
    expect(await readFile(join(dir, 'rejected', 'broken.csv.report.txt'), 'utf8')).toMatch(
      /^row 1: the header is separated by ";"/m,
    );
  });

  it('rejects a file the line refuses (a serial it already holds), naming the row and the reason', async () => {
    const line = new FakeLine();
    line.hold([sampleOrder({ id: 'OLD', firearms: 1, serialPrefix: 'A' })]);
    const { f } = folder(line.accept);
    let done = false;
    f.on('rejected', () => {
      done = true;
    });
    await f.start();
    await drop('new.csv', csv(rowOf('PO-1', 'B-1'), rowOf('PO-1', 'A-000001'), rowOf('PO-1', 'B-2')));
    await waitFor(() => done, 'the rejected event');
    expect(line.calls).toHaveLength(1);
    expect([...line.orders.keys()]).toEqual(['OLD']);
    const txt = await readFile(join(dir, 'rejected', 'new.csv.report.txt'), 'utf8');
    expect(txt).toContain('the line refused the orders in this file');
    expect(txt).toMatch(/^row 3 \(serial A-000001\): serial A-000001 is already held by order OLD$/m);
    expect(JSON.parse(await readFile(join(dir, 'rejected', 'new.csv.report.json'), 'utf8'))).toMatchObject({
      kind: 'refused',
      problems: [{ row: 3, serial: 'A-000001' }],
    });
    expect(await list(join(dir, '.stampline-intake'))).toEqual([]);
  });

  it('takes a StamplineError thrown by the line for a permanent refusal', async () => {
    const { f } = folder(async () => {
      throw new StamplineError('SERIAL_EXISTS', 'serial A-1 is already held by order X');
    });
    await f.start();
    await drop('x.csv', csv(rowOf('PO-1', 'A-1')));
    await waitFor(async () => (await rejected()).includes('x.csv.report.txt'), 'the report');
    expect(await readFile(join(dir, 'rejected', 'x.csv.report.txt'), 'utf8')).toMatch(
      /^file: serial A-1 is already held by order X$/m,
    );
  });

  it('does not read a file that is still being written', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept, { settleMs: 1500 });
    await f.start();
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'slow.csv');
    await writeFile(path, `${CSV_HEADER}\n`);
    for (let i = 1; i <= 12; i++) {
      // Half a row, then the rest: a read now would see a broken last row.
      await appendFile(path, `PO-1,Acme,P-9,9mm,`);
      await sleep(60);
      await appendFile(path, `S-${i},,\n`);
      await sleep(60);
      expect(await list(dir)).toContain('slow.csv');
    }
    await waitFor(async () => (await processed()).includes('slow.csv'), 'the finished file in processed/');
    expect(line.calls).toHaveLength(1);
    expect(line.calls[0]!.firearms).toBe(12);
    expect(await rejected()).toEqual([]);
  });

  it('ignores dotfiles, temporary and partial names, other extensions and folders', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept);
    await f.start();
    const body = csv(rowOf('PO-1', 'A-1'));
    await mkdir(join(dir, 'sub.csv'), { recursive: true });
    for (const n of ['.hidden.csv', 'a.csv.tmp', 'a.csv.part', '~$a.csv', 'a.txt', 'a.csv.bak'])
      await writeFile(join(dir, n), body);
    await drop('real.CSV', csv(rowOf('PO-9', 'Z-1')));
    await waitFor(async () => (await processed()).includes('real.CSV'), 'the real file');
    await f.scanNow();
    expect(line.calls.map((c) => c.file)).toEqual(['real.CSV']);
    expect(await list(dir)).toEqual(
      [
        '.hidden.csv',
        '.stampline-intake',
        '~$a.csv',
        'a.csv.bak',
        'a.csv.part',
        'a.csv.tmp',
        'a.txt',
        'processed',
        'rejected',
        'sub.csv',
      ].sort(),
    );
  });

  it('never overwrites: the same name dropped twice leaves both files, in processed/ and in rejected/', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept);
    await f.start();
    await drop('daily.csv', csv(rowOf('PO-1', 'A-1')));
    await waitFor(async () => (await processed()).includes('daily.csv'), 'the first file');
    await drop('daily.csv', csv(rowOf('PO-2', 'B-1')));
    await waitFor(async () => (await processed()).includes('daily-2.csv'), 'the second file');
    expect(await readFile(join(dir, 'processed', 'daily.csv'), 'utf8')).toContain('PO-1');
    expect(await readFile(join(dir, 'processed', 'daily-2.csv'), 'utf8')).toContain('PO-2');

    await drop('bad.csv', csv(rowOf('PO-3', 'x')));
    await waitFor(async () => (await rejected()).includes('bad.csv'), 'the first rejection');
    await drop('bad.csv', csv(rowOf('PO-4', 'y')));
    await waitFor(async () => (await rejected()).includes('bad-2.csv'), 'the second rejection');
    expect(await rejected()).toEqual([
      'bad-2.csv',
      'bad-2.csv.report.json',
      'bad-2.csv.report.txt',
      'bad.csv',
      'bad.csv.report.json',
      'bad.csv.report.txt',
    ]);
    expect(await readFile(join(dir, 'rejected', 'bad.csv'), 'utf8')).toContain('PO-3');
    expect(await readFile(join(dir, 'rejected', 'bad-2.csv.report.txt'), 'utf8')).toContain('"y"');
  });

  it('rejects a re-dropped file whose orders the line already holds', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept);
    await f.start();
    await drop('once.csv', csv(rowOf('PO-1', 'A-1')));
    await waitFor(async () => (await processed()).includes('once.csv'), 'the first file');
    await drop('once.csv', csv(rowOf('PO-1', 'A-1')));
    await waitFor(async () => (await rejected()).includes('once.csv.report.txt'), 'the duplicate rejected');
    expect(line.calls.map((c) => c.intake.replay)).toEqual([false, false]);
    expect(await readFile(join(dir, 'rejected', 'once.csv.report.txt'), 'utf8')).toMatch(
      /^row 2 \(order PO-1\): order PO-1 already exists$/m,
    );
  });

  it('retries a file when the line fails transiently, as a replay', async () => {
    const line = new FakeLine();
    let failures = 2;
    const { f, logger } = folder(async (orders, file, intake) => {
      if (failures-- > 0) {
        line.hold(orders); // stored, then the answer was lost
        throw new StamplineError('LINE_NOT_READY', 'the store is busy');
      }
      return line.accept(orders, file, intake);
    });
    await f.start();
    await drop('retry.csv', csv(rowOf('PO-1', 'A-1')));
    await waitFor(
      async () => (await processed()).includes('retry.csv'),
      'the file accepted on a later attempt',
    );
    expect(line.calls.map((c) => c.intake.replay)).toEqual([true]);
    expect(logger.entries.filter((e) => e.level === 'warn' && /will retry/.test(e.msg ?? ''))).toHaveLength(
      2,
    );
    expect(line.orders.size).toBe(1);
  });

  it('finishes a file the line accepted before a crash without offering it again', async () => {
    await mkdir(dir, { recursive: true });
    const body = csv(rowOf('PO-1', 'A-1'));
    await writeFile(join(dir, 'done.csv'), body);
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(body).digest('hex');
    await new IntakeJournal(dir).put({
      file: 'done.csv',
      sha256,
      state: 'accepted',
      at: new Date().toISOString(),
    });
    const line = new FakeLine();
    const { f } = folder(line.accept);
    const events: string[][] = [];
    f.on('processed', (e) => events.push(e.orderIds));
    await f.start();
    await waitFor(() => events.length > 0, 'the processed event');
    expect(events).toEqual([['PO-1']]);
    expect(await processed()).toEqual(['done.csv']);
    expect(line.calls).toEqual([]);
    expect(await list(join(dir, '.stampline-intake'))).toEqual([]);
  });

  it('does not take a file twice when the daemon is killed inside accept (SIGKILL in a child process)', async () => {
    const order = sampleOrder({ id: 'PO-77', firearms: 5 });
    await dropOrders({ dir, orders: [order], name: 'crash.csv' });
    const store = join(dir, '..', 'line.json');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/crash-in-accept.ts', import.meta.url)),
        dir,
        store,
      ],
      { stdio: 'inherit' },
    );
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );
    expect(signal).toBe('SIGKILL');
    expect(await list(dir)).toContain('crash.csv');
    const stored = JSON.parse(await readFile(store, 'utf8')) as { orders: Order[] };

    const line = new FakeLine();
    line.hold(stored.orders);
    const { f } = folder(line.accept);
    await f.start();
    await waitFor(
      async () => (await processed()).includes('crash.csv'),
      'the file in processed/ after the restart',
    );
    expect(line.calls.map((c) => c.intake.replay)).toEqual([true]);
    expect([...line.orders.keys()]).toEqual(['PO-77']);
    expect(await rejected()).toEqual([]);
  });

  it('rejects a file larger than the limit without reading it', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept, { maxFileBytes: 100 });
    await f.start();
    await drop('big.csv', csv(...Array.from({ length: 10 }, (_, i) => rowOf('PO-1', `A-${i}`))));
    await waitFor(async () => (await rejected()).includes('big.csv.report.txt'), 'the report');
    expect(await readFile(join(dir, 'rejected', 'big.csv.report.txt'), 'utf8')).toMatch(
      /the folder takes files of at most 100 bytes/,
    );
    expect(line.calls).toEqual([]);
  });

  it('creates a missing folder, and survives one it cannot create until it can', async () => {
    const blocker = join(dir, '..', 'blocked');
    await writeFile(blocker, 'a file where the folder should be');
    dir = join(blocker, 'drop');
    const line = new FakeLine();
    const { f, logger } = folder(line.accept);
    await f.start();
    await sleep(100);
    const errors = logger.entries.filter((e) => e.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/cannot create or read the folder/);
    await rm(blocker);
    await waitFor(async () => (await list(dir)).includes('processed'), 'the folder created');
    await drop('late.csv', csv(rowOf('PO-1', 'A-1')));
    await waitFor(async () => (await processed()).includes('late.csv'), 'the file taken');
  });

  // Root reads any file, so there is no unreadable file to show.
  it.skipIf(process.getuid?.() === 0)('keeps a file it cannot open and takes it once it can', async () => {
    const line = new FakeLine();
    const { f, logger } = folder(line.accept);
    await f.start();
    await drop('locked.csv', csv(rowOf('PO-1', 'A-1')));
    await chmod(join(dir, 'locked.csv'), 0o000);
    await waitFor(() => logger.entries.some((e) => /cannot open the file/.test(e.msg ?? '')), 'a warning');
    expect(await list(dir)).toContain('locked.csv');
    await chmod(join(dir, 'locked.csv'), 0o644);
    await waitFor(async () => (await processed()).includes('locked.csv'), 'the file taken', 30_000);
  });

  it('takes the file written by the ERP simulator', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept);
    await f.start();
    const orders = [
      sampleOrder({ id: 'ERP-1', firearms: 20, destination: '1-23-456' }),
      sampleOrder({ id: 'ERP-2', firearms: 3, reworkEvery: 2 }),
    ];
    const path = await dropOrders({ dir, orders });
    expect(path).toBe(join(dir, 'ERP-1.csv'));
    await waitFor(async () => (await processed()).includes('ERP-1.csv'), 'the simulated file');
    expect([...line.orders.values()]).toEqual(orders);
  });

  it('stops cleanly, twice, and takes nothing after', async () => {
    const line = new FakeLine();
    const { f } = folder(line.accept);
    await f.start();
    await f.stop();
    await f.stop();
    await drop('after.csv', csv(rowOf('PO-1', 'A-1')));
    await sleep(400);
    expect(line.calls).toEqual([]);
    expect(await list(dir)).toContain('after.csv');
  });

  it('accepts a pino logger', () => {
    const log: IntakeLogger = pino({ level: 'silent' });
    expect(typeof log.warn).toBe('function');
  });
});
