import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CodeIndex } from '../../src/line/code-index.js';
import { SerialIndex } from '../../src/line/serial-index.js';
import { DEFAULT_MAX_LOADED_SHARDS, SHARDS, ShardedIndex, shardOf } from '../../src/line/sharded-index.js';

/**
 * The index's file reads are counted per shard file, so that a test sees whether a lookup was
 * answered from memory or read the shard again: `reads` counts whole-file reads, `handleBytes`
 * the bytes read through an open handle (an append looking at the file's end). `beforeOpen` can
 * hold an append just before it opens its file.
 */
const fsWatch = vi.hoisted(() => ({
  reads: new Map<string, number>(),
  handleBytes: new Map<string, number>(),
  onRead: undefined as undefined | ((file: string) => void),
  beforeOpen: undefined as undefined | ((file: string) => Promise<void>),
  afterOpen: undefined as undefined | ((file: string, handle: import('node:fs/promises').FileHandle) => void),
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const countRead = (file: string): void => {
    fsWatch.reads.set(file, (fsWatch.reads.get(file) ?? 0) + 1);
    fsWatch.onRead?.(file);
  };
  const readFile = (async (...args: Parameters<typeof real.readFile>) => {
    countRead(basename(String(args[0])));
    return real.readFile(...args);
  }) as typeof real.readFile;
  const open = (async (...args: Parameters<typeof real.open>) => {
    const file = basename(String(args[0]));
    await fsWatch.beforeOpen?.(file);
    const handle = await real.open(...args);
    const read = handle.read.bind(handle);
    handle.read = (async (...a: Parameters<typeof handle.read>) => {
      const result = await read(...a);
      fsWatch.handleBytes.set(file, (fsWatch.handleBytes.get(file) ?? 0) + result.bytesRead);
      return result;
    }) as typeof handle.read;
    const wholeFile = handle.readFile.bind(handle);
    handle.readFile = (async (...a: Parameters<typeof handle.readFile>) => {
      countRead(file);
      return wholeFile(...a);
    }) as typeof handle.readFile;
    fsWatch.afterOpen?.(file, handle);
    return handle;
  }) as typeof real.open;
  return { ...real, readFile, open, default: { ...real, readFile, open } };
});

const dirs: string[] = [];
afterEach(() => {
  fsWatch.reads.clear();
  fsWatch.handleBytes.clear();
  fsWatch.onRead = undefined;
  fsWatch.beforeOpen = undefined;
  fsWatch.afterOpen = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function makeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stampline-shard-cache-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, maxLoadedShards?: number): ShardedIndex {
  const idx = new ShardedIndex(dir, 'test index', maxLoadedShards === undefined ? {} : { maxLoadedShards });
  idx.start();
  return idx;
}

function fileName(shard: number): string {
  return `${shard.toString(16).padStart(2, '0')}.tsv`;
}

function readsOf(shard: number): number {
  return fsWatch.reads.get(fileName(shard)) ?? 0;
}

function handleBytesOf(shard: number): number {
  return fsWatch.handleBytes.get(fileName(shard)) ?? 0;
}

/** `perShard` keys in each of the first `shards` shards, by shard. */
function keysByShard(shards: number, perShard: number, prefix = 'K'): string[][] {
  const byShard: string[][] = Array.from({ length: shards }, () => []);
  let filled = 0;
  for (let i = 0; filled < shards; i++) {
    const key = `${prefix}-${i}`;
    const list = byShard[shardOf(key)];
    if (list === undefined || list.length === perShard) continue;
    list.push(key);
    if (list.length === perShard) filled++;
  }
  return byShard;
}

/** Every `key<TAB>value` line in the index's files, and whatever follows the last newline. */
function linesOnDisk(dir: string, shards: number): { lines: string[]; torn: string[] } {
  const lines: string[] = [];
  const torn: string[] = [];
  for (let n = 0; n < shards; n++) {
    let text: string;
    try {
      text = readFileSync(join(dir, fileName(n)), 'utf8');
    } catch {
      continue;
    }
    const end = text.lastIndexOf('\n');
    if (end !== text.length - 1) torn.push(text.slice(end + 1));
    lines.push(
      ...text
        .slice(0, end + 1)
        .split('\n')
        .slice(0, -1),
    );
  }
  return { lines, torn };
}

/** The next append to this shard writes its lines, then fails to sync them. */
function failSyncOnce(shard: number): void {
  fsWatch.afterOpen = (name, handle) => {
    if (name !== fileName(shard)) return;
    fsWatch.afterOpen = undefined;
    handle.datasync = async () => {
      throw new Error('EIO: i/o error');
    };
  };
}

/** Resolves when `beforeOpen` is called for this shard's file, and holds the open until `release`. */
function holdOpen(shard: number): { reached: Promise<void>; release: () => void } {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => {
    reach = r;
  });
  const released = new Promise<void>((r) => {
    release = r;
  });
  fsWatch.beforeOpen = async (file) => {
    if (file !== fileName(shard)) return;
    fsWatch.beforeOpen = undefined;
    reach();
    await released;
  };
  return { reached, release };
}

describe('the sharded index keeps a bounded number of shards in memory', () => {
  it('holds no more than maxLoadedShards shards after lookups and adds across every shard', async () => {
    const dir = makeDir();
    const keys = keysByShard(SHARDS, 2);
    const writer = open(dir, 4);
    await writer.add(keys.map((list) => ({ key: list[0]!, value: 'first' })));
    expect(writer.loadedShards()).toBeLessThanOrEqual(4);
    fsWatch.reads.clear();

    const idx = open(dir, 4);
    let peak = 0;
    fsWatch.onRead = () => {
      peak = Math.max(peak, idx.loadedShards());
    };
    const found = await idx.lookup(keys.flat());
    expect(found.size).toBe(SHARDS);
    for (const list of keys) {
      expect(found.get(list[0]!)).toEqual(['first']);
      expect(found.has(list[1]!)).toBe(false);
    }
    // one lookup of keys in every shard reads each shard once and holds the cap at most
    for (let n = 0; n < SHARDS; n++) expect(readsOf(n)).toBe(1);
    expect(peak).toBeLessThanOrEqual(4);
    expect(idx.loadedShards()).toBe(4);

    for (const list of keys) {
      await idx.lookup([list[1]!]);
      expect(idx.loadedShards()).toBeLessThanOrEqual(4);
    }
    peak = 0;
    await idx.add(keys.map((list) => ({ key: list[1]!, value: 'second' })));
    expect(peak).toBeLessThanOrEqual(4);
    expect(idx.loadedShards()).toBeLessThanOrEqual(4);
  }, 60_000);

  it('keeps 32 shards by default', async () => {
    const dir = makeDir();
    const keys = keysByShard(SHARDS, 1).flat();
    for (const key of keys) writeFileSync(join(dir, fileName(shardOf(key))), `${key}\tv\n`);
    const idx = open(dir);
    expect((await idx.lookup(keys)).size).toBe(SHARDS);
    expect(DEFAULT_MAX_LOADED_SHARDS).toBe(32);
    expect(idx.loadedShards()).toBe(32);
  });

  it('lets the least recently used shard go first', async () => {
    const dir = makeDir();
    const [a, b, c] = keysByShard(3, 1).map((list) => list[0]!);
    const idx = open(dir, 2);
    await idx.lookup([a!]);
    await idx.lookup([b!]);
    await idx.lookup([a!]); // a is now more recently used than b
    await idx.lookup([c!]);
    expect([readsOf(0), readsOf(1), readsOf(2)]).toEqual([1, 1, 1]);
    await idx.lookup([a!]);
    expect(readsOf(0)).toBe(1);
    await idx.lookup([b!]);
    expect(readsOf(1)).toBe(2);
  });

  it('finds every value after its shard was let go and read again, added before or while it was out', async () => {
    const dir = makeDir();
    const keys = keysByShard(4, 3);
    const [k1, k2, k3] = keys[0]!;
    const idx = open(dir, 1);
    await idx.add([
      { key: k1!, value: 'o1' },
      { key: k2!, value: 'o1' },
    ]);
    await idx.lookup([k1!]);
    await idx.lookup(keys[1]!);
    // shard 0 went: the add appends without reading it again
    await idx.add([
      { key: k1!, value: 'o2' },
      { key: k3!, value: 'o2' },
    ]);
    expect(readsOf(0)).toBe(1);
    await idx.lookup(keys[2]!);
    const found = await idx.lookup([k1!, k2!, k3!, ...keys[3]!]);
    expect(readsOf(0)).toBe(2);
    expect(found.get(k1!)).toEqual(['o1', 'o2']);
    expect(found.get(k2!)).toEqual(['o1']);
    expect(found.get(k3!)).toEqual(['o2']);
    expect(found.size).toBe(3);
    // with its shard in memory again, a value equal to the last one recorded is not written again
    await idx.lookup([k1!]);
    await idx.add([{ key: k1!, value: 'o2' }]);
    expect(linesOnDisk(dir, 1).lines.filter((l) => l.startsWith(`${k1}\t`))).toEqual([
      `${k1}\to1`,
      `${k1}\to2`,
    ]);
  });

  it('handles a torn last line written while its shard was out', async () => {
    const dir = makeDir();
    const keys = keysByShard(2, 3);
    const [k1, k2, torn] = keys[0]!;
    const file = join(dir, fileName(0));
    const idx = open(dir, 1);
    await idx.add([{ key: k1!, value: 'o1' }]);
    await idx.lookup(keys[1]!);
    // a crash part-way through an append, as another run of the daemon would leave it
    appendFileSync(file, `${torn}\tpart`);
    const seen = await idx.lookup([k1!, torn!]);
    expect(seen.get(k1!)).toEqual(['o1']);
    expect(seen.has(torn!)).toBe(false);

    await idx.lookup(keys[1]!);
    appendFileSync(file, 'more');
    await idx.add([{ key: k2!, value: 'o2' }]);
    expect(readFileSync(file, 'utf8')).toBe(`${k1}\to1\n${k2}\to2\n`);

    await idx.lookup(keys[1]!);
    const found = await idx.lookup([k1!, k2!, torn!]);
    // the adds read nothing: the index knew where the last line it wrote ends
    expect(readsOf(0)).toBe(2);
    expect(handleBytesOf(0)).toBe(0);
    expect(found.get(k1!)).toEqual(['o1']);
    expect(found.get(k2!)).toEqual(['o2']);
    expect(found.has(torn!)).toBe(false);
  });

  it('never lets go of a shard while an append to it is under way', async () => {
    const dir = makeDir();
    const keys = keysByShard(4, 3);
    const [k0, k1, k2] = keys[0]!;
    const file = join(dir, fileName(0));
    writeFileSync(file, `${k0}\tv0\nX\tpart`);
    const idx = open(dir, 1);
    await idx.lookup([k0!]);

    const hold = holdOpen(0);
    const first = idx.add([{ key: k1!, value: 'v1' }]);
    await hold.reached;
    // shard 0 is in memory and being appended to; other shards come and go meanwhile
    await idx.lookup(keys[1]!);
    await idx.lookup(keys[2]!);
    const during = await idx.lookup([k0!]);
    expect(during.get(k0!)).toEqual(['v0']);
    expect(during.has(k1!)).toBe(false);
    hold.release();
    await first;
    // the append added its value to the shard it kept
    expect((await idx.lookup([k1!])).get(k1!)).toEqual(['v1']);
    expect(readsOf(0)).toBe(1);

    await idx.lookup(keys[3]!);
    await idx.add([{ key: k2!, value: 'v2' }]);
    expect(readFileSync(file, 'utf8')).toBe(`${k0}\tv0\n${k1}\tv1\n${k2}\tv2\n`);
    const found = await idx.lookup([k0!, k1!, k2!]);
    expect(readsOf(0)).toBe(2);
    expect([found.get(k0!), found.get(k1!), found.get(k2!)]).toEqual([['v0'], ['v1'], ['v2']]);
  });

  it('reads a shard asked for while an append to it is under way once, after the append, with its value', async () => {
    const dir = makeDir();
    const keys = keysByShard(2, 2);
    const [k0, k1] = keys[0]!;
    const file = join(dir, fileName(0));
    writeFileSync(file, `${k0}\tv0\n`);
    const idx = open(dir, 1);

    const hold = holdOpen(0);
    const add = idx.add([{ key: k1!, value: 'v1' }]);
    await hold.reached;
    let answered = false;
    const first = idx.lookup([k0!, k1!]).then((found) => {
      answered = true;
      return found;
    });
    const second = idx.lookup([k1!]);
    await idx.lookup(keys[1]!);
    expect(answered).toBe(false);
    expect(readsOf(0)).toBe(0);
    hold.release();
    await add;
    const [found, again] = await Promise.all([first, second]);
    expect(found.get(k0!)).toEqual(['v0']);
    expect(found.get(k1!)).toEqual(['v1']);
    expect(again.get(k1!)).toEqual(['v1']);
    expect(readsOf(0)).toBe(1);
  });

  it('never counts the lines of an append that failed part-way while its shard was in memory, and cuts them off with the next append', async () => {
    const dir = makeDir();
    const keys = keysByShard(2, 3);
    const [k0, lost, k2] = keys[0]!;
    const file = join(dir, fileName(0));
    const idx = open(dir, 1);
    await idx.add([{ key: k0!, value: 'v0' }]);
    await idx.lookup([k0!]);
    // the line reaches the file, its sync fails: the add is refused
    failSyncOnce(0);
    await expect(idx.add([{ key: lost!, value: 'v1' }])).rejects.toThrow(/cannot write/);
    expect(readFileSync(file, 'utf8')).toBe(`${k0}\tv0\n${lost}\tv1\n`);
    expect((await idx.lookup([lost!])).has(lost!)).toBe(false);
    // the shard may go: read again, it stops where the acknowledged lines end
    await idx.lookup(keys[1]!);
    const reread = await idx.lookup([k0!, lost!]);
    expect(readsOf(0)).toBe(2);
    expect([reread.get(k0!), reread.has(lost!)]).toEqual([['v0'], false]);
    await idx.add([{ key: k2!, value: 'v2' }]);
    expect(readFileSync(file, 'utf8')).toBe(`${k0}\tv0\n${k2}\tv2\n`);
    await idx.lookup(keys[1]!);
    const found = await idx.lookup([k0!, lost!, k2!]);
    expect(readsOf(0)).toBe(3);
    expect([found.get(k0!), found.has(lost!), found.get(k2!)]).toEqual([['v0'], false, ['v2']]);
  });

  it('reads a shard once while it is being read, however many lookups and other shards come meanwhile', async () => {
    const dir = makeDir();
    const keys = keysByShard(3, 1);
    const [a, b, c] = keys.map((list) => list[0]!);
    const writer = open(dir, 4);
    await writer.add([
      { key: a!, value: 'va' },
      { key: b!, value: 'vb' },
      { key: c!, value: 'vc' },
    ]);
    fsWatch.reads.clear();

    const idx = open(dir, 1);
    const first = idx.lookup([a!]);
    const others = idx.lookup([b!, c!]);
    const second = idx.lookup([a!]);
    const [r1, r2, r3] = await Promise.all([first, others, second]);
    expect(readsOf(0)).toBe(1);
    expect(r1.get(a!)).toEqual(['va']);
    expect(r3.get(a!)).toEqual(['va']);
    expect([r2.get(b!), r2.get(c!)]).toEqual([['vb'], ['vc']]);
    expect(idx.loadedShards()).toBe(1);
  });

  it('loses and duplicates nothing under concurrent adds and lookups on a small cap', async () => {
    const shardCount = 48;
    const keys = keysByShard(shardCount, 4).flat();
    const batchKeys = keysByShard(shardCount, 2, 'B').flat();
    const valuesOf = (key: string): string[] => (key.startsWith('B-') ? ['x0', 'x1', 'x2'] : ['a', 'b']);
    // The operations race differently each time: a few rounds make a lost or doubled line show.
    for (let round = 0; round < 4; round++) {
      const dir = makeDir();
      for (let n = 0; n < shardCount; n += 5) writeFileSync(join(dir, fileName(n)), 'Z\tpart');
      const idx = open(dir, 2);

      // each key: the same value added twice at once, then another after it
      const life = async (key: string, i: number): Promise<void> => {
        for (let y = 0; y < i % 3; y++) await new Promise((r) => setImmediate(r));
        await Promise.all([idx.add([{ key, value: 'a' }]), idx.add([{ key, value: 'a' }])]);
        expect((await idx.lookup([key])).get(key)).toEqual(['a']);
        await idx.add([{ key, value: 'b' }]);
        expect((await idx.lookup([key])).get(key)).toEqual(['a', 'b']);
      };
      // adds spanning every shard, each made twice at once
      const batches = async (): Promise<void> => {
        for (let s = 0; s < 3; s++) {
          const entries = batchKeys.map((key) => ({ key, value: `x${s}` }));
          await Promise.all([idx.add(entries), idx.add(entries)]);
          const found = await idx.lookup(batchKeys);
          for (const key of batchKeys) expect(found.get(key)).toEqual(valuesOf(key).slice(0, s + 1));
        }
      };
      // lookups of every key, while they are being added
      const sweeps = async (): Promise<void> => {
        for (let s = 0; s < 6; s++) {
          const found = await idx.lookup([...keys, ...batchKeys]);
          for (const [key, values] of found) expect(valuesOf(key).slice(0, values.length)).toEqual(values);
        }
      };
      await Promise.all([...keys.map(life), batches(), sweeps(), sweeps()]);

      expect(idx.loadedShards()).toBeLessThanOrEqual(2);
      const disk = linesOnDisk(dir, shardCount);
      expect(disk.torn).toEqual([]);
      const all = [...keys, ...batchKeys];
      // a value added twice at once may be written twice, one line after the other: read, they are one
      const lastOf = new Map<string, string>();
      const collapsed = disk.lines.filter((line) => {
        const key = line.slice(0, line.indexOf('\t'));
        const same = lastOf.get(key) === line;
        lastOf.set(key, line);
        return !same;
      });
      const expected = all.flatMap((key) => valuesOf(key).map((v) => `${key}\t${v}`));
      expect([...collapsed].sort()).toEqual([...expected].sort());
      for (const key of all) {
        expect(collapsed.filter((l) => l.startsWith(`${key}\t`))).toEqual(
          valuesOf(key).map((v) => `${key}\t${v}`),
        );
      }
      const again = open(dir, 2);
      const found = await again.lookup(all);
      for (const key of all) expect(found.get(key)).toEqual(valuesOf(key));
    }
  }, 60_000);

  it('refuses a cap below one shard', () => {
    const dir = makeDir();
    expect(() => new ShardedIndex(dir, 'test index', { maxLoadedShards: 0 })).toThrow(/maxLoadedShards/);
    expect(() => new ShardedIndex(dir, 'test index', { maxLoadedShards: 1.5 })).toThrow(/maxLoadedShards/);
  });
});

describe('an append does not read its shard', () => {
  it('reads no shard file for many adds to shards not in memory, only the last byte of each file the first time', async () => {
    const dir = makeDir();
    const shardCount = 16;
    const history = keysByShard(shardCount, 60, 'H');
    const writer = open(dir, 2);
    await writer.add(history.flat().map((key) => ({ key, value: `old\t${'x'.repeat(40)}` })));
    fsWatch.reads.clear();
    fsWatch.handleBytes.clear();

    const idx = open(dir, 2);
    const fresh = keysByShard(shardCount, 12, 'N');
    for (let round = 0; round < 12; round++) {
      await idx.add(fresh.map((list) => ({ key: list[round]!, value: `v${round}` })));
    }
    await Promise.all(fresh.map((list) => idx.add([{ key: list[0]!, value: 'again' }])));
    expect(idx.loadedShards()).toBe(0);
    for (let n = 0; n < shardCount; n++) {
      expect(readsOf(n)).toBe(0);
      expect(handleBytesOf(n)).toBe(1);
    }

    const found = await idx.lookup([...history.flat(), ...fresh.flat()]);
    for (let n = 0; n < shardCount; n++) expect(readsOf(n)).toBe(1);
    for (const key of history.flat()) expect(found.get(key)).toEqual([`old\t${'x'.repeat(40)}`]);
    for (const list of fresh) {
      list.forEach((key, round) => {
        expect(found.get(key)).toEqual(round === 0 ? ['v0', 'again'] : [`v${round}`]);
      });
    }
  });

  it('cuts a torn last line off a shard not in memory at its last newline, reading only the end of the file', async () => {
    const dir = makeDir();
    const keys = keysByShard(4, 200);
    const wholeLines = (n: number): string =>
      keys[n]!.slice(1)
        .map((key) => `${key}\told-${'y'.repeat(60)}\n`)
        .join('');
    const torn = ['Z\tpart', `Z\t${'z'.repeat(2000)}`, `Z\t${'z'.repeat(1500)}`];
    // a short torn line, one longer than a read of a few hundred bytes, and a file of a torn line alone
    writeFileSync(join(dir, fileName(0)), wholeLines(0) + torn[0]);
    writeFileSync(join(dir, fileName(1)), wholeLines(1) + torn[1]);
    writeFileSync(join(dir, fileName(2)), torn[2]!);
    expect(wholeLines(1).length).toBeGreaterThan(4 * torn[1]!.length);

    const idx = open(dir, 1);
    await idx.add(keys.slice(0, 3).map((list) => ({ key: list[0]!, value: 'new' })));
    expect(readFileSync(join(dir, fileName(0)), 'utf8')).toBe(`${wholeLines(0)}${keys[0]![0]}\tnew\n`);
    expect(readFileSync(join(dir, fileName(1)), 'utf8')).toBe(`${wholeLines(1)}${keys[1]![0]}\tnew\n`);
    expect(readFileSync(join(dir, fileName(2)), 'utf8')).toBe(`${keys[2]![0]}\tnew\n`);
    for (let n = 0; n < 3; n++) expect(readsOf(n)).toBe(0);
    expect(handleBytesOf(0)).toBeLessThan(torn[0]!.length + 1024);
    expect(handleBytesOf(1)).toBeLessThan(torn[1]!.length + 1024);
    expect(handleBytesOf(2)).toBeLessThanOrEqual(torn[2]!.length);

    // the next appends know where the last line ends
    await idx.add(keys.slice(0, 3).map((list) => ({ key: list[1]!, value: 'newer' })));
    expect(handleBytesOf(0)).toBeLessThan(torn[0]!.length + 1024);
    expect(readFileSync(join(dir, fileName(2)), 'utf8')).toBe(`${keys[2]![0]}\tnew\n${keys[2]![1]}\tnewer\n`);

    const again = open(dir, 1);
    const found = await again.lookup([...keys.slice(0, 3).flat(), 'Z']);
    expect(found.has('Z')).toBe(false);
    for (let n = 0; n < 3; n++) {
      expect(found.get(keys[n]![0]!)).toEqual(['new']);
      expect(found.get(keys[n]![1]!)).toEqual(n === 2 ? ['newer'] : [`old-${'y'.repeat(60)}`, 'newer']);
    }
  });

  it('cuts the lines of a failed append to a shard not in memory off with the next append, and never counts them in a lookup', async () => {
    const dir = makeDir();
    const keys = keysByShard(2, 5);
    const [k0, lost, k2, k3, k4] = keys[0]!;
    const file = join(dir, fileName(0));
    writeFileSync(file, `${k0}\tv0\n`);
    const idx = open(dir, 1);

    // the lines reach the file, their sync fails: the add is refused
    failSyncOnce(0);
    await expect(
      idx.add([
        { key: lost!, value: 'v1' },
        { key: k3!, value: 'v1' },
      ]),
    ).rejects.toThrow(/cannot write/);
    expect(readFileSync(file, 'utf8')).toBe(`${k0}\tv0\n${lost}\tv1\n${k3}\tv1\n`);
    expect(readsOf(0)).toBe(0);
    const seen = await idx.lookup([k0!, lost!, k3!]);
    expect([seen.get(k0!), seen.has(lost!), seen.has(k3!)]).toEqual([['v0'], false, false]);

    await idx.lookup(keys[1]!);
    await idx.add([{ key: k2!, value: 'v2' }]);
    expect(readFileSync(file, 'utf8')).toBe(`${k0}\tv0\n${k2}\tv2\n`);

    // a second failure, the shard out of memory, followed at once by an append
    failSyncOnce(0);
    await expect(idx.add([{ key: lost!, value: 'v3' }])).rejects.toThrow(/cannot write/);
    await idx.add([{ key: k4!, value: 'v4' }]);
    expect(readFileSync(file, 'utf8')).toBe(`${k0}\tv0\n${k2}\tv2\n${k4}\tv4\n`);
    expect(readsOf(0)).toBe(1);

    const found = await open(dir, 1).lookup([k0!, lost!, k2!, k3!, k4!]);
    expect([...found.keys()].sort()).toEqual([k0!, k2!, k4!].sort());
  });

  it('collapses a value appended again while its shard was out, one after the other for its key, when the shard is read', async () => {
    const dir = makeDir();
    const keys = keysByShard(2, 2);
    const [k, other] = keys[0]!;
    const idx = open(dir, 1);
    await idx.add([{ key: k!, value: 'a' }]);
    await idx.add([{ key: k!, value: 'a' }]);
    await idx.add([
      { key: other!, value: 'x' },
      { key: k!, value: 'a' },
    ]);
    await idx.add([{ key: k!, value: 'b' }]);
    await idx.add([{ key: k!, value: 'b' }]);
    // equal to an earlier value, not to the last: a value of its own
    await idx.add([{ key: k!, value: 'a' }]);
    // twice in one add: written once
    await idx.add([
      { key: k!, value: 'c' },
      { key: k!, value: 'c' },
    ]);
    const onDisk = (): string[] =>
      linesOnDisk(dir, 1)
        .lines.filter((l) => l.startsWith(`${k}\t`))
        .map((l) => l.slice(l.indexOf('\t') + 1));
    expect(onDisk()).toEqual(['a', 'a', 'a', 'b', 'b', 'a', 'c']);
    expect(readsOf(0)).toBe(0);

    const found = await idx.lookup([k!, other!]);
    expect(found.get(k!)).toEqual(['a', 'b', 'a', 'c']);
    expect(found.get(other!)).toEqual(['x']);
    // in memory, the shard tells the append that the value is already the last one
    await idx.add([{ key: k!, value: 'c' }]);
    expect(onDisk()).toEqual(['a', 'a', 'a', 'b', 'b', 'a', 'c']);
    expect((await open(dir, 1).lookup([k!])).get(k!)).toEqual(['a', 'b', 'a', 'c']);
  });
});

describe('the serial and code indexes pass the cap through', () => {
  it('bounds the shards a serial index and a code index hold', async () => {
    const dir = makeDir();
    const keys = keysByShard(40, 1).flat();
    const serials = new SerialIndex(join(dir, 'serials'), { maxLoadedShards: 3 });
    serials.start();
    await serials.add(keys.map((serial, seq) => ({ serial, orderId: 'o1', seq })));
    const held = await serials.locate(keys);
    expect(held.size).toBe(keys.length);
    expect(held.get(keys[7]!)).toEqual([{ orderId: 'o1', seq: 7 }]);
    expect(serials.loadedShards()).toBeLessThanOrEqual(3);

    const codes = new CodeIndex(join(dir, 'codes'), { maxLoadedShards: 3 });
    codes.start();
    await codes.add(keys.map((code, seq) => ({ code, seq, serial: `S-${seq}`, orderId: 'o1' })));
    for (const code of keys) await codes.lookup(code);
    expect(await codes.lookup(keys[5]!)).toEqual([{ seq: 5, serial: 'S-5', orderId: 'o1' }]);
    expect(codes.loadedShards()).toBeLessThanOrEqual(3);
  }, 30_000);
});
