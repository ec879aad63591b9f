/**
 * The line: turns orders into engraved, recorded and reported pins, one job at a time.
 *
 * `Line` is the front the API, the CLI, the daemon and the QA service call; the work is done by
 * its modules (docs/architecture.md, "The line's modules"):
 * - `job-machine.ts`: the firearm's job as a pure state machine, and the recovery table;
 * - `job-runner.ts`: carries out what the machine answers (store, outbox, audit, events);
 * - `work-loop.ts`: the engraver's side of each job, and recovery after a restart;
 * - `orders.ts` and `order-intake.ts`: the order table, intake and the operator's transitions;
 * - `verdicts.ts`: QA decisions; `views.ts`: what the line shows.
 *
 * The rule that keeps a code off two pins: a code is sent a start at most once. The rule that
 * keeps every engraved pin recorded: the line writes `marking` (with the engraver's `completed`
 * count and `activeJob`) before it starts a job, and after any restart it settles each `marking`
 * firearm from the engraver's own registers before it loads anything else.
 */
import type { EngraverStatus } from '../engraver/types.js';
import type { Settlement } from '../registry/outbox.js';
import { OrderCompletion } from './completion.js';
import { LineContext, makeRuntime } from './context.js';
import { GuardedEmitter } from './guarded-emitter.js';
import { JobRunner } from './job-runner.js';
import type { Firearm, OrderHeader } from './model.js';
import { OrderIntake } from './order-intake.js';
import { OrderList } from './order-list.js';
import { OrderLifecycle } from './orders.js';
import type { countFirearms, FirearmRef, StoredFirearm } from './repository.js';
import type { AppliedDecision, LineEvents, LineOptions, NewOrder, QaDecision } from './types.js';
import { Verdicts } from './verdicts.js';
import { LineViews } from './views.js';
import { WorkLoop } from './work-loop.js';

export type {
  AppliedDecision,
  AuditEntryInput,
  AuditSink,
  CrashHook,
  LineEvents,
  LineLogger,
  LineOptions,
  NewOrder,
  QaDecision,
  RecordSink,
} from './types.js';

export class Line extends GuardedEmitter<LineEvents> {
  private readonly ctx: LineContext;
  private readonly orders: OrderLifecycle;
  private readonly intake: OrderIntake;
  private readonly loop: WorkLoop;
  private readonly verdicts: Verdicts;
  private readonly views: LineViews;
  private readonly completion: OrderCompletion;
  private sweepDone: Promise<void> | undefined;
  private loopDone: Promise<void> | undefined;
  private unsubscribeLink: (() => void) | undefined;

  constructor(o: LineOptions) {
    super();
    this.listenerLog = o.logger;
    this.ctx = new LineContext(o, this, new OrderList(o.repo));
    this.orders = new OrderLifecycle(this.ctx);
    const runner = new JobRunner(this.ctx, this.orders);
    this.intake = new OrderIntake(this.ctx, this.orders, runner);
    this.loop = new WorkLoop(this.ctx, this.orders, runner);
    this.verdicts = new Verdicts(this.ctx, this.orders);
    this.completion = new OrderCompletion(this.ctx, this.orders, (f) => this.views.view(f));
    this.views = new LineViews(this.ctx, this.completion);
    this.ctx.afterEngraved = (id) => this.completion.schedule(id);
  }

  async start(): Promise<void> {
    const { ctx } = this;
    const active = ctx.o.repo.activeOrders();
    for (const order of active) ctx.runtimes.set(order.header.data.id, makeRuntime(order));
    ctx.list.start(active.map((order) => order.header.data));
    // A stop between the last firearm's record and the order's end leaves both to finish here.
    await this.loop.recover();
    await this.orders.retireFinished();
    this.unsubscribeLink = ctx.o.engraver.onLink((event) => {
      if (event.kind === 'up') {
        ctx.noteStatus(event.status, false);
        ctx.emit('engraver', { connected: true, status: event.status, statusAt: ctx.lastStatusAt });
        ctx.wake.notify();
      } else {
        ctx.emit('engraver', { connected: false, reason: event.reason });
      }
    });
    ctx.stopping = false;
    this.loopDone = this.loop.run();
    // Engraved orders are counted, and those QA and the registry have finished with completed,
    // once the finished orders are loaded: in the background, as that load is.
    this.sweepDone = this.completion.sweep().catch((err) => {
      ctx.o.logger.error(
        { err },
        'cannot look at the engraved orders: each shows once QA or the registry moves it',
      );
    });
  }

