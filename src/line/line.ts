/**
 * The line: turns orders into engraved, recorded and reported pins, one job at a time.
 *
 * Every firearm moves through the state machine of docs/architecture.md. The rule that keeps a
 * code off two pins: a code is sent a start at most once. The rule that keeps every engraved pin
 * recorded: the line writes `marking` (with the engraver's `completed` count and `activeJob`) before
 * it starts a job, and after any restart it settles each `marking` firearm from the engraver's own
 * `state`, `fault`, `activeJob` and `completed` before it loads anything else.
 */
import { EventEmitter } from 'node:events';
import type { Grade } from '../codes/index.js';
import type { EngraveJob, Engraver, EngraverStatus, JobOutcome, Recipe } from '../engraver/types.js';
import { faultName } from '../engraver/types.js';
import { isStamplineError, StamplineError } from '../errors.js';
import type { Settlement } from '../registry/outbox.js';
import type { RegistryRecord } from '../registry/record.js';
import type { AuditRecordInput } from '../store/audit.js';
import type { CodeAllocator } from './allocator.js';
import { crashPoint } from './crash-points.js';
import type {
  CodeRef,
  Firearm,
  FirearmQa,
  FirearmState,
  OrderHeader,
  OrderState,
  QaPolicyKind,
  RecordSettlement,
} from './model.js';
import { IN_FLIGHT, isFinished, newestFirst } from './model.js';
import { engravedRecord, type RecordContext, verifiedRecord, voidedRecord } from './records.js';
import { type HeldRecord, withRegistry } from './registry-status.js';
import type { FirearmRef, LineRepository, LoadedOrder, StoredFirearm } from './repository.js';
import { allFinished, countFirearms, firearmAt, firearmsOf } from './repository.js';
import { Signal } from './signal.js';

/** Where the line's records go; the registry reporter's outbox in the daemon. */
export interface RecordSink {
  /** Resolves once the records are durable. */
  report(records: RegistryRecord[]): Promise<void>;
  /** The records still held for a serial (queued, or rejected); without it views show none. */
  held?(serial: string): HeldRecord[];
}

/** What the line writes to the audit trail: the trail's own entry, without its time and chain. */
export type AuditEntryInput = AuditRecordInput;

export interface AuditSink {
  record(entry: AuditEntryInput): Promise<unknown>;
  /**
   * Entries of a subject and action, newest first (the audit trail has it). Used only when a QA
   * decision is applied again, to write the entries a crash cut off and no others.
   */
  query?(q: { subject?: string; action?: string; limit?: number }): Promise<Array<{ after: unknown }>>;
}

export interface LineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface NewOrder {
  id: string;
  make: string;
  model: string;
  caliber?: string;
  target: 'firing-pin' | 'breech-face';
  destination?: string;
  firearms: Array<{ serial: string; rework?: boolean }>;
}

export interface LineOptions {
  repo: LineRepository;
  allocator: CodeAllocator;
  engraver: Engraver;
  sink: RecordSink;
  audit: AuditSink;
  /** The laser recipe for a make and model (configuration: `recipes`). */
  recipeFor: (make: string, model: string) => Recipe;
  records: RecordContext;
  logger: LineLogger;
  /** Engrave mirrored (the pin is mirrored so the case impression reads right). */
  mirror: boolean;
  /** How long a job may stay BUSY before the line aborts it. */
  jobTimeoutMs: number;
  /** Start orders as soon as they arrive (the demo does; a real line waits for the operator). */
  autoStart?: boolean;
}

type MarkingResult =
  | { kind: 'done'; completed?: number }
  | { kind: 'fault'; fault: number }
  /** The engraver lost power: the job may have been partly marked. */
  | { kind: 'lost' }
  /** The engraver never began this job. */
  | { kind: 'not-started' }
  /**
   * The engraver's last job is another one, and this one may have been marked before it: the
   * `completed` count or the `activeJob` moved since they were read before the start, or were
   * not noted.
   */
  | {
      kind: 'overtaken';
      activeJob: number;
      completed: number;
      completedBefore?: number;
      activeJobBefore?: number;
    }
  /** activeJob is ours but the engraver is READY: the outcome was cleared by a reset. */
  | { kind: 'unknown' }
  /** A marker without job ids cannot prove how the job ended (`EngraverStatus.unprovable`). */
  | { kind: 'unprovable'; why: string };

interface Runtime {
  order: LoadedOrder;
  /** Next seq not yet looked at by the queue scan. */
  cursor: number;
  /** Firearms sent back to the queue (a voided code), before the cursor. */
  retry: number[];
  /** Firearms with a code that has not yet ended in `engraved` or a void. */
  inflight: Set<number>;
}

/** The QA station's decision on one code of one firearm, as the line applies it. */
export interface QaDecision {
  result: 'pass' | 'fail';
  policy: QaPolicyKind;
  grade: Grade;
  casings: number;
  /** for people: why it passed or failed; a failure's reason becomes the void's `failed QA: ...` */
  reason: string;
  at: string;
  /** who entered the read that decided it */
  by: string;
  /**
   * The ids of the reads the decision was taken on. Its audit entries carry them (`after.reads`),
   * so an entry written twice (a crash between writing it and logging the decision) is
   * recognisable, and one already written is not written again on a replay.
   */
  reads?: number[];
}

export interface AppliedDecision {
  /** `verified`: the firearm carries the pass; `rework`: the code is void and a new pin is due */
  outcome: 'verified' | 'rework';
  order: OrderHeader;
  firearm: Firearm;
}

export interface LineEvents {
  firearm: [{ orderId: string; firearm: Firearm }];
  order: [{ order: OrderHeader }];
  engraver: [{ connected: boolean; status?: EngraverStatus; statusAt?: string; reason?: string }];
}

