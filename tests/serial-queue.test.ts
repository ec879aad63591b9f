/**
 * The one serial queue every subsystem uses (documents, the engraver's bus, QA reads, the shards
 * of an index, the users file's lock): tasks run one at a time in the order given, a failure is
 * its own caller's only, and the depth says how much is waiting.
 */
import { describe, expect, it } from 'vitest';
import { KeyedSerialQueue, SerialQueue } from '../src/serial-queue.js';

/** A promise with its resolve and reject at hand, to end a task when the test says so. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('SerialQueue', () => {
  it('runs tasks one at a time in the order given, however long each takes', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([q.run(task('a', 20)), q.run(task('b', 1)), q.run(task('c', 5))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(most).toBe(1);
  });

  it('does not start a task before the caller has returned, even on an idle queue', async () => {
    const q = new SerialQueue();
    let ran = false;
    const p = q.run(() => {
      ran = true;
    });
    expect(ran).toBe(false);
    await p;
    expect(ran).toBe(true);
  });

  it('refuses only the failing task: the next runs and answers as usual', async () => {
    const q = new SerialQueue();
    const failing = q.run(async () => {
      throw new Error('disk full');
    });
    const throwing = q.run(() => {
      throw new Error('thrown before any await');
    });
    const next = q.run(async () => 'written');
    await expect(failing).rejects.toThrow('disk full');
    await expect(throwing).rejects.toThrow('thrown before any await');
    await expect(next).resolves.toBe('written');
    // and the queue goes on after it
    await expect(q.run(() => 42)).resolves.toBe(42);
  });

  it('counts the tasks queued and running as its depth, and settles without rejecting', async () => {
    const q = new SerialQueue();
    expect(q.depth).toBe(0);
    const gate = deferred();
    const first = q.run(() => gate.promise);
    const second = q.run(async () => {
      throw new Error('refused');
    });
    const third = q.run(async () => 3);
    expect(q.depth).toBe(3);
    await turn();
    expect(q.depth).toBe(3);
    let settled = false;
    const idle = q.settled().then(() => {
      settled = true;
    });
    await turn();
    expect(settled).toBe(false);
    gate.resolve();
    await first;
    await expect(second).rejects.toThrow('refused');
    await third;
    await idle;
    expect(settled).toBe(true);
    expect(q.depth).toBe(0);
  });
});

describe('KeyedSerialQueue', () => {
  it('keeps each key in order, lets different keys run beside each other, and forgets idle keys', async () => {
    const idle: string[] = [];
    const q = new KeyedSerialQueue<string>({ onIdle: (k) => idle.push(k) });
    const log: string[] = [];
    const a1 = deferred();
    const first = q.run('a', async () => {
      log.push('a1 start');
      await a1.promise;
      log.push('a1 end');
    });
    const second = q.run('a', () => {
      log.push('a2');
    });
    const other = q.run('b', () => {
      log.push('b1');
    });
    expect(q.busy('a')).toBe(true);
    expect(q.depth('a')).toBe(2);
    expect(q.depth()).toBe(3);
    expect(q.size).toBe(2);
    await other;
    // b ran while a's first task was still held
    expect(log).toEqual(['a1 start', 'b1']);
    a1.resolve();
    await Promise.all([first, second]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
    await q.settled();
    await turn();
    expect(q.busy('a')).toBe(false);
    expect(q.busy('b')).toBe(false);
    expect(q.size).toBe(0);
    expect(idle.sort()).toEqual(['a', 'b']);
  });

  it('isolates a failure to its task and its key', async () => {
    const q = new KeyedSerialQueue<number>();
    const failing = q.run(1, async () => {
      throw new Error('shard 1 unreadable');
    });
    const after = q.run(1, async () => 'next on 1');
    const beside = q.run(2, async () => 'on 2');
    await expect(failing).rejects.toThrow('shard 1 unreadable');
    await expect(after).resolves.toBe('next on 1');
    await expect(beside).resolves.toBe('on 2');
  });

  it('does not forget a key that was given more work while its last task ended', async () => {
    const idle: number[] = [];
    const q = new KeyedSerialQueue<number>({ onIdle: (k) => idle.push(k) });
    const gate = deferred();
    const first = q.run(7, () => gate.promise);
    gate.resolve();
    await first;
    // more work for the key before the queue has looked at it again
    const later = deferred();
    const second = q.run(7, () => later.promise);
    await turn();
    expect(q.busy(7)).toBe(true);
    expect(idle).toEqual([]);
    later.resolve();
    await second;
    await q.settled();
    await turn();
    expect(q.busy(7)).toBe(false);
    expect(idle).toEqual([7]);
  });
});
