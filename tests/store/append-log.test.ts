import { spawn } from 'node:child_process';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStamplineError } from '../../src/errors.js';
import { AppendLog, type AppendLogRepair } from '../../src/store/append-log.js';
import { rejection, tempFolderPerTest } from '../support/temp.js';

interface Item {
  n: number;
  w?: string;
}

const logs: AppendLog<unknown>[] = [];
const folder = tempFolderPerTest('log', async () => {
  for (const log of logs.splice(0)) await log.stop();
});

function makeLog<T = Item>(extra: Partial<ConstructorParameters<typeof AppendLog>[0]> = {}): AppendLog<T> {
  const log = new AppendLog<T>({ dir: folder.path, name: 'events', ...extra });
  logs.push(log as AppendLog<unknown>);
  return log;
}

async function readAll<T>(log: AppendLog<T>, fromSegment?: number) {
  const out: { segment: number; line: number; entry: T }[] = [];
  for await (const r of log.read(fromSegment === undefined ? undefined : { fromSegment })) out.push(r);
  return out;
}

const seg1 = () => join(folder.path, 'events.00000001.jsonl');

describe('AppendLog', () => {
  it('keeps entries across a restart, one JSON object per line, in a segment file named by number', async () => {
    const log = makeLog();
    await log.start();
    await log.append([{ n: 1 }, { n: 2 }]);
    await log.append([{ n: 3 }]);
    await log.stop();
    expect(await readFile(seg1(), 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');

    const again = makeLog();
    await again.start();
    expect(again.lastEntry()).toEqual({ n: 3 });
    await again.append([{ n: 4 }]);
    const all = await readAll(again);
    expect(all.map((r) => r.entry.n)).toEqual([1, 2, 3, 4]);
    expect(all.map((r) => r.line)).toEqual([1, 2, 3, 4]);
    expect(all.every((r) => r.segment === 1)).toBe(true);
  });

  it('group-commits concurrent appends into fewer writes, keeping every entry in call order', async () => {
    const log = makeLog();
    await log.start();
    const writers = 8;
    const perWriter = 50;
    const calls: Promise<void>[] = [];
    for (let i = 0; i < perWriter; i++) {
      for (let w = 0; w < writers; w++) calls.push(log.append([{ n: i * writers + w, w: `w${w}` }]));
    }
    await Promise.all(calls);
    const { batches, entries } = log.stats;
    expect(entries).toBe(writers * perWriter);
    expect(batches).toBeLessThan(writers * perWriter);
    const all = await readAll(log);
    expect(all.map((r) => r.entry.n)).toEqual(Array.from({ length: writers * perWriter }, (_, i) => i));
  });

  it('resolves an append only once its entries can be read back', async () => {
    const log = makeLog();
    await log.start();
    const pending = Array.from({ length: 20 }, (_, i) => log.append([{ n: i }]));
    await pending[7];
    const seen = (await readAll(log)).map((r) => r.entry.n);
    expect(seen.slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await Promise.all(pending);
  });

  it('cuts off a torn last line left by a crash and reports it', async () => {
    const log = makeLog();
    await log.start();
    await log.append([{ n: 1 }, { n: 2 }]);
    // a crash mid-write: no stop(), and half a line on the disk
    await appendFile(seg1(), '{"n":3,"w":"tor');
    const notes: AppendLogRepair[] = [];
    const after = makeLog({ onRepair: (note) => notes.push(note) });
    await after.start();
    expect(notes).toEqual([{ file: seg1(), segment: 1, keptBytes: 16, droppedBytes: 15 }]);
    expect(after.lastRepair).toEqual(notes[0]);
    expect(after.lastEntry()).toEqual({ n: 2 });
    await after.append([{ n: 3 }]);
    expect(await readFile(seg1(), 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  it('cuts off a tail of zeros (size extended, data never written)', async () => {
    await writeFile(seg1(), `{"n":1}\n${'\0'.repeat(4096)}`);
    const log = makeLog();
    await log.start();
    expect(log.lastRepair?.droppedBytes).toBe(4096);
    expect((await readAll(log)).map((r) => r.entry.n)).toEqual([1]);
  });

  it('reports a corrupt line in the middle as STORE_CORRUPT naming the file and line', async () => {
    await writeFile(seg1(), '{"n":1}\n{"n":2\n{"n":3}\n');
    const log = makeLog();
    await log.start();
    const err = await rejection(readAll(log));
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.context).toMatchObject({ file: seg1(), segment: 1, line: 2 });
    expect(err.message).toContain('events.00000001.jsonl line 2');
    // nothing was changed
    expect(await readFile(seg1(), 'utf8')).toBe('{"n":1}\n{"n":2\n{"n":3}\n');
  });

  it('delivers the entries before a corrupt line, then the error', async () => {
    await writeFile(seg1(), '{"n":1}\n{"n":2}\n{"n":\n{"n":4}\n');
    const log = makeLog();
    await log.start();
    const seen: number[] = [];
    const err = await rejection(
      (async () => {
        for await (const r of log.read()) seen.push(r.entry.n);
      })(),
    );
    expect(seen).toEqual([1, 2]);
    expect(err.context).toMatchObject({ line: 3 });
  });

  it('reads in batches the same entries as one by one, across segments', async () => {
    const log = makeLog({ maxSegmentBytes: 100 });
    await log.start();
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.append([{ n: i }])));
    const flat: number[] = [];
    for await (const batch of log.readBatches({ fromSegment: 2 })) {
      expect(batch.length).toBeGreaterThan(0);
      for (const r of batch) flat.push(r.entry.n);
    }
    expect(flat).toEqual((await readAll(log, 2)).map((r) => r.entry.n));
    expect(flat.length).toBeGreaterThan(0);
  });

  it('refuses to start when the last complete line is corrupt, rather than building on it', async () => {
    await writeFile(seg1(), '{"n":1}\nnot json\n');
    const err = await rejection(makeLog().start());
    expect(err.code).toBe('STORE_CORRUPT');
    expect(err.context).toMatchObject({ line: 2 });
  });

  it('rolls over to a new segment past maxSegmentBytes and reads across segments in order', async () => {
    const log = makeLog({ maxSegmentBytes: 64 });
    await log.start();
    for (let i = 0; i < 30; i++) await log.append([{ n: i }]);
    const ids = log.segments();
    expect(ids.length).toBeGreaterThan(3);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(log.currentSegment).toBe(ids.at(-1));
    for (const id of ids.slice(0, -1)) {
      const file = join(folder.path, `events.${String(id).padStart(8, '0')}.jsonl`);
      expect((await stat(file)).size).toBeLessThanOrEqual(64);
    }
    const all = await readAll(log);
    expect(all.map((r) => r.entry.n)).toEqual(Array.from({ length: 30 }, (_, i) => i));

    const from = ids[2]!;
    const tail = await readAll(log, from);
    expect(tail[0]!.segment).toBe(from);
    expect(tail.at(-1)!.entry.n).toBe(29);

    await log.dropSegmentsBefore(from);
    expect(log.segments()[0]).toBe(from);
    expect((await readdir(folder.path)).filter((f) => f.endsWith('.jsonl')).length).toBe(
      log.segments().length,
    );
    expect((await readAll(log)).map((r) => r.entry.n)).toEqual(tail.map((r) => r.entry.n));
    await log.stop();

    const again = makeLog({ maxSegmentBytes: 64 });
    await again.start();
    expect(again.segments()).toEqual(ids.filter((id) => id >= from));
    expect(again.lastEntry()).toEqual({ n: 29 });
  });

  it('never drops the segment being written', async () => {
    const log = makeLog();
    await log.start();
    await log.append([{ n: 1 }]);
    await log.dropSegmentsBefore(1000);
    expect(log.segments()).toEqual([1]);
    expect((await readAll(log)).length).toBe(1);
  });

  it('finds the last entry behind an empty newest segment', async () => {
    await writeFile(join(folder.path, 'events.00000001.jsonl'), '{"n":1}\n{"n":2}\n');
    await writeFile(join(folder.path, 'events.00000002.jsonl'), '');
    const log = makeLog();
    await log.start();
    expect(log.currentSegment).toBe(2);
    expect(log.lastEntry()).toEqual({ n: 2 });
  });

  it('rejects an entry that is not JSON without disturbing the others', async () => {
    const log = makeLog<unknown>();
    await log.start();
    const good = log.append([{ n: 1 }]);
    const bad = rejection(log.append([{ n: 2n }]));
    const undef = rejection(log.append([undefined]));
    await good;
    expect((await bad).code).toBe('INVALID_INPUT');
    expect((await undef).code).toBe('INVALID_INPUT');
    expect((await readAll(log)).map((r) => r.entry)).toEqual([{ n: 1 }]);
  });

  it('stops twice safely, finishing queued appends, and refuses appends after', async () => {
    const log = makeLog();
    await log.start();
    const queued = [log.append([{ n: 1 }]), log.append([{ n: 2 }])];
    await Promise.all([log.stop(), log.stop()]);
    await Promise.all(queued);
    await log.stop();
    expect((await rejection(log.append([{ n: 3 }]))).code).toBe('STORE_UNAVAILABLE');
    expect(await readFile(seg1(), 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });

  it('opens read-only without creating, repairing or locking anything', async () => {
    const missing = makeLog({ dir: join(folder.path, 'absent'), readOnly: true });
    await missing.start();
    expect(await readAll(missing)).toEqual([]);
    expect(await readdir(folder.path)).toEqual([]);

    await writeFile(seg1(), '{"n":1}\n{"n":2');
    const ro = makeLog({ readOnly: true });
    await ro.start();
    expect((await readAll(ro)).map((r) => r.entry.n)).toEqual([1]);
    expect(await readFile(seg1(), 'utf8')).toBe('{"n":1}\n{"n":2');
    expect((await rejection(ro.append([{ n: 3 }]))).code).toBe('STORE_UNAVAILABLE');
  });

  it('refuses to start while another live process holds the log, and takes over a dead one', async () => {
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(folder.path, 'events.lock'), `${sleeper.pid}\n`);
      const err = await rejection(makeLog().start());
      expect(err.code).toBe('STORE_LOCKED');
      expect(err.message).toContain(String(sleeper.pid));
    } finally {
      const exited = new Promise((r) => sleeper.once('exit', r));
      sleeper.kill('SIGKILL');
      await exited;
    }
    const log = makeLog();
    await log.start();
    expect((await readFile(join(folder.path, 'events.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await log.stop();
    expect((await readdir(folder.path)).includes('events.lock')).toBe(false);
  });

  it('validates its options when started', async () => {
    expect(isStamplineError(await rejection(makeLog({ name: '../x' }).start()), 'INVALID_INPUT')).toBe(true);
    expect(isStamplineError(await rejection(makeLog({ maxSegmentBytes: 0 }).start()), 'INVALID_INPUT')).toBe(
      true,
    );
  });
});