/** A halt of the work loop that waits for a person (engraver fault, rejected job). */
class Halt extends Error {}

export class Line extends EventEmitter<LineEvents> {
  private readonly runtimes = new Map<string, Runtime>();
  private readonly wake = new Signal();
  private stopping = false;
  private loopDone: Promise<void> | undefined;
  private unsubscribeLink: (() => void) | undefined;
  /** The engraver's state as the line last read it, and when: what the Line screen shows. */
  private lastStatus: EngraverStatus | undefined;
  private lastStatusAt: string | undefined;
  private current: { orderId: string; serial: string } | undefined;
  private halted: { reason: string; fault?: number } | undefined;
  /** Order retirement and QA reopening exclude each other, so an order never ends under a rework. */
  private orderGate: Promise<unknown> = Promise.resolve();
  /**
   * The header of every order the line has held, as last written: the order list is asked for
   * after every event, and must not read the whole history from disk each time.
   */
  private headers: Map<string, OrderHeader> | undefined;
  /** `headers` newest first, until a header changes. */
  private sortedHeaders: OrderHeader[] | undefined;
  /**
   * Resolves once the finished orders' headers are in `headers`; rejects when the repository
   * could not load them. They arrive after start(), which the line does not need them for, and
   * waiting for them does not make the repository begin to load them.
   */
  private headersComplete: Promise<void> = Promise.resolve();

  constructor(private readonly o: LineOptions) {
    super();
  }

  async start(): Promise<void> {
    const headers = new Map<string, OrderHeader>();
    for (const order of this.o.repo.activeOrders()) {
      headers.set(order.header.data.id, order.header.data);
      this.runtimes.set(order.header.data.id, makeRuntime(order));
    }
    this.headers = headers;
    this.sortedHeaders = undefined;
    this.headersComplete = this.o.repo.finishedOrdersLoaded().then(() => this.mergeFinishedHeaders(headers));
    // Its failure is answered by listOrders(); the daemon logs it.
    this.headersComplete.catch(() => {});
    // A stop between the last firearm's record and the order's end leaves both to finish here.
    const requeued = await this.requeueUnreported();
    if (requeued > 0)
      this.o.logger.info({ requeued }, 'queued records again that may not have reached the outbox');
    await this.indexInFlightCodes();
    for (const rt of [...this.runtimes.values()]) {
      try {
        await this.retireIfFinished(rt);
      } catch (err) {
        // Without its catalogue the line still runs: the order is retired on a later start.
        if (!isCatalogueFailure(err)) throw err;
        this.o.logger.error(
          { err, order: rt.order.header.data.id },
          'a finished order stays held: the order catalogue is not available',
        );
      }
    }
    this.unsubscribeLink = this.o.engraver.onLink((event) => {
      if (event.kind === 'up') {
        this.noteStatus(event.status, false);
        this.emit('engraver', { connected: true, status: event.status, statusAt: this.lastStatusAt });
        this.wake.notify();
      } else {
        this.emit('engraver', { connected: false, reason: event.reason });
      }
    });
    this.stopping = false;
    this.loopDone = this.loop();
  }

  /**
   * Adds the finished orders' headers to `headers` once the repository has loaded them. A header
   * already there is newer (an order created, changed or reopened since start) and is kept.
   */
  private async mergeFinishedHeaders(headers: Map<string, OrderHeader>): Promise<void> {
    for (const h of await this.o.repo.orderHeaders()) if (!headers.has(h.id)) headers.set(h.id, h);
    this.sortedHeaders = undefined;
  }

  /** Sets an order's header in the order list; the sorted list is made again when next asked for. */
  private rememberHeader(header: OrderHeader): void {
    if (!this.headers) return;
    this.headers.set(header.id, header);
    this.sortedHeaders = undefined;
  }

  /** Stops taking new jobs, lets the job in flight end (bounded by the job timeout), then returns. */
  async stop(): Promise<void> {
    if (this.stopping) return this.loopDone;
    this.stopping = true;
    this.wake.notify();
    this.unsubscribeLink?.();
    await this.loopDone;
  }

  // ---- Orders ------------------------------------------------------------------------------

  /** Stores a new order: 409 for an order id or a serial the line already holds. */
  async submitOrder(input: NewOrder, source: OrderHeader['source'], actor: string): Promise<OrderHeader> {
    const [header] = await this.submitOrders([input], source, actor);
    return header!;
  }

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
      if (await this.o.repo.orderExists(input.id)) {
        const stored = options.replay ? await this.o.repo.order(input.id) : undefined;
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
    if (this.o.records.certifiedBy.kind !== 'engraver') return;
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
    const holders = await this.o.repo.holders(inputs.flatMap((i) => i.firearms.map((f) => f.serial)));
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
    const order = await this.o.repo.createOrder(header, firearms);
    this.rememberHeader(order.header.data);
    this.runtimes.set(header.id, makeRuntime(order));
    await this.o.audit.record({
      actor,
      action: 'order.create',
      subject: `order:${header.id}`,
      after: { ...header, firearms: firearms.length },
    });
    this.emit('order', { order: order.header.data });
    if (this.o.autoStart) await this.startOrder(header.id, 'line');
    return order.header.data;
  }

  startOrder(id: string, actor: string): Promise<OrderHeader> {
    return this.transition(id, actor, 'order.start', ['queued'], 'running');
  }

  pauseOrder(id: string, actor: string, reason?: string): Promise<OrderHeader> {
    return this.transition(id, actor, 'order.pause', ['running', 'faulted'], 'paused', reason);
  }

  resumeOrder(id: string, actor: string): Promise<OrderHeader> {
    return this.transition(id, actor, 'order.resume', ['paused', 'faulted'], 'running');
  }

