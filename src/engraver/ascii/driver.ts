/**
 * The `ascii-serial` transport: an `Engraver` that speaks the sl1-ascii command set (spec
 * engraver-serial.md) over a serial port.
 *
 * Layers: framing.ts turns bytes into lines, messages.ts lines into typed messages, session.ts
 * decides (purely) what each message means for the exchange in progress; this file owns the
 * port, the one reply timer, reconnection and the `Engraver` API on top.
 */

import { StamplineError } from '../../errors.js';
import { Backoff, RequestQueue } from '../backoff.js';
import { LinkWatch } from '../link-watch.js';
import { type Logger, type SerialEngraverOptions, silentLogger } from '../options.js';
import { jobOutcome } from '../outcome.js';
import type { EngraveJob, Engraver, EngraverStatus, JobOutcome, LinkEvent, WaitOptions } from '../types.js';
import type { ExchangeFailure, ExchangeResult } from './exchange.js';
import { describeBytes, type Frame, FrameDecoder } from './framing.js';
import {
  type Command,
  type EngraverEvent,
  encodeCommand,
  jobProblem,
  parseIncoming,
  type Reply,
} from './messages.js';
import { type AsciiPort, type AsciiPortFactory, closeQuietly, openPort, serialPortFactory } from './port.js';
import { AsciiSession, describe, type SessionAction } from './session.js';

export type { AsciiPort, AsciiPortFactory } from './port.js';

export interface AsciiSerialEngraverOptions extends SerialEngraverOptions {
  /** Default: a real `SerialPort` (8N1, no flow control). Tests pass `SerialPortMock`. */
  openPort?: AsciiPortFactory;
  /** How often `waitForEnd` asks `$STAT` in case an event was lost; default 250 ms. */
  pollIntervalMs?: number;
  /**
   * When the link has been idle this long, `$STAT` goes out: on a serial line silence is the only
   * sign of a pulled cable or a dead engraver. 0 turns it off. Default 1000 ms.
   */
  keepaliveMs?: number;
  /** Randomness of the reconnect jitter, replaceable in tests. */
  random?: () => number;
}

const DEFAULT_POLL_MS = 250;
const DEFAULT_KEEPALIVE_MS = 1000;
/**
 * After a timeout, replies to the unanswered line are still expected for this many request
 * timeouts; the next line waits until then, so a late reply cannot pass for its answer.
 */
const LATE_WINDOW = 2;
/** Outcomes remembered for `waitForEnd`, which may be called after the event came. */
const REMEMBERED_OUTCOMES = 32;

interface Pending {
  command: Command;
  resolve: (reply: Reply) => void;
  reject: (err: StamplineError) => void;
}

export class AsciiSerialEngraver implements Engraver {
  readonly url: string;
  private readonly path: string;
  private readonly baudRate: number;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly openPort: AsciiPortFactory;
  private readonly log: Logger;
  private readonly link: LinkWatch;
  private readonly backoff: Backoff;
  private readonly queue = new RequestQueue();
  private readonly session = new AsciiSession();
  private readonly eventListeners = new Set<(event: EngraverEvent) => void>();
  private readonly outcomes = new Map<number, JobOutcome>();

  private running = false;
  private linkUp = false;
  private port: AsciiPort | undefined;
  private decoder = new FrameDecoder();
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private replyTimer: NodeJS.Timeout | undefined;
  private pending: Pending | undefined;
  /** After a timeout, late replies may still come until then; the next exchange waits. */
  private drainUntil = 0;
  private lastExchangeAt = 0;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly keepaliveMs: number;
  private stopSignal = new AbortController();
  /** The last port being closed, so `stop()` can wait for it. */
  private closing: Promise<void> = Promise.resolve();
  /** Why the link last failed, for the message of `whenConnected`. */
  private lastFailure: string | undefined;

  constructor(options: AsciiSerialEngraverOptions) {
    this.url = options.url;
    this.path = options.path;
    this.baudRate = options.baudRate;
    this.timeoutMs = options.requestTimeoutMs;
    this.pollMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.openPort = options.openPort ?? serialPortFactory;
    this.log = (options.logger ?? silentLogger).child({ engraver: this.url });
    this.link = new LinkWatch(this.log);
    this.backoff = new Backoff({
      ...options.reconnect,
      ...(options.random ? { random: options.random } : {}),
    });
  }

  get connected(): boolean {
    return this.linkUp;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopSignal = new AbortController();
    if (this.keepaliveMs > 0) this.keepaliveTimer = setInterval(() => this.keepalive(), this.keepaliveMs / 2);
    await this.connect();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopSignal.abort(this.linkDownError('the driver was stopped'));
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.lose('stopped');
    await this.connecting?.catch(() => undefined);
    await this.closing;
  }

