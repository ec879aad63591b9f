/**
 * The service the line uses to report to the registry: a durable outbox and the MQTT link, and
 * the flow between them. Records go out while the link is up, at most `window` awaiting their
 * ack at once, so a backlog of tens of thousands neither floods memory nor the broker; each ack
 * frees a place for the next. A record whose ack is overdue is sent again with the same id, and
 * when the link comes back whatever was in flight is sent again at once.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { StamplineError } from '../errors.js';
import {
  type LinkStatus,
  type MqttSettings,
  RegistryLink,
  type StatusAlarm,
  validateMqttSettings,
} from './link.js';
import { type RegistryLogger, silentLogger } from './logger.js';
import { Outbox, type OutboxItem, type OutboxStats, type SettleHook } from './outbox.js';
import { type Ack, type RegistryRecord, type Topics, topicNames, topics } from './record.js';

export interface RegistryReporterOptions {
  /** The line's data folder; the outbox lives in `<dataDir>/outbox`. */
  dataDir: string;
  /** Told of every record before it leaves the outbox for good (`Outbox.beforeSettle`). */
  beforeSettle?: SettleHook;
  issuer: number;
  line: string;
  /** The line's software version, published in the online status. */
  version: string;
  mqtt: MqttSettings;
  /** Send a record again when its ack has not come for this long. Default 30,000. */
  resendAfterMs?: number;
  /** Records awaiting their ack at once. Default 500: below Mosquitto's default queue of 1,000 messages per client, beyond which it drops what a slow registry has not taken yet. */
  window?: number;
  /** Segment size of the outbox log. Default 4 MiB. */
  maxSegmentBytes?: number;
  logger?: RegistryLogger;
}

export interface RegistryStatus {
  link: LinkStatus;
  outbox: OutboxStats;
  topics: Topics;
}

export interface ReporterEvents {
  /** The link went up or down: for the UI and health. */
  link: [{ up: boolean; error: string | null }];
}

export const DEFAULT_WINDOW = 500;

export class RegistryReporter extends EventEmitter<ReporterEvents> {
  readonly outbox: Outbox;
  readonly link: RegistryLink;
  readonly topics: Topics;
  private timer: NodeJS.Timeout | undefined;
  private pumpScheduled = false;
  private running = false;
  /** Acceptances waiting to be told to the line (`Outbox.beforeSettle`) before they are applied. */
  private readonly toSettle: Ack[] = [];
  private settling: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly log: RegistryLogger;

  constructor(private readonly opts: RegistryReporterOptions) {
    super();
    this.log = (opts.logger ?? silentLogger).child({ component: 'registry' });
    this.topics = topicNames(opts.issuer, opts.line);
    this.outbox = new Outbox({
      dir: join(opts.dataDir, 'outbox'),
      resendAfterMs: opts.resendAfterMs,
      maxSegmentBytes: opts.maxSegmentBytes,
      logger: opts.logger,
    });
    this.outbox.beforeSettle = opts.beforeSettle;
    this.link = new RegistryLink({
      mqtt: opts.mqtt,
      topics: this.topics,
      version: opts.version,
      logger: opts.logger,
    });
  }

  private get window(): number {
    return this.opts.window ?? DEFAULT_WINDOW;
  }

  /**
   * Opens the outbox and starts connecting. Resolves once the outbox is open, without waiting for
   * the broker: the line runs (and keeps records) while the broker is away. Throws
   * REGISTRY_BAD_CONFIG for settings that can never work, STORE_* when the outbox cannot open.
   */
  async start(): Promise<void> {
    if (this.running) return;
    topics(this.opts.issuer, this.opts.line);
    validateMqttSettings(this.opts.mqtt);
    const window = this.window;
    if (!Number.isInteger(window) || window < 1) {
      throw new StamplineError(
        'REGISTRY_BAD_CONFIG',
        `registry window must be a positive integer, not ${window}`,
        {
          window,
        },
      );
    }
    const resend = this.outbox.resendAfterMs;
    if (!Number.isFinite(resend) || resend < 100) {
      throw new StamplineError(
        'REGISTRY_BAD_CONFIG',
        `registry resendAfterMs must be at least 100, not ${resend}`,
        {
          resendAfterMs: resend,
        },
      );
    }
    await this.outbox.start();
    this.outbox.on('enqueued', this.onWork);
    this.link.on('up', this.onUp);
    this.link.on('down', this.onDown);
    this.link.on('ack', this.onAck);
    try {
      await this.link.start();
    } catch (err) {
      this.detach();
      await this.outbox.stop();
      throw err;
    }
    this.running = true;
    this.stopping = undefined;
    // Overdue acks are looked for a few times per resend period.
    this.timer = setInterval(this.onWork, Math.max(50, Math.min(1_000, Math.floor(resend / 4))));
    this.timer.unref();
  }