  /**
   * Aborts an order: firearms not yet started are cancelled (their allocated codes retired,
   * never reused); a job already marking is allowed to end and is recorded.
   */
  async abortOrder(id: string, actor: string, reason?: string): Promise<OrderHeader> {
    const header = await this.transition(
      id,
      actor,
      'order.abort',
      ['queued', 'running', 'paused', 'faulted'],
      'aborted',
      reason,
    );
    const rt = this.runtimes.get(id);
    if (rt) {
      for (const f of [...firearmsOf(rt.order)]) {
        // The firearm the work loop holds is settled by the loop itself, which sees the abort.
        const held = this.current?.orderId === id && this.current.serial === f.serial;
        if (isFinished(f.state) || f.state === 'marking' || held) continue;
        await this.o.repo.updateFirearm(rt.order, f.seq, (x) => {
          if (x.code)
            x.voided.push({ ...x.code, voidedAt: now(), reason: 'order aborted', pinScrapped: false });
          x.code = undefined;
          setState(x, 'cancelled', reason ? `order aborted: ${reason}` : 'order aborted');
        });
      }
      await this.retireIfFinished(rt);
    }
    this.wake.notify();
    return header;
  }

  private async transition(
    id: string,
    actor: string,
    action: string,
    from: OrderState[],
    to: OrderState,
    reason?: string,
  ): Promise<OrderHeader> {
    const rt = this.runtimes.get(id);
    if (!rt) {
      const stored = await this.o.repo.order(id);
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
    const before = rt.order.header.data.state;
    if (!from.includes(before)) {
      throw new StamplineError(
        'ORDER_STATE',
        `order ${id} is ${before}; ${action.replace('order.', '')} needs it to be ${from.join(' or ')}`,
        { orderId: id, state: before },
      );
    }
    await this.writeHeader(rt.order, (h) => {
      h.state = to;
      if (to === 'running' && !h.startedAt) h.startedAt = now();
      if (to === 'aborted') h.finishedAt = now();
      if (reason) h.reason = reason;
      else if (to === 'running') delete h.reason;
    });
    await this.o.audit.record({
      actor,
      action,
      subject: `order:${id}`,
      before: { state: before },
      after: { state: to },
      ...(reason ? { reason } : {}),
    });
    this.emit('order', { order: rt.order.header.data });
    this.wake.notify();
    return rt.order.header.data;
  }

  /** Clears an engraver fault (an operator's action) and lets faulted orders continue. */
  async resetEngraver(actor: string): Promise<EngraverStatus> {
    const before = await this.o.engraver.readStatus();
    await this.o.engraver.reset();
    const after = await this.o.engraver.readStatus();
    this.noteStatus(after, false);
    await this.o.audit.record({
      actor,
      action: 'engraver.reset',
      subject: `engraver:${this.o.records.engraverId}`,
      before,
      after,
    });
    if (after.state !== 'FAULT') {
      this.halted = undefined;
      for (const rt of this.runtimes.values()) {
        if (rt.order.header.data.state === 'faulted')
          await this.transition(rt.order.header.data.id, actor, 'order.resume', ['faulted'], 'running');
      }
    }
    this.emit('engraver', {
      connected: this.o.engraver.connected,
      status: after,
      statusAt: this.lastStatusAt,
    });
    this.wake.notify();
    return after;
  }

  // ---- Views -------------------------------------------------------------------------------

  async orderView(
    id: string,
  ): Promise<{ order: OrderHeader; counts: ReturnType<typeof countFirearms>; firearms: Firearm[] }> {
    const order = await this.o.repo.order(id);
    if (!order) throw new StamplineError('ORDER_NOT_FOUND', `no order ${id}`, { orderId: id });
    return {
      order: order.header.data,
      counts: countFirearms(order),
      firearms: [...firearmsOf(order)].map((f) => this.view(f)),
    };
  }

  /** A firearm as the views show it, with its records at the registry. */
  private view(f: Firearm): Firearm {
    return withRegistry(f, this.o.sink.held?.(f.serial) ?? []);
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
      const holders = await this.o.repo.firearmsWithSerial(serial);
      for (const { order, firearm } of holders) {
        const mine = list.filter((s) => s.orderId === order.id);
        if (mine.length === 0) continue;
        const updated = await this.o.repo.updateStoredFirearm(
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
        this.emit('firearm', { orderId: order.id, firearm: this.view(updated) });
      }
    }
  }

  /**
   * Headers of every order, active or finished, newest first (orders created in the same
   * millisecond by id, last first); from memory once started, after the finished orders have
   * been loaded.
   */
  async listOrders(): Promise<OrderHeader[]> {
    if (!this.headers) return this.o.repo.listOrders();
    this.o.repo.loadFinishedOrders();
    await this.headersComplete;
    // Sorted once for all the asks until the next header change: 100,000 orders take a while.
    this.sortedHeaders ??= [...this.headers.values()].sort(newestFirst);
    return this.sortedHeaders.slice();
  }

  status() {
    return {
      engraver: {
        url: this.o.engraver.url,
        connected: this.o.engraver.connected,
        status: this.lastStatus,
        /** when `status` was read */
        statusAt: this.lastStatusAt,
      },
      current: this.current,
      halted: this.halted,
      activeOrders: [...this.runtimes.values()].map((rt) => ({
        ...rt.order.header.data,
        counts: countFirearms(rt.order),
      })),
      indexesLeft: this.o.allocator.remaining(),
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
        url: this.o.engraver.url,
        connected: this.o.engraver.connected,
        status: this.lastStatus,
      },
      current: this.current,
      halted: this.halted,
      ...this.activeView(limit),
      indexesLeft: this.o.allocator.remaining(),
    };
  }

