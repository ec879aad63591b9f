/**
 * The alarm service: runs the alarm model (model.ts) on the observations it is given, writes each
 * raise, acknowledgement and clear to the journal before anyone is told of it, audits each
 * acknowledgement, and tells listeners. Observations are handled one at a time, in order.
 */
import { EventEmitter } from 'node:events';
import type { AuditSink, Logger as LineLogger } from '../shared.js';
import type { AppendLogRepair } from '../store/append-log.js';
import { AlarmJournal, type JournalEntry, type JournalPage } from './journal.js';
import {
  ALARM_KINDS,
  type Alarm,
  type AlarmChange,
  type AlarmKind,
  AlarmModel,
  type AlarmThresholds,
  DEFAULT_THRESHOLDS,
  type Observation,
} from './model.js';

export interface AlarmEvent {
  change: AlarmChange['type'];
  alarm: Alarm;
}

export interface AlarmServiceEvents {
  alarm: [AlarmEvent];
}

export interface AlarmServiceOptions {
  dataDir: string;
  thresholds?: AlarmThresholds;
  audit?: AuditSink;
  logger?: LineLogger;
  /** Segment size of the journal (tests use small ones). */
  maxSegmentBytes?: number;
  keepSegments?: number;
}

const quiet: LineLogger = { info() {}, warn() {}, error() {}, debug() {} };

export class AlarmService extends EventEmitter<AlarmServiceEvents> {
  private readonly journal: AlarmJournal;
  private model: AlarmModel;
  private readonly log: LineLogger;
  private queue: Promise<unknown> = Promise.resolve();
  private started = false;
  /** Repairs noted before start (the journal's own, or a log opened first). */
  private early: Observation[] = [];
  private readonly raised = new Map<AlarmKind, number>(ALARM_KINDS.map((k) => [k, 0]));

  constructor(private readonly o: AlarmServiceOptions) {
    super();
    this.log = o.logger ?? quiet;
    this.model = new AlarmModel(o.thresholds ?? DEFAULT_THRESHOLDS);
    this.journal = new AlarmJournal({
      dataDir: o.dataDir,
      ...(o.maxSegmentBytes !== undefined ? { maxSegmentBytes: o.maxSegmentBytes } : {}),
      ...(o.keepSegments !== undefined ? { keepSegments: o.keepSegments } : {}),
      onRepair: (note) => this.noteRepair('alarm journal', note),
    });
  }

  /** Opens the journal; the alarms active when the line stopped are active again. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.journal.start();
    this.model = new AlarmModel(this.o.thresholds ?? DEFAULT_THRESHOLDS, {
      active: this.journal.active(),
      nextId: this.journal.next,
    });
    this.started = true;
    for (const obs of this.early.splice(0)) await this.observe(obs);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.queue.catch(() => {});
    await this.journal.stop();
  }

  /**
   * Hands an observation to the model. Never throws: a failure to write the journal is logged,
   * and the alarm it was about is raised or cleared again by the next observation.
   */
  observe(obs: Observation): Promise<void> {
    if (!this.started) {
      if (obs.kind === 'repair') this.early.push(obs);
      return Promise.resolve();
    }
    return this.serial(async () => {
      const snapshot = this.model.activeAlarms();
      const changes = this.model.observe(obs, new Date().toISOString());
      try {
        await this.commit(changes);
      } catch (err) {
        this.model = new AlarmModel(this.o.thresholds ?? DEFAULT_THRESHOLDS, {
          active: snapshot,
          nextId: this.model.next,
        });
        this.log.error({ err, observation: obs.kind }, 'cannot write the alarm journal');
      }
    }).catch(() => {});
  }

  /** A durable log cut off a torn last entry at start: an alarm until someone acknowledges it. */
  noteRepair(store: string, note: AppendLogRepair): void {
    void this.observe({ kind: 'repair', store, file: note.file, droppedBytes: note.droppedBytes });
  }

  /** Throws ALARM_NOT_FOUND or ALARM_ACKNOWLEDGED; audited as `alarm.acknowledge`. */
  acknowledge(id: number, by: string): Promise<Alarm> {
    return this.serial(async () => {
      const changes = this.model.acknowledge(id, by, new Date().toISOString());
      const acked = changes[0]!.alarm;
      try {
        await this.commit(changes);
      } catch (err) {
        // Not durable, so not done: the model forgets the acknowledgement too.
        this.model = new AlarmModel(this.o.thresholds ?? DEFAULT_THRESHOLDS, {
          active: this.journal.active(),
          nextId: this.model.next,
        });
        throw err;
      }
      await this.o.audit?.record({
        actor: by,
        action: 'alarm.acknowledge',
        subject: `alarm:${id}`,
        after: { kind: acked.kind, severity: acked.severity, raisedAt: acked.raisedAt },
      });
      return acked;
    });
  }

  /** Most severe first, then oldest. */
  active(): Alarm[] {
    return this.model.activeAlarms();
  }

  page(opts: { before?: number; limit: number }): JournalPage {
    return this.journal.page(opts);
  }

  /** Alarms raised since the daemon started, by kind. */
  raisedCounts(): ReadonlyMap<AlarmKind, number> {
    return this.raised;
  }

  private async commit(changes: AlarmChange[]): Promise<void> {
    if (changes.length === 0) return;
    const entries: JournalEntry[] = changes.map((c) =>
      c.type === 'raise'
        ? { t: 'raise', alarm: c.alarm }
        : c.type === 'acknowledge'
          ? { t: 'ack', id: c.alarm.id, by: c.alarm.acknowledgedBy!, at: c.alarm.acknowledgedAt! }
          : { t: 'clear', id: c.alarm.id, at: c.alarm.clearedAt! },
    );
    await this.journal.write(entries);
    for (const c of changes) {
      if (c.type === 'raise') {
        this.raised.set(c.alarm.kind, (this.raised.get(c.alarm.kind) ?? 0) + 1);
        this.log.warn({ alarm: c.alarm }, `alarm raised: ${c.alarm.message}`);
      } else this.log.info({ alarm: c.alarm }, `alarm ${c.type === 'clear' ? 'cleared' : 'acknowledged'}`);
      this.emit('alarm', { change: c.type, alarm: c.alarm });
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}
