/**
 * What the line shows: an order with its firearms, the order list, the line's status and its
 * summary, lookups by serial or code. Each firearm is shown with its records at the registry.
 * `noteSettled` keeps on a firearm what became of its records once they leave the outbox.
 */
import { StamplineError } from '../errors.js';
import type { Settlement } from '../registry/outbox.js';
import { firearmComplete, type OrderCompletion } from './completion.js';
import type { LineContext, Runtime } from './context.js';
import type { Firearm, OrderCounts, OrderHeader, RecordSettlement } from './model.js';
import { withRegistry } from './registry-status.js';
import type { FirearmRef, LoadedOrder, StoredFirearm } from './repository.js';
import { countFirearms, firearmsOf } from './repository.js';

export class LineViews {
  constructor(
    private readonly ctx: LineContext,
    private readonly completion: OrderCompletion,
  ) {}

  /** The order's counts, verified firearms the registry has accepted every record of among them. */
  counts(order: LoadedOrder): OrderCounts {
    return countFirearms(order, (f) => firearmComplete(this.view(f)));
  }

  async orderView(
    id: string,
  ): Promise<{ order: OrderHeader; counts: ReturnType<typeof countFirearms>; firearms: Firearm[] }> {
    const order = await this.ctx.o.repo.order(id);
    if (!order) throw new StamplineError('ORDER_NOT_FOUND', `no order ${id}`, { orderId: id });
    return {
      order: order.header.data,
      counts: this.counts(order),
      firearms: [...firearmsOf(order)].map((f) => this.view(f)),
    };
  }

  /** A firearm as the views show it, with its records at the registry. */
  view(f: Firearm): Firearm {
    return withRegistry(f, this.ctx.o.sink.held?.(f.serial) ?? []);
  }

  private viewStored(s: StoredFirearm): StoredFirearm {
    return { order: s.order, firearm: this.view(s.firearm) };
  }

  /**
   * Keeps on each firearm what became of its records that leave the outbox (accepted by the
   * registry, or dismissed), before the outbox lets them go (`Outbox.beforeSettle`): the firearm
   * then shows it for good. Only `settled` is written, which no other step of the line changes.
   */
  async noteSettled(settlements: readonly Settlement[]): Promise<void> {
    const bySerial = new Map<string, Settlement[]>();
    for (const s of settlements) {
      const list = bySerial.get(s.serial);
      if (list) list.push(s);
      else bySerial.set(s.serial, [s]);
    }
    for (const [serial, list] of bySerial) {
      const holders = await this.ctx.o.repo.firearmsWithSerial(serial);
      for (const { order, firearm } of holders) {
        const mine = list.filter((s) => s.orderId === order.id);
        if (mine.length === 0) continue;
        const updated = await this.ctx.o.repo.updateStoredFirearm(
          { orderId: order.id, seq: firearm.seq },
          (x) => {
            x.settled ??= [];
            const settled = x.settled;
            for (const s of mine) {
              if (settled.some((e) => e.recordId === s.recordId)) continue;
              const entry: RecordSettlement = {
                recordId: s.recordId,
                event: s.event,
                code: s.code,
                outcome: s.outcome,
                at: s.at,
              };
              if (s.reason !== undefined) entry.reason = s.reason;
              if (s.by !== undefined) entry.by = s.by;
              settled.push(entry);
            }
          },
        );
        this.ctx.emit('firearm', { orderId: order.id, firearm: this.view(updated) });
      }
    }
  }

  /**
   * Headers of every order, active or finished, newest first (orders created in the same
   * millisecond by id, last first); from memory once started, after the finished orders have
   * been loaded.
   */
  async listOrders(): Promise<OrderHeader[]> {
    return this.ctx.list.list();
  }

  status() {
    return {
      engraver: {
        url: this.ctx.o.engraver.url,
        connected: this.ctx.o.engraver.connected,
        status: this.ctx.lastStatus,
        /** when `status` was read */
        statusAt: this.ctx.lastStatusAt,
      },
      current: this.ctx.current,
      halted: this.ctx.halted,
      activeOrders: [...this.ctx.runtimes.values()].map((rt) => ({
        ...rt.order.header.data,
        counts: this.counts(rt.order),
      })),
      indexesLeft: this.ctx.o.allocator.remaining(),
    };
  }

  /**
   * The line as the API and live events show it: `status()` with at most `limit` active orders
   * (the ones being worked on first, then the queue in the order it came), and how many there
   * are by state. Its cost does not grow with the queue beyond one pass over the headers; only
   * the orders shown are counted.
   */
  summary(limit: number) {
    return {
      engraver: {
        url: this.ctx.o.engraver.url,
        connected: this.ctx.o.engraver.connected,
        status: this.ctx.lastStatus,
      },
      current: this.ctx.current,
      halted: this.ctx.halted,
      ...this.activeView(limit),
      backlog: this.completion.backlog(limit),
      indexesLeft: this.ctx.o.allocator.remaining(),
    };
  }

  /** At most `limit` active orders with counts, working ones first, and the totals by state. */
  activeView(limit: number) {
    const byState = { running: 0, faulted: 0, paused: 0, queued: 0 };
    const shown: Runtime[] = [];
    const waiting: Runtime[] = [];
    for (const rt of this.ctx.runtimes.values()) {
      const state = rt.order.header.data.state;
      if (state in byState) byState[state as keyof typeof byState]++;
      if (state === 'queued') {
        if (waiting.length < limit) waiting.push(rt);
      } else if (shown.length < limit) shown.push(rt);
    }
    const page = [...shown, ...waiting].slice(0, limit);
    return {
      activeOrders: page.map((rt) => ({ ...rt.order.header.data, counts: this.counts(rt.order) })),
      activeTotal: this.ctx.runtimes.size,
      activeByState: byState,
    };
  }

  /** The counts of an order the line is working on; undefined for a finished or unknown one. */
  activeCounts(id: string): OrderCounts | undefined {
    const rt = this.ctx.runtimes.get(id);
    return rt ? this.counts(rt.order) : this.completion.counts(id);
  }

  /**
   * The firearms that held this serial (oldest order first) or were given this code (current or
   * voided), as stored, each with its order's header.
   */
  async findFirearms(query: { serial: string } | { code: string }): Promise<StoredFirearm[]> {
    const found =
      'serial' in query
        ? await this.ctx.o.repo.firearmsWithSerial(query.serial)
        : await this.ctx.o.repo.firearmsWithCode(query.code);
    return found.map((s) => this.viewStored(s));
  }

  /** One firearm by its place, with its records at the registry. */
  async firearm(ref: FirearmRef): Promise<StoredFirearm | undefined> {
    const stored = await this.ctx.o.repo.firearm(ref);
    return stored && this.viewStored(stored);
  }
}
