/**
 * The Modbus engraver driver (TCP and RTU): link supervision, the job cycle of spec
 * engraver-modbus.md through a register-map profile, and typed failures.
 *
 * Link: `start()` connects; a lost link (socket closed, port gone, or no reply to several requests
 * in a row) emits `down` and reconnects with exponential backoff and jitter. After every connect
 * the status (with the interface version) is read before any other request, and delivered with
 * `up`. Requests made while the link is down fail at once with ENGRAVER_LINK_DOWN.
 *
 * Requests: one at a time through a `RequestQueue`, each with the request timeout. A job cycle is
 * as lean as the protocol allows: the load is one FC16 write, the start one FC5 write, and the
 * status read that confirms the start is also the first poll of `waitForEnd`.
 */

import { StamplineError } from '../../errors.js';
import { Backoff, RequestQueue } from '../backoff.js';
import { LinkWatch } from '../link-watch.js';
import {
  DEFAULT_RECONNECT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type EngraverOptions,
  type Logger,
  silentLogger,
} from '../options.js';
import { jobOutcome } from '../outcome.js';
import { DEFAULT_PROFILE, loadProfile, type ModbusProfile } from '../profile.js';
import {
  type EngraveJob,
  type Engraver,
  type EngraverStatus,
  FAULT,
  faultName,
  type JobOutcome,
  type LinkEvent,
  type WaitOptions,
} from '../types.js';
import { formatEngraverUrl, type ModbusRtuUrl, type ModbusTcpUrl, parseEngraverUrl } from '../url.js';
import type { ModbusConnection, ModbusRequest } from './connection.js';
import {
  assertJob,
  commandWrites,
  type DecodedStatus,
  decodeStatus,
  jobWrites,
  mergeReads,
  type RegisterRead,
  statusReads,
} from './register-map.js';
import { openRtuConnection } from './rtu.js';
import { openTcpConnection } from './tcp.js';

export interface ModbusEngraverOptions extends Partial<Omit<EngraverOptions, 'url'>> {
  url: string;
  /** The register map; default: the URL's `profile` parameter, else sl1-modbus. */
  profile?: ModbusProfile;
  /** How often `waitForEnd` reads the status while the engraver marks; default 100. */
  pollIntervalMs?: number;
  /** TCP connect timeout; default twice the request timeout, at least 2000. */
  connectTimeoutMs?: number;
  /** After this many request timeouts in a row the link is presumed lost; default 2. */
  maxConsecutiveTimeouts?: number;
  /**
   * While idle, the status is read this often, so a dead serial line or half-open socket is noticed
   * before the next job needs it; default 2000, 0 turns it off.
   */
  heartbeatMs?: number;
  /** Randomness of the reconnect jitter, replaceable in tests. */
  random?: () => number;
}

type Settings = Required<
  Pick<ModbusEngraverOptions, 'pollIntervalMs' | 'maxConsecutiveTimeouts' | 'heartbeatMs'>
> & {
  requestTimeoutMs: number;
  reconnect: { initialMs: number; maxMs: number };
};

/** What the driver saw right after it started a job, so `waitForEnd` need not ask again. */
interface StartRecord {
  jobId: number;
  status: EngraverStatus;
}

export abstract class ModbusEngraver implements Engraver {
  readonly url: string;
  protected readonly profile: ModbusProfile;
  protected readonly settings: Settings;
  protected readonly log: Logger;
  private readonly link: LinkWatch;
  private readonly queue = new RequestQueue();
  private readonly backoff: Backoff;
  private connection: ModbusConnection | undefined;
  private running = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connecting: Promise<void> | undefined;
  private lastStatus: EngraverStatus | undefined;
  private lastStart: StartRecord | undefined;
  private readonly reads: { status: RegisterRead[]; withInterface: RegisterRead[] };
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private lastActivityAt = 0;