  /** Stops taking new jobs, lets the job in flight end (bounded by the job timeout), then returns. */
  async stop(): Promise<void> {
    if (this.ctx.stopping) return this.loopDone;
    this.ctx.stopping = true;
    this.ctx.wake.notify();
    this.unsubscribeLink?.();
    await this.loopDone;
    // Not the sweep itself: it may wait for the finished orders, whose load the repository's stop
    // ends; only a look at an order under way is let finish.
    await this.completion.idle();
  }

  /** Resolves once the line has looked again at every order it was asked to (tests). */
  async settledCompletion(): Promise<void> {
    await this.sweepDone;
    await this.completion.idle();
  }

  // ---- Orders ------------------------------------------------------------------------------

  /** Stores a new order: 409 for an order id or a serial the line already holds. */
  async submitOrder(input: NewOrder, source: OrderHeader['source'], actor: string): Promise<OrderHeader> {
    const [header] = await this.intake.submitOrders([input], source, actor);
    return header!;
  }

  /**
   * Stores several orders all or none (one drop-folder file): every order is checked before any
   * is stored. With `replay`, an order already held identically (an earlier attempt at the same
   * file was cut short after storing it) is taken as stored rather than refused.
   */
  submitOrders(
    inputs: NewOrder[],
    source: OrderHeader['source'],
    actor: string,
    options: { replay?: boolean } = {},
  ): Promise<OrderHeader[]> {
    return this.intake.submitOrders(inputs, source, actor, options);
  }

  startOrder(id: string, actor: string): Promise<OrderHeader> {
    return this.intake.startOrder(id, actor);
  }

  pauseOrder(id: string, actor: string, reason?: string): Promise<OrderHeader> {
    return this.intake.pauseOrder(id, actor, reason);
  }

  resumeOrder(id: string, actor: string): Promise<OrderHeader> {
    return this.intake.resumeOrder(id, actor);
  }

  /**
   * Aborts an order: firearms not yet started are cancelled (their allocated codes retired,
   * never reused); a job already marking is allowed to end and is recorded.
   */
  abortOrder(id: string, actor: string, reason?: string): Promise<OrderHeader> {
    return this.intake.abortOrder(id, actor, reason);
  }

  /** Clears an engraver fault (an operator's action) and lets faulted orders continue. */
  resetEngraver(actor: string): Promise<EngraverStatus> {
    return this.intake.resetEngraver(actor);
  }

  // ---- Views -------------------------------------------------------------------------------

  orderView(
    id: string,
  ): Promise<{ order: OrderHeader; counts: ReturnType<typeof countFirearms>; firearms: Firearm[] }> {
    return this.views.orderView(id);
  }

  /**
   * Keeps on each firearm what became of its records that leave the outbox (accepted by the
   * registry, or dismissed), before the outbox lets them go (`Outbox.beforeSettle`).
   */
  async noteSettled(settlements: readonly Settlement[]): Promise<void> {
    await this.views.noteSettled(settlements);
    for (const id of new Set(settlements.map((s) => s.orderId))) this.completion.schedule(id);
  }

  /** Headers of every order, active or finished, newest first. */
  listOrders(): Promise<OrderHeader[]> {
    return this.views.listOrders();
  }

  status() {
    return this.views.status();
  }

  /** `status()` with at most `limit` active orders, and how many there are by state. */
  summary(limit: number) {
    return this.views.summary(limit);
  }

  /** At most `limit` active orders with counts, working ones first, and the totals by state. */
  activeView(limit: number) {
    return this.views.activeView(limit);
  }

  /** The counts of an order the line is working on; undefined for a finished or unknown one. */
  activeCounts(id: string): ReturnType<typeof countFirearms> | undefined {
    return this.views.activeCounts(id);
  }

  /** The firearms that held this serial or were given this code, as stored, with their orders. */
  findFirearms(query: { serial: string } | { code: string }): Promise<StoredFirearm[]> {
    return this.views.findFirearms(query);
  }

  /** One firearm by its place, with its records at the registry. */
  firearm(ref: FirearmRef): Promise<StoredFirearm | undefined> {
    return this.views.firearm(ref);
  }

  // ---- Verification ------------------------------------------------------------------------

  /**
   * Applies the QA station's decision on the firearm's code `code` (see `verdicts.ts`): a pass
   * is reported as `verified`; a failure voids the code, queues the firearm for a new pin and
   * reopens its order. Applying the same decision again completes what a crash cut short.
   */
  async applyVerdict(
    ref: FirearmRef,
    code: { index: number; text: string },
    decision: QaDecision,
    options: { replay?: boolean } = {},
  ): Promise<AppliedDecision> {
    const applied = await this.verdicts.applyVerdict(ref, code, decision, options);
    this.completion.schedule(ref.orderId);
    return applied;
  }
}