  /** At most `limit` active orders with counts, working ones first, and the totals by state. */
  activeView(limit: number) {
    const byState = { running: 0, faulted: 0, paused: 0, queued: 0 };
    const shown: Runtime[] = [];
    const waiting: Runtime[] = [];
    for (const rt of this.runtimes.values()) {
      const state = rt.order.header.data.state;
      if (state in byState) byState[state as keyof typeof byState]++;
      if (state === 'queued') {
        if (waiting.length < limit) waiting.push(rt);
      } else if (shown.length < limit) shown.push(rt);
    }
    const page = [...shown, ...waiting].slice(0, limit);
    return {
      activeOrders: page.map((rt) => ({ ...rt.order.header.data, counts: countFirearms(rt.order) })),
      activeTotal: this.runtimes.size,
      activeByState: byState,
    };
  }

  /** The counts of an order the line is working on; undefined for a finished or unknown one. */
  activeCounts(id: string): ReturnType<typeof countFirearms> | undefined {
    const rt = this.runtimes.get(id);
    return rt ? countFirearms(rt.order) : undefined;
  }

  /**
   * The firearms that held this serial (oldest order first) or were given this code (current or
   * voided), as stored, each with its order's header.
   */
  async findFirearms(query: { serial: string } | { code: string }): Promise<StoredFirearm[]> {
    const found =
      'serial' in query
        ? await this.o.repo.firearmsWithSerial(query.serial)
        : await this.o.repo.firearmsWithCode(query.code);
    return found.map((s) => this.viewStored(s));
  }

  /** One firearm by its place, with its records at the registry. */
  async firearm(ref: FirearmRef): Promise<StoredFirearm | undefined> {
    const stored = await this.o.repo.firearm(ref);
    return stored && this.viewStored(stored);
  }

  // ---- Verification ------------------------------------------------------------------------

  /**
   * Applies the QA station's decision on the firearm's code `code`. A pass is kept on the
   * firearm and reported as `verified`. A failure is reported as `verified` with `fail`, voids
   * the code (the pin is scrapped, reported as `voided`), queues the firearm for a new pin and a
   * new code, and reopens its order: `done` goes back to `running`, `aborted` to `paused`.
   *
   * The firearm is written before its records are queued. Applying the same decision again
   * (after a crash part-way) changes nothing stored and queues the same records, whose ids the
   * registry knows, so it completes what was cut short.
   */
  async applyVerdict(
    ref: FirearmRef,
    code: { index: number; text: string },
    decision: QaDecision,
    options: { replay?: boolean } = {},
  ): Promise<AppliedDecision> {
    const applied = await this.exclusive(() => this.applyNow(ref, code, decision, options.replay === true));
    this.wake.notify();
    return applied;
  }

  private async applyNow(
    ref: FirearmRef,
    codeRef: { index: number; text: string },
    d: QaDecision,
    replay: boolean,
  ): Promise<AppliedDecision> {
    const stored = await this.o.repo.firearm(ref);
    if (!stored) {
      throw new StamplineError('QA_UNKNOWN_FIREARM', `no firearm ${ref.seq} in order ${ref.orderId}`, {
        ...ref,
      });
    }
    const before = stored.firearm;
    const qa: FirearmQa = {
      result: d.result,
      policy: d.policy,
      grade: d.grade,
      casings: d.casings,
      at: d.at,
      by: d.by,
    };
    const done =
      d.result === 'pass'
        ? before.code?.index === codeRef.index && before.qa?.result === 'pass'
        : before.voided.some((v) => v.index === codeRef.index && v.qa?.result === 'fail');
    let code: CodeRef;
    let firearm: Firearm;
    if (done) {
      firearm = before;
      code = (d.result === 'pass' ? before.code : before.voided.find((v) => v.index === codeRef.index))!;
    } else {
      if (before.state !== 'engraved' || before.code?.index !== codeRef.index) {
        throw new StamplineError(
          'QA_NOT_ENGRAVED',
          `firearm ${before.serial} does not carry code ${codeRef.text} on an engraved pin (it is ${before.state})`,
          { serial: before.serial, code: codeRef.text, state: before.state },
        );
      }
      if (before.qa) {
        throw new StamplineError(
          'QA_ALREADY_DECIDED',
          `code ${codeRef.text} of firearm ${before.serial} already ${before.qa.result === 'pass' ? 'passed' : 'failed'} QA`,
          { serial: before.serial, code: codeRef.text, result: before.qa.result },
        );
      }
      code = before.code;
      const voidReason = `failed QA: ${d.reason}`;
      firearm = await this.o.repo.updateStoredFirearm(ref, (x) => {
        if (d.result === 'pass') {
          x.qa = qa;
          x.history.push({
            at: d.at,
            state: x.state,
            note: `code ${code.text} passed QA (${d.policy}, grade ${d.grade}, ${d.casings} cases)`,
          });
          return;
        }
        x.voided.push({ ...code, voidedAt: d.at, reason: voidReason, pinScrapped: true, qa });
        x.code = undefined;
        x.qa = undefined;
        x.reported = undefined;
        x.engravedAt = undefined;
        setState(x, 'queued', `code ${code.text} voided: ${voidReason}`);
      });
    }
    const header = stored.order;
    const records = [verifiedRecord(this.o.records, header, firearm, code, qa, d.at)];
    if (d.result === 'fail')
      records.push(voidedRecord(this.o.records, header, firearm, code, `failed QA: ${d.reason}`, d.at));
    await this.o.sink.report(records);

    let order = header;
    if (d.result === 'fail' && firearm.state === 'queued') order = await this.reopenFor(ref, d, replay);
    // Applied before (done): its entries were written then, unless a crash cut them off, which
    // only a replay of the decision has to look for.
    if (!done || replay) {
      const tag = d.reads ? { reads: d.reads } : {};
      await this.auditDecision(
        {
          actor: d.by,
          action: d.result === 'pass' ? 'qa.pass' : 'qa.fail',
          subject: `firearm:${firearm.serial}`,
          after: {
            code: code.text,
            result: d.result,
            policy: d.policy,
            grade: d.grade,
            casings: d.casings,
            ...tag,
          },
          reason: d.reason,
        },
        done,
        d,
      );
      if (d.result === 'fail') {
        await this.auditDecision(
          {
            actor: d.by,
            action: 'code.void',
            subject: `firearm:${firearm.serial}`,
            before: { code: code.text, state: 'engraved' },
            after: { state: 'queued', pinScrapped: true, ...tag },
            reason: `failed QA: ${d.reason}`,
          },
          done,
          d,
        );
      }
    }
    if (!done) {
      this.o.logger.info(
        { order: order.id, serial: firearm.serial, code: code.text, result: d.result, grade: d.grade },
        d.result === 'pass' ? 'verified' : 'failed QA; code voided, firearm queued for a new pin',
      );
    }
    this.emit('firearm', { orderId: order.id, firearm });
    return { outcome: d.result === 'pass' ? 'verified' : 'rework', order, firearm };
  }

