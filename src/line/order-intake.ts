/**
 * Order intake and the operator's order transitions: new orders are checked whole before any is
 * stored; start, pause, resume and abort are moves of the order table (`orders.ts`); an abort
 * cancels through the job machine the firearms not yet started; an engraver reset resumes the
 * orders its fault halted.
 */
import type { EngraverStatus } from '../engraver/types.js';
import { StamplineError } from '../errors.js';
import { type LineContext, makeRuntime, now } from './context.js';
import type { JobRunner } from './job-runner.js';
import type { Firearm, OrderHeader, OrderState } from './model.js';
import { isFinished } from './model.js';
import type { OrderLifecycle, OrderMove } from './orders.js';
import type { LoadedOrder } from './repository.js';
import { firearmsOf } from './repository.js';
import type { NewOrder } from './types.js';

export class OrderIntake {
  constructor(
    private readonly ctx: LineContext,
    private readonly orders: OrderLifecycle,
    private readonly runner: JobRunner,
  ) {}

  /**
   * Stores several orders all or none (one drop-folder file): every order is checked before any
   * is stored. With `replay`, an order already held identically (an earlier attempt at the same
   * file was cut short after storing it) is taken as stored rather than refused.
   */
  async submitOrders(
    inputs: NewOrder[],
    source: OrderHeader['source'],
    actor: string,
    options: { replay?: boolean } = {},
  ): Promise<OrderHeader[]> {
    const fresh: NewOrder[] = [];
    const held: OrderHeader[] = [];
    for (const input of inputs) {
      if (await this.ctx.o.repo.orderExists(input.id)) {
        const stored = options.replay ? await this.ctx.o.repo.order(input.id) : undefined;
        if (stored && sameAsStored(input, stored)) {
          held.push(stored.header.data);
          continue;
        }
        throw new StamplineError('ORDER_EXISTS', `order ${input.id} already exists`, { orderId: input.id });
      }
      fresh.push(input);
    }
    this.checkDestinations(fresh);
    await this.checkSerials(fresh);
    const created: OrderHeader[] = [];
    for (const input of fresh) created.push(await this.createOrder(input, source, actor));
    return [...held, ...created];
  }

  /**
   * A line that engraves as a licensed installer (issuer kind `engraver`) marks firearms a
   * manufacturer made, for a dealer: each of its records names the dealer's licence, so an order
   * without one cannot be engraved. Orders already stored are not checked again.
   */
  private checkDestinations(inputs: NewOrder[]): void {
    if (this.ctx.o.records.certifiedBy.kind !== 'engraver') return;
    const missing = inputs.filter((i) => !i.destination).map((i) => i.id);
    if (missing.length === 0) return;
    const reason =
      "required: this line engraves as a licensed installer (issuer kind engraver), and a licensed installer's records need the dealer licence the firearms go to";
    throw new StamplineError(
      'ORDER_INVALID',
      `${missing.length === 1 ? `order ${missing[0]} has` : `${missing.length} orders have`} no destination: a licensed installer's records need the dealer licence`,
      { problems: [{ path: 'destination', reason }], total: 1, orderIds: missing.slice(0, 100) },
    );
  }

  private async checkSerials(inputs: NewOrder[]): Promise<void> {
    const conflicts: Array<{ serial: string; order: string; reason: string }> = [];
    const holders = await this.ctx.o.repo.holders(inputs.flatMap((i) => i.firearms.map((f) => f.serial)));
    for (const input of inputs) {
      for (const f of input.firearms) {
        const holder = holders.get(f.serial);
        if (holder === undefined) continue;
        if (holder.unfinished) {
          conflicts.push({
            serial: f.serial,
            order: holder.orderId,
            reason: `held by unfinished order ${holder.orderId}`,
          });
        } else if (!f.rework) {
          conflicts.push({
            serial: f.serial,
            order: holder.orderId,
            reason: `already held by order ${holder.orderId}; mark it as a rework to engrave it again`,
          });
        }
      }
    }
    if (conflicts.length > 0) {
      throw new StamplineError(
        'SERIAL_EXISTS',
        `${conflicts.length} serial number(s) already held by the line: ${conflicts
          .slice(0, 5)
          .map((c) => c.serial)
          .join(', ')}${conflicts.length > 5 ? ', ...' : ''}`,
        { conflicts: conflicts.slice(0, 100), count: conflicts.length },
      );
    }
  }

  private async createOrder(
    input: NewOrder,
    source: OrderHeader['source'],
    actor: string,
  ): Promise<OrderHeader> {
    const now = new Date().toISOString();
    const header: OrderHeader = {
      id: input.id,
      make: input.make,
      model: input.model,
      ...(input.caliber ? { caliber: input.caliber } : {}),
      target: input.target,
      ...(input.destination ? { destination: input.destination } : {}),
      state: 'queued',
      createdAt: now,
      size: input.firearms.length,
      source,
    };
    const firearms: Firearm[] = input.firearms.map((f, seq) => ({
      serial: f.serial,
      orderId: input.id,
      seq,
      rework: f.rework === true,
      state: 'queued',
      voided: [],
      history: [{ at: now, state: 'queued' }],
    }));
    const order = await this.ctx.o.repo.createOrder(header, firearms);
    this.ctx.list.remember(order.header.data);
    this.ctx.runtimes.set(header.id, makeRuntime(order));
    await this.ctx.o.audit.record({
      actor,
      action: 'order.create',
      subject: `order:${header.id}`,
      after: { ...header, firearms: firearms.length },
    });
    this.ctx.emit('order', { order: order.header.data });
    if (this.ctx.o.autoStart) await this.startOrder(header.id, 'line');
    return order.header.data;
  }

