import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ShardedIndex, shardOf } from '../../src/line/sharded-index.js';
import { makeDir, removeDir } from './harness.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeDir(d);
});

/** Keys that all fall in one shard. */
function keysOfOneShard(count: number): { shard: number; keys: string[] } {
  const shard = shardOf('K-0');
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) if (shardOf(`K-${i}`) === shard) keys.push(`K-${i}`);
  return { shard, keys };
}

describe('the sharded index under concurrent adds', () => {
  it('keeps every append made while a torn last line is being cut off', async () => {
    const { shard, keys } = keysOfOneShard(24);
    // The adds race differently each time: a few rounds make a lost append show.
    for (let round = 0; round < 6; round++) {
      const dir = await makeDir();
      dirs.push(dir);
      const file = join(dir, `${shard.toString(16).padStart(2, '0')}.tsv`);
      const first = new ShardedIndex(dir, 'test index');
      first.start();
      await first.add([{ key: keys[0]!, value: 'before' }]);
      // a crash part-way through an append
      await appendFile(file, 'K-torn\tpart');

      const idx = new ShardedIndex(dir, 'test index');
      idx.start();
      // Adds started one after another, each while the ones before are still writing.
      const adds: Promise<void>[] = [];
      for (const key of keys.slice(1)) {
        adds.push(idx.add([{ key, value: 'v' }]));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(adds);

      const text = await readFile(file, 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      expect(text).not.toContain('part');
      const again = new ShardedIndex(dir, 'test index');
      again.start();
      const found = await again.lookup(keys);
      expect([...found.keys()].sort()).toEqual([...keys].sort());
    }
  });

  it('gives a value added twice at once only once', async () => {
    const dir = await makeDir();
    dirs.push(dir);
    const idx = new ShardedIndex(dir, 'test index');
    idx.start();
    await Promise.all([idx.add([{ key: 'A', value: '1' }]), idx.add([{ key: 'A', value: '1' }])]);
    expect((await idx.lookup(['A'])).get('A')).toEqual(['1']);
    await Promise.all([idx.add([{ key: 'A', value: '2' }]), idx.add([{ key: 'A', value: '2' }])]);
    expect((await idx.lookup(['A'])).get('A')).toEqual(['1', '2']);
    const text = await readFile(join(dir, `${shardOf('A').toString(16).padStart(2, '0')}.tsv`), 'utf8');
    // the second pair found the shard in memory: written once
    expect(text.endsWith('A\t1\nA\t2\n')).toBe(true);
    const again = new ShardedIndex(dir, 'test index');
    again.start();
    expect((await again.lookup(['A'])).get('A')).toEqual(['1', '2']);
  });
});