  /**
   * Makes sure the order of a firearm sent to rework will engrave it: `done` goes back to
   * `running`, `aborted` to `paused` (an operator resumes it), and any other state is kept; the
   * firearm joins the order's queue. The same whether the line still holds the order (an aborted
   * order whose last job was still marking) or brings it back from disk.
   */
  private async reopenFor(ref: FirearmRef, d: QaDecision, replay: boolean): Promise<OrderHeader> {
    let rt = this.runtimes.get(ref.orderId);
    const held = rt !== undefined;
    const order = rt?.order ?? (await this.o.repo.reactivate(ref.orderId));
    const before = order.header.data.state;
    const serial = firearmAt(order, ref.seq)?.serial ?? String(ref.seq);
    const reason = `rework: firearm ${serial} failed QA`;
    const to: OrderState = before === 'aborted' ? 'paused' : before === 'done' ? 'running' : before;
    if (to !== before) {
      // The entry goes first: a crash before the header is written leaves the entry, which the
      // replay that completes the reopening finds, and never a reopened order without its entry.
      await this.auditDecision(
        {
          actor: d.by,
          action: 'order.reopen',
          subject: `order:${ref.orderId}`,
          before: { state: before },
          after: { state: to, ...(d.reads ? { reads: d.reads } : {}) },
          reason,
        },
        replay,
        d,
      );
      await this.writeHeader(order, (h) => {
        h.state = to;
        delete h.finishedAt;
        if (to === 'paused') h.reason = reason;
        else if (to === 'running') delete h.reason;
      });
    }
    if (rt) {
      if (!rt.retry.includes(ref.seq)) rt.retry.push(ref.seq);
    } else {
      rt = makeRuntime(order);
      this.runtimes.set(ref.orderId, rt);
    }
    if (to !== before || !held) this.emit('order', { order: order.header.data });
    return order.header.data;
  }

  /**
   * Writes one audit entry of a QA decision. When the decision may have been applied before
   * (`again`), an entry it already has (the same action on the same subject, tagged with the same
   * reads) is not written twice; without the tag, or a trail that cannot be searched, it is.
   */
  private async auditDecision(entry: AuditEntryInput, again: boolean, d: QaDecision): Promise<void> {
    if (again && d.reads && this.o.audit.query) {
      const reads = JSON.stringify(d.reads);
      const earlier = await this.o.audit.query({ subject: entry.subject, action: entry.action, limit: 1000 });
      if (earlier.some((e) => JSON.stringify((e.after as { reads?: unknown } | null)?.reads) === reads))
        return;
    }
    await this.o.audit.record(entry);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.orderGate.then(fn);
    this.orderGate = run.catch(() => {});
    return run;
  }

  // ---- The work loop -----------------------------------------------------------------------

  private async loop(): Promise<void> {
    let delay = 250;
    while (!this.stopping) {
      const work = this.nextWork();
      if (!work) {
        await this.wake.wait();
        continue;
      }
      if (!this.o.engraver.connected) {
        await this.wake.wait(1000);
        continue;
      }
      const [rt, firearm] = work;
      this.current = { orderId: rt.order.header.data.id, serial: firearm.serial };
      try {
        await this.advance(rt, firearm);
        delay = 250;
      } catch (err) {
        if (err instanceof Halt) {
          await this.wake.wait();
        } else if (isStamplineError(err) && err.transient) {
          this.o.logger.warn(
            { err: err.toJSON(), serial: firearm.serial },
            'engraver link trouble; will retry',
          );
          await this.wake.wait(delay);
          delay = Math.min(delay * 2, 5000);
        } else {
          await this.haltOrder(rt, err);
        }
      } finally {
        this.current = undefined;
      }
    }
  }

  /** The next firearm to work on: one in flight first (it must be settled), then the queue. */
  private nextWork(): [Runtime, Firearm] | undefined {
    if (this.halted) return undefined;
    for (const rt of this.runtimes.values()) {
      for (const f of this.inFlight(rt)) {
        if (f.state === 'marking' || rt.order.header.data.state === 'running') return [rt, f];
      }
    }
    const running = [...this.runtimes.values()]
      .filter((rt) => rt.order.header.data.state === 'running')
      .sort((a, b) =>
        (a.order.header.data.startedAt ?? '').localeCompare(b.order.header.data.startedAt ?? ''),
      );
    for (const rt of running) {
      const f = this.nextQueued(rt);
      if (f) return [rt, f];
    }
    return undefined;
  }

  private *inFlight(rt: Runtime): Generator<Firearm> {
    for (const seq of rt.inflight) {
      const f = firearmAt(rt.order, seq);
      if (f && IN_FLIGHT.has(f.state)) yield f;
      else rt.inflight.delete(seq);
    }
  }

