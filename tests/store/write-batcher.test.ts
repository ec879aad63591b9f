/**
 * The group commit the append log and the audit trail share: what arrives while a write is on its
 * way goes in the next write together, each caller gets its own result, and a failed write
 * refuses its own batch only.
 */
import { describe, expect, it } from 'vitest';
import { WriteBatcher } from '../../src/store/write-batcher.js';

describe('WriteBatcher', () => {
  it('writes the first item alone, then everything that arrived meanwhile in one batch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => {
      release = r;
    });
    const b = new WriteBatcher<number, string>(async (batch) => {
      batches.push(batch);
      if (batches.length === 1) await first;
      return batch.map((n) => `wrote ${n}`);
    });
    const answers = [b.add(1), b.add(2), b.add(3), b.add(4)];
    expect(b.depth).toBe(3);
    release();
    await expect(Promise.all(answers)).resolves.toEqual(['wrote 1', 'wrote 2', 'wrote 3', 'wrote 4']);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('refuses every item of a failed batch with its error and commits the next batch as usual', async () => {
    const batches: string[][] = [];
    let hold!: () => void;
    const held = new Promise<void>((r) => {
      hold = r;
    });
    const b = new WriteBatcher<string>(async (batch) => {
      batches.push(batch);
      if (batch.includes('a')) await held;
      if (batch.includes('bad')) throw new Error('no space left on device');
      return undefined;
    });
    const a = b.add('a');
    const bad = b.add('bad');
    const also = b.add('also in the failed batch');
    hold();
    await a;
    await expect(bad).rejects.toThrow('no space left on device');
    await expect(also).rejects.toThrow('no space left on device');
    await expect(b.add('after')).resolves.toBeUndefined();
    expect(batches).toEqual([['a'], ['bad', 'also in the failed batch'], ['after']]);
  });

  it('is idle only once the last batch is durable', async () => {
    let durable = 0;
    const b = new WriteBatcher<number>(async (batch) => {
      await new Promise((r) => setTimeout(r, 5));
      durable += batch.length;
      return undefined;
    });
    void b.add(1);
    void b.add(2);
    void b.add(3);
    await b.idle();
    expect(durable).toBe(3);
    expect(b.depth).toBe(0);
  });
});
