/**
 * One gate for every durable write of the process, so that a backup can take a copy of a running
 * line's data that is exactly what a crash at one instant would have left on the disk.
 *
 * Each durable step (a document replaced by rename, a batch appended to a log or an index shard,
 * a file removed) runs inside `durableStep`. `holdWrites(fn)` closes the gate to new steps, waits
 * for the steps in flight, runs `fn` and opens the gate again. While it runs, every file is as
 * whole as after a crash between two steps, which the store recovers from by design (it survives
 * SIGKILL at every step). A step started inside another (a log's batch writing its segment
 * record) runs at once, so the gate never waits on itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const inside = new AsyncLocalStorage<true>();
let inFlight = 0;
let closed: Promise<void> | undefined;
let drained: (() => void) | undefined;

/** Runs one durable step, waiting first while a backup holds the gate. */
export async function durableStep<T>(step: () => Promise<T>): Promise<T> {
  if (inside.getStore()) return step();
  while (closed) await closed;
  inFlight++;
  try {
    return await inside.run(true, step);
  } finally {
    inFlight--;
    if (inFlight === 0) drained?.();
  }
}

/**
 * Runs `fn` with no durable step in flight and none begun until it ends. Holds queue behind one
 * another. Keep `fn` short: every writer of the process waits for it.
 */
export async function holdWrites<T>(fn: () => Promise<T>): Promise<T> {
  while (closed) await closed;
  let open!: () => void;
  closed = new Promise<void>((resolve) => {
    open = resolve;
  });
  try {
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        drained = resolve;
      });
    }
    drained = undefined;
    return await fn();
  } finally {
    drained = undefined;
    closed = undefined;
    open();
  }
}