  protected constructor(options: ModbusEngraverOptions, profileName: string | undefined) {
    this.url = options.url;
    this.profile = options.profile ?? loadProfile(profileName ?? DEFAULT_PROFILE);
    this.settings = {
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      reconnect: options.reconnect ?? DEFAULT_RECONNECT,
      pollIntervalMs: options.pollIntervalMs ?? 100,
      maxConsecutiveTimeouts: options.maxConsecutiveTimeouts ?? 2,
      heartbeatMs: options.heartbeatMs ?? 2000,
    };
    this.log = (options.logger ?? silentLogger).child({ engraver: this.url });
    this.link = new LinkWatch(this.log);
    this.reads = { status: statusReads(this.profile, false), withInterface: statusReads(this.profile, true) };
    this.backoff = new Backoff({
      ...this.settings.reconnect,
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /** Opens the transport; rejects with ENGRAVER_LINK_DOWN when it cannot. */
  protected abstract openConnection(): Promise<ModbusConnection>;

  get connected(): boolean {
    return this.connection !== undefined;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.connect();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.stopHeartbeat();
    await this.connecting;
    const connection = this.connection;
    if (connection) await connection.close('stopped');
  }

  onLink(listener: (event: LinkEvent) => void): () => void {
    return this.link.on(listener);
  }

  whenConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return this.link.nextUp(timeoutMs, () => this.linkDown(`not connected within ${timeoutMs} ms`));
  }

  readStatus(): Promise<EngraverStatus> {
    return this.exclusive(async (c) => (await this.readDecoded(c, false)).status);
  }

  readInterfaceVersion(): Promise<number | undefined> {
    const address = this.profile.registers.interface;
    if (address === null) return Promise.resolve(undefined);
    return this.exclusive(async (c) => (await c.request({ fc: 3, address, count: 1 }))[0]);
  }

  async loadJob(job: EngraveJob): Promise<void> {
    assertJob(this.profile, job);
    const writes = jobWrites(this.profile, job);
    await this.exclusive(async (c) => {
      for (const w of writes) await c.request({ fc: 16, address: w.address, values: w.values });
    });
    this.log.debug({ jobId: job.jobId }, 'job loaded');
  }

  async startJob(jobId: number): Promise<void> {
    let before: EngraverStatus | undefined;
    const status = await this.exclusive(async (c) => {
      before = this.lastStatus;
      await this.command(c, 'start');
      return (await this.readDecoded(c, false)).status;
    });
    const refusal = startRefusal(jobId, before, status);
    if (refusal) throw refusal;
    this.lastStart = { jobId, status };
    this.log.info({ jobId, state: status.state }, 'job started');
  }

  async waitForEnd(jobId: number, options: WaitOptions): Promise<JobOutcome> {
    const deadline = Date.now() + options.timeoutMs;
    let status: EngraverStatus | undefined;
    let lastError: unknown;
    const seen = this.lastStart?.jobId === jobId ? this.lastStart.status : undefined;
    this.lastStart = undefined;
    if (seen) {
      const outcome = jobOutcome(jobId, seen);
      if (outcome) return outcome;
      status = seen;
      await sleep(Math.min(this.settings.pollIntervalMs, deadline - Date.now()), options.signal);
    }
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        status = await this.readStatus();
        lastError = undefined;
        const outcome = jobOutcome(jobId, status);
        if (outcome) return outcome;
      } catch (err) {
        // A lost link is not the end of the job: keep asking until the link is back or time is up.
        if (!(err instanceof StamplineError) || !err.transient || err.code === 'ENGRAVER_BUSY') throw err;
        lastError = err;
        this.log.debug({ jobId, err: err.message }, 'status read failed while waiting for the job');
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      await sleep(Math.min(this.settings.pollIntervalMs, left), options.signal);
    }
    const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
    throw new StamplineError(
      'ENGRAVER_TIMEOUT',
      `job ${jobId} had not ended after ${options.timeoutMs} ms (engraver ${status ? `${status.state}, activeJob ${status.activeJob}` : 'not heard'})${why}`,
      { jobId, status, timeoutMs: options.timeoutMs },
    );
  }

  async abort(): Promise<void> {
    await this.exclusive((c) => this.command(c, 'abort'));
    this.log.info('abort sent');
  }

  async reset(): Promise<void> {
    await this.exclusive((c) => this.command(c, 'reset'));
    this.lastStatus = undefined;
    this.log.info('reset sent');
  }

  // ---- link supervision ----------------------------------------------------------------------

  private connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async attempt(): Promise<void> {
    let connection: ModbusConnection;
    try {
      connection = await this.openConnection();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'engraver connection failed');
      this.scheduleReconnect();
      return;
    }
    if (!this.running) {
      await connection.close('stopped');
      return;
    }
    // The status read goes out before the connection is published, so nothing overtakes it.
    let decoded: DecodedStatus;
    try {
      decoded = await this.queue.run(() => this.readDecoded(connection, true));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'engraver connected but its status could not be read');
      await connection.close('status read failed');
      this.scheduleReconnect();
      return;
    }
    if (!this.running || connection.closed) {
      await connection.close('stopped');
      if (this.running) this.scheduleReconnect();
      return;
    }
    this.connection = connection;
    this.backoff.reset();
    connection.onClose((reason) => this.lost(connection, reason));
    this.startHeartbeat();
    this.log.info({ status: decoded.status, interfaceVersion: decoded.interfaceVersion }, 'engraver link up');
    this.link.emit({
      kind: 'up',
      status: decoded.status,
      ...(decoded.interfaceVersion !== undefined ? { interfaceVersion: decoded.interfaceVersion } : {}),
    });
  }

  private lost(connection: ModbusConnection, reason: string): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.lastStatus = undefined;
    this.stopHeartbeat();
    this.log.warn({ reason }, 'engraver link down');
    this.link.emit({ kind: 'down', reason });
    if (this.running) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delayMs = this.backoff.next();
    this.log.debug({ delayMs }, 'reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running) void this.connect();
    }, delayMs);
  }

  private startHeartbeat(): void {
    const every = this.settings.heartbeatMs;
    if (every <= 0) return;
    this.stopHeartbeat();
    this.lastActivityAt = Date.now();
    const beat = () => {
      const idleFor = Date.now() - this.lastActivityAt;
      if (idleFor >= every && this.queue.depth === 0 && this.connection) {
        // A failure here is the point: timeouts in a row close the link and start a reconnect.
        this.readStatus().catch((err: Error) => this.log.debug({ err: err.message }, 'heartbeat failed'));
      }
      this.heartbeatTimer = setTimeout(beat, Math.max(50, every - Math.min(idleFor, every)));
      this.heartbeatTimer.unref();
    };
    this.heartbeatTimer = setTimeout(beat, every);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  // ---- requests ------------------------------------------------------------------------------

  /** Runs `task` alone on the link; fails fast when the link is down. */
  private exclusive<T>(task: (c: ModbusConnection) => Promise<T>): Promise<T> {
    return this.queue.run(() => {
      const c = this.connection;
      if (!c) return Promise.reject(this.linkDown('link is down'));
      this.lastActivityAt = Date.now();
      return task(c);
    });
  }

  private async readDecoded(c: ModbusConnection, withInterface: boolean): Promise<DecodedStatus> {
    const reads = withInterface ? this.reads.withInterface : this.reads.status;
    const results: number[][] = [];
    for (const read of reads)
      results.push(await c.request({ fc: 3, address: read.address, count: read.count }));
    const decoded = decodeStatus(this.profile, mergeReads(reads, results));
    this.lastStatus = decoded.status;
    return decoded;
  }

  private async command(c: ModbusConnection, name: 'start' | 'abort' | 'reset'): Promise<void> {
    for (const w of commandWrites(this.profile, name)) {
      const req: ModbusRequest =
        w.kind === 'coil'
          ? { fc: 5, address: w.address, on: w.on }
          : { fc: 6, address: w.address, value: w.value };
      await c.request(req);
    }
  }

  private linkDown(message: string): StamplineError {
    return new StamplineError('ENGRAVER_LINK_DOWN', `engraver ${this.url}: ${message}`, {
      engraver: this.url,
    });
  }
}