  private nextQueued(rt: Runtime): Firearm | undefined {
    while (rt.retry.length > 0) {
      const f = firearmAt(rt.order, rt.retry[0]!);
      if (f && f.state === 'queued') return f;
      rt.retry.shift();
    }
    while (rt.cursor < rt.order.header.data.size) {
      const f = firearmAt(rt.order, rt.cursor);
      if (f && f.state === 'queued') return f;
      rt.cursor++;
    }
    return undefined;
  }

  private async advance(rt: Runtime, start: Firearm): Promise<void> {
    let f = start;
    const order = rt.order;
    const header = order.header.data;
    if (f.state === 'queued') {
      const code = await this.o.allocator.allocate();
      const recipe = this.o.recipeFor(header.make, header.model);
      // Both are durable before the job is loaded; a crash between them is mended on start-up
      // (indexInFlightCodes), and an index entry without its firearm write is passed over.
      const [, allocated] = await Promise.all([
        this.o.repo.indexCode(code.text, f),
        this.o.repo.updateFirearm(order, f.seq, (x) => {
          x.code = code;
          x.recipe = recipe;
          setState(x, 'allocated');
        }),
      ]);
      f = allocated;
      rt.inflight.add(f.seq);
      this.emit('firearm', { orderId: header.id, firearm: f });
      crashPoint('after-allocation');
    }
    let justStarted = false;
    if (f.state === 'allocated' || f.state === 'loaded') {
      // A `loaded` firearm is loaded again: a power cut since may have cleared the registers, and
      // a load that has not been started marks nothing.
      const before = await this.ensureEngraverFree(rt);
      const code = f.code!;
      await this.o.engraver.loadJob(this.jobFor(header, f, code));
      f = await this.o.repo.updateFirearm(order, f.seq, (x) => setState(x, 'loaded'));
      this.emit('firearm', { orderId: header.id, firearm: f });
      crashPoint('after-load');
      if (header.state === 'aborted') {
        // Aborted while the job was being loaded: it is never started.
        await this.o.repo.updateFirearm(order, f.seq, (x) => {
          x.voided.push({ ...code, voidedAt: now(), reason: 'order aborted', pinScrapped: false });
          x.code = undefined;
          setState(x, 'cancelled', 'order aborted');
        });
        await this.retireIfFinished(rt);
        return;
      }
      f = await this.o.repo.updateFirearm(order, f.seq, (x) => {
        x.completedBefore = before.completed;
        x.activeJobBefore = before.activeJob;
        setState(x, 'marking');
      });
      this.emit('firearm', { orderId: header.id, firearm: f });
      try {
        await this.o.engraver.startJob(code.jobId);
      } catch (err) {
        if (!isStamplineError(err, 'ENGRAVER_REJECTED') && !isStamplineError(err, 'ENGRAVER_FAULT'))
          throw err;
        // The engraver refused the start (fault 4 over Modbus, a NAK over ASCII, or a fault in
        // the way). What it did is read from its registers, as after a restart; whatever it was,
        // the line halts for an operator, whose reset lets the order go on.
        await this.finish(rt, f, await this.settleMarking(f, 'refused'), err.message);
        return;
      }
      justStarted = true;
    }
    if (f.state === 'marking') {
      const result = await this.settleMarking(f, justStarted ? 'started' : 'unknown');
      await this.finish(rt, f, result);
    }
  }

  private jobFor(header: OrderHeader, f: Firearm, code: CodeRef): EngraveJob {
    return {
      jobId: code.jobId,
      text: code.text,
      gear: code.gear,
      mirror: this.o.mirror,
      target: header.target,
      recipe: f.recipe ?? this.o.recipeFor(header.make, header.model),
    };
  }

  /**
   * Waits until the engraver may take a job, and returns the status that said so; a fault halts
   * the order for an operator.
   */
  private async ensureEngraverFree(rt: Runtime): Promise<EngraverStatus> {
    const deadline = Date.now() + this.o.jobTimeoutMs;
    for (;;) {
      if (this.stopping) throw new Halt();
      const status = await this.o.engraver.readStatus();
      this.noteStatus(status);
      if (status.state === 'READY' || status.state === 'DONE') return status;
      if (status.state === 'FAULT') {
        await this.faultOrder(rt, status.fault, `engraver in fault: ${faultName(status.fault)}`);
        throw new Halt();
      }
      // BUSY with a job that is not ours in flight: someone else is marking; wait it out.
      if (Date.now() > deadline) {
        await this.faultOrder(rt, 0, `engraver busy with job ${status.activeJob} that is not this line's`);
        throw new Halt();
      }
      await this.wake.wait(200);
    }
  }

