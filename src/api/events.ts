/**
 * Live events for the UI: the line's `order`, `firearm` and `engraver` events, the QA service's
 * reads, changes of the registry outbox, and a `line` status snapshot after each burst of change
 * (the line's summary: counts and a first page of the active orders, small however long the queue).
 * Each event is encoded once, whatever the number of listeners, and the hub listens to its sources
 * only while someone listens to it.
 */

import type { AlarmEvent } from '../alarms/service.js';
import type { OrderHeader } from '../line/model.js';
import type { QaDecisionEvent } from '../qa/index.js';
import type { AlarmsApi } from './routes/alarms.js';
import type { LineApi, OutboxView, QaApi, QaReadEvent } from './routes/context.js';
import { ACTIVE_PAGE } from './schemas/line.js';

export const LIVE_EVENT_NAMES = ['line', 'order', 'firearm', 'engraver', 'outbox', 'qa', 'alarm'] as const;
export type LiveEventName = (typeof LIVE_EVENT_NAMES)[number];

export interface LiveEvent {
  name: LiveEventName;
  /** increasing within one process */
  id: number;
  /** the JSON of the event's data */
  data: string;
}

export interface LiveEventsOptions {
  line: Pick<LineApi, 'on' | 'off' | 'summary'>;
  qa?: QaApi;
  outbox?: OutboxView;
  /** `alarm` events: each raise, acknowledgement and clear, with the alarm as it now is. */
  alarms?: AlarmsApi;
  /** How often the outbox depth is looked at when the outbox has no events of its own. Default 2,000. */
  outboxPollMs?: number;
  /** Bursts of change shorter than this give one `line` snapshot and one `outbox` event. Default 250. */
  coalesceMs?: number;
}

type Listener = (event: LiveEvent) => void;

const OUTBOX_EVENTS = ['enqueued', 'acked', 'rejected', 'retried', 'dismissed'] as const;

/** An `outbox` event: records held, rejected, and when the oldest pending one was queued. */
function outboxData(ob: OutboxView) {
  return {
    depth: ob.depth(),
    rejected: ob.rejected().length,
    oldestPendingAt: ob.oldestPendingAt?.() ?? null,
  };
}

export class LiveEvents {
  private readonly listeners = new Set<Listener>();
  private nextId = 1;
  private lineTimer: NodeJS.Timeout | undefined;
  private outboxTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private lastOutbox = '';
  private detachers: Array<() => void> = [];

  constructor(private readonly o: LiveEventsOptions) {}

  /** Listens until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.attach();
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.detach();
    };
  }

  get listening(): number {
    return this.listeners.size;
  }

  /** The line's status now, as a `line` event: what a client shows before any change arrives. */
  lineSnapshot(): LiveEvent {
    return this.make('line', this.o.line.summary(ACTIVE_PAGE));
  }

  outboxSnapshot(): LiveEvent | undefined {
    const ob = this.o.outbox;
    return ob ? this.make('outbox', outboxData(ob)) : undefined;
  }

  /** Stops listening to the sources and forgets the listeners (the app is closing). */
  close(): void {
    this.listeners.clear();
    this.detach();
  }

  private make(name: LiveEventName, data: unknown): LiveEvent {
    return { name, id: this.nextId++, data: JSON.stringify(data) };
  }

  /** Called from inside the line's own work: whatever happens here must not throw into it. */
  private publish(name: LiveEventName, data: unknown): void {
    if (this.listeners.size === 0) return;
    let event: LiveEvent;
    try {
      event = this.make(name, data);
    } catch {
      return;
    }
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // one stream's trouble is that stream's; the others and the line go on
      }
    }
  }

  private attach(): void {
    const { line, qa, outbox } = this.o;
    const onOrder = (e: { order: OrderHeader }) => {
      this.publish('order', e);
      this.lineSoon();
    };
    const onFirearm = (e: unknown) => this.publish('firearm', e);
    const onEngraver = (e: unknown) => {
      this.publish('engraver', e);
      this.lineSoon();
    };
    // An engraved order's counts moved (a QA pass, a registry ack): the next snapshot shows it.
    const onBacklog = () => this.lineSoon();
    line.on('order', onOrder);
    line.on('firearm', onFirearm);
    line.on('engraver', onEngraver);
    line.on('backlog', onBacklog);
    this.detachers.push(() => {
      line.off('order', onOrder);
      line.off('firearm', onFirearm);
      line.off('engraver', onEngraver);
      line.off('backlog', onBacklog);
    });
    if (qa) {
      const onRead = (e: QaReadEvent) => this.publish('qa', e);
      qa.on('read', onRead);
      this.detachers.push(() => qa.off('read', onRead));
      // A decision applied without a read of its own has no read event to carry it.
      const onDecision = (e: QaDecisionEvent) => this.publish('qa', { decision: e, serial: e.serial });
      qa.on('decision', onDecision);
      this.detachers.push(() => qa.off('decision', onDecision));
    }
    if (this.o.alarms) {
      const alarms = this.o.alarms;
      const onAlarm = (e: AlarmEvent) => this.publish('alarm', e);
      alarms.on('alarm', onAlarm);
      this.detachers.push(() => alarms.off('alarm', onAlarm));
    }
    if (outbox) {
      this.lastOutbox = this.outboxSnapshot()?.data ?? '';
      if (outbox.on && outbox.off) {
        const onChange = () => this.outboxSoon();
        for (const name of OUTBOX_EVENTS) outbox.on(name, onChange);
        this.detachers.push(() => {
          for (const name of OUTBOX_EVENTS) outbox.off?.(name, onChange);
        });
      } else {
        this.pollTimer = setInterval(() => this.sendOutboxIfChanged(), this.o.outboxPollMs ?? 2_000);
        this.pollTimer.unref();
      }
    }
  }

  private detach(): void {
    for (const d of this.detachers.splice(0)) d();
    for (const t of [this.lineTimer, this.outboxTimer, this.pollTimer]) clearTimeout(t);
    this.lineTimer = this.outboxTimer = this.pollTimer = undefined;
  }

  private lineSoon(): void {
    if (this.lineTimer) return;
    this.lineTimer = setTimeout(() => {
      this.lineTimer = undefined;
      if (this.listeners.size > 0) this.publish('line', this.o.line.summary(ACTIVE_PAGE));
    }, this.o.coalesceMs ?? 250);
    this.lineTimer.unref();
  }

  /** Acks come in bursts of hundreds: one event per burst says where the outbox stands. */
  private outboxSoon(): void {
    if (this.outboxTimer) return;
    this.outboxTimer = setTimeout(() => {
      this.outboxTimer = undefined;
      this.sendOutboxIfChanged();
    }, this.o.coalesceMs ?? 250);
    this.outboxTimer.unref();
  }

  /** Runs from a timer: like every event, it goes through `publish`, which nothing escapes. */
  private sendOutboxIfChanged(): void {
    const ob = this.o.outbox;
    if (!ob || this.listeners.size === 0) return;
    let data: ReturnType<typeof outboxData>;
    let text: string;
    try {
      data = outboxData(ob);
      text = JSON.stringify(data);
    } catch {
      return;
    }
    if (text === this.lastOutbox) return;
    this.lastOutbox = text;
    this.publish('outbox', data);
  }
}
