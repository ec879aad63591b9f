/**
 * Tasks that must not overlap, run one at a time in the order they were given: the writes of one
 * document, the requests on one serial bus, the reads of the QA station, the appends to one shard
 * of an index. A task that fails fails only its own caller: the next one runs as if it had
 * succeeded, so one refused write never blocks those queued behind it.
 *
 * `KeyedSerialQueue` keeps one such queue per key (a shard, a lock file) and forgets a key as soon
 * as nothing is queued on it, so its memory follows the work in hand, not every key ever used.
 */

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /**
   * Runs `task` once every task given before it has ended (resolved or rejected), and answers
   * what it answers. A task that throws synchronously is a rejection like any other.
   */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(task);
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  /** Tasks given and not yet ended, the one running included. */
  get depth(): number {
    return this.pending;
  }

  /** Resolves (never rejects) once every task given so far has ended. */
  settled(): Promise<void> {
    return this.tail.then(() => {});
  }
}

export interface KeyedSerialQueueOptions<K> {
  /** Called when the last task queued on `key` has ended and the key is forgotten. */
  onIdle?: (key: K) => void;
}

export class KeyedSerialQueue<K> {
  private readonly lanes = new Map<K, SerialQueue>();

  constructor(private readonly options: KeyedSerialQueueOptions<K> = {}) {}

  /**
   * Runs `task` once every task given before it on the same key has ended; tasks of other keys
   * run beside it.
   */
  run<T>(key: K, task: () => T | Promise<T>): Promise<T> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = new SerialQueue();
      this.lanes.set(key, lane);
    }
    const queue = lane;
    const result = queue.run(task);
    const ended = () => {
      // `depth` counts this task until the queue's own bookkeeping has run: look after it.
      void queue.settled().then(() => {
        if (queue.depth > 0 || this.lanes.get(key) !== queue) return;
        this.lanes.delete(key);
        this.options.onIdle?.(key);
      });
    };
    result.then(ended, ended);
    return result;
  }

  /** Whether a task of `key` is queued or running. */
  busy(key: K): boolean {
    return this.lanes.has(key);
  }

  /** Tasks queued or running on `key`, or on every key when none is given. */
  depth(key?: K): number {
    if (key !== undefined) return this.lanes.get(key)?.depth ?? 0;
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.depth;
    return n;
  }

  /** Keys with tasks queued or running. */
  get size(): number {
    return this.lanes.size;
  }

  /** Resolves once every task given so far, on every key, has ended. */
  async settled(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lane) => lane.settled()));
  }
}