  /**
   * Finds out how the job of a `marking` firearm ended, from the engraver itself. `start`: what
   * the line knows of the start, which it just sent (`started`), or which the engraver has just
   * refused (`refused`), or nothing (`unknown`: after a restart, or a job the engraver lost).
   */
  private async settleMarking(f: Firearm, start: 'started' | 'refused' | 'unknown'): Promise<MarkingResult> {
    const code = f.code!;
    if (start !== 'started') {
      // A marker that keeps no job id learns which job the line had started, and the count before it.
      if (start === 'unknown') this.o.engraver.recallJob?.(code.jobId, f.completedBefore);
      const status = await this.o.engraver.readStatus();
      this.noteStatus(status);
      if (status.unprovable !== undefined) return { kind: 'unprovable', why: status.unprovable };
      if (status.activeJob !== code.jobId) return this.afterAnotherJob(f, status, start === 'refused');
      if (status.state === 'DONE') return { kind: 'done', completed: status.completed };
      if (status.state === 'FAULT') return { kind: 'fault', fault: status.fault };
      if (status.state === 'READY') return { kind: 'unknown' };
    }
    crashPoint('during-marking');
    let outcome: JobOutcome;
    try {
      outcome = await this.o.engraver.waitForEnd(code.jobId, { timeoutMs: this.o.jobTimeoutMs });
    } catch (err) {
      // The engraver no longer holds the job (a power cut, or a reset nobody saw): what became
      // of it is read from the engraver, as after a restart.
      if (isStamplineError(err, 'ENGRAVER_JOB_LOST')) return this.settleMarking(f, 'unknown');
      if (!isStamplineError(err, 'ENGRAVER_TIMEOUT')) throw err;
      // The job outlived the job timeout: stop the laser; the pin is scrapped below.
      this.o.logger.error({ jobId: code.jobId }, 'job exceeded the job timeout; aborting it');
      await this.o.engraver.abort();
      const status = await this.o.engraver.readStatus();
      this.noteStatus(status);
      return status.state === 'DONE' && status.activeJob === code.jobId
        ? { kind: 'done', completed: status.completed }
        : { kind: 'fault', fault: status.fault || 3 };
    }
    // The end of the job is the engraver's state as last read, by the driver's wait.
    this.noteStatus({
      state: outcome.kind === 'done' ? 'DONE' : 'FAULT',
      fault: outcome.kind === 'done' ? 0 : outcome.fault,
      completed: outcome.kind === 'done' ? outcome.completed : (this.lastStatus?.completed ?? 0),
      activeJob: code.jobId,
    });
    return outcome.kind === 'done'
      ? { kind: 'done', completed: outcome.completed }
      : { kind: 'fault', fault: outcome.fault };
  }

  /** Keeps the engraver's state as read, with its time; a change is told to the screens at once. */
  private noteStatus(status: EngraverStatus, announce = true): void {
    const before = this.lastStatus;
    this.lastStatus = status;
    this.lastStatusAt = new Date().toISOString();
    const changed = before?.state !== status.state || before.fault !== status.fault;
    if (announce && changed)
      this.emit('engraver', { connected: this.o.engraver.connected, status, statusAt: this.lastStatusAt });
  }

  /**
   * The engraver's last job is not this firearm's. A power cycle (activeJob 0) may have cut the
   * marking short, whatever the count reads since. Otherwise the start never took only if nothing
   * at all was started after the status read before it: `activeJob` is still the job it named,
   * and `completed` has not moved. Another `activeJob` with an unmoved count may be a job started
   * after this one had faulted part-marked and been reset; a count that moved means a job ended
   * DONE since, perhaps this one. The count wraps at 65536, so only its equality means anything.
   *
   * A start the engraver has just refused, with both as noted, never took even when they read 0
   * (the first job after power-on): the refusal and the registers agree, moments after the start.
   */
  private afterAnotherJob(f: Firearm, status: EngraverStatus, refused: boolean): MarkingResult {
    const asNoted = status.activeJob === f.activeJobBefore && status.completed === f.completedBefore;
    if (status.activeJob === 0 && !(refused && asNoted)) return { kind: 'lost' };
    if (asNoted) return { kind: 'not-started' };
    return {
      kind: 'overtaken',
      activeJob: status.activeJob,
      completed: status.completed,
      ...(f.completedBefore !== undefined ? { completedBefore: f.completedBefore } : {}),
      ...(f.activeJobBefore !== undefined ? { activeJobBefore: f.activeJobBefore } : {}),
    };
  }

  /** `refused`: why the engraver refused the start, which halts the line as a fault does. */
  private async finish(rt: Runtime, f: Firearm, result: MarkingResult, refused?: string): Promise<void> {
    const order = rt.order;
    const header = order.header.data;
    const code = f.code!;
    if (result.kind === 'done') {
      crashPoint('after-done-before-save');
      const at = now();
      const engraved = await this.o.repo.updateFirearm(order, f.seq, (x) => {
        x.engravedAt = at;
        setState(x, 'engraved');
      });
      const record = engravedRecord(this.o.records, header, engraved, code, engraved.recipe!, at);
      await this.o.sink.report([record]);
      crashPoint('after-record-queued');
      // Persisted with the chunk's next write; if lost, the record is queued again on start-up
      // with the same id and the registry answers `duplicate`.
      engraved.reported = true;
      this.emit('firearm', { orderId: header.id, firearm: engraved });
      this.o.logger.info({ order: header.id, serial: f.serial, code: code.text }, 'engraved');
      await this.retireIfFinished(rt);
      return;
    }
    // The job did not finish: its code is never used again. The pin is scrapped if marking may
    // have begun, and the registry is told the code is void.
    const fault = result.kind === 'fault' ? result.fault : undefined;
    const pinScrapped = !(result.kind === 'not-started' || fault === 4);
    const reason = describeFailure(result);
    const at = now();
    const requeued = await this.o.repo.updateFirearm(order, f.seq, (x) => {
      x.voided.push({
        ...code,
        voidedAt: at,
        reason,
        pinScrapped,
        ...(fault !== undefined ? { fault } : {}),
      });
      x.code = undefined;
      x.completedBefore = undefined;
      x.activeJobBefore = undefined;
      x.reported = undefined;
      setState(x, header.state === 'aborted' ? 'cancelled' : 'queued', `code ${code.text} voided: ${reason}`);
    });
    if (pinScrapped)
      await this.o.sink.report([voidedRecord(this.o.records, header, requeued, code, reason, at)]);
    await this.o.audit.record({
      actor: 'line',
      action: 'code.void',
      subject: `firearm:${f.serial}`,
      before: { code: code.text, state: 'marking' },
      after: { state: requeued.state, pinScrapped },
      reason,
    });
    this.o.logger.warn(
      { order: header.id, serial: f.serial, code: code.text, reason, pinScrapped },
      'code voided',
    );
    rt.retry.push(f.seq);
    this.emit('firearm', { orderId: header.id, firearm: requeued });
    if (fault !== undefined && fault !== 0) {
      await this.faultOrder(rt, fault, `engraver fault during job ${code.jobId}: ${faultName(fault)}`);
    } else if (refused !== undefined) {
      await this.faultOrder(rt, 0, `the engraver refused to start job ${code.jobId}: ${refused}`);
    }
    await this.retireIfFinished(rt);
  }