/** Why a start did not take, judged from the status read right after it; undefined if it took. */
export function startRefusal(
  jobId: number,
  before: EngraverStatus | undefined,
  after: EngraverStatus,
): StamplineError | undefined {
  const context = { jobId, status: after };
  if (after.activeJob !== jobId) {
    if (after.state === 'BUSY') {
      // Someone else started a job since ours was loaded: ours must be loaded again.
      return new StamplineError(
        'ENGRAVER_REJECTED',
        `start of job ${jobId} ignored: the engraver is marking job ${after.activeJob}`,
        context,
      );
    }
    if (after.state === 'FAULT') {
      return new StamplineError(
        'ENGRAVER_FAULT',
        `start of job ${jobId} ignored: the engraver is in FAULT ${after.fault} (${faultName(after.fault)}); reset it first`,
        context,
      );
    }
    return new StamplineError(
      'ENGRAVER_REJECTED',
      `start of job ${jobId} did not take: the engraver is ${after.state} with job ${after.activeJob}`,
      context,
    );
  }
  if (after.state === 'FAULT' && after.fault === FAULT.JOB_REJECTED) {
    return new StamplineError(
      'ENGRAVER_REJECTED',
      `engraver rejected job ${jobId} (fault 4: no job loaded, or invalid job registers); nothing was marked`,
      context,
    );
  }
  const unchangedFault =
    after.state === 'FAULT' &&
    before?.state === 'FAULT' &&
    before.activeJob === after.activeJob &&
    before.fault === after.fault;
  if (unchangedFault) {
    // A start in FAULT is ignored; the fault on show is the one from before.
    return new StamplineError(
      'ENGRAVER_FAULT',
      `start of job ${jobId} ignored: the engraver is still in FAULT ${after.fault} (${faultName(after.fault)}); reset it first`,
      context,
    );
  }
  return undefined;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class ModbusTcpEngraver extends ModbusEngraver {
  private readonly target: ModbusTcpUrl;

  constructor(options: ModbusEngraverOptions) {
    const target = parseEngraverUrl(options.url);
    if (target.transport !== 'modbus-tcp') {
      throw new StamplineError('ENGRAVER_BAD_URL', `${options.url} is not a modbus-tcp URL`, {
        url: options.url,
      });
    }
    super(options, target.profile);
    this.target = target;
  }

  protected openConnection(): Promise<ModbusConnection> {
    const timeout = this.settings.requestTimeoutMs;
    return openTcpConnection({
      host: this.target.host,
      port: this.target.port,
      unitId: this.target.unitId,
      requestTimeoutMs: timeout,
      connectTimeoutMs: Math.max(2000, 2 * timeout),
      maxConsecutiveTimeouts: this.settings.maxConsecutiveTimeouts,
      busyExceptions: this.profile.busyExceptions,
      describe: formatEngraverUrl(this.target),
      logger: this.log,
    });
  }
}

export class ModbusRtuEngraver extends ModbusEngraver {
  private readonly target: ModbusRtuUrl;

  constructor(options: ModbusEngraverOptions) {
    const target = parseEngraverUrl(options.url);
    if (target.transport !== 'modbus-rtu') {
      throw new StamplineError('ENGRAVER_BAD_URL', `${options.url} is not a modbus-rtu URL`, {
        url: options.url,
      });
    }
    super(options, target.profile);
    this.target = target;
  }

  protected openConnection(): Promise<ModbusConnection> {
    return openRtuConnection({
      path: this.target.path,
      baudRate: this.target.baudRate,
      parity: this.target.parity,
      stopBits: this.target.stopBits,
      unitId: this.target.unitId,
      requestTimeoutMs: this.settings.requestTimeoutMs,
      maxConsecutiveTimeouts: this.settings.maxConsecutiveTimeouts,
      busyExceptions: this.profile.busyExceptions,
      describe: formatEngraverUrl(this.target),
      logger: this.log,
    });
  }
}
