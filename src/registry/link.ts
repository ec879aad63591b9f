/**
 * The line's MQTT connection to the registry broker: one persistent session (clean session off on
 * 3.1.1, a session expiry on 5) so that acks published while the line was away are delivered when
 * it comes back; a retained status with a last will; reconnection with backoff; QoS 1.
 *
 * The link knows nothing of the outbox: it publishes what it is given while it is up, hands every
 * ack it hears to its listeners, and says when it goes up or down. A PUBACK only means the broker
 * has a message, so the link reports no delivery: the registry's ack does that.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { StamplineError } from '../errors.js';
import { type RegistryLogger, silentLogger } from './logger.js';
import { type Ack, ackSchema, describeIssues, type Topics } from './record.js';

export interface MqttSettings {
  /** `mqtt://host:port`, `mqtts://host:port` (TLS), `ws://host:port/path` or `wss://...` (TLS). */
  url: string;
  /** 4 is MQTT 3.1.1, 5 is MQTT 5. Default 4, which every broker speaks. */
  protocolVersion?: 4 | 5;
  /** Must stay the same across restarts: the broker keeps the session (and queued acks) under it. */
  clientId: string;
  username?: string;
  password?: string;
  /** Paths of PEM files: the CA that signed the broker's certificate, and this line's certificate and key. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Default true. Turning it off accepts any broker certificate. */
  rejectUnauthorized?: boolean;
  /** Default 30. */
  keepaliveSec?: number;
  /** Default 10,000. */
  connectTimeoutMs?: number;
  /** MQTT 5 only: how long the broker keeps the session while the line is away. Default 7 days. */
  sessionExpirySec?: number;
  /** Reconnection delay, doubling from the first to the last. Defaults 500 and 30,000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export type LinkState = 'stopped' | 'connecting' | 'up' | 'down';

export interface LinkStatus {
  state: LinkState;
  /** The broker URL without any credentials. */
  url: string;
  protocolVersion: 4 | 5;
  clientId: string;
  /** When the link entered its present state (ISO time), or null before start. */
  since: string | null;
  /** Connections made since start. */
  connects: number;
  lastError: string | null;
}

export interface LinkOptions {
  mqtt: MqttSettings;
  topics: Topics;
  /** The line's software version, published in the status. */
  version: string;
  logger?: RegistryLogger;
}

export interface LinkEvents {
  up: [{ sessionPresent: boolean }];
  down: [{ error: string | null }];
  ack: [Ack];
}

/** An active alarm as the retained status tells it (docs/registry.md). */
export interface StatusAlarm {
  kind: string;
  severity: string;
  since: string;
}

const OFFLINE = JSON.stringify({ online: false });
const DEFAULT_SESSION_EXPIRY_SEC = 7 * 24 * 3600;
/** MQTT's largest receive maximum; a 3.1.1 broker advertises none. */
const UNLIMITED_INFLIGHT = 65_535;

/** Checks the settings without touching the network, so a bad configuration stops start-up. */
export function validateMqttSettings(settings: MqttSettings): URL {
  let url: URL;
  try {
    url = new URL(settings.url);
  } catch {
    throw new StamplineError('REGISTRY_BAD_CONFIG', `mqtt url ${JSON.stringify(settings.url)} is not a URL`, {
      url: settings.url,
    });
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new StamplineError(
      'REGISTRY_BAD_CONFIG',
      `mqtt url must start with mqtt://, mqtts://, ws:// or wss://, not ${url.protocol}//`,
      { url: redactUrl(settings.url) },
    );
  }
  const version = settings.protocolVersion ?? 4;
  if (version !== 4 && version !== 5) {
    throw new StamplineError(
      'REGISTRY_BAD_CONFIG',
      `mqtt protocolVersion must be 4 (3.1.1) or 5, not ${version}`,
      {
        protocolVersion: version,
      },
    );
  }
  if (!settings.clientId || settings.clientId.length > 128) {
    throw new StamplineError('REGISTRY_BAD_CONFIG', 'mqtt clientId must be 1..128 characters', {
      clientId: settings.clientId,
    });
  }
  if ((settings.cert === undefined) !== (settings.key === undefined)) {
    throw new StamplineError('REGISTRY_BAD_CONFIG', 'mqtt cert and key must be given together', {});
  }
  if ((url.protocol === 'mqtt:' || url.protocol === 'ws:') && (settings.ca || settings.cert)) {
    throw new StamplineError('REGISTRY_BAD_CONFIG', 'mqtt ca, cert and key need an mqtts:// or wss:// url', {
      url: redactUrl(settings.url),
    });
  }
  return url;
}

