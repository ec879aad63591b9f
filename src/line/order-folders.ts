/**
 * The order folders beside the lists that account for them (the unfinished orders, the order
 * catalogue): an unfinished order whose header is gone, the headers of finished orders read to
 * write the catalogue afresh, and an order folder neither list holds. Part of the repository.
 */
import { StamplineError } from '../errors.js';
import type { DocumentStore } from '../store/documents.js';
import { activeListBehind, orderIsFinished, type UnlistedOrder } from './active-witness.js';
import { type ChunkDoc, orderDocPath, placeholderHeader } from './loaded-order.js';
import { type OrderHeader, readOrderState } from './model.js';
import type { OrderCatalogue } from './order-catalogue.js';

export class OrderFolders {
  constructor(
    private readonly store: DocumentStore,
    private readonly catalogue: OrderCatalogue,
    /** True for an order held or listed as unfinished. */
    private readonly listed: (id: string) => boolean,
    /** The ids the list of unfinished orders holds. */
    private readonly activeIds: () => string[],
    /** The list of unfinished orders' file, as refusals name it. */
    private readonly activeListFile: string,
  ) {}

  /**
   * An unfinished order without a header is one whose creation stopped before its header was
   * written, unless its firearms moved on: they change only once the order exists, so then its
   * header was deleted, and the order is refused rather than dropped.
   */
  async checkUnborn(id: string, wasCreated?: (orderId: string) => Promise<boolean>): Promise<void> {
    const base = orderDocPath(id);
    if (await wasCreated?.(id)) {
      const file = this.store.file(`${base}/header`);
      throw new StamplineError(
        'STORE_MISSING',
        `${file} is missing, though order ${id} is unfinished and the audit trail records its creation; restore it from a backup`,
        { file, orderId: id },
      );
    }
    for (const name of await this.store.list(base)) {
      if (!/\/firearms-\d+$/.test(name)) continue;
      const chunk = await this.store.open<ChunkDoc>(name, () => ({ firearms: [] }));
      this.store.close(name);
      if (chunk.data.firearms.some((f) => f.state !== 'queued' || f.code !== undefined)) {
        const file = this.store.file(`${base}/header`);
        throw new StamplineError(
          'STORE_MISSING',
          `${file} is missing, though order ${id} is unfinished and its firearms have been worked on; restore it from a backup`,
          { file, orderId: id },
        );
      }
    }
  }

  /**
   * Every header file of an order not unfinished: read only to rebuild the catalogue, which runs
   * beside the line. An order's id is listed as unfinished before its header is written, so an
   * order created meanwhile is never taken for a finished one.
   */
  async finishedHeadersOnDisk(): Promise<OrderHeader[]> {
    return this.unlistedHeaders(await this.store.folders('orders'));
  }

  /**
   * The headers in `folders` of orders not listed as unfinished, all finished: an unfinished one
   * means the list of unfinished orders is an older copy, and is refused (`active-witness.ts`).
   */
  async unlistedHeaders(folders: Iterable<string>): Promise<OrderHeader[]> {
    const headers: OrderHeader[] = [];
    const unlisted: UnlistedOrder[] = [];
    for (const folder of folders) {
      this.catalogue.checkNotAbandoned();
      const name = `${folder}/header`;
      if (!(await this.store.exists(name))) continue;
      const doc = await this.store.open<OrderHeader>(name, placeholderHeader);
      this.store.close(name);
      const h = readOrderState(doc.data);
      if (this.listed(h.id)) continue;
      if (orderIsFinished(h)) headers.push(h);
      else unlisted.push({ orderId: h.id, state: h.state, header: this.store.file(name) });
    }
    if (unlisted.length > 0) throw activeListBehind(this.activeListFile, unlisted);
    return headers;
  }

  /**
   * After the catalogue is read: every order folder is accounted for, listed as unfinished or in
   * the catalogue. A finished order the catalogue lacks (cut at a line boundary) goes back in.
   */
  async accountForOrderFolders(): Promise<void> {
    const known = new Set<string>();
    for (const id of this.activeIds()) known.add(orderDocPath(id));
    for (const h of this.catalogue.headers()) known.add(orderDocPath(h.id));
    const folders = (await this.store.folders('orders')).filter((f) => !known.has(f));
    const lacking = await this.unlistedHeaders(folders);
    if (lacking.length === 0) return;
    this.catalogue.checkNotAbandoned();
    for (const h of lacking) await this.catalogue.add(h);
    this.catalogue.rebuild = {
      reason: 'incomplete',
      orders: lacking.length,
      detail: `finished orders missing from the catalogue: ${lacking
        .slice(0, 10)
        .map((h) => h.id)
        .join(', ')}${lacking.length > 10 ? ', …' : ''}`,
    };
  }

  /** An order's header as its file holds it, or undefined when it has none. */
  async headerOnDisk(id: string): Promise<{ header: OrderHeader; file: string } | undefined> {
    const name = `${orderDocPath(id)}/header`;
    if (!(await this.store.exists(name))) return undefined;
    const doc = await this.store.open<OrderHeader>(name, placeholderHeader);
    this.store.close(name);
    return { header: readOrderState(doc.data), file: this.store.file(name) };
  }
}
