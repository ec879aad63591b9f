/**
 * Prometheus metrics of one line, in a registry of their own (not prom-client's global one), so
 * that every app, in the daemon or in a test, counts only its own line.
 *
 * Counters follow events (engraver jobs and faults, QA verdicts and reads, registry acks);
 * gauges are read when scraped (firearms and orders per state, outbox depth, QA pass rate).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { ALARM_KINDS } from '../alarms/model.js';
import { faultName } from '../engraver/types.js';
import type { Firearm, OrderHeader, OrderState } from '../line/model.js';
import type { QaDecisionEvent } from '../qa/index.js';
import type { OutboxEvents } from '../registry/outbox.js';
import { repairCounts } from '../store/repairs.js';
import type { AlarmsApi } from './routes/alarms.js';
import type { LineApi, OutboxView, QaApi, QaReadEvent } from './routes/context.js';

export interface MetricsOptions {
  line: Pick<LineApi, 'on' | 'off' | 'status' | 'listOrders'>;
  qa?: QaApi;
  outbox?: OutboxView;
  alarms?: AlarmsApi;
  /** Node.js process metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
}

const ORDER_STATES: readonly OrderState[] = [
  'queued',
  'running',
  'paused',
  'faulted',
  'aborted',
  'engraved',
  'complete',
];

/**
 * A listener that can never throw into the emitter: the line, the QA service and the outbox call
 * their listeners in the middle of their own work, which a metric must not break.
 */
export function guarded<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args);
    } catch {
      // a malformed event is not counted
    }
  };
}

/** Codes counted lately, so a firearm sent again in another event is not counted twice. */
class RecentSet {
  private readonly items = new Set<string>();
  constructor(private readonly max: number) {}
  /** True the first time a key is seen (among the last `max`). */
  add(key: string): boolean {
    if (this.items.has(key)) return false;
    this.items.add(key);
    if (this.items.size > this.max) this.items.delete(this.items.values().next().value!);
    return true;
  }
}

export class LineMetrics {
  readonly registry = new Registry();
  private readonly detachers: Array<() => void> = [];
  private readonly counted = new RecentSet(4096);
  private readonly orderStates = new Map<string, OrderState>();
  private ordersLoaded: Promise<void> | undefined;