  private async faultOrder(rt: Runtime, fault: number, reason: string): Promise<void> {
    this.halted = { reason, fault };
    const h = rt.order.header.data;
    if (h.state === 'running') {
      await this.writeHeader(rt.order, (x) => {
        x.state = 'faulted';
        x.reason = reason;
      });
      await this.o.audit.record({
        actor: 'line',
        action: 'order.fault',
        subject: `order:${h.id}`,
        before: { state: 'running' },
        after: { state: 'faulted' },
        reason,
      });
      this.emit('order', { order: rt.order.header.data });
    }
    this.o.logger.error({ order: h.id, fault, reason }, 'order faulted; an operator must reset the engraver');
  }

  private async haltOrder(rt: Runtime, err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    this.o.logger.error({ err, order: rt.order.header.data.id }, 'order halted by an error');
    if (rt.order.header.data.state === 'running') {
      await this.writeHeader(rt.order, (x) => {
        x.state = 'paused';
        x.reason = reason;
      });
      this.emit('order', { order: rt.order.header.data });
    }
  }

  /** Every change of an order's header goes through here, so the order list follows it. */
  private async writeHeader(order: LoadedOrder, change: (h: OrderHeader) => void): Promise<void> {
    await this.o.repo.updateHeader(order, change);
    this.rememberHeader(order.header.data);
  }

  private retireIfFinished(rt: Runtime): Promise<void> {
    return this.exclusive(() => this.retireNow(rt));
  }

  private async retireNow(rt: Runtime): Promise<void> {
    const h = rt.order.header.data;
    if (this.runtimes.get(h.id) !== rt || !allFinished(rt.order)) return;
    if (h.state !== 'aborted') {
      await this.writeHeader(rt.order, (x) => {
        x.state = 'done';
        x.finishedAt = now();
      });
    }
    await this.o.repo.retire(rt.order);
    this.runtimes.delete(h.id);
    // the header as written: `h` was read before the end was recorded
    this.emit('order', { order: rt.order.header.data });
  }

  /** Mends the code index for codes whose entry a crash may have cut off (see `advance`). */
  private async indexInFlightCodes(): Promise<void> {
    for (const rt of this.runtimes.values()) {
      for (const f of this.inFlight(rt)) {
        if (f.code && !(await this.o.repo.codeIndexed(f.code.text, f)))
          await this.o.repo.indexCode(f.code.text, f);
      }
    }
  }

  /** Queues the `engraved` record again for firearms whose record may not have reached the outbox. */
  private async requeueUnreported(): Promise<number> {
    let n = 0;
    for (const rt of this.runtimes.values()) {
      const header = rt.order.header.data;
      for (const f of firearmsOf(rt.order)) {
        if (f.state !== 'engraved' || f.reported || !f.code) continue;
        await this.o.sink.report([
          engravedRecord(this.o.records, header, f, f.code, f.recipe!, f.engravedAt!),
        ]);
        f.reported = true;
        n++;
      }
    }
    return n;
  }
}

/** The repository's answer while its order catalogue cannot be loaded. */
function isCatalogueFailure(err: unknown): boolean {
  return isStamplineError(err, 'STORE_UNAVAILABLE') && err.context.catalogue !== undefined;
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

function makeRuntime(order: LoadedOrder): Runtime {
  const rt: Runtime = { order, cursor: order.header.data.size, retry: [], inflight: new Set() };
  for (const f of firearmsOf(order)) {
    if (IN_FLIGHT.has(f.state)) rt.inflight.add(f.seq);
    else if (f.state === 'queued' && f.seq < rt.cursor) rt.cursor = f.seq;
  }
  return rt;
}

function setState(f: Firearm, state: FirearmState, note?: string): void {
  f.state = state;
  f.history.push({ at: now(), state, ...(note ? { note } : {}) });
}

function describeFailure(result: MarkingResult): string {
  switch (result.kind) {
    case 'fault':
      return `engraver fault ${result.fault} (${faultName(result.fault)})`;
    case 'lost':
      return 'engraver lost power during the job';
    case 'not-started':
      return 'the engraver never started the job';
    case 'overtaken':
      return describeOvertaken(result);
    case 'unknown':
      return 'the job outcome was cleared before the line could read it';
    case 'unprovable':
      return `${result.why}: the code is voided and the pin set aside for inspection`;
    case 'done':
      return 'done';
  }
}

/** What the engraver showed of the jobs after this one's start, and what had been noted before it. */
function describeOvertaken(r: Extract<MarkingResult, { kind: 'overtaken' }>): string {
  const started = `the engraver started job ${r.activeJob} after this one`;
  if (r.completedBefore === undefined)
    return `${started}, and no count of completed jobs was noted before this start: it may have been marked`;
  if (r.completed !== r.completedBefore)
    return `${started}, and its completed jobs went from ${r.completedBefore} to ${r.completed}: it may have been marked`;
  if (r.activeJobBefore === undefined)
    return `the engraver holds job ${r.activeJob}, its completed jobs stayed at ${r.completed}, and the job it held before this start was not noted: it may have been marked`;
  return `${started} (it held job ${r.activeJobBefore} before this start), and its completed jobs stayed at ${r.completed}: this one may have faulted part-marked and been reset before it`;
}

function now(): string {
  return new Date().toISOString();
}
