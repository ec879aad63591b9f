/**
 * A simulated state registry on MQTT, for the demo, tests and hand testing. It hears every line
 * (`microstamp/v1/+/+/records`), answers each record on the line's acks topic as the contract
 * says, and keeps what it accepted in a JSON-lines file: an ack goes out only after the record is
 * on the disk, as a real registry would do, so a crash of the simulator cannot lose a binding it
 * acknowledged. Writes are batched: one fsync for every record that arrived during the last.
 *
 * Tests can make it go silent (hear records, answer nothing, keep nothing) or reject everything.
 */
import { EventEmitter } from 'node:events';
import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { StamplineError } from '../../src/errors.js';
import { holdWrites, mqttLog, noDelay } from '../../src/registry/link.js';
import { type RegistryLogger, silentLogger } from '../../src/registry/logger.js';
import {
  type Ack,
  ALL_RECORDS_TOPIC,
  checkRecord,
  parseTopic,
  type RegistryRecord,
} from '../../src/registry/record.js';
import { type Binding, type Decision, RegistryBook } from './book.js';
import { type IdentifyDesk, serveIdentify } from './http.js';
import { type RegistryIdentification, RegistryIdentifier } from './identify.js';

export type RegistryMode = { kind: 'normal' } | { kind: 'silent' } | { kind: 'reject'; reason: string };

export interface SimulatedRegistryOptions {
  mqtt: {
    url: string;
    protocolVersion?: 4 | 5;
    /** Default `stampline-registry-sim`; the session is persistent, so records sent while it was away arrive. */
    clientId?: string;
    username?: string;
    password?: string;
    /** PEM contents (not paths). */
    ca?: string | Buffer;
    cert?: string | Buffer;
    key?: string | Buffer;
    rejectUnauthorized?: boolean;
  };
  /** The registry's file (JSON lines of accepted records); created if absent. */
  file: string;
  mode?: RegistryMode;
  logger?: RegistryLogger;
  /** Serve `POST /identify` for investigators on this port (0: any free one); absent: no desk. */
  identifyPort?: number;
}

export interface Arrival {
  recordId: string | null;
  topic: string;
  at: string;
}

export interface Answer {
  recordId: string;
  status: Ack['status'];
  reason?: string;
  topic: string;
}

export interface SimulatedRegistryEvents {
  /** Sent after the ack is handed to the broker (and, for an accepted record, after it is on the disk). */
  answer: [Answer];
}

interface Outgoing {
  topic: string;
  ack: Ack;
  line?: string;
}

export class SimulatedRegistry extends EventEmitter<SimulatedRegistryEvents> {
  readonly book = new RegistryBook();
  private readonly identifier = new RegistryIdentifier(this.book);
  private desk: IdentifyDesk | undefined;
  private client: MqttClient | undefined;
  private file: FileHandle | undefined;
  private mode: RegistryMode;
  private queue: Outgoing[] = [];
  private flushing: Promise<void> | undefined;
  private readonly arrivals: Arrival[] = [];
  private readonly answers: Answer[] = [];
  private readonly counters = {
    received: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    ignored: 0,
    unanswerable: 0,
  };
  private readonly log: RegistryLogger;

  constructor(private readonly opts: SimulatedRegistryOptions) {
    super();
    this.mode = opts.mode ?? { kind: 'normal' };
    this.log = (opts.logger ?? silentLogger).child({ component: 'registry-sim' });
  }