export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return raw;
  }
}

async function readPem(path: string | undefined, what: string): Promise<Buffer | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (err) {
    throw new StamplineError(
      'REGISTRY_BAD_CONFIG',
      `cannot read the mqtt ${what} file ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

export class RegistryLink extends EventEmitter<LinkEvents> {
  private client: MqttClient | undefined;
  private state: LinkState = 'stopped';
  private since: string | null = null;
  private lastError: string | null = null;
  private connects = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay = 0;
  private stopping: Promise<void> | undefined;
  /** Publishes written but not yet PUBACKed, capped by the broker's receive maximum. */
  private awaitingPuback = 0;
  private pubackLimit = UNLIMITED_INFLIGHT;
  /** Records waiting for a place under the receive maximum; `backlogHead` is the next to go. */
  private backlog: Buffer[] = [];
  private backlogHead = 0;
  /** Bumped on every connection, so PUBACKs of an earlier connection do not skew the count. */
  private generation = 0;
  private readonly log: RegistryLogger;
  /** The line's active alarms, carried by the online status; `onlineSince` stays per connection. */
  private alarms: StatusAlarm[] = [];
  private onlineSince = '';

  constructor(private readonly opts: LinkOptions) {
    super();
    this.log = (opts.logger ?? silentLogger).child({ component: 'registry-link' });
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  /**
   * Reads the TLS files and starts connecting. Resolves without waiting for the broker: a broker
   * that cannot be reached is a link that is down, not a failed start. Throws REGISTRY_BAD_CONFIG.
   */
  async start(): Promise<void> {
    if (this.client) return;
    const settings = this.opts.mqtt;
    validateMqttSettings(settings);
    const [ca, cert, key] = await Promise.all([
      readPem(settings.ca, 'CA'),
      readPem(settings.cert, 'certificate'),
      readPem(settings.key, 'key'),
    ]);
    const protocolVersion = settings.protocolVersion ?? 4;
    const options: IClientOptions = {
      protocolVersion,
      clientId: settings.clientId,
      clean: false,
      keepalive: settings.keepaliveSec ?? 30,
      connectTimeout: settings.connectTimeoutMs ?? 10_000,
      // Reconnection is ours (with backoff); MQTT.js only knows a fixed period.
      reconnectPeriod: 0,
      will: { topic: this.opts.topics.status, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
      rejectUnauthorized: settings.rejectUnauthorized ?? true,
    };
    const log = mqttLog();
    if (log) options.log = log;
    if (protocolVersion === 5) {
      options.properties = { sessionExpiryInterval: settings.sessionExpirySec ?? DEFAULT_SESSION_EXPIRY_SEC };
    }
    if (settings.username !== undefined) options.username = settings.username;
    if (settings.password !== undefined) options.password = settings.password;
    if (ca) options.ca = ca;
    if (cert) options.cert = cert;
    if (key) options.key = key;
    this.stopping = undefined;
    this.setState('connecting');
    this.log.info(
      { url: redactUrl(settings.url), protocolVersion, clientId: settings.clientId },
      'connecting to the registry broker',
    );
    const client = mqtt.connect(settings.url, options);
    this.client = client;
    client.on('connect', (connack) =>
      this.onConnect(client, connack.sessionPresent, connack.properties?.receiveMaximum),
    );
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => {
      this.lastError = err.message;
      this.log.warn({ err: err.message }, 'registry broker error');
    });
    client.on('close', () => this.onClose(client));
  }

  /**
   * Publishes the offline status (retained) and disconnects cleanly, so the broker does not send
   * the last will; when the link is down it just closes. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (!client) return;
    this.clearBacklog();
    const wasUp = this.state === 'up';
    this.setState('stopped');
    if (wasUp && client.connected) {
      try {
        await withTimeout(
          client.publishAsync(this.opts.topics.status, OFFLINE, { qos: 1, retain: true }),
          5_000,
          'offline status',
        );
        await withTimeout(client.endAsync(), 5_000, 'disconnect');
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'clean disconnect failed; closing the connection');
        await client.endAsync(true);
      }
    } else {
      await client.endAsync(true);
    }
    this.client = undefined;
    this.log.info({}, 'registry link stopped');
  }

  /** Queues one record for publishing at QoS 1. Throws REGISTRY_LINK_DOWN when the link is not up. */
  publishRecord(payload: Buffer): void {
    if (this.state !== 'up') {
      throw new StamplineError('REGISTRY_LINK_DOWN', 'the registry broker is not connected', {});
    }
    this.backlog.push(payload);
    this.pump();
  }

  /**
   * Sets the active alarms the retained status carries, and publishes it again at once when the
   * link is up, so whoever watches the line's status sees an alarm as it is raised or cleared.
   */
  setAlarms(alarms: StatusAlarm[]): void {
    this.alarms = alarms.map((a) => ({ kind: a.kind, severity: a.severity, since: a.since }));
    if (this.state === 'up' && this.client) this.publishOnline(this.client);
  }

  private publishOnline(client: MqttClient): void {
    const online = JSON.stringify({
      online: true,
      version: this.opts.version,
      since: this.onlineSince,
      alarms: this.alarms,
    });
    client.publish(this.opts.topics.status, online, { qos: 1, retain: true }, (err) => {
      if (err) this.log.warn({ err: err.message }, 'cannot publish the online status');
    });
  }

  status(): LinkStatus {
    return {
      state: this.state,
      url: redactUrl(this.opts.mqtt.url),
      protocolVersion: this.opts.mqtt.protocolVersion ?? 4,
      clientId: this.opts.mqtt.clientId,
      since: this.since,
      connects: this.connects,
      lastError: this.lastError,
    };
  }

  private pump(): void {
    const client = this.client;
    if (!client || this.state !== 'up') return;
    const generation = this.generation;
    holdWrites(client);
    while (this.awaitingPuback < this.pubackLimit && this.backlogHead < this.backlog.length) {
      const payload = this.backlog[this.backlogHead++]!;
      this.awaitingPuback++;
      client.publish(this.opts.topics.records, payload, { qos: 1 }, () => {
        if (generation !== this.generation) return;
        this.awaitingPuback--;
        this.pump();
      });
    }
    if (this.backlogHead === this.backlog.length) this.clearBacklog();
  }

  private clearBacklog(): void {
    this.backlog = [];
    this.backlogHead = 0;
  }

  private onConnect(client: MqttClient, sessionPresent: boolean, receiveMaximum: number | undefined): void {
    if (client !== this.client || this.state === 'stopped') return;
    noDelay(client);
    this.connects++;
    this.reconnectDelay = 0;
    this.lastError = null;
    this.generation++;
    this.awaitingPuback = 0;
    this.pubackLimit = receiveMaximum ?? UNLIMITED_INFLIGHT;
    // Subscribing first puts the SUBSCRIBE ahead of any record on the wire, so no ack can be missed.
    client.subscribe(this.opts.topics.acks, { qos: 1 }, (err) => {
      if (err) this.log.error({ err: err.message }, 'cannot subscribe to the acks topic');
    });
    this.onlineSince = new Date().toISOString();
    this.publishOnline(client);
    this.setState('up');
    this.log.info({ sessionPresent, connects: this.connects }, 'registry link up');
    this.emit('up', { sessionPresent });
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client || this.state === 'stopped') return;
    this.clearBacklog();
    if (this.state !== 'down') {
      this.setState('down');
      this.log.warn({ err: this.lastError }, 'registry link down; retrying with backoff');
      this.emit('down', { error: this.lastError });
    }
    this.scheduleReconnect(client);
  }

  private scheduleReconnect(client: MqttClient): void {
    if (this.reconnectTimer) return;
    const min = this.opts.mqtt.reconnectMinMs ?? 500;
    const max = this.opts.mqtt.reconnectMaxMs ?? 30_000;
    this.reconnectDelay = this.reconnectDelay === 0 ? min : Math.min(max, this.reconnectDelay * 2);
    // Jitter, so that lines cut off together do not all come back in the same instant.
    const delay = Math.round(this.reconnectDelay * (0.5 + Math.random() / 2));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (client !== this.client || this.state === 'stopped') return;
      // The state stays `down` while retrying, so `since` says how long the link has been lost.
      client.reconnect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== this.opts.topics.acks) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      this.log.warn({ topic, bytes: payload.length }, 'ignoring an ack that is not JSON');
      return;
    }
    if (isPlainAck(parsed)) {
      this.emit('ack', parsed);
      return;
    }
    const ack = ackSchema.safeParse(parsed);
    if (!ack.success) {
      this.log.warn(
        { topic, problem: describeIssues(ack.error) },
        'ignoring an ack that does not match the contract',
      );
      return;
    }
    this.emit('ack', ack.data);
  }

  private setState(state: LinkState): void {
    if (this.state === state) return;
    this.state = state;
    this.since = new Date().toISOString();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Records and acks are small packets answered by small packets; with Nagle's algorithm on, each
 * exchange can stall for the peer's delayed ACK (tens of ms), which caps the flow far below what
 * the broker can take.
 */
export function noDelay(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => void } | undefined;
  stream?.setNoDelay?.(true);
  coalesceWrites(client);
}

const coalescing = new WeakSet<object>();
const holding = new WeakSet<object>();

type CorkableStream = NodeJS.EventEmitter & { cork?: () => void; uncork?: () => void; destroyed?: boolean };

/**
 * Holds the client's socket writes until the event loop's next turn, so that the packets written
 * meanwhile leave in one write. MQTT.js writes each packet (and each answer to an incoming one) on
 * its own, and on a busy flow those system calls are most of the cost of a message.
 */
export function holdWrites(client: MqttClient): void {
  const stream = client.stream as CorkableStream | undefined;
  if (!stream?.cork || !stream.uncork || holding.has(stream)) return;
  holding.add(stream);
  stream.cork();
  setImmediate(() => {
    holding.delete(stream);
    if (!stream.destroyed) stream.uncork!();
  });
}

/** Holds writes while each chunk of input is handled, so the answers to the whole chunk go in one write. */
function coalesceWrites(client: MqttClient): void {
  const stream = client.stream as CorkableStream | undefined;
  if (!stream?.cork || !stream.uncork || coalescing.has(stream)) return;
  coalescing.add(stream);
  stream.on('data', () => holdWrites(client));
}

/**
 * MQTT.js logs through the `debug` package, whose every call costs a check even when nothing is
 * shown: a measurable share of a busy flow. Its log stays available with `DEBUG=mqttjs*`.
 */
export function mqttLog(): IClientOptions['log'] {
  return /mqttjs/.test(process.env.DEBUG ?? '') ? undefined : () => {};
}

/**
 * The common case, checked without the schema: acks arrive at the rate records leave, and this
 * path is most of what the line spends on each. Anything else goes through `ackSchema`.
 */
function isPlainAck(value: unknown): value is Ack {
  if (typeof value !== 'object' || value === null) return false;
  const { recordId, status, reason } = value as Record<string, unknown>;
  return (
    typeof recordId === 'string' &&
    recordId.length > 0 &&
    (status === 'accepted' || status === 'duplicate' || status === 'rejected') &&
    (reason === undefined || typeof reason === 'string')
  );
}
