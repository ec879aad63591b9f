/**
 * The header of every order the line has held, as last written: the order list is asked for
 * after every event, and must not read the whole history from disk each time.
 */
import type { OrderHeader } from './model.js';
import { newestFirst } from './model.js';
import type { LineRepository } from './repository.js';

export class OrderList {
  private headers: Map<string, OrderHeader> | undefined;
  /** `headers` newest first, until a header changes. */
  private sorted: OrderHeader[] | undefined;
  /**
   * Resolves once the finished orders' headers are in `headers`; rejects when the repository
   * could not load them. They arrive after start(), which the line does not need them for, and
   * waiting for them does not make the repository begin to load them.
   */
  private complete: Promise<void> = Promise.resolve();

  constructor(private readonly repo: LineRepository) {}

  /** Starts the list from the active orders; the finished ones join once the repository has them. */
  start(active: Iterable<OrderHeader>): void {
    const headers = new Map<string, OrderHeader>();
    for (const h of active) headers.set(h.id, h);
    this.headers = headers;
    this.sorted = undefined;
    this.complete = this.repo.finishedOrdersLoaded().then(() => this.mergeFinished(headers));
    // Its failure is answered by list(); the daemon logs it.
    this.complete.catch(() => {});
  }

  /**
   * Adds the finished orders' headers once the repository has loaded them. A header already
   * there is newer (an order created, changed or reopened since start) and is kept.
   */
  private async mergeFinished(headers: Map<string, OrderHeader>): Promise<void> {
    for (const h of await this.repo.orderHeaders()) if (!headers.has(h.id)) headers.set(h.id, h);
    this.sorted = undefined;
  }

  /**
   * Resolves once the finished orders' headers are in the list, rejects when they could not be
   * loaded; it does not make the repository begin to load them.
   */
  loaded(): Promise<void> {
    return this.complete;
  }

  /** Sets an order's header in the list; the sorted list is made again when next asked for. */
  remember(header: OrderHeader): void {
    if (!this.headers) return;
    this.headers.set(header.id, header);
    this.sorted = undefined;
  }

  /** Every header, newest first; from memory once started, after the finished orders are loaded. */
  async list(): Promise<OrderHeader[]> {
    if (!this.headers) return this.repo.listOrders();
    this.repo.loadFinishedOrders();
    await this.complete;
    // Sorted once for all the asks until the next header change: 100,000 orders take a while.
    this.sorted ??= [...this.headers.values()].sort(newestFirst);
    return this.sorted.slice();
  }
}