  startOrder(id: string, actor: string): Promise<OrderHeader> {
    return this.transition(id, actor, 'start');
  }

  pauseOrder(id: string, actor: string, reason?: string): Promise<OrderHeader> {
    return this.transition(id, actor, 'pause', reason);
  }

  resumeOrder(id: string, actor: string): Promise<OrderHeader> {
    return this.transition(id, actor, 'resume');
  }

  /**
   * Aborts an order: firearms not yet started are cancelled (their allocated codes retired,
   * never reused); a job already marking is allowed to end and is recorded.
   */
  async abortOrder(id: string, actor: string, reason?: string): Promise<OrderHeader> {
    const header = await this.transition(id, actor, 'abort', reason);
    const rt = this.ctx.runtimes.get(id);
    if (rt) {
      const current = this.ctx.current;
      for (const f of [...firearmsOf(rt.order)]) {
        // The firearm the work loop holds is settled by the loop itself, which sees the abort.
        const held = current?.orderId === id && current.serial === f.serial;
        if (isFinished(f.state) || f.state === 'marking' || held) continue;
        await this.runner.advance(rt, f, { kind: 'cancelled', ...(reason ? { reason } : {}) });
      }
      await this.orders.retireIfFinished(rt);
    }
    this.ctx.wake.notify();
    return header;
  }

  /**
   * Moves an order the line holds by the order table, for an operator: its header, its audit
   * entry, the event. `allowed` narrows the states the move is taken from.
   */
  async transition(
    id: string,
    actor: string,
    move: OrderMove,
    reason?: string,
    allowed?: readonly OrderState[],
  ): Promise<OrderHeader> {
    const rt = this.ctx.runtimes.get(id);
    if (!rt) {
      const stored = await this.ctx.o.repo.order(id);
      if (!stored) throw new StamplineError('ORDER_NOT_FOUND', `no order ${id}`, { orderId: id });
      throw new StamplineError(
        'ORDER_STATE',
        `order ${id} is ${stored.header.data.state}: it cannot be changed`,
        {
          orderId: id,
          state: stored.header.data.state,
        },
      );
    }
    const { from, to } = await this.orders.move(
      rt.order,
      move,
      (h, to) => {
        if (to === 'running' && !h.startedAt) h.startedAt = now();
        if (to === 'aborted') h.finishedAt = now();
        if (reason) h.reason = reason;
        else if (to === 'running') delete h.reason;
      },
      allowed,
    );
    await this.ctx.o.audit.record({
      actor,
      action: `order.${move}`,
      subject: `order:${id}`,
      before: { state: from },
      after: { state: to },
      ...(reason ? { reason } : {}),
    });
    this.ctx.emit('order', { order: rt.order.header.data });
    this.ctx.wake.notify();
    return rt.order.header.data;
  }

  /** Clears an engraver fault (an operator's action) and lets faulted orders continue. */
  async resetEngraver(actor: string): Promise<EngraverStatus> {
    const { ctx } = this;
    const { engraver, audit, records } = ctx.o;
    const before = await engraver.readStatus();
    await engraver.reset();
    const after = await engraver.readStatus();
    ctx.noteStatus(after, false);
    await audit.record({
      actor,
      action: 'engraver.reset',
      subject: `engraver:${records.engraverId}`,
      before,
      after,
    });
    if (after.state !== 'FAULT') {
      ctx.halted = undefined;
      for (const rt of ctx.runtimes.values()) {
        if (rt.order.header.data.state === 'faulted')
          await this.transition(rt.order.header.data.id, actor, 'resume', undefined, ['faulted']);
      }
    }
    ctx.emit('engraver', { connected: engraver.connected, status: after, statusAt: ctx.lastStatusAt });
    ctx.wake.notify();
    return after;
  }
}

/** True when a stored order is the one given: same fields and the same firearms in order. */
function sameAsStored(input: NewOrder, stored: LoadedOrder): boolean {
  const h = stored.header.data;
  if (
    h.make !== input.make ||
    h.model !== input.model ||
    (h.caliber ?? '') !== (input.caliber ?? '') ||
    h.target !== input.target ||
    (h.destination ?? '') !== (input.destination ?? '') ||
    h.size !== input.firearms.length
  ) {
    return false;
  }
  let i = 0;
  for (const f of firearmsOf(stored)) {
    const other = input.firearms[i++];
    if (!other || other.serial !== f.serial || (other.rework === true) !== f.rework) return false;
  }
  return true;
}