  /** Publishes the offline status, disconnects, and closes the outbox. Safe to call twice. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.link.stop();
    this.detach();
    // An acceptance being told to the line ends before the outbox closes.
    await this.settling;
    await this.outbox.stop();
  }

  /** The records held for a firearm: queued, waiting for their ack, or rejected. */
  held(serial: string): OutboxItem[] {
    return this.running ? this.outbox.heldFor(serial) : [];
  }

  /**
   * Puts records in the outbox; resolves when they are on the disk, not when they reach the
   * registry. Throws REGISTRY_BAD_RECORD for a record that does not match the contract or names
   * another issuer or line (the registry would reject it), and none of the batch is taken.
   */
  async report(records: RegistryRecord[]): Promise<void> {
    if (!this.running) {
      throw new StamplineError('REGISTRY_OUTBOX_STOPPED', 'the registry reporter is not running', {});
    }
    records.forEach((r, i) => {
      if (r && (r.issuer !== this.opts.issuer || r.line !== this.opts.line)) {
        throw new StamplineError(
          'REGISTRY_BAD_RECORD',
          `record ${i} (${r.recordId}) is for issuer ${r.issuer} line ${r.line}, but this line is issuer ${this.opts.issuer} line ${this.opts.line}`,
          { index: i, recordId: r.recordId },
        );
      }
    });
    await this.outbox.enqueue(records);
  }

  /** The line's active alarms, for the retained status topic. */
  setAlarms(alarms: StatusAlarm[]): void {
    this.link.setAlarms(alarms);
  }

  status(): RegistryStatus {
    return { link: this.link.status(), outbox: this.outbox.stats(), topics: this.topics };
  }

  private detach(): void {
    this.outbox.off('enqueued', this.onWork);
    this.link.off('up', this.onUp);
    this.link.off('down', this.onDown);
    this.link.off('ack', this.onAck);
  }

  private readonly onWork = (): void => {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Acks arrive in bursts; one pass after the burst refills the window for all of them.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  };

  private pump(): void {
    if (!this.running || !this.link.isUp) return;
    for (const item of this.outbox.takeToSend(this.window)) this.link.publishRecord(item.payload);
  }

  private readonly onAck = (ack: Ack): void => {
    if (ack.status === 'rejected' || !this.outbox.beforeSettle) {
      this.applyAck(ack);
      return;
    }
    // An acceptance is told to the line before the outbox lets the record go; acks arriving
    // meanwhile are told together, in one write per firearm chunk.
    this.toSettle.push(ack);
    if (!this.settling)
      this.settling = this.settleAcks().finally(() => {
        this.settling = undefined;
      });
  };

  private applyAck(ack: Ack): void {
    if (!this.outbox.acknowledge(ack)) {
      this.log.debug({ recordId: ack.recordId, status: ack.status }, 'ack for a record no longer held');
    }
    this.onWork();
  }

  private async settleAcks(): Promise<void> {
    const hook = this.outbox.beforeSettle!;
    while (this.toSettle.length > 0 && this.running) {
      const acks = this.toSettle.splice(0);
      const at = new Date().toISOString();
      const settlements = acks.flatMap((a) => {
        const s = this.outbox.settlementOf(
          a.recordId,
          a.status === 'duplicate' ? 'duplicate' : 'accepted',
          at,
        );
        return s ? [s] : [];
      });
      try {
        if (settlements.length > 0) await hook(settlements);
      } catch (err) {
        // Kept in the outbox: sent again after resendAfterMs, the registry answers `duplicate`,
        // and the line is told again.
        this.log.warn(
          { err, records: settlements.length },
          'cannot note accepted records on their firearms; they stay in the outbox and are sent again',
        );
        continue;
      }
      for (const ack of acks) this.applyAck(ack);
    }
  }

  private readonly onUp = (): void => {
    this.outbox.requeueInFlight();
    this.emit('link', { up: true, error: null });
    this.onWork();
  };

  private readonly onDown = ({ error }: { error: string | null }): void => {
    this.emit('link', { up: false, error });
  };
}
