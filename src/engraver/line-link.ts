/**
 * The link of the line-oriented drivers (ASCII, command markers): one port, one request on it at
 * a time (one queue), one reply timer, the quiet time after a timeout in which late replies drain
 * before the next request, keepalive, backoff and reconnection, and the link's up/down events.
 *
 * What a line means stays with the driver's session, which is pure: the link hands it frames,
 * timeouts and a lost port through a `LineProtocol`, and carries out the actions it answers. The
 * actions every session has (`arm-timer`, `disarm-timer`, `link-suspect`, `link-lost`) are the
 * link's; the others (send, settle, events, discards) go back to the driver.
 *
 * Text replies carry no id, so a late answer to a timed-out request could pass for the answer to
 * the next one. After a timeout the link therefore waits `LATE_WINDOW` reply timeouts before the
 * next request (the session discards what comes meanwhile), and the session makes the link
 * suspect: the status is read, and answered, before anything else.
 */
import { StamplineError } from '../errors.js';
import { describeBytes } from './ascii/framing.js';
import { Backoff, RequestQueue } from './backoff.js';
import type { LinkPort } from './link-port.js';
import { LinkWatch } from './link-watch.js';
import { type EngraverOptions, type Logger, silentLogger } from './options.js';
import type { EngraverStatus, LinkEvent } from './types.js';

/** After a timeout, late replies are let through and dropped for this many reply timeouts. */
export const LATE_WINDOW = 2;

/** The actions of a session that the link itself carries out. */
export type LinkAction =
  | { kind: 'arm-timer' }
  | { kind: 'disarm-timer' }
  /** A line that answers nothing asked (late, or unasked): logged with the action's other fields. */
  | { kind: 'discard'; why: string; detail: string }
  /** A reply was missed on a sound link: suspect until the status is read again. */
  | { kind: 'link-suspect'; reason: string }
  /** A reply was missed on a suspect link: close it and reconnect. */
  | { kind: 'link-lost'; reason: string };

/** Bytes a decoder could make no frame of, with why. */
export interface DiscardedBytes {
  kind: 'discarded';
  reason: string;
  length: number;
  bytes: Uint8Array;
  detail: string;
}

export interface Decoder<F> {
  push(chunk: Uint8Array): F[];
  /** The stream closed: what is left of an unfinished frame. */
  end(): F[];
}

/** The pure session of a line protocol, as far as the link drives it. */
export interface LineSession<A extends { kind: string }> {
  /** A new port is open: the session starts afresh (suspect, nothing owed). */
  connected(): void;
  timeout(): readonly (A | LinkAction)[];
  linkDown(reason: string): readonly (A | LinkAction)[];
  /** The quiet time after a timeout is over: what comes later is no longer expected. */
  drained(): void;
}

/** What the link asks of the driver. `A` is the session's action type, `F` a frame. */
export interface LineProtocol<A extends { kind: string }, F extends { kind: string }, V> {
  /** Where the link goes, for messages: `127.0.0.1:50002`, `/dev/ttyUSB0`. */
  readonly where: string;
  /** What is at the other end, for messages: `engraver`, `marker`. */
  readonly peer: string;
  open(timeoutMs: number): Promise<LinkPort>;
  decoder(): Decoder<F>;
  session: LineSession<A>;
  /** A new port is open, and the session was told. */
  connected?(): void;
  /** The port is lost, before the session is told. */
  lost?(): void;
  /** A frame the decoder made (discarded bytes are logged by the link and not passed on). */
  frame(frame: F): readonly (A | LinkAction)[];
  /** A session's `settle` action: the answer, or the error made of its failure. */
  settled(action: Extract<A, { kind: 'settle' }>): Settlement<V>;
  /** An action of the session that is not the link's. */
  act(action: A): void;
  /** A status read through the queue: on connect (its answer brings the link up) and as keepalive. */
  readStatus(): Promise<unknown>;
}

export type Settlement<V> = { ok: true; value: V } | { ok: false; error: StamplineError; timedOut: boolean };

/** A session's result as the link settles it: the value of an answer, or the error of a failure. */
export function settlementOf<R extends { ok: true }, Failure extends { kind: string }, V>(
  result: R | { ok: false; failure: Failure },
  value: (answer: R) => V,
  error: (failure: Failure) => StamplineError,
): Settlement<V> {
  if (result.ok) return { ok: true, value: value(result) };
  const { failure } = result;
  return { ok: false, error: error(failure), timedOut: failure.kind === 'timeout' };
}

export interface LineLinkOptions extends EngraverOptions {
  /** Read the status when the link has been idle this long, so a dead link is noticed; 0: never. */
  keepaliveMs: number;
  random?: (() => number) | undefined;
}

interface Pending<V> {
  /** Called at once with the answer, before any later frame (an end event) is read. */
  accepted: ((value: V) => void) | undefined;
  resolve: (value: V) => void;
  reject: (err: StamplineError) => void;
}

export class LineLink<A extends { kind: string }, F extends { kind: string }, V> {
  readonly url: string;
  readonly log: Logger;
  readonly timeoutMs: number;
  readonly queue = new RequestQueue();
  private readonly keepaliveMs: number;
  private readonly watch: LinkWatch;
  private readonly backoff: Backoff;

