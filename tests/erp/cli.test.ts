import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerErpCommands } from '../../src/cli/erp.js';
import { CSV_HEADER } from '../../src/erp/csv.js';
import { isStamplineError } from '../../src/errors.js';
import { list, tempDir } from './support.js';

let dir: string;
let remove: () => Promise<void>;
let out: string;

beforeEach(async () => {
  ({ path: dir, remove } = await tempDir());
  out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  });
  process.exitCode = undefined;
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  await remove();
});

async function run(...args: string[]): Promise<number> {
  const program = new Command('stampline').exitOverride();
  const sim = program.command('sim');
  registerErpCommands(program, sim);
  await program.parseAsync(args, { from: 'user' });
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

describe('stampline order validate', () => {
  it('says a valid CSV file is valid', async () => {
    const file = join(dir, 'ok.csv');
    await writeFile(file, `${CSV_HEADER}\nPO-1,Acme,P-9,9mm,A-1,,\nPO-2,Acme,P-9,9mm,B-1,,\n`);
    expect(await run('order', 'validate', file)).toBe(0);
    expect(out).toMatch(/ok\.csv: valid, 2 orders, 2 firearms/);
  });

  it('prints every problem of a CSV file by row and exits 1', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(
      file,
      `${CSV_HEADER}\nPO-1,Acme,P-9,9mm,a-1,,\nPO-1,Acme,P-10,9mm,A-2,,\nPO-1,Acme,P-9\n`,
    );
    expect(await run('order', 'validate', file)).toBe(1);
    expect(out.split('\n')).toEqual([
      `${file}: 3 problems`,
      expect.stringMatching(/^row 2, serial: has lower-case letters/),
      expect.stringMatching(/^row 3, model: "P-10" differs from "P-9" on row 2/),
      'row 4: has 3 fields; the header has 7',
      '',
    ]);
  });

  it('prints every problem of a JSON order by path, and can answer in JSON', async () => {
    const file = join(dir, 'order.json');
    await writeFile(
      file,
      JSON.stringify({ id: 'PO-1', make: 'Acme', model: '', firearms: [{ serial: 'A' }, { serial: 'A' }] }),
    );
    expect(await run('order', 'validate', file)).toBe(1);
    expect(out).toMatch(/^model: must not be empty$/m);
    expect(out).toMatch(/^firearms\[1\]\.serial: "A" is already the serial of firearms\[0\]/m);
    out = '';
    expect(await run('order', 'validate', '--json', file)).toBe(1);
    expect(JSON.parse(out)).toMatchObject({
      ok: false,
      format: 'json',
      total: 2,
      problems: [{ path: 'model' }, { path: 'firearms[1].serial' }],
    });
  });

  it('reports a file that is not JSON at all', async () => {
    const file = join(dir, 'order.json');
    await writeFile(file, '{"id": ');
    expect(await run('order', 'validate', file)).toBe(1);
    expect(out).toMatch(/^\(order\): not valid JSON/m);
  });

  it('fails with a clear error for a file it cannot read', async () => {
    const err = await run('order', 'validate', join(dir, 'missing.csv')).catch((e: unknown) => e);
    expect(isStamplineError(err, 'ERP_UNREADABLE_FILE')).toBe(true);
    expect((err as Error).message).toMatch(/cannot read .*missing\.csv/);
  });
});

describe('stampline sim erp', () => {
  it('drop writes a file that validates, with several orders', async () => {
    expect(
      await run('sim', 'erp', 'drop', '--dir', dir, '--order-id', 'PO-5', '--orders', '3', '--firearms', '4'),
    ).toBe(0);
    expect(await list(dir)).toEqual(['PO-5.csv']);
    expect(out.trim()).toBe(join(dir, 'PO-5.csv'));
    out = '';
    expect(await run('order', 'validate', join(dir, 'PO-5.csv'))).toBe(0);
    expect(out).toMatch(/valid, 3 orders, 12 firearms/);
  });

  it('sample prints an order as JSON or CSV', async () => {
    await run(
      'sim',
      'erp',
      'sample',
      '--order-id',
      'S-1',
      '--firearms',
      '2',
      '--caliber',
      '',
      '--target',
      'breech-face',
    );
    expect(JSON.parse(out)).toEqual({
      id: 'S-1',
      make: 'Acme Arms',
      model: 'P-9 Compact',
      target: 'breech-face',
      firearms: [{ serial: 'S-1-000001' }, { serial: 'S-1-000002' }],
    });
    out = '';
    await run('sim', 'erp', 'sample', '--order-id', 'S-1', '--firearms', '1', '--format', 'csv');
    const file = join(dir, 's.csv');
    await writeFile(file, out);
    expect((await readFile(file, 'utf8')).split('\r\n')[0]).toBe(CSV_HEADER);
  });
});
