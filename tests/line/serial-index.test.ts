import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialIndex, shardOf } from '../../src/line/serial-index.js';
import { makeDir, removeDir } from './harness.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});

async function index(): Promise<{ dir: string; idx: SerialIndex }> {
  const dir = await makeDir();
  dirs.push(dir);
  const idx = new SerialIndex(dir);
  idx.start();
  return { dir, idx };
}

describe('the serial index', () => {
  it('finds serials added before a restart, and every order that held a serial, oldest first', async () => {
    const { dir, idx } = await index();
    await idx.add([
      { serial: 'A-1', orderId: 'o1' },
      { serial: 'A-2', orderId: 'o1' },
    ]);
    await idx.add([{ serial: 'A-1', orderId: 'o2' }]);
    const again = new SerialIndex(dir);
    again.start();
    const found = await again.lookup(['A-1', 'A-2', 'A-3']);
    expect(found.get('A-1')).toEqual(['o1', 'o2']);
    expect(found.get('A-2')).toEqual(['o1']);
    expect(found.has('A-3')).toBe(false);
  });

  it('ignores a torn last line left by a crash, and cuts it off before the next entry', async () => {
    const { dir, idx } = await index();
    await idx.add([{ serial: 'T-1', orderId: 'o1' }]);
    const file = join(dir, `${shardOf('T-2').toString(16).padStart(2, '0')}.tsv`);
    await appendFile(file, 'T-2\to-to'); // torn: no newline
    const after = new SerialIndex(dir);
    after.start();
    expect((await after.lookup(['T-2'])).has('T-2')).toBe(false);
    await after.add([{ serial: 'T-2', orderId: 'o3' }]);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('o-to');
    expect(text.endsWith('T-2\to3\n')).toBe(true);
    const reread = new SerialIndex(dir);
    reread.start();
    expect((await reread.lookup(['T-2', 'T-1'])).get('T-2')).toEqual(['o3']);
  });

  it('refuses an entry that would break its line format', async () => {
    const { idx } = await index();
    await expect(idx.add([{ serial: 'A\tB', orderId: 'o1' }])).rejects.toThrow(/tabs or newlines/);
  });
});
