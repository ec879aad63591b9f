/**
 * An order's states, driven by one table (docs/architecture.md, "Orders"): every write of an
 * order's state goes through `move`, which refuses what the table does not allow. The work loop's
 * halts (an engraver fault, an error) and an order's end are moves here too.
 */
import { isStamplineError, StamplineError } from '../errors.js';
import { type LineContext, now, type Runtime } from './context.js';
import type { OrderHeader, OrderState } from './model.js';
import type { LoadedOrder } from './repository.js';
import { allFinished } from './repository.js';

export type OrderMove =
  | 'start'
  | 'pause'
  | 'resume'
  | 'abort'
  | 'fault'
  | 'halt'
  | 'finish'
  | 'complete'
  | 'reopen';

/** For each move, the state it leaves and the state it enters. A state not listed refuses the move. */
export const ORDER_MOVES: Readonly<Record<OrderMove, Readonly<Partial<Record<OrderState, OrderState>>>>> = {
  start: { queued: 'running' },
  pause: { running: 'paused', faulted: 'paused' },
  resume: { paused: 'running', faulted: 'running' },
  abort: { queued: 'aborted', running: 'aborted', paused: 'aborted', faulted: 'aborted' },
  /** An engraver fault halts a running order until an operator's reset. */
  fault: { running: 'faulted' },
  /** An error the line cannot retry pauses a running order. */
  halt: { running: 'paused' },
  /** Every firearm engraved or cancelled; `engraved` again for an order whose retirement was cut short. */
  finish: {
    queued: 'engraved',
    running: 'engraved',
    paused: 'engraved',
    faulted: 'engraved',
    engraved: 'engraved',
  },
  /** QA passed every firearm and the registry accepted every record (`completion.ts`). */
  complete: { engraved: 'complete', complete: 'complete' },
  /** A firearm of an engraved or aborted order failed QA and needs a new pin. */
  reopen: { engraved: 'running', aborted: 'paused' },
};

/** The state `move` takes an order in `from` to, or undefined when the table does not allow it. */
export function nextOrderState(from: OrderState, move: OrderMove): OrderState | undefined {
  return ORDER_MOVES[move][from];
}

export class OrderLifecycle {
  constructor(private readonly ctx: LineContext) {}

  /**
   * Moves the order by the table, writing its header durably (with `also` applied) and keeping
   * the order list in step. Refused with `ORDER_STATE` when the table does not allow it.
   */
  async move(
    order: LoadedOrder,
    move: OrderMove,
    also: (h: OrderHeader, to: OrderState) => void = () => {},
    allowed?: readonly OrderState[],
  ): Promise<{ from: OrderState; to: OrderState }> {
    const h = order.header.data;
    const from = h.state;
    const to = allowed && !allowed.includes(from) ? undefined : nextOrderState(from, move);
    if (to === undefined) {
      const needs = allowed ?? (Object.keys(ORDER_MOVES[move]) as OrderState[]);
      throw new StamplineError(
        'ORDER_STATE',
        `order ${h.id} is ${from}; ${move} needs it to be ${needs.join(' or ')}`,
        {
          orderId: h.id,
          state: from,
        },
      );
    }
    await this.ctx.o.repo.updateHeader(order, (x) => {
      x.state = to;
      also(x, to);
    });
    this.ctx.list.remember(order.header.data);
    return { from, to };
  }

  /** Halts the line for an operator; a running order becomes `faulted`, with its audit entry. */
  async fault(rt: Runtime, fault: number, reason: string): Promise<void> {
    this.ctx.halted = { reason, fault };
    const h = rt.order.header.data;
    if (nextOrderState(h.state, 'fault')) {
      await this.move(rt.order, 'fault', (x) => {
        x.reason = reason;
      });
      await this.ctx.o.audit.record({
        actor: 'line',
        action: 'order.fault',
        subject: `order:${h.id}`,
        before: { state: 'running' },
        after: { state: 'faulted' },
        reason,
      });
      this.ctx.emit('order', { order: rt.order.header.data });
    }
    this.ctx.o.logger.error(
      { order: h.id, fault, reason },
      'order faulted; an operator must reset the engraver',
    );
  }

  /** An error the line cannot retry: a running order is paused with it as the reason. */
  async halt(rt: Runtime, err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    this.ctx.o.logger.error({ err, order: rt.order.header.data.id }, 'order halted by an error');
    if (nextOrderState(rt.order.header.data.state, 'halt')) {
      await this.move(rt.order, 'halt', (x) => {
        x.reason = reason;
      });
      this.ctx.emit('order', { order: rt.order.header.data });
    }
  }

  async retireIfFinished(rt: Runtime): Promise<void> {
    const retired = await this.ctx.exclusive(() => this.retireNow(rt));
    // An engraved order waits for QA and the registry; the completion keeps count of it.
    if (retired) this.ctx.afterEngraved(rt.order.header.data.id);
  }

  /** Ends an order whose every firearm is engraved or cancelled, and lets the repository retire it. */
  private async retireNow(rt: Runtime): Promise<boolean> {
    const h = rt.order.header.data;
    if (this.ctx.runtimes.get(h.id) !== rt || !allFinished(rt.order)) return false;
    if (h.state !== 'aborted') {
      await this.move(rt.order, 'finish', (x) => {
        x.finishedAt = now();
      });
    }
    await this.ctx.o.repo.retire(rt.order);
    this.ctx.runtimes.delete(h.id);
    // the header as written: `h` was read before the end was recorded
    this.ctx.emit('order', { order: rt.order.header.data });
    return true;
  }

  /** Retires what a stop left finished; without its catalogue, the order waits for a later start. */
  async retireFinished(): Promise<void> {
    for (const rt of [...this.ctx.runtimes.values()]) {
      try {
        await this.retireIfFinished(rt);
      } catch (err) {
        if (!isCatalogueFailure(err)) throw err;
        this.ctx.o.logger.error(
          { err, order: rt.order.header.data.id },
          'a finished order stays held: the order catalogue is not available',
        );
      }
    }
  }
}

/** The repository's answer while its order catalogue cannot be loaded. */
function isCatalogueFailure(err: unknown): boolean {
  return isStamplineError(err, 'STORE_UNAVAILABLE') && err.context.catalogue !== undefined;
}
