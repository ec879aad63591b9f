/**
 * The `commands-tcp` and `commands-serial` transports: an `Engraver` that drives a laser marker
 * through a command profile (spec engraver-commands.md).
 *
 * Layers: framing.ts turns bytes into lines, exchange.ts decides (purely) what each line means
 * for the exchange in progress, tracker.ts (purely) what the readings mean for the job; this file
 * owns the link, the one reply timer, reconnection and the `Engraver` API on top. Every command
 * goes through one queue, so a multi-command load or status read is never interleaved.
 */
import { isStamplineError, StamplineError } from '../../errors.js';
import { Backoff, RequestQueue } from '../backoff.js';
import { LinkWatch } from '../link-watch.js';
import { type EngraverOptions, type Logger, silentLogger } from '../options.js';
import { jobOutcome } from '../outcome.js';
import type { EngraveJob, Engraver, EngraverStatus, JobOutcome, LinkEvent, WaitOptions } from '../types.js';
import {
  CommandSession,
  type ExchangeFailure,
  type MarkerEvent,
  type Outgoing,
  type SessionAction,
} from './exchange.js';
import { describeBytes, type Frame, LineDecoder, terminatorBytes } from './framing.js';
import { jobCommands, jobProblem } from './job.js';
import { type LinkOpener, type LinkPort, type LinkTarget, openLink } from './link.js';
import type { CommandProfile, CompiledExchange } from './profile.js';
import { render } from './template.js';
import { JobTracker, readingOf } from './tracker.js';

export interface CommandEngraverOptions extends EngraverOptions {
  profile: CommandProfile;
  target: LinkTarget;
  /** How often `waitForEnd` reads the status (also when the marker sends end events). Default 100 ms. */
  pollIntervalMs?: number;
  /** Read the status when the link has been idle this long, so a dead link is noticed; 0: never. */
  keepaliveMs?: number;
  random?: () => number;
  openLink?: LinkOpener;
}

/** After a timeout, late replies are let through and dropped for this many reply timeouts. */
const LATE_WINDOW = 2;
interface Pending {
  resolve: (values: Record<string, number>) => void;
  reject: (err: StamplineError) => void;
}

export class CommandEngraver implements Engraver {
  readonly url: string;
  private readonly profile: CommandProfile;
  private readonly target: LinkTarget;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly keepaliveMs: number;
  private readonly open: LinkOpener;
  private readonly log: Logger;
  private readonly link: LinkWatch;
  private readonly backoff: Backoff;
  private readonly queue = new RequestQueue();
  private readonly session: CommandSession;
  private readonly tracker: JobTracker;
  private readonly end: Buffer;
  private readonly eventListeners = new Set<() => void>();

  private running = false;
  private linkUp = false;
  private port: LinkPort | undefined;
  private decoder: LineDecoder;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private replyTimer: NodeJS.Timeout | undefined;
  private pending: Pending | undefined;
  private drainUntil = 0;
  private lastExchangeAt = 0;
  private stopSignal = new AbortController();
  private closing: Promise<void> = Promise.resolve();
  private lastFailure: string | undefined;
  /** The job loaded and not yet started: a marker has no job id, so the driver keeps it. */
  private loaded: number | undefined;
  private lastCount: number | undefined;
  /** `lastCount` was read with the marker idle, and nothing was started since. */
  private countFresh = false;

