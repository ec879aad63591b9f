import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Low } from 'lowdb';
import { describe, expect, it } from 'vitest';
import { DurableJsonAdapter } from '../../src/store/adapter.js';
import { DocumentStore } from '../../src/store/documents.js';
import { writeFileDurable } from '../../src/store/durable.js';
import { rejection, tempFolderPerTest } from '../support/temp.js';

interface Counter {
  count: number;
  log: string[];
}
const fresh = (): Counter => ({ count: 0, log: [] });

const stores: DocumentStore[] = [];
const folder = tempFolderPerTest('docs', async () => {
  for (const s of stores.splice(0)) await s.stop();
});

async function makeStore(cacheSize?: number): Promise<DocumentStore> {
  const store = new DocumentStore({ dir: folder.path, cacheSize });
  stores.push(store);
  await store.start();
  return store;
}

describe('DurableJsonAdapter', () => {
  it('reads null for a missing file and round-trips data through lowdb', async () => {
    const adapter = new DurableJsonAdapter<Counter>(join(folder.path, 'a', 'c.json'));
    expect(await adapter.read()).toBeNull();
    const low = new Low(adapter, fresh());
    low.data.count = 7;
    await low.write();
    expect(JSON.parse(await readFile(join(folder.path, 'a', 'c.json'), 'utf8'))).toEqual({
      count: 7,
      log: [],
    });
    const again = new Low(new DurableJsonAdapter<Counter>(join(folder.path, 'a', 'c.json')), fresh());
    await again.read();
    expect(again.data.count).toBe(7);
  });

  it.each([
    ['truncated JSON', '{"count": 3, "lo'],
    ['an empty file', ''],
    ['null', 'null\n'],
  ])('reports %s as STORE_CORRUPT naming the file, and leaves it alone', async (_what, content) => {
    const file = join(folder.path, 'c.json');
    await writeFile(file, content);
    const low = new Low(new DurableJsonAdapter<Counter>(file), fresh());
    const err = await rejection(low.read());
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toContain(file);
    expect(err.context).toEqual({ file });
    expect(low.data).toEqual(fresh());
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('replaces a file whole: a temp file left by a crash does not disturb it', async () => {
    const file = join(folder.path, 'c.json');
    await writeFileDurable(file, '{"count":1,"log":[]}\n');
    await writeFile(join(folder.path, '.c.json.99999.1.tmp'), '{"count":2,"lo');
    const low = new Low(new DurableJsonAdapter<Counter>(file), fresh());
    await low.read();
    expect(low.data.count).toBe(1);
  });
});

describe('DocumentStore', () => {
  it('starts from defaults, writes nothing until updated, and keeps updates across a restart', async () => {
    const store = await makeStore();
    const doc = await store.open('orders/ORD-1/firearms-0003', fresh);
    expect(doc.data).toEqual(fresh());
    expect(await store.exists('orders/ORD-1/firearms-0003')).toBe(false);
    await doc.update((d) => {
      d.count = 2;
      d.log.push('a');
    });
    expect(doc.data).toEqual({ count: 2, log: ['a'] });
    const onDisk = join(folder.path, 'orders', 'ORD-1', 'firearms-0003.json');
    expect(JSON.parse(await readFile(onDisk, 'utf8'))).toEqual({ count: 2, log: ['a'] });
    await store.stop();

    const again = await makeStore();
    expect(await again.exists('orders/ORD-1/firearms-0003')).toBe(true);
    const reread = await again.open('orders/ORD-1/firearms-0003', fresh);
    expect(reread.data).toEqual({ count: 2, log: ['a'] });
  });

  it('writes nothing and keeps data when the update function throws, even after changing the draft', async () => {
    const store = await makeStore();
    const doc = await store.open('c', fresh);
    await doc.update((d) => {
      d.count = 1;
    });
    const before = await readFile(join(folder.path, 'c.json'), 'utf8');
    await expect(
      doc.update(async (d) => {
        d.count = 99;
        d.log.push('half done');
        await new Promise((r) => setTimeout(r, 5));
        throw new Error('operator cancelled');
      }),
    ).rejects.toThrow('operator cancelled');
    expect(doc.data).toEqual({ count: 1, log: [] });
    expect(await readFile(join(folder.path, 'c.json'), 'utf8')).toBe(before);
    await doc.update((d) => {
      d.count += 1;
    });
    expect(doc.data.count).toBe(2);
  });

  it('refuses data that is not JSON without writing or changing anything', async () => {
    const store = await makeStore();
    const doc = await store.open<{ v: unknown }>('c', () => ({ v: 1 }));
    const err = await rejection(
      doc.update((d) => {
        d.v = 10n;
      }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(doc.data).toEqual({ v: 1 });
    expect(await store.exists('c')).toBe(false);
  });

  it('runs concurrent updates of one document one at a time, none lost', async () => {
    const store = await makeStore();
    const doc = await store.open('c', fresh);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        doc.update(async (d) => {
          const seen = d.count;
          await new Promise((r) => setTimeout(r, 0));
          d.count = seen + 1;
          d.log.push(`u${i}`);
        }),
      ),
    );
    expect(doc.data.count).toBe(40);
    expect(doc.data.log).toEqual(Array.from({ length: 40 }, (_, i) => `u${i}`));
    expect(JSON.parse(await readFile(join(folder.path, 'c.json'), 'utf8')).count).toBe(40);
  });

  it('hands every opener of a name the same document, even after the cache let it go', async () => {
    const store = await makeStore(1);
    const [a, b] = await Promise.all([store.open('x', fresh), store.open('x', fresh)]);
    expect(a).toBe(b);
    await store.open('y', fresh); // pushes x out of a cache of one
    store.close('x');
    const c = await store.open('x', fresh);
    expect(c).toBe(a);
    await Promise.all([a.update((d) => void d.log.push('a')), c.update((d) => void d.log.push('c'))]);
    expect(c.data.log).toEqual(['a', 'c']);
  });

  it('reports a corrupt document as STORE_CORRUPT and never overwrites it with defaults', async () => {
    await mkdir(join(folder.path, 'orders'), { recursive: true });
    await writeFile(join(folder.path, 'orders', 'bad.json'), '{"count": 5,');
    const store = await makeStore();
    const err = await rejection(store.open('orders/bad', fresh));
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.message).toContain(join(folder.path, 'orders', 'bad.json'));
    expect(await readFile(join(folder.path, 'orders', 'bad.json'), 'utf8')).toBe('{"count": 5,');
    // a second attempt reads the file again rather than caching a half-opened document
    expect((await rejection(store.open('orders/bad', fresh))).code).toBe('STORE_CORRUPT');
  });

  it('lists documents and folders, ignoring temp files left by a crash', async () => {
    const store = await makeStore();
    for (const name of ['orders/B', 'orders/A', 'orders/A/firearms-0001', 'orders/A/firearms-0000', 'top']) {
      const doc = await store.open(name, fresh);
      await doc.update((d) => {
        d.count = 1;
      });
    }
    await writeFile(join(folder.path, 'orders', '.C.json.4242.1.tmp'), '{"cou');
    expect(await store.list('orders')).toEqual(['orders/A', 'orders/B']);
    expect(await store.list('orders/')).toEqual(['orders/A', 'orders/B']);
    expect(await store.list('orders/A')).toEqual(['orders/A/firearms-0000', 'orders/A/firearms-0001']);
    expect(await store.list('')).toEqual(['top']);
    expect(await store.folders('')).toEqual(['orders']);
    expect(await store.folders('orders')).toEqual(['orders/A']);
    expect(await store.list('nothing/here')).toEqual([]);
  });

  it('removes a document durably; a Doc still held refuses updates and a new open starts over', async () => {
    const store = await makeStore();
    const doc = await store.open('c', fresh);
    await doc.update((d) => {
      d.count = 3;
    });
    const queued = doc.update((d) => {
      d.count = 4;
    });
    await store.remove('c');
    await queued;
    expect(await store.exists('c')).toBe(false);
    expect((await readdir(folder.path)).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect((await rejection(doc.update((d) => void d.count++))).code).toBe('NOT_FOUND');
    const reopened = await store.open('c', fresh);
    expect(reopened).not.toBe(doc);
    expect(reopened.data).toEqual(fresh());
    await store.remove('never-written');
  });

  it.each(['../escape', 'a/../../b', 'a//b', '.hidden', 'a/.', '', 'with space', 'slash/', 'x'.repeat(201)])(
    'rejects the name %j',
    async (name) => {
      const store = await makeStore();
      expect((await rejection(store.open(name, fresh))).code).toBe('INVALID_INPUT');
    },
  );

  it('waits for queued writes on stop and refuses work after it', async () => {
    const store = await makeStore();
    const doc = await store.open('c', fresh);
    const writes = Array.from({ length: 5 }, () =>
      doc.update((d) => {
        d.count++;
      }),
    );
    await Promise.all([store.stop(), store.stop()]);
    await Promise.all(writes);
    expect(JSON.parse(await readFile(join(folder.path, 'c.json'), 'utf8')).count).toBe(5);
    expect((await rejection(doc.update((d) => void d.count++))).code).toBe('STORE_UNAVAILABLE');
    expect((await rejection(store.open('c', fresh))).code).toBe('STORE_UNAVAILABLE');
  });

  it('keeps memory bounded: documents nobody holds are let go beyond the cache size', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const store = await makeStore(10);
    for (let i = 0; i < 300; i++) {
      const doc = await store.open(`many/d${i}`, fresh);
      await doc.update((d) => {
        d.count = i;
      });
    }
    // WeakRefs are kept alive until the current job ends, so collect between turns.
    for (let i = 0; i < 5 && store.openCount > 10; i++) {
      await new Promise((r) => setTimeout(r, 10));
      gc();
    }
    expect(store.openCount).toBeLessThanOrEqual(10);
    expect((await store.open('many/d5', fresh)).data.count).toBe(5);
  });
});
