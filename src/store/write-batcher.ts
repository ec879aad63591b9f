/**
 * Group commit for a durable log: writes asked for while one is on its way to the disk wait, and
 * then go together in the next write, so many writers beside each other cost one fsync per batch
 * instead of one each. The first write after a quiet spell goes alone, at once.
 *
 * `commit` makes one batch durable and answers one result per item, in order. When it throws,
 * every item of that batch is refused with its error and the next batch is committed as usual:
 * what a failed commit leaves on the disk is for `commit` itself to undo.
 */

interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

export class WriteBatcher<I, O = void> {
  private waiting: Array<Waiting<I, O>> = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly commit: (batch: I[]) => Promise<O[] | undefined>) {}

  /** Resolves with the item's result once the batch holding it is durable. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.kick();
    });
  }

  /** Items waiting for a write, the batch being written excluded. */
  get depth(): number {
    return this.waiting.length;
  }

  /** Resolves once nothing is waiting and no batch is being written. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private kick(): void {
    if (this.flushing || this.waiting.length === 0) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      this.kick();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.splice(0);
      let results: O[] | undefined;
      try {
        results = await this.commit(batch.map((w) => w.item));
      } catch (err) {
        for (const w of batch) w.reject(err);
        continue;
      }
      batch.forEach((w, i) => {
        w.resolve(results?.[i] as O);
      });
    }
  }
}