  private running = false;
  private linkUp = false;
  private port: LinkPort | undefined;
  private decoder: Decoder<F> | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private replyTimer: NodeJS.Timeout | undefined;
  private replyArmed = false;
  private pending: Pending<V> | undefined;
  private drainUntil = 0;
  private lastExchangeAt = 0;
  private stopSignal = new AbortController();
  private readonly stopListeners = new Set<() => void>();
  private stopped = false;
  private closing: Promise<void> = Promise.resolve();
  private lastFailure: string | undefined;

  constructor(
    options: LineLinkOptions,
    private readonly protocol: LineProtocol<A, F, V>,
  ) {
    this.url = options.url;
    this.timeoutMs = options.requestTimeoutMs;
    this.keepaliveMs = options.keepaliveMs;
    this.log = (options.logger ?? silentLogger).child({ engraver: this.url });
    this.watch = new LinkWatch(this.log);
    this.backoff = new Backoff({
      ...options.reconnect,
      ...(options.random ? { random: options.random } : {}),
    });
  }

  /** Up: open, and the status answered on it since. */
  get connected(): boolean {
    return this.linkUp;
  }

  /** A port is open (the link may still be suspect). */
  get open(): boolean {
    return this.port !== undefined;
  }

  /**
   * Calls `listener` once at `stop()` (at once if stopped and not started again); answers the
   * unsubscribe. A plain set: an AbortSignal listener added and removed per job costs more than
   * the job's own bookkeeping on a fast link.
   */
  onStop(listener: () => void): () => void {
    if (this.stopped) {
      listener();
      return () => undefined;
    }
    this.stopListeners.add(listener);
    return () => this.stopListeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopped = false;
    this.stopSignal = new AbortController();
    if (this.keepaliveMs > 0) this.keepaliveTimer = setInterval(() => this.keepalive(), this.keepaliveMs / 2);
    await this.connect();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopped = true;
    this.stopSignal.abort(this.linkDownError('the driver was stopped'));
    for (const listener of [...this.stopListeners]) listener();
    this.stopListeners.clear();
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    this.lose('stopped');
    await this.connecting?.catch(() => undefined);
    await this.closing;
  }

  onLink(listener: (event: LinkEvent) => void): () => void {
    return this.watch.on(listener);
  }

  whenConnected(timeoutMs: number): Promise<void> {
    if (this.linkUp) return Promise.resolve();
    return this.watch.nextUp(timeoutMs, () => {
      const why = this.lastFailure ? ` (last: ${this.lastFailure})` : '';
      return this.linkDownError(`not connected within ${timeoutMs} ms${why}`);
    });
  }

  /**
   * One exchange; the caller holds the queue. `begin` starts it in the session (its actions are
   * carried out at once); the session's `settle` comes back through `settle()`.
   */
  async request(begin: () => readonly (A | LinkAction)[], accepted?: (value: V) => void): Promise<V> {
    const wait = this.drainUntil - Date.now();
    if (wait > 0) {
      await sleep(wait, this.stopSignal.signal);
      this.protocol.session.drained();
    }
    if (!this.port) throw this.linkDownError('link is down');
    return new Promise<V>((resolve, reject) => {
      this.pending = { accepted, resolve, reject };
      this.perform(begin());
    });
  }

  /** The exchange in progress is over; a timeout opens the quiet time for late replies. */
  settle(settlement: Settlement<V>): void {
    const pending = this.pending;
    this.pending = undefined;
    this.lastExchangeAt = Date.now();
    if (!settlement.ok && settlement.timedOut) this.drainUntil = Date.now() + LATE_WINDOW * this.timeoutMs;
    if (!pending) return;
    if (settlement.ok) {
      pending.accepted?.(settlement.value);
      pending.resolve(settlement.value);
    } else pending.reject(settlement.error);
  }

  write(bytes: Buffer): void {
    const port = this.port;
    if (!port) return;
    // A failed write ends the port (its 'error'), which `onEnd` reports: no callback per write.
    port.write(bytes);
  }

  /** The status was answered on a suspect link: it carries both ways again. */
  up(status: EngraverStatus): void {
    if (this.linkUp || !this.port) return;
    this.linkUp = true;
    this.lastFailure = undefined;
    this.backoff.reset();
    this.log.info({ status }, `${this.protocol.peer} link up`);
    this.watch.emit({ kind: 'up', status });
  }

