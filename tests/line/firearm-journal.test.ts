/**
 * The firearms' write-ahead journal: a firearm's change is one append, its chunk is written later
 * (a fold, a clean stop), and a start after a crash replays what the chunks lack. Deferred
 * changes reach the disk with the next change the line waits for. The journal is accounted for
 * as every other file is: gone or cut short, the start is refused naming it; a store written
 * before it had one opens with an empty journal.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StamplineError } from '../../src/errors.js';
import { JOURNAL_DIR, JOURNAL_NAME } from '../../src/line/firearm-journal.js';
import type { Firearm, OrderHeader } from '../../src/line/model.js';
import { CHUNK_SIZE, type ChunkDoc, LineRepository } from '../../src/line/repository.js';
import { DocumentStore } from '../../src/store/documents.js';
import { StoreIdentity } from '../../src/store/identity.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'stampline-journal-'));
  dirs.push(d);
  return d;
}

const AT = '2026-12-07T12:00:00.000Z';
const CODE = { index: 7, text: 'ABCDEFGHJK', gear: 'g', jobId: 8, allocatedAt: AT };

function header(id: string, size: number): OrderHeader {
  return {
    id,
    make: 'Acme',
    model: 'P1',
    target: 'firing-pin',
    state: 'running',
    createdAt: AT,
    size,
    source: 'http',
  };
}

function queued(orderId: string, seq: number): Firearm {
  return {
    serial: `${orderId.toUpperCase()}-${seq}`,
    orderId,
    seq,
    rework: false,
    state: 'queued',
    voided: [],
    history: [],
  };
}

/** A line's store on `dir`, started, with its repository. */
async function open(
  dir: string,
): Promise<{ store: DocumentStore; repo: LineRepository; stop: () => Promise<void> }> {
  const store = new DocumentStore({ dir: join(dir, 'docs') });
  await store.start();
  const repo = new LineRepository(store, join(dir, 'serials'));
  try {
    await repo.start();
  } catch (err) {
    await store.stop();
    throw err;
  }
  return {
    store,
    repo,
    stop: async () => {
      await repo.stop();
      await store.stop();
    },
  };
}

/** What a crash at this instant leaves: a copy of the folder (every write so far was fsynced). */
async function crashCopy(dir: string): Promise<string> {
  const copy = await tempDir();
  await cp(dir, copy, { recursive: true });
  return copy;
}

async function chunkOnDisk(dir: string, orderId: string): Promise<ChunkDoc> {
  return JSON.parse(await readFile(join(dir, 'docs/orders', orderId, 'firearms-00000.json'), 'utf8'));
}

const allocate = (f: Firearm) => {
  f.state = 'allocated';
  f.code = CODE;
  f.history.push({ at: AT, state: 'allocated' });
};
const load = (f: Firearm) => {
  f.state = 'loaded';
  f.history.push({ at: AT, state: 'loaded' });
};
const mark = (f: Firearm) => {
  f.state = 'marking';
  f.completedBefore = 3;
  f.history.push({ at: AT, state: 'marking' });
};