  private readonly jobs = new Counter({
    name: 'stampline_engraver_jobs_total',
    help: 'Engraving jobs that ended, by result: done, fault, lost (may have marked, no fault code), not-started',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly faults = new Counter({
    name: 'stampline_engraver_faults_total',
    help: 'Engraver faults that halted an order, by fault code',
    labelNames: ['code', 'name'] as const,
    registers: [this.registry],
  });

  private readonly ackLatency = new Histogram({
    name: 'stampline_registry_ack_latency_seconds',
    help: 'Time from publishing a record to the registry until its ack',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  private readonly acks = new Counter({
    name: 'stampline_registry_acks_total',
    help: 'Acks from the registry, by status: accepted, duplicate, rejected',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  private readonly verdicts = new Counter({
    name: 'stampline_qa_verdicts_total',
    help: 'QA verifications decided, by result: pass or fail',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly reads = new Counter({
    name: 'stampline_qa_reads_total',
    help: 'Case reads entered at the QA station, by grade of the read on its own',
    labelNames: ['grade'] as const,
    registers: [this.registry],
  });

  constructor(private readonly o: MetricsOptions) {
    const self = this;
    const { line, qa, outbox } = o;
    new Gauge({
      name: 'stampline_firearms',
      help: 'Firearms of the active orders, by state: queued, in-progress, engraved, cancelled',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const sum = { queued: 0, 'in-progress': 0, engraved: 0, cancelled: 0 };
        for (const o of line.status().activeOrders) {
          sum.queued += o.counts.queued;
          sum['in-progress'] += o.counts.inProgress;
          sum.engraved += o.counts.engraved;
          sum.cancelled += o.counts.cancelled;
        }
        for (const [state, n] of Object.entries(sum)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'stampline_orders',
      help: 'Orders held by the line, by state',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        await self.loadOrders();
        const sum = Object.fromEntries(ORDER_STATES.map((s) => [s, 0])) as Record<OrderState, number>;
        for (const s of self.orderStates.values()) sum[s]++;
        for (const s of ORDER_STATES) this.set({ state: s }, sum[s]);
      },
    });
    new Gauge({
      name: 'stampline_indexes_left',
      help: 'Code indexes left in the configured index block',
      registers: [this.registry],
      collect() {
        this.set(line.status().indexesLeft);
      },
    });
    // Tail repairs made at start-up by any log of the store (outbox, audit, QA reads, catalogue).
    new Counter({
      name: 'stampline_store_repairs_total',
      help: 'Torn last lines cut off a store log at start-up, by log',
      labelNames: ['log'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [log, c] of repairCounts()) this.inc({ log }, c.repairs);
      },
    });
    new Counter({
      name: 'stampline_store_repair_dropped_bytes_total',
      help: 'Bytes of torn last lines cut off a store log at start-up (never acknowledged), by log',
      labelNames: ['log'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [log, c] of repairCounts()) this.inc({ log }, c.droppedBytes);
      },
    });
    if (outbox) {
      new Gauge({
        name: 'stampline_outbox_depth',
        help: 'Records held in the registry outbox: waiting, awaiting their ack, or rejected',
        registers: [this.registry],
        collect() {
          this.set(outbox.depth());
        },
      });
      new Gauge({
        name: 'stampline_outbox_rejected',
        help: 'Records the registry rejected, waiting for an operator',
        registers: [this.registry],
        collect() {
          this.set(outbox.rejected().length);
        },
      });
    }
    if (qa) {
      new Gauge({
        name: 'stampline_qa_pass_rate',
        help: 'Share of decided verifications that passed, over every verdict the line keeps (0..1); NaN before the first',
        registers: [this.registry],
        collect() {
          let pass = 0;
          let fail = 0;
          for (const row of qa.statistics('model')) {
            pass += row.verdicts.pass;
            fail += row.verdicts.fail;
          }
          this.set(pass + fail > 0 ? pass / (pass + fail) : Number.NaN);
        },
      });
    }
    const alarms = o.alarms;
    if (alarms) {
      new Gauge({
        name: 'stampline_alarm_active',
        help: 'Active alarms, by kind (src/alarms): 1 while an alarm of the kind is active',
        labelNames: ['kind'] as const,
        registers: [this.registry],
        collect() {
          const active = alarms.active();
          for (const kind of ALARM_KINDS) this.set({ kind }, active.filter((a) => a.kind === kind).length);
        },
      });
      new Counter({
        name: 'stampline_alarms_raised_total',
        help: 'Alarms raised since the daemon started, by kind',
        labelNames: ['kind'] as const,
        registers: [this.registry],
        collect() {
          // The service counts every raise, those before these metrics existed included.
          this.reset();
          for (const [kind, n] of alarms.raisedCounts()) this.inc({ kind }, n);
        },
      });
    }
    if (o.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Starts following the line's, the QA service's and the outbox's events. */
  start(): void {
    const { line, qa, outbox } = this.o;
    const onFirearm = guarded((e: { firearm: Firearm }) => this.onFirearm(e.firearm));
    const onOrder = guarded((e: { order: OrderHeader }) => this.onOrder(e.order));
    line.on('firearm', onFirearm);
    line.on('order', onOrder);
    this.detachers.push(() => {
      line.off('firearm', onFirearm);
      line.off('order', onOrder);
    });
    if (qa) {
      const onRead = guarded((e: QaReadEvent) => {
        this.reads.inc({ grade: e.read.decode.grade });
        if (e.verdict.status !== 'pending' && e.outcome !== 'pending')
          this.verdicts.inc({ result: e.verdict.status });
      });
      qa.on('read', onRead);
      this.detachers.push(() => qa.off('read', onRead));
      // Decisions applied without a read of their own: by a later read's retry, or at start-up
      // (before these metrics could listen). Each is told once, by one of the two.
      const count = guarded((e: QaDecisionEvent) => this.verdicts.inc({ result: e.verdict.status }));
      for (const e of qa.decidedAtStart()) count(e);
      qa.on('decision', count);
      this.detachers.push(() => qa.off('decision', count));
    }
    if (outbox?.on && outbox.off) {
      const onAcked = guarded((e: OutboxEvents['acked'][0]) => {
        this.acks.inc({ status: e.status });
        if (e.latencyMs !== null) this.ackLatency.observe(e.latencyMs / 1000);
      });
      const onRejected = () => this.acks.inc({ status: 'rejected' });
      outbox.on('acked', onAcked);
      outbox.on('rejected', onRejected);
      this.detachers.push(() => {
        outbox.off?.('acked', onAcked);
        outbox.off?.('rejected', onRejected);
      });
    }
  }

  stop(): void {
    for (const d of this.detachers.splice(0)) d();
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * A job ends in `engraved`, or in a voided code that sends the firearm back to the queue (or to
   * `cancelled`): the event of that step is the one whose firearm is queued or cancelled with a
   * voided code. Codes voided by QA are no job outcome; a firearm announced again is counted once.
   */
  private onFirearm(f: Firearm): void {
    if (f.state === 'engraved' && f.code) {
      if (this.counted.add(`done:${f.code.index}`)) this.jobs.inc({ result: 'done' });
      return;
    }
    const voided = f.voided.at(-1);
    if (!voided || (f.state !== 'queued' && f.state !== 'cancelled')) return;
    if (voided.reason.startsWith('failed QA') || voided.reason === 'order aborted') return;
    if (!this.counted.add(`void:${voided.index}`)) return;
    const result =
      voided.fault !== undefined && voided.fault !== 0
        ? 'fault'
        : voided.pinScrapped
          ? 'lost'
          : 'not-started';
    this.jobs.inc({ result });
  }

  private onOrder(order: OrderHeader): void {
    const before = this.orderStates.get(order.id);
    this.orderStates.set(order.id, order.state);
    if (order.state === 'faulted' && before !== 'faulted') {
      const fault = this.o.line.status().halted?.fault ?? 0;
      this.faults.inc({ code: String(fault), name: faultName(fault) });
    }
  }

  /** Order states are read from the store once, then followed through the line's events. */
  private loadOrders(): Promise<void> {
    this.ordersLoaded ??= this.o.line.listOrders().then(
      (headers) => {
        for (const h of headers) if (!this.orderStates.has(h.id)) this.orderStates.set(h.id, h.state);
      },
      (err: unknown) => {
        this.ordersLoaded = undefined;
        throw err;
      },
    );
    return this.ordersLoaded;
  }
}