  onLink(listener: (event: LinkEvent) => void): () => void {
    return this.link.on(listener);
  }

  /** Subscribes to the engraver's unasked `$DONE` and `$FAULT` events. */
  onEvent(listener: (event: EngraverEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  whenConnected(timeoutMs: number): Promise<void> {
    if (this.linkUp) return Promise.resolve();
    return this.link.nextUp(timeoutMs, () => {
      const why = this.lastFailure ? ` (last: ${this.lastFailure})` : '';
      return this.linkDownError(`not connected within ${timeoutMs} ms${why}`);
    });
  }

  async readStatus(): Promise<EngraverStatus> {
    const reply = await this.request({ kind: 'STAT' });
    return (reply as Extract<Reply, { kind: 'STAT' }>).status;
  }

  /** The serial protocol has no interface version. */
  readInterfaceVersion(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  async loadJob(job: EngraveJob): Promise<void> {
    const problem = jobProblem(job);
    if (problem !== undefined) {
      throw new StamplineError('ENGRAVER_BAD_JOB', `job cannot be sent to the engraver: ${problem}`, {
        engraver: this.url,
        jobId: job?.jobId,
        problem,
      });
    }
    await this.request({ kind: 'JOB', job });
    this.log.debug({ jobId: job.jobId }, 'job loaded');
  }

  async startJob(jobId: number): Promise<void> {
    if (!Number.isInteger(jobId) || jobId < 1 || jobId > 0xffffffff) {
      throw new StamplineError('ENGRAVER_BAD_JOB', `jobId ${String(jobId)} is not an integer 1..4294967295`, {
        engraver: this.url,
        jobId,
      });
    }
    // An outcome of an earlier run of this id must not end the wait for this one. Events may
    // arrive before the ACK, so forget it before $GO goes out, not after.
    await this.request({ kind: 'GO', jobId }, () => this.outcomes.delete(jobId));
    this.log.info({ jobId }, 'job started');
  }

  async waitForEnd(jobId: number, options: WaitOptions): Promise<JobOutcome> {
    const known = this.outcomes.get(jobId);
    if (known) return known;
    const deadline = Date.now() + options.timeoutMs;
    const stop = this.stopSignal.signal;
    return new Promise<JobOutcome>((resolve, reject) => {
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      let lastStatus: EngraverStatus | undefined;
      let lastError: unknown;
      const finish = (err: unknown, outcome?: JobOutcome) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        offEvent();
        options.signal?.removeEventListener('abort', onAbort);
        stop.removeEventListener('abort', onStop);
        if (outcome) resolve(outcome);
        else reject(err);
      };
      const onAbort = () => finish(options.signal?.reason);
      const onStop = () => finish(this.linkDownError(`stopped while waiting for job ${jobId}`));
      const offEvent = this.onEvent(() => {
        const outcome = this.outcomes.get(jobId);
        if (outcome) finish(undefined, outcome);
      });
      const poll = async () => {
        timer = undefined;
        if (finished) return;
        if (Date.now() >= deadline) {
          const seen = lastStatus ? `${lastStatus.state}, activeJob ${lastStatus.activeJob}` : 'not heard';
          const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
          finish(
            new StamplineError(
              'ENGRAVER_TIMEOUT',
              `job ${jobId} had not ended after ${options.timeoutMs} ms (engraver ${seen})${why}`,
              { engraver: this.url, jobId, status: lastStatus, timeoutMs: options.timeoutMs },
            ),
          );
          return;
        }
        try {
          lastStatus = await this.readStatus();
          lastError = undefined;
          const outcome = this.outcomes.get(jobId) ?? jobOutcome(jobId, lastStatus);
          if (outcome) {
            finish(undefined, outcome);
            return;
          }
        } catch (err) {
          // A lost link or a missed reply is not the end of the job: keep asking until time is up.
          if (!(err instanceof StamplineError) || !err.transient) {
            finish(err);
            return;
          }
          lastError = err;
          this.log.debug({ jobId, err: err.message }, 'status poll failed while waiting for the job');
        }
        if (!finished) timer = setTimeout(poll, Math.max(0, Math.min(this.pollMs, deadline - Date.now())));
      };
      if (options.signal?.aborted) {
        finish(options.signal.reason);
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      stop.addEventListener('abort', onStop, { once: true });
      if (stop.aborted) onStop();
      void poll();
    });
  }

  async abort(): Promise<void> {
    await this.request({ kind: 'ABORT' });
    this.log.info('abort sent');
  }

  async reset(): Promise<void> {
    await this.request({ kind: 'RESET' });
    this.log.info('reset sent');
  }

  // ---- requests --------------------------------------------------------------------------------

  /** One command, alone on the link; fails fast when the link is down. */
  private request(command: Command, beforeSend?: () => void): Promise<Reply> {
    return this.queue.run(() => {
      // A suspect link still takes requests (each waits for the $STAT check); a closed one does not.
      if (!this.port) return Promise.reject(this.linkDownError('link is down'));
      beforeSend?.();
      return this.exchange(command);
    });
  }

  private async exchange(command: Command): Promise<Reply> {
    const wait = this.drainUntil - Date.now();
    if (wait > 0) {
      // After a timeout the answer may still be on its way; let it arrive (and be discarded)
      // before asking anything else, so it cannot pass for the answer to the next question.
      await sleep(wait, this.stopSignal.signal);
      this.session.drained();
    }
    if (!this.port) throw this.linkDownError('link is down');
    return new Promise<Reply>((resolve, reject) => {
      this.pending = { command, resolve, reject };
      this.perform(this.session.begin(command));
    });
  }

  private perform(actions: readonly SessionAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'send':
          this.send(action.command);
          break;
        case 'arm-timer':
          clearTimeout(this.replyTimer);
          this.replyTimer = setTimeout(() => {
            this.replyTimer = undefined;
            this.perform(this.session.timeout());
          }, this.timeoutMs);
          break;
        case 'disarm-timer':
          clearTimeout(this.replyTimer);
          this.replyTimer = undefined;
          break;
        case 'settle':
          this.settle(action.command, action.result);
          break;
        case 'event':
          this.onEngraverEvent(action.event);
          break;
        case 'discard':
          this.log.warn(
            { message: action.message, why: action.why },
            `reply discarded (${action.why}): ${action.detail}`,
          );
          break;
        case 'link-suspect':
          this.log.warn({ reason: action.reason }, 'link suspect: $STAT goes out before anything else');
          this.markDown(action.reason);
          break;
        case 'link-verified':
          if (!this.linkUp) {
            this.linkUp = true;
            this.lastFailure = undefined;
            this.backoff.reset();
            this.log.info({ status: action.status }, 'engraver link up');
            this.link.emit({ kind: 'up', status: action.status });
          }
          break;
        case 'link-lost':
          this.log.warn({ reason: action.reason }, 'link presumed lost');
          this.lose(action.reason);
          break;
      }
    }
  }

  private settle(command: Command, result: ExchangeResult): void {
    const pending = this.pending;
    this.pending = undefined;
    this.lastExchangeAt = Date.now();
    if (!result.ok && result.failure.kind === 'timeout')
      this.drainUntil = Date.now() + LATE_WINDOW * this.timeoutMs;
    if (!pending) return;
    if (result.ok) pending.resolve(result.reply);
    else pending.reject(this.failureError(command, result.failure));
  }

  private send(command: Command): void {
    const port = this.port;
    if (!port) return;
    const line = encodeCommand(command);
    this.log.debug({ line: describeBytes(line) }, 'send');
    port.write(line, (err) => {
      if (err) this.portGone(port, `write failed: ${err.message}`);
    });
  }

  // ---- receiving -------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) this.onFrame(frame);
  }

