/**
 * What the line's modules share: the options, the orders being worked on, the engraver's state as
 * last read, the halt, the guarded emitter, the crash hook, and the gate that keeps an order's
 * retirement and a QA reopening apart.
 */
import type { EngraverStatus } from '../engraver/types.js';
import { type CrashPoint, crashPoint } from './crash-points.js';
import type { GuardedEmitter } from './guarded-emitter.js';
import type { Firearm } from './model.js';
import { IN_FLIGHT } from './model.js';
import type { OrderList } from './order-list.js';
import type { LoadedOrder } from './repository.js';
import { firearmAt, firearmsOf } from './repository.js';
import { Signal } from './signal.js';
import type { LineEvents, LineOptions } from './types.js';

/** An unfinished order as the work loop holds it. */
export interface Runtime {
  order: LoadedOrder;
  /** Next seq not yet looked at by the queue scan. */
  cursor: number;
  /** Firearms sent back to the queue (a voided code), before the cursor. */
  retry: number[];
  /** Firearms with a code that has not yet ended in `engraved` or a void. */
  inflight: Set<number>;
}

export function makeRuntime(order: LoadedOrder): Runtime {
  const rt: Runtime = { order, cursor: order.header.data.size, retry: [], inflight: new Set() };
  for (const f of firearmsOf(order)) {
    if (IN_FLIGHT.has(f.state)) rt.inflight.add(f.seq);
    else if (f.state === 'queued' && f.seq < rt.cursor) rt.cursor = f.seq;
  }
  return rt;
}

/** The firearms of `rt` that hold a code not yet engraved or voided. */
export function* inFlight(rt: Runtime): Generator<Firearm> {
  for (const seq of rt.inflight) {
    const f = firearmAt(rt.order, seq);
    if (f && IN_FLIGHT.has(f.state)) yield f;
    else rt.inflight.delete(seq);
  }
}

export class LineContext {
  readonly runtimes = new Map<string, Runtime>();
  readonly wake = new Signal();
  stopping = false;
  /** The engraver's state as the line last read it, and when: what the Line screen shows. */
  lastStatus: EngraverStatus | undefined;
  lastStatusAt: string | undefined;
  current: { orderId: string; serial: string } | undefined;
  halted: { reason: string; fault?: number } | undefined;
  /** Told of each order retired as engraved (`completion.ts` listens). */
  afterEngraved: (orderId: string) => void = () => {};
  /** Order retirement and QA reopening exclude each other, so an order never ends under a rework. */
  private gate: Promise<unknown> = Promise.resolve();

  constructor(
    readonly o: LineOptions,
    private readonly events: GuardedEmitter<LineEvents>,
    readonly list: OrderList,
  ) {}

  /** Emits through the guarded emitter: a listener that throws never ends the step. */
  emit<K extends keyof LineEvents>(event: K, ...args: LineEvents[K]): void {
    (this.events.emit as (e: K, ...a: LineEvents[K]) => boolean)(event, ...args);
  }

  /** Reaches a crash point: the injected hook, or the daemon's `STAMPLINE_CRASH_AT`. */
  crash(point: CrashPoint, firearm: Firearm): void {
    if (this.o.crashHook) this.o.crashHook(point, firearm);
    else crashPoint(point);
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.gate.then(fn);
    this.gate = run.catch(() => {});
    return run;
  }

  /** Keeps the engraver's state as read, with its time; a change is told to the screens at once. */
  noteStatus(status: EngraverStatus, announce = true): void {
    const before = this.lastStatus;
    this.lastStatus = status;
    this.lastStatusAt = new Date().toISOString();
    const changed = before?.state !== status.state || before.fault !== status.fault;
    if (announce && changed)
      this.emit('engraver', { connected: this.o.engraver.connected, status, statusAt: this.lastStatusAt });
  }
}

export function now(): string {
  return new Date().toISOString();
}