  perform(actions: readonly (A | LinkAction)[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'arm-timer':
          this.armTimer();
          break;
        case 'disarm-timer':
          this.replyArmed = false;
          break;
        case 'discard': {
          const { kind: _, why, detail, ...line } = action as Extract<LinkAction, { kind: 'discard' }>;
          this.log.warn({ ...line, why }, `reply discarded (${why}): ${detail}`);
          break;
        }
        case 'settle':
          this.settle(this.protocol.settled(action as Extract<A, { kind: 'settle' }>));
          break;
        case 'link-suspect': {
          const { reason } = action as Extract<LinkAction, { kind: 'link-suspect' }>;
          this.log.warn({ reason }, 'link suspect: the status is read before anything else');
          this.markDown(reason);
          break;
        }
        case 'link-lost': {
          const { reason } = action as Extract<LinkAction, { kind: 'link-lost' }>;
          this.log.warn({ reason }, 'link presumed lost');
          this.lose(reason);
          break;
        }
        default:
          this.protocol.act(action as A);
      }
    }
  }

  /**
   * One timer object serves every exchange: arming restarts it, disarming only marks it idle (a
   * timer that fires idle does nothing). A timer made and cleared per command costs more than the
   * rest of the exchange on a fast link.
   */
  private armTimer(): void {
    this.replyArmed = true;
    if (this.replyTimer) {
      this.replyTimer.refresh();
      return;
    }
    this.replyTimer = setTimeout(() => {
      if (!this.replyArmed) return;
      this.replyArmed = false;
      this.perform(this.protocol.session.timeout());
    }, this.timeoutMs);
  }

  private dropTimer(): void {
    this.replyArmed = false;
    clearTimeout(this.replyTimer);
    this.replyTimer = undefined;
  }

  linkDownError(message: string, context: Record<string, unknown> = {}): StamplineError {
    return new StamplineError('ENGRAVER_LINK_DOWN', `engraver ${this.url}: ${message}`, {
      engraver: this.url,
      ...context,
    });
  }

  // ---- supervision -----------------------------------------------------------------------------

  private keepalive(): void {
    if (!this.port || this.queue.depth > 0 || Date.now() - this.lastExchangeAt < this.keepaliveMs) return;
    this.protocol.readStatus().catch((err: unknown) => {
      this.log.debug({ err: (err as Error).message }, 'keepalive status read failed');
    });
  }

  private connect(): Promise<void> {
    this.connecting ??= this.attempt().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async attempt(): Promise<void> {
    const { where, peer } = this.protocol;
    let port: LinkPort;
    try {
      port = await this.protocol.open(Math.max(this.timeoutMs, 1000));
    } catch (err) {
      this.lastFailure = `cannot open ${where}: ${(err as Error).message}`;
      this.log.warn({ where, err: (err as Error).message }, `${peer} link could not be opened`);
      this.scheduleReconnect();
      return;
    }
    if (!this.running) {
      void port.close();
      return;
    }
    this.port = port;
    const decoder = this.protocol.decoder();
    this.decoder = decoder;
    this.protocol.session.connected();
    this.protocol.connected?.();
    port.onData((chunk) => {
      if (this.port !== port) return;
      for (const frame of decoder.push(chunk)) this.take(frame);
    });
    port.onEnd((reason) => this.portGone(port, reason));
    // The session reads the status before anything else on a new port: its answer brings the link up.
    try {
      await this.protocol.readStatus();
    } catch (err) {
      this.lastFailure = `${where} is open but the ${peer} did not answer its status: ${(err as Error).message}`;
      this.log.warn({ err: (err as Error).message }, `link open but the ${peer} did not answer its status`);
      this.lose('no status on connect');
    }
  }

  private take(frame: F): void {
    if (frame.kind === 'discarded') {
      const { reason, length, bytes, detail } = frame as unknown as DiscardedBytes;
      this.log.warn(
        { reason, length, bytes: describeBytes(bytes) },
        `discarded ${length} bytes from the ${this.protocol.peer}: ${detail}`,
      );
      return;
    }
    this.perform(this.protocol.frame(frame));
  }

  private portGone(port: LinkPort, reason: string): void {
    if (this.port !== port) return;
    this.log.warn({ reason }, `${this.protocol.peer} link lost`);
    this.lose(reason);
  }

  /** Drops the port (if any), fails what is in flight, tells listeners, and plans a reconnect. */
  private lose(reason: string): void {
    const port = this.port;
    if (port) {
      this.port = undefined;
      for (const frame of this.decoder?.end() ?? []) this.take(frame);
      this.closing = port.close();
    }
    this.protocol.lost?.();
    this.perform(this.protocol.session.linkDown(reason));
    this.dropTimer();
    this.markDown(reason);
    this.scheduleReconnect();
  }

  private markDown(reason: string): void {
    if (!this.linkUp) return;
    this.linkUp = false;
    this.log.warn({ reason }, `${this.protocol.peer} link down`);
    this.watch.emit({ kind: 'down', reason });
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
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
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

/** The `Engraver` methods a line-oriented driver gives straight to its link. */
export abstract class LineEngraver<A extends { kind: string }, F extends { kind: string }, V> {
  protected abstract readonly link: LineLink<A, F, V>;

  protected get log(): Logger {
    return this.link.log;
  }

  get connected(): boolean {
    return this.link.connected;
  }

  start(): Promise<void> {
    return this.link.start();
  }

  stop(): Promise<void> {
    return this.link.stop();
  }

  onLink(listener: (event: LinkEvent) => void): () => void {
    return this.link.onLink(listener);
  }

  whenConnected(timeoutMs: number): Promise<void> {
    return this.link.whenConnected(timeoutMs);
  }
}