  private onFrame(frame: Frame): void {
    if (frame.kind === 'discarded') {
      this.log.warn(
        { reason: frame.reason, length: frame.length, bytes: describeBytes(frame.bytes) },
        `discarded ${frame.length} bytes from the engraver: ${frame.detail}`,
      );
      return;
    }
    const parsed = parseIncoming(frame.fields);
    if (!parsed.ok) {
      this.log.warn({ line: frame.body }, `ignored a line the protocol does not allow: ${parsed.problem}`);
      return;
    }
    this.log.debug({ line: frame.body }, 'received');
    this.perform(this.session.receive(parsed.value));
  }

  private onEngraverEvent(event: EngraverEvent): void {
    const outcome: JobOutcome =
      event.kind === 'DONE'
        ? { kind: 'done', jobId: event.jobId, completed: event.completed }
        : { kind: 'fault', jobId: event.jobId, fault: event.fault };
    this.log.info({ event }, event.kind === 'DONE' ? 'job done' : 'job fault');
    this.outcomes.delete(event.jobId);
    this.outcomes.set(event.jobId, outcome);
    if (this.outcomes.size > REMEMBERED_OUTCOMES) this.outcomes.delete(this.outcomes.keys().next().value!);
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'event listener threw');
      }
    }
  }

  // ---- link supervision ------------------------------------------------------------------------

  private keepalive(): void {
    if (!this.port || this.queue.depth > 0 || Date.now() - this.lastExchangeAt < this.keepaliveMs) return;
    this.request({ kind: 'STAT' }).catch((err: unknown) => {
      this.log.debug({ err: (err as Error).message }, 'keepalive $STAT failed');
    });
  }

  private connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async attempt(): Promise<void> {
    const port = this.openPort({ path: this.path, baudRate: this.baudRate });
    try {
      await openPort(port);
    } catch (err) {
      this.lastFailure = `cannot open ${this.path}: ${(err as Error).message}`;
      this.log.warn({ path: this.path, err: (err as Error).message }, 'serial port could not be opened');
      port.removeAllListeners();
      this.scheduleReconnect();
      return;
    }
    if (!this.running) {
      void closeQuietly(port);
      return;
    }
    this.attach(port);
    // The session asks $STAT before anything else on a new port, so nothing overtakes it.
    try {
      await this.queue.run(() => this.exchange({ kind: 'STAT' }));
    } catch (err) {
      this.lastFailure = `${this.path} is open but the engraver did not answer $STAT: ${(err as Error).message}`;
      this.log.warn(
        { err: (err as Error).message },
        'serial port open but the engraver did not answer $STAT',
      );
      this.lose('no answer to $STAT on connect');
      return;
    }
    // The answered $STAT has brought the link up (see 'link-verified').
  }

  private attach(port: AsciiPort): void {
    this.port = port;
    this.decoder = new FrameDecoder();
    this.session.connected();
    port.on('data', (chunk) => {
      if (this.port === port) this.onData(chunk);
    });
    port.on('error', (err) => this.portGone(port, `port error: ${err.message}`));
    port.on('close', () => this.portGone(port, 'port closed'));
  }

  private portGone(port: AsciiPort, reason: string): void {
    if (this.port !== port) return;
    this.log.warn({ reason }, 'serial port lost');
    this.lose(reason);
  }

  /** Drops the port (if any), fails what is in flight, tells listeners, and plans a reconnect. */
  private lose(reason: string): void {
    const port = this.port;
    if (port) {
      this.port = undefined;
      for (const frame of this.decoder.end()) this.onFrame(frame);
      this.closing = closeQuietly(port);
    }
    this.perform(this.session.linkDown(reason));
    clearTimeout(this.replyTimer);
    this.replyTimer = undefined;
    this.markDown(reason);
    this.scheduleReconnect();
  }

  private markDown(reason: string): void {
    if (!this.linkUp) return;
    this.linkUp = false;
    this.log.warn({ reason }, 'engraver link down');
    this.link.emit({ kind: 'down', reason });
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delayMs = this.backoff.next();
    this.log.debug({ delayMs }, 'reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.running && !this.port) void this.connect();
    }, delayMs);
  }

  // ---- errors ----------------------------------------------------------------------------------

  private linkDownError(message: string, context: Record<string, unknown> = {}): StamplineError {
    return new StamplineError('ENGRAVER_LINK_DOWN', `engraver ${this.url}: ${message}`, {
      engraver: this.url,
      ...context,
    });
  }

  private failureError(command: Command, failure: ExchangeFailure): StamplineError {
    const what = describe(command);
    const context = { engraver: this.url, command: command.kind, failure };
    switch (failure.kind) {
      case 'refused': {
        const code =
          failure.reason === 'BUSY'
            ? 'ENGRAVER_BUSY'
            : failure.reason === 'FAULT'
              ? 'ENGRAVER_FAULT'
              : 'ENGRAVER_REJECTED';
        const why = {
          BUSY: 'the engraver is marking',
          FAULT: 'the engraver is in FAULT; reset it first',
          NOJOB: 'no job with that id is loaded',
          BADJOB: 'the engraver cannot use the job as sent',
        }[failure.reason];
        return new StamplineError(
          code,
          `engraver ${this.url} refused ${what} (${failure.reason}): ${why}`,
          context,
        );
      }
      case 'corrupted':
        return new StamplineError(
          'ENGRAVER_PROTOCOL',
          `engraver ${this.url} could not read ${what} twice (NAK CHECKSUM): the line is corrupting data`,
          context,
        );
      case 'timeout':
        if (!failure.sent || failure.waitingFor !== 'reply') {
          return this.linkDownError(
            `no answer to $STAT before ${what}; ${what} was not carried out, reconnecting`,
            {
              command: command.kind,
              failure,
            },
          );
        }
        return new StamplineError(
          'ENGRAVER_TIMEOUT',
          `engraver ${this.url} did not answer ${what} within ${this.timeoutMs} ms; it may or may not have been carried out`,
          context,
        );
      case 'link-down':
        return this.linkDownError(`${failure.detail} during ${what}`, { command: command.kind, failure });
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