describe('the firearm journal', () => {
  it('makes a change durable with one append, and a start after a crash replays it into the chunk', async () => {
    const dir = await tempDir();
    const line = await open(dir);
    const order = await line.repo.createOrder(
      header('A', 3),
      [0, 1, 2].map((i) => queued('A', i)),
    );
    await line.repo.updateFirearm(order, 1, allocate);
    await line.repo.updateFirearm(order, 1, mark);
    const lines = (await readdir(join(dir, JOURNAL_DIR))).filter((n) => n.endsWith('.jsonl'));
    expect(lines).toEqual([`${JOURNAL_NAME}.00000001.jsonl`]);
    const crashed = await crashCopy(dir);
    await line.stop();

    // The chunk on the disk is as the order was created: the journal holds the changes.
    expect((await chunkOnDisk(crashed, 'A')).firearms[1]!.state).toBe('queued');
    const again = await open(crashed);
    try {
      const f = (await again.repo.firearm({ orderId: 'A', seq: 1 }))!.firearm;
      expect(f).toMatchObject({ state: 'marking', code: CODE, completedBefore: 3 });
      expect(f.history.map((e) => e.state)).toEqual(['allocated', 'marking']);
      // Start-up folded what it replayed into the chunk.
      expect((await chunkOnDisk(crashed, 'A')).firearms[1]!.state).toBe('marking');
    } finally {
      await again.stop();
    }
    // A clean stop leaves every change in the chunks.
    expect((await chunkOnDisk(dir, 'A')).firearms[1]!.state).toBe('marking');
  });

  it('writes a deferred change with the next change the line waits for, and loses it alone in a crash before', async () => {
    const dir = await tempDir();
    const line = await open(dir);
    const order = await line.repo.createOrder(
      header('A', 2),
      [0, 1].map((i) => queued('A', i)),
    );
    await line.repo.updateFirearm(order, 0, allocate, { deferred: true });
    await line.repo.updateFirearm(order, 0, load, { deferred: true });
    // In memory at once; on the disk, nothing yet.
    expect((await line.repo.firearm({ orderId: 'A', seq: 0 }))!.firearm.state).toBe('loaded');
    const before = await crashCopy(dir);
    await line.repo.updateFirearm(order, 0, mark);
    const after = await crashCopy(dir);
    await line.stop();

    const lost = await open(before);
    try {
      expect((await lost.repo.firearm({ orderId: 'A', seq: 0 }))!.firearm).toMatchObject({
        state: 'queued',
        history: [],
      });
    } finally {
      await lost.stop();
    }
    const kept = await open(after);
    try {
      const f = (await kept.repo.firearm({ orderId: 'A', seq: 0 }))!.firearm;
      expect(f.history.map((e) => e.state)).toEqual(['allocated', 'loaded', 'marking']);
    } finally {
      await kept.stop();
    }
  });

  it('leaves memory as the disk holds it when the append fails', async () => {
    const dir = await tempDir();
    const line = await open(dir);
    const order = await line.repo.createOrder(header('A', 1), [queued('A', 0)]);
    await line.repo.journal.stop();
    await expect(line.repo.updateFirearm(order, 0, allocate)).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    expect((await line.repo.firearm({ orderId: 'A', seq: 0 }))!.firearm.state).toBe('queued');
    await line.store.stop();
  });

  it('opens a store written before the journal as an empty journal, and then accounts for it', async () => {
    const dir = await tempDir();
    const line = await open(dir);
    const order = await line.repo.createOrder(header('A', 1), [queued('A', 0)]);
    await line.repo.updateFirearm(order, 0, allocate);
    await line.stop();
    // As the line left it before there was a journal: no folder, and store.json without it.
    await rm(join(dir, JOURNAL_DIR), { recursive: true });
    const identity = JSON.parse(await readFile(join(dir, 'store.json'), 'utf8')) as { expects: string[] };
    const record = `${JOURNAL_DIR}/${JOURNAL_NAME}.segments.json`;
    expect(identity.expects).toContain(record);
    await writeFile(
      join(dir, 'store.json'),
      JSON.stringify({ ...identity, expects: identity.expects.filter((p) => p !== record) }),
    );

    expect(await new StoreIdentity(dir).open()).toBe('opened');
    const again = await open(dir);
    try {
      expect((await again.repo.firearm({ orderId: 'A', seq: 0 }))!.firearm.state).toBe('allocated');
    } finally {
      await again.stop();
    }
    const after = JSON.parse(await readFile(join(dir, 'store.json'), 'utf8')) as { expects: string[] };
    expect(after.expects).toContain(record);
  });

  it('refuses a start, naming the file, when the journal is gone, or its segment is gone or cut short', async () => {
    const dir = await tempDir();
    const line = await open(dir);
    const order = await line.repo.createOrder(header('A', 1), [queued('A', 0)]);
    await line.repo.updateFirearm(order, 0, allocate);
    await line.stop();
    const segment = join(dir, JOURNAL_DIR, `${JOURNAL_NAME}.00000001.jsonl`);

    const whole = await crashCopy(dir);
    await rm(join(whole, JOURNAL_DIR), { recursive: true });
    await expect(new StoreIdentity(whole).open()).rejects.toMatchObject({
      code: 'STORE_MISSING',
      message: expect.stringContaining(join(whole, JOURNAL_DIR, `${JOURNAL_NAME}.segments.json`)),
    });

    const noSegment = await crashCopy(dir);
    await rm(join(noSegment, JOURNAL_DIR, `${JOURNAL_NAME}.00000001.jsonl`));
    const refused = await open(noSegment).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(StamplineError);
    expect(refused).toMatchObject({ code: 'STORE_MISSING', message: expect.stringContaining(JOURNAL_NAME) });

    const cut = await crashCopy(dir);
    await writeFile(join(cut, JOURNAL_DIR, `${JOURNAL_NAME}.00000001.jsonl`), '');
    expect((await readFile(segment, 'utf8')).length).toBeGreaterThan(0);
    await expect(open(cut)).rejects.toMatchObject({ code: 'STORE_MISSING' });
  });

  it('refuses a journal line naming a firearm its order does not hold, naming the file and line', async () => {
    const dir = await tempDir();
    const line = await open(dir);
    const order = await line.repo.createOrder(header('A', 1), [queued('A', 0)]);
    await line.repo.updateFirearm(order, 0, allocate);
    const crashed = await crashCopy(dir);
    await line.stop();
    const file = join(crashed, JOURNAL_DIR, `${JOURNAL_NAME}.00000001.jsonl`);
    const entry = JSON.parse((await readFile(file, 'utf8')).trim());
    entry.f.serial = 'SOMEONE-ELSE';
    await writeFile(file, `${JSON.stringify(entry)}\n`);
    await expect(open(crashed)).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      message: expect.stringMatching(/firearms\.00000001\.jsonl line 1 .*order A/),
    });
  });

  it('folds full segments into the chunks in the background and drops them, keeping every change', async () => {
    const dir = await tempDir();
    const store = new DocumentStore({ dir: join(dir, 'docs') });
    await store.start();
    const repo = new LineRepository(store, join(dir, 'serials'), undefined, { journalSegmentBytes: 2_000 });
    await repo.start();
    try {
      const order = await repo.createOrder(
        header('A', CHUNK_SIZE),
        Array.from({ length: CHUNK_SIZE }, (_, i) => queued('A', i)),
      );
      for (let seq = 0; seq < 40; seq++) await repo.updateFirearm(order, seq, allocate);
      // Let the last fold end.
      await new Promise((r) => setTimeout(r, 300));
      await repo.updateFirearm(order, 40, allocate);
      const segments = (await readdir(join(dir, JOURNAL_DIR))).filter((n) => n.endsWith('.jsonl'));
      expect(segments.length).toBeLessThanOrEqual(2);
      expect(segments).not.toContain(`${JOURNAL_NAME}.00000001.jsonl`);
      const onDisk = await chunkOnDisk(dir, 'A');
      // Every change whose line was dropped is in the chunk, which notes the last line it holds.
      const kept = new Set<number>();
      for (const name of segments) {
        for (const text of (await readFile(join(dir, JOURNAL_DIR, name), 'utf8')).split('\n'))
          if (text) kept.add((JSON.parse(text) as { f: Firearm }).f.seq);
      }
      const dropped = Array.from({ length: 41 }, (_, seq) => seq).filter((seq) => !kept.has(seq));
      expect(dropped.length).toBeGreaterThan(0);
      for (const seq of dropped) expect(onDisk.firearms[seq]!.state, `firearm ${seq}`).toBe('allocated');
      expect(onDisk.journal).toBeGreaterThanOrEqual(dropped.length);

      // A crash now: the chunk and what is left of the journal give every change back.
      const crashed = await crashCopy(dir);
      const again = await open(crashed);
      try {
        for (let seq = 0; seq <= 40; seq++)
          expect((await again.repo.firearm({ orderId: 'A', seq }))!.firearm.state).toBe('allocated');
        expect((await again.repo.firearm({ orderId: 'A', seq: 41 }))!.firearm.state).toBe('queued');
      } finally {
        await again.stop();
      }
    } finally {
      await repo.stop();
      await store.stop();
    }
  });
});