  constructor(options: CommandEngraverOptions) {
    this.url = options.url;
    this.profile = options.profile;
    this.target = options.target;
    this.timeoutMs = options.requestTimeoutMs;
    this.pollMs = options.pollIntervalMs ?? 100;
    this.keepaliveMs = options.keepaliveMs ?? 1000;
    this.open = options.openLink ?? openLink;
    this.log = (options.logger ?? silentLogger).child({ engraver: this.url });
    this.link = new LinkWatch(this.log);
    this.backoff = new Backoff({
      ...options.reconnect,
      ...(options.random ? { random: options.random } : {}),
    });
    const events = this.profile.compiled.events;
    this.session = new CommandSession(
      events ? { done: events.doneRegex, fault: events.faultRegex } : undefined,
      this.profile.compiled.busy?.regex,
    );
    this.tracker = new JobTracker(this.profile);
    this.end = terminatorBytes(this.profile.link.commandEnd);
    this.decoder = new LineDecoder(this.profile.link.replyEnd);
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
    clearTimeout(this.reconnectTimer);
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

  whenConnected(timeoutMs: number): Promise<void> {
    if (this.linkUp) return Promise.resolve();
    return this.link.nextUp(timeoutMs, () => {
      const why = this.lastFailure ? ` (last: ${this.lastFailure})` : '';
      return this.linkDownError(`not connected within ${timeoutMs} ms${why}`);
    });
  }

  readStatus(): Promise<EngraverStatus> {
    return this.queue.run(() => this.statusNow());
  }

  /** Command markers have no interface version. */
  readInterfaceVersion(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }

  recallJob(jobId: number, completedBefore: number | undefined): void {
    this.tracker.recall(jobId, completedBefore);
  }

  async loadJob(job: EngraveJob): Promise<void> {
    const problem = jobProblem(this.profile, job);
    if (problem !== undefined) {
      throw new StamplineError('ENGRAVER_BAD_JOB', `job cannot be sent to the marker: ${problem}`, {
        engraver: this.url,
        jobId: job?.jobId,
        problem,
      });
    }
    const commands = jobCommands(this.profile, job);
    await this.queue.run(async () => {
      await this.ready();
      this.loaded = undefined;
      for (const out of commands) await this.exchange(out);
      this.loaded = job.jobId;
    });
    this.log.debug({ jobId: job.jobId }, 'job loaded');
  }

  async startJob(jobId: number): Promise<void> {
    await this.queue.run(async () => {
      if (this.loaded !== jobId) {
        throw new StamplineError(
          'ENGRAVER_REJECTED',
          `engraver ${this.url} refused the start of job ${jobId}: it is not the job loaded last (a marker marks what it holds, so a job is started once per load)`,
          { engraver: this.url, jobId, loaded: this.loaded },
        );
      }
      await this.ready();
      // The count read by the last status read stands, unless a marking may have begun since.
      const counter = this.profile.compiled.counter;
      const before = !counter
        ? undefined
        : this.countFresh
          ? this.lastCount
          : (await this.exchange(this.outgoing('counter', counter))).count;
      this.countFresh = false;
      // The load is spent whatever the answer: a start the marker refused is never retried unseen.
      this.loaded = undefined;
      await this.exchange(this.outgoing('start', this.profile.compiled.start));
      this.tracker.started(jobId, before);
    });
    this.log.info({ jobId }, 'job started');
  }

  async waitForEnd(jobId: number, options: WaitOptions): Promise<JobOutcome> {
    const known = this.tracker.finished(jobId);
    if (known) return known;
    const deadline = Date.now() + options.timeoutMs;
    const stop = this.stopSignal.signal;
    return new Promise<JobOutcome>((resolve, reject) => {
      let finished = false;
      let timer: NodeJS.Timeout | undefined;
      let lastStatus: EngraverStatus | undefined;
      let lastError: unknown;
      let polls = 0;
      const finish = (err: unknown, outcome?: JobOutcome) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        this.eventListeners.delete(onEvent);
        options.signal?.removeEventListener('abort', onAbort);
        stop.removeEventListener('abort', onStop);
        if (outcome) resolve(outcome);
        else reject(err);
      };
      const onAbort = () => finish(options.signal?.reason);
      const onStop = () => finish(this.linkDownError(`stopped while waiting for job ${jobId}`));
      const judge = (status: EngraverStatus) => {
        const outcome = jobOutcome(jobId, status);
        if (outcome) finish(undefined, outcome);
      };
      const onEvent = () => {
        const outcome = this.tracker.finished(jobId);
        if (outcome) finish(undefined, outcome);
      };
      const poll = async () => {
        timer = undefined;
        if (finished) return;
        if (Date.now() >= deadline) {
          const seen = lastStatus ? lastStatus.state : 'not heard';
          const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
          finish(
            new StamplineError(
              'ENGRAVER_TIMEOUT',
              `job ${jobId} had not ended after ${options.timeoutMs} ms (marker ${seen})${why}`,
              { engraver: this.url, jobId, status: lastStatus, timeoutMs: options.timeoutMs },
            ),
          );
          return;
        }
        try {
          lastStatus = await this.readStatus();
          lastError = undefined;
          judge(lastStatus);
        } catch (err) {
          if (!(err instanceof StamplineError) || !err.transient) {
            finish(err);
            return;
          }
          lastError = err;
        }
        if (!finished && timer === undefined) {
          // Short markings end within milliseconds: ask again soon, then less often up to pollMs.
          const wait = Math.min(
            polls < 8 ? 0 : 2 ** (polls - 8),
            this.pollMs,
            Math.max(0, deadline - Date.now()),
          );
          polls++;
          timer = setTimeout(poll, wait);
        }
      };
      if (options.signal?.aborted) return finish(options.signal.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      stop.addEventListener('abort', onStop, { once: true });
      this.eventListeners.add(onEvent);
      if (stop.aborted) onStop();
      void poll();
    });
  }

  async abort(): Promise<void> {
    await this.queue.run(async () => {
      await this.ready();
      await this.exchange(this.outgoing('abort', this.profile.compiled.abort));
    });
    this.log.info('abort sent');
  }

  async reset(): Promise<void> {
    await this.queue.run(async () => {
      await this.ready();
      await this.exchange(this.outgoing('reset', this.profile.compiled.reset));
    });
    this.log.info('reset sent');
  }

  // ---- exchanges -------------------------------------------------------------------------------

  /** A command without placeholders (status, counter, start, abort, reset). */
  private outgoing(label: string, exchange: CompiledExchange): Outgoing {
    return { label, line: render(exchange.send, {}), exchange };
  }

  /** Before a command: late replies drained, and on a suspect link the status read first. */
  private async ready(): Promise<void> {
    if (this.session.suspect) await this.statusNow();
  }

  /** The status queries and the counter, one after the other; answers `up` on a suspect link. */
  private async statusNow(): Promise<EngraverStatus> {
    const values: Record<string, number> = {};
    for (const [i, query] of this.profile.compiled.status.entries()) {
      Object.assign(values, await this.exchange(this.outgoing(`status ${i}`, query)));
    }
    const counter = this.profile.compiled.counter;
    if (counter) {
      try {
        Object.assign(values, await this.exchange(this.outgoing('counter', counter)));
      } catch (err) {
        // TL answers only ST and AM while marking; the count is not needed until the marking ends.
        if (!isStamplineError(err, 'ENGRAVER_BUSY')) throw err;
      }
    }
    // While marking a marker may refuse the count (TL); the last one read stands in for it.
    const fresh = values.count !== undefined;
    if (values.count === undefined) {
      if (this.lastCount !== undefined && counter) values.count = this.lastCount;
    } else this.lastCount = values.count;
    const reading = readingOf(this.profile, values);
    this.countFresh = fresh && !reading.marking;
    const status = this.tracker.observe(reading);
    if (status.unprovable) this.log.warn({ status }, `job outcome cannot be proven: ${status.unprovable}`);
    if (this.session.suspect) {
      this.session.verified();
      if (!this.linkUp && this.port) {
        this.linkUp = true;
        this.lastFailure = undefined;
        this.backoff.reset();
        this.log.info({ status }, 'marker link up');
        this.link.emit({ kind: 'up', status });
      }
    }
    return status;
  }

  private async exchange(out: Outgoing): Promise<Record<string, number>> {
    const wait = this.drainUntil - Date.now();
    if (wait > 0) {
      await sleep(wait, this.stopSignal.signal);
      this.session.drained();
    }
    if (!this.port) throw this.linkDownError('link is down');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.perform(this.session.begin(out));
    });
  }

  private perform(actions: readonly SessionAction[]): void {
    for (const action of actions) {
      switch (action.kind) {
        case 'send':
          if (this.port) this.write(this.port, action.line);
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
        case 'settle': {
          const pending = this.pending;
          this.pending = undefined;
          this.lastExchangeAt = Date.now();
          const { result, out } = action;
          if (!result.ok && result.failure.kind === 'timeout')
            this.drainUntil = Date.now() + LATE_WINDOW * this.timeoutMs;
          if (!pending) break;
          if (result.ok) pending.resolve(result.values);
          else pending.reject(this.failureError(out, result.failure));
          break;
        }
        case 'event':
          this.onMarkerEvent(action.event, action.line);
          break;
        case 'discard':
          this.log.warn(
            { line: action.line, why: action.why },
            `reply discarded (${action.why}): ${action.detail}`,
          );
          break;
        case 'link-suspect':
          this.log.warn({ reason: action.reason }, 'link suspect: the status is read before anything else');
          this.markDown(action.reason);
          break;
        case 'link-lost':
          this.log.warn({ reason: action.reason }, 'link presumed lost');
          this.lose(action.reason);
          break;
      }
    }
  }

  private write(port: LinkPort, line: string): void {
    this.log.debug({ line }, 'send');
    port.write(Buffer.concat([Buffer.from(line, 'latin1'), this.end]), (err) => {
      if (err) this.portGone(port, `write failed: ${err.message}`);
    });
  }

  private onFrame(frame: Frame): void {
    if (frame.kind === 'discarded') {
      this.log.warn(
        { reason: frame.reason, length: frame.length, bytes: describeBytes(frame.bytes) },
        `discarded ${frame.length} bytes from the marker: ${frame.detail}`,
      );
      return;
    }
    this.log.debug({ line: frame.text }, 'received');
    this.perform(this.session.receive(frame.text));
  }

  private onMarkerEvent(event: MarkerEvent, line: string): void {
    this.log.info({ line }, event.kind === 'done' ? 'marking finished' : 'marking ended in error');
    const count = this.tracker.event(event);
    if (count !== undefined && event.kind === 'done') {
      this.lastCount = count;
      this.countFresh = true;
    }
    for (const listener of this.eventListeners) listener();
  }

  // ---- link supervision ------------------------------------------------------------------------

  private keepalive(): void {
    if (!this.port || this.queue.depth > 0 || Date.now() - this.lastExchangeAt < this.keepaliveMs) return;
    this.readStatus().catch((err: unknown) => {
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
    let port: LinkPort;
    try {
      port = await this.open(this.target, Math.max(this.timeoutMs, 1000));
    } catch (err) {
      this.lastFailure = `cannot open ${describeTarget(this.target)}: ${(err as Error).message}`;
      this.log.warn({ err: (err as Error).message }, 'marker link could not be opened');
      this.scheduleReconnect();
      return;
    }
    if (!this.running) {
      void port.close();
      return;
    }
    this.port = port;
    this.decoder = new LineDecoder(this.profile.link.replyEnd);
    this.session.connected();
    this.tracker.linkLost();
    // The marker may have been restarted while the link was down: its count is read afresh.
    this.lastCount = undefined;
    this.countFresh = false;
    port.onData((chunk) => {
      if (this.port !== port) return;
      for (const frame of this.decoder.push(chunk)) this.onFrame(frame);
    });
    port.onEnd((reason) => this.portGone(port, reason));
    try {
      await this.queue.run(() => this.statusNow());
    } catch (err) {
      this.lastFailure = `${describeTarget(this.target)} is open but the marker did not answer its status: ${(err as Error).message}`;
      this.log.warn({ err: (err as Error).message }, 'link open but the marker did not answer its status');
      this.lose('no status on connect');
    }
  }

  private portGone(port: LinkPort, reason: string): void {
    if (this.port !== port) return;
    this.log.warn({ reason }, 'marker link lost');
    this.lose(reason);
  }

  private lose(reason: string): void {
    const port = this.port;
    if (port) {
      this.port = undefined;
      for (const frame of this.decoder.end()) this.onFrame(frame);
      this.closing = port.close();
    }
    this.tracker.linkLost();
    this.perform(this.session.linkDown(reason));
    clearTimeout(this.replyTimer);
    this.replyTimer = undefined;
    this.markDown(reason);
    this.scheduleReconnect();
  }

  private markDown(reason: string): void {
    if (!this.linkUp) return;
    this.linkUp = false;
    this.log.warn({ reason }, 'marker link down');
    this.link.emit({ kind: 'down', reason });
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer) return;
    const delayMs = this.backoff.next();
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

  private failureError(out: Outgoing, failure: ExchangeFailure): StamplineError {
    const what = `${out.label} (${out.line})`;
    const context = { engraver: this.url, command: out.line, failure };
    switch (failure.kind) {
      case 'busy':
        return new StamplineError(
          'ENGRAVER_BUSY',
          `engraver ${this.url} is marking and refused ${what}: ${failure.reply}`,
          context,
        );
      case 'refused': {
        const { refusals } = this.profile;
        const [code, why] = refusals.busy.includes(failure.code)
          ? (['ENGRAVER_BUSY', 'the marker is marking'] as const)
          : refusals.inError.includes(failure.code)
            ? (['ENGRAVER_FAULT', 'the marker is in error; reset it first'] as const)
            : refusals.notReady.includes(failure.code)
              ? (['ENGRAVER_REJECTED', 'the marker is not ready'] as const)
              : (['ENGRAVER_REJECTED', `the marker refused it with code ${failure.code}`] as const);
        return new StamplineError(
          code,
          `engraver ${this.url} refused ${what} (${failure.reply}): ${why}`,
          context,
        );
      }
      case 'timeout':
        return new StamplineError(
          'ENGRAVER_TIMEOUT',
          `engraver ${this.url} did not answer ${what} within ${this.timeoutMs} ms; it may or may not have been carried out`,
          context,
        );
      case 'link-down':
        return this.linkDownError(`${failure.detail} during ${what}`, { command: out.line });
    }
  }
}

function describeTarget(target: LinkTarget): string {
  return target.kind === 'tcp' ? `${target.host}:${target.port}` : target.path;
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
