/**
 * A file whose name is as long as the file system takes is still moved out of the drop folder
 * when its name must take a suffix (a second file of that name) or companions (a rejection's
 * reports): under a shortened name that stays unique, never left to be retried for ever.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CSV_HEADER } from '../../src/erp/csv.js';
import { DropFolder } from '../../src/erp/drop-folder.js';
import { candidateNames, NAME_MAX_BYTES } from '../../src/erp/no-clobber.js';
import { FakeLine, list, memoryLogger, tempDir, waitFor } from './support.js';

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

const csv = (...rows: string[]) => `${CSV_HEADER}\n${rows.join('\n')}\n`;
const rowOf = (id: string, serial: string) => `${id},Acme,P-9,9mm,${serial},,`;
/** 255 bytes: the longest name ext4 takes; in multi-byte characters, so a cut can fall inside one. */
const LONG = `${'é'.repeat(125)}x.csv`;

async function start() {
  const line = new FakeLine();
  const logger = memoryLogger();
  const f = new DropFolder({ dir, pollMs: 20, settleMs: 60, accept: line.accept, logger });
  folders.push(f);
  await f.start();
  return { line, logger };
}

const waiting = async () => (await readdir(dir)).filter((n) => n.endsWith('.csv'));

describe('names as long as the system takes', () => {
  it('a second file of a 255-byte name moves to processed/ under a shortened unique name', async () => {
    expect(Buffer.byteLength(LONG)).toBe(NAME_MAX_BYTES);
    const { line, logger } = await start();
    await writeFile(join(dir, LONG), csv(rowOf('PO-1', 'A-1')));
    await waitFor(async () => (await list(join(dir, 'processed'))).includes(LONG), 'the first file');
    await writeFile(join(dir, LONG), csv(rowOf('PO-2', 'B-1')));
    await waitFor(async () => (await list(join(dir, 'processed'))).length === 2, 'the second file');
    expect(await waiting()).toEqual([]);
    const second = (await list(join(dir, 'processed'))).find((n) => n !== LONG)!;
    expect(Buffer.byteLength(second)).toBeLessThanOrEqual(NAME_MAX_BYTES);
    expect(second).toMatch(/^é+~[0-9a-f]{8}-2\.csv$/);
    expect(await readFile(join(dir, 'processed', second), 'utf8')).toContain('PO-2');
    expect(line.calls.map((c) => c.ids)).toEqual([['PO-1'], ['PO-2']]);
    expect(logger.entries.filter((e) => /will retry/.test(e.msg ?? ''))).toEqual([]);
  });

  it('a rejected file of a 255-byte name moves to rejected/ with both reports beside it', async () => {
    await start();
    await writeFile(join(dir, LONG), csv(rowOf('PO-3', 'bad serial')));
    await waitFor(async () => (await list(join(dir, 'rejected'))).length === 3, 'the rejection');
    expect(await waiting()).toEqual([]);
    const names = await list(join(dir, 'rejected'));
    const file = names.find((n) => n.endsWith('.csv'))!;
    expect(names.sort()).toEqual([file, `${file}.report.json`, `${file}.report.txt`].sort());
    for (const n of names) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(NAME_MAX_BYTES);
  });

  it('two long names that differ only at their end get two different short names', () => {
    const a = `${'a'.repeat(250)}1.csv`;
    const b = `${'a'.repeat(250)}2.csv`;
    const [a2, b2] = [a, b].map((n) => {
      const it = candidateNames(n);
      it.next();
      return it.next().value as string;
    });
    expect(a2).not.toBe(b2);
    expect(Buffer.byteLength(a2!)).toBeLessThanOrEqual(NAME_MAX_BYTES);
  });
});