  /** Loads the file, connects and subscribes; resolves once subscribed. */
  async start(): Promise<void> {
    if (this.client) return;
    await this.load();
    const m = this.opts.mqtt;
    const options: IClientOptions = {
      protocolVersion: m.protocolVersion ?? 4,
      clientId: m.clientId ?? 'stampline-registry-sim',
      clean: false,
      reconnectPeriod: 500,
      connectTimeout: 10_000,
    };
    const log = mqttLog();
    if (log) options.log = log;
    if (options.protocolVersion === 5) options.properties = { sessionExpiryInterval: 24 * 3600 };
    if (m.username !== undefined) options.username = m.username;
    if (m.password !== undefined) options.password = m.password;
    if (m.ca) options.ca = m.ca;
    if (m.cert) options.cert = m.cert;
    if (m.key) options.key = m.key;
    if (m.rejectUnauthorized !== undefined) options.rejectUnauthorized = m.rejectUnauthorized;
    const client = mqtt.connect(m.url, options);
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'registry simulator broker error'));
    await new Promise<void>((resolve, reject) => {
      let subscribed = false;
      client.on('connect', () => {
        noDelay(client);
        client.subscribe(ALL_RECORDS_TOPIC, { qos: 1 }, (err) => {
          if (err) this.log.error({ err: err.message }, 'registry simulator cannot subscribe');
          if (subscribed) return;
          subscribed = true;
          if (err) reject(err);
          else resolve();
        });
      });
      client.once('error', (err) => {
        if (!subscribed) reject(err);
      });
    }).catch(async (err) => {
      await client.endAsync(true);
      this.client = undefined;
      await this.file?.close();
      this.file = undefined;
      throw new StamplineError(
        'REGISTRY_LINK_DOWN',
        `registry simulator cannot connect to ${m.url}: ${(err as Error).message}`,
        { url: m.url },
        { cause: err },
      );
    });
    if (this.opts.identifyPort !== undefined) {
      this.desk = await serveIdentify(this.identifier, { port: this.opts.identifyPort });
      this.log.info({ url: `${this.desk.url}/identify` }, 'registry simulator identifies cases');
    }
    this.log.info(
      { url: m.url, records: this.book.size, file: this.opts.file },
      'registry simulator listening',
    );
  }

  /** The URL of the investigators' desk (`POST <url>/identify`), when it serves one. */
  get identifyUrl(): string | undefined {
    return this.desk?.url;
  }

  /** Which firearm fired the cases these reads come from, over every code the registry holds. */
  identify(input: unknown): RegistryIdentification {
    return this.identifier.identify(input);
  }

  /** Finishes the writes and acks under way, then disconnects. Safe to call twice. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    while (this.flushing) await this.flushing;
    await this.desk?.close();
    this.desk = undefined;
    this.client = undefined;
    await client.endAsync();
    await this.file?.close();
    this.file = undefined;
  }

  setMode(mode: RegistryMode): void {
    this.mode = mode;
    this.log.info({ mode }, 'registry simulator mode changed');
  }

  getMode(): RegistryMode {
    return this.mode;
  }

  bindings(): Binding[] {
    return this.book.bindings();
  }

  binding(code: string): Binding | undefined {
    return this.book.binding(code);
  }

  recordsFor(serial: string): RegistryRecord[] {
    return this.book.recordsFor(serial);
  }

  /** Every message heard, in order, including those it did not answer. */
  received(): Arrival[] {
    return [...this.arrivals];
  }

  /** Every answer sent, in order. */
  sent(): Answer[] {
    return [...this.answers];
  }

  stats(): typeof this.counters & { records: number; codes: number } {
    return { ...this.counters, records: this.book.size, codes: this.book.bindings().length };
  }

  private async load(): Promise<void> {
    const path = this.opts.file;
    await mkdir(dirname(path), { recursive: true });
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    // A crash can leave half a line at the end; it was never acknowledged, so it goes.
    const complete = text.lastIndexOf('\n') + 1;
    const lines = text.slice(0, complete).split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      const entry = JSON.parse(line) as { record: unknown };
      const check = checkRecord(entry.record);
      if (!check.ok) throw new Error(`${path} line ${i + 1}: ${check.reason}`);
      this.book.add(check.record);
    });
    this.file = await open(path, 'a+');
    if (complete < Buffer.byteLength(text)) {
      await this.file.truncate(Buffer.byteLength(text.slice(0, complete)));
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const where = parseTopic(topic);
    if (where?.kind !== 'records') return;
    this.counters.received++;
    let value: unknown;
    let recordId: string | null = null;
    try {
      value = JSON.parse(payload.toString('utf8'));
      const id = (value as { recordId?: unknown } | null)?.recordId;
      if (typeof id === 'string') recordId = id;
    } catch {
      value = undefined;
    }
    remember(this.arrivals, { recordId, topic, at: new Date().toISOString() });
    if (this.mode.kind === 'silent') {
      this.counters.ignored++;
      return;
    }
    // The acks topic is the records topic's sibling (parseTopic has checked its form).
    const ackTopic = `${topic.slice(0, -'records'.length)}acks`;
    if (this.mode.kind === 'reject' && recordId !== null && !this.book.has(recordId)) {
      this.enqueueAnswer({
        topic: ackTopic,
        ack: { recordId, status: 'rejected', reason: this.mode.reason },
      });
      return;
    }
    const decision: Decision =
      value === undefined
        ? { problem: 'payload is not JSON' }
        : this.book.decideParsed(where.issuer, where.line, value);
    if (decision.ack === undefined) {
      this.counters.unanswerable++;
      this.log.warn({ topic, problem: decision.problem }, 'record cannot be answered');
      return;
    }
    const out: Outgoing = { topic: ackTopic, ack: decision.ack };
    // The payload passed the strict contract check, so it is stored as it came.
    if (decision.record)
      out.line = `{"at":"${new Date().toISOString()}","record":${payload.toString('utf8')}}\n`;
    this.enqueueAnswer(out);
  }

  private enqueueAnswer(out: Outgoing): void {
    this.queue.push(out);
    this.kick();
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flushLoop()
      .catch((err) => {
        // Unanswered records are sent again by the line; nothing acknowledged is lost.
        this.log.error({ err: (err as Error).message }, 'registry simulator cannot write its file');
        this.queue = [];
      })
      .finally(() => {
        this.flushing = undefined;
        // An answer queued after the loop's last look but before this point still goes out.
        if (this.queue.length > 0) this.kick();
      });
  }

  /** Writes accepted records (one fsync for the batch), then publishes the batch's acks in order. */
  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      const text = batch.map((o) => o.line ?? '').join('');
      if (text.length > 0 && this.file) {
        await this.file.write(text);
        await this.file.datasync();
      }
      const client = this.client;
      if (client) holdWrites(client);
      for (const o of batch) {
        const status = o.ack.status;
        if (status === 'accepted') this.counters.accepted++;
        else if (status === 'duplicate') this.counters.duplicates++;
        else this.counters.rejected++;
        const answer: Answer = { ...o.ack, topic: o.topic };
        remember(this.answers, answer);
        client?.publish(o.topic, JSON.stringify(o.ack), { qos: 1 });
        this.emit('answer', answer);
      }
    }
  }
}

/** The logs of arrivals and answers keep the most recent ones (at least this many), so a long hand-run stays small. */
const MEMORY = 200_000;

/** Trims in steps of a quarter, so that a long run does not move the whole list on every message. */
function remember<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > MEMORY + MEMORY / 4) list.splice(0, list.length - MEMORY);
}
