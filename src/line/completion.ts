/**
 * Orders between engraved and complete (docs/orders.md, "Engraved and complete"). An order is
 * `engraved` once every pin is marked and it leaves the engraver's queue; it is `complete` once QA
 * has passed every firearm and the registry has accepted every record. The line keeps the
 * engraved orders' counts in memory, so the Line screen shows them beside the working ones until
 * they are complete, and moves each to `complete` as the last QA pass or registry ack comes in.
 *
 * Each order is looked at again after a QA decision on one of its firearms, after the outbox
 * settles one of its records, and once at start-up (a stop between the last ack and the move, or a
 * store written before the split, whose `done` reads as `engraved`). Looks at one order coalesce:
 * acks come in bursts of hundreds, and one pass over the order serves them all.
 */
import { type LineContext, now } from './context.js';
import type { Firearm, OrderCounts, OrderHeader } from './model.js';
import type { OrderLifecycle } from './orders.js';
import { countFirearms } from './repository.js';

/**
 * Whether a firearm (as a view shows it, with its registry status) is complete: engraved, its
 * current code passed QA, and every record of it accepted, the `verified` record of that code
 * among them. A firearm stored before settlements were kept has no records to show once the
 * outbox let them go: its registry status then rests on `reported`, as `registryOf` rules.
 */
export function firearmComplete(f: Firearm): boolean {
  if (f.state !== 'engraved' || !f.code || f.qa?.result !== 'pass') return false;
  const registry = f.registry;
  if (registry?.state !== 'accepted') return false;
  if (registry.records.length === 0) return true;
  const code = f.code.text;
  return registry.records.some((r) => r.event === 'verified' && r.code === code && r.state === 'accepted');
}

/** Counts in which every engraved firearm is complete: the order is. */
export function allComplete(c: OrderCounts): boolean {
  return c.queued === 0 && c.inProgress === 0 && c.accepted === c.engraved;
}

export interface EngravedOrder extends OrderHeader {
  counts: OrderCounts;
}

export class OrderCompletion {
  /** Engraved orders, not yet complete, with their counts; by id. */
  private readonly engraved = new Map<string, EngravedOrder>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(
    private readonly ctx: LineContext,
    private readonly orders: OrderLifecycle,
    private readonly view: (f: Firearm) => Firearm,
  ) {}

  /** Looks at the order again soon; a look already under way is followed by one more. */
  schedule(orderId: string): void {
    // A settlement noted while the line stops is looked at by the next start's sweep.
    if (this.ctx.stopping) return;
    if (this.running.has(orderId)) {
      this.again.add(orderId);
      return;
    }
    const run = (async () => {
      do {
        this.again.delete(orderId);
        try {
          await this.refresh(orderId);
        } catch (err) {
          this.ctx.o.logger.error({ err, order: orderId }, 'cannot tell whether the order is complete');
        }
      } while (this.again.has(orderId) && !this.ctx.stopping);
    })().finally(() => this.running.delete(orderId));
    this.running.set(orderId, run);
  }

  /** Resolves once no look is under way (tests, and an orderly stop). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()]);
  }

  /**
   * At start-up: looks at every engraved order once, one after another, so that a store of many
   * orders written before the split is read at the pace of one order at a time.
   */
  async sweep(): Promise<void> {
    // Once the finished orders are loaded, whoever asked for them: a failed load is the daemon's
    // to report, and the engraved orders then join as QA or the registry moves them.
    try {
      await this.ctx.list.loaded();
    } catch {
      return;
    }
    if (this.ctx.stopping) return;
    const headers = await this.ctx.list.list();
    for (const h of headers) {
      if (this.ctx.stopping) return;
      if (h.state !== 'engraved') continue;
      this.schedule(h.id);
      await this.running.get(h.id);
    }
  }

  /**
   * The engraved orders, oldest engraving first, at most `limit` of them with their counts; and
   * the firearms awaiting QA in them and in the orders the line is working on.
   */
  backlog(limit: number): { awaitingQa: number; engravedOrders: EngravedOrder[]; engravedTotal: number } {
    let awaitingQa = 0;
    for (const rt of this.ctx.runtimes.values()) {
      if (rt.order.header.data.state === 'queued') continue;
      const c = countFirearms(rt.order);
      awaitingQa += c.engraved - c.verified;
    }
    const all = [...this.engraved.values()];
    for (const o of all) awaitingQa += o.counts.engraved - o.counts.verified;
    all.sort((a, b) => (a.finishedAt ?? a.createdAt).localeCompare(b.finishedAt ?? b.createdAt));
    return { awaitingQa, engravedOrders: all.slice(0, limit), engravedTotal: all.length };
  }

  /** The counts of an engraved order not yet complete, as last looked at. */
  counts(orderId: string): OrderCounts | undefined {
    return this.engraved.get(orderId)?.counts;
  }

  private async refresh(orderId: string): Promise<void> {
    // Under the line's gate: a QA failure reopening the order cannot come between the count and
    // the move to complete.
    await this.ctx.exclusive(async () => {
      const order = await this.ctx.o.repo.order(orderId);
      const h = order?.header.data;
      // An order still held by the line is retired first; its retirement looks again.
      if (!order || !h || h.state !== 'engraved' || this.ctx.runtimes.has(orderId)) {
        if (this.engraved.delete(orderId)) this.ctx.emit('backlog', { orderId });
        return;
      }
      const counts = countFirearms(order, (f) => firearmComplete(this.view(f)));
      if (!allComplete(counts)) {
        const known = this.engraved.get(orderId);
        this.engraved.set(orderId, { ...h, counts });
        if (!known || JSON.stringify(known.counts) !== JSON.stringify(counts))
          this.ctx.emit('backlog', { orderId });
        return;
      }
      await this.orders.move(order, 'complete', (x) => {
        x.completedAt = now();
      });
      if (this.engraved.delete(orderId)) this.ctx.emit('backlog', { orderId });
      await this.ctx.o.audit.record({
        actor: 'line',
        action: 'order.complete',
        subject: `order:${orderId}`,
        before: { state: 'engraved' },
        after: { state: 'complete', verified: counts.verified, accepted: counts.accepted },
      });
      this.ctx.o.logger.info(
        { order: orderId, firearms: counts.accepted },
        'order complete: every firearm passed QA and the registry accepted every record',
      );
      this.ctx.emit('order', { order: order.header.data });
    });
  }
}
