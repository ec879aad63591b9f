/**
 * The `ascii-serial` transport: an `Engraver` that speaks the sl1-ascii command set (spec
 * engraver-serial.md) over a serial port.
 *
 * Layers: framing.ts turns bytes into lines, messages.ts lines into typed messages, session.ts
 * decides (purely) what each message means for the exchange in progress; the shared line link
 * (../line-link.ts) owns the port, the queue, the one reply timer, late replies and
 * reconnection; this file is the `Engraver` API on top.
 */

import { StamplineError } from '../../errors.js';
import { waitForJobEnd } from '../end-wait.js';
import { LineEngraver, LineLink, settlementOf } from '../line-link.js';
import { openSerialLink } from '../link-port.js';
import type { SerialEngraverOptions } from '../options.js';
import type { EngraveJob, Engraver, EngraverStatus, JobOutcome, WaitOptions } from '../types.js';
import type { ExchangeFailure } from './exchange.js';
import { describeBytes, type Frame, FrameDecoder } from './framing.js';
import {
  type Command,
  type EngraverEvent,
  encodeCommand,
  jobProblem,
  parseIncoming,
  type Reply,
} from './messages.js';
import { type AsciiPortFactory, serialPortFactory } from './port.js';
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
/** Outcomes remembered for `waitForEnd`, which may be called after the event came. */
const REMEMBERED_OUTCOMES = 32;

export class AsciiSerialEngraver extends LineEngraver<SessionAction, Frame, Reply> implements Engraver {
  readonly url: string;
  private readonly pollMs: number;
  protected readonly link: LineLink<SessionAction, Frame, Reply>;
  private readonly session = new AsciiSession();
  private readonly eventListeners = new Set<(event: EngraverEvent) => void>();
  private readonly outcomes = new Map<number, JobOutcome>();

  constructor(options: AsciiSerialEngraverOptions) {
    super();
    this.url = options.url;
    this.pollMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
    const factory = options.openPort ?? serialPortFactory;
    const { path, baudRate } = options;
    this.link = new LineLink(
      { ...options, keepaliveMs: options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS, random: options.random },
      {
        where: path,
        peer: 'engraver',
        open: () => openSerialLink(factory({ path, baudRate })),
        decoder: () => new FrameDecoder(),
        session: this.session,
        frame: (frame) => this.onFrame(frame),
        act: (action) => this.act(action),
        settled: ({ command, result }) =>
          settlementOf(
            result,
            (ok) => ok.reply,
            (failure) => this.failureError(command, failure),
          ),
        readStatus: () => this.readStatus(),
      },
    );
  }

  /** Subscribes to the engraver's unasked `$DONE` and `$FAULT` events. */
  onEvent(listener: (event: EngraverEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
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

  waitForEnd(jobId: number, options: WaitOptions): Promise<JobOutcome> {
    return waitForJobEnd({
      url: this.url,
      jobId,
      wait: options,
      onStop: (listener) => this.link.onStop(listener),
      stoppedError: () => this.link.linkDownError(`stopped while waiting for job ${jobId}`),
      known: () => this.outcomes.get(jobId),
      onEvent: (check) => this.onEvent(check),
      poll: async () => {
        const status = await this.readStatus();
        return this.outcomes.get(jobId) ?? status;
      },
      delay: (n) => (n === 0 ? 0 : this.pollMs),
      describe: (status) =>
        `engraver ${status ? `${status.state}, activeJob ${status.activeJob}` : 'not heard'}`,
      log: this.log,
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
    return this.link.queue.run(() => {
      // A suspect link still takes requests (each waits for the $STAT check); a closed one does not.
      if (!this.link.open) return Promise.reject(this.link.linkDownError('link is down'));
      beforeSend?.();
      // After a timeout the answer may still be on its way: the link lets it arrive (and the
      // session discard it) before asking anything else.
      return this.link.request(() => this.session.begin(command));
    });
  }

  /** The session's actions that are not the link's. */
  private act(action: SessionAction): void {
    switch (action.kind) {
      case 'send': {
        const line = encodeCommand(action.command);
        this.log.debug({ line: describeBytes(line) }, 'send');
        this.link.write(line);
        break;
      }
      case 'event':
        this.onEngraverEvent(action.event);
        break;
      case 'link-verified':
        this.link.up(action.status);
        break;
    }
  }

  // ---- receiving -------------------------------------------------------------------------------

  private onFrame(frame: Frame): readonly SessionAction[] {
    if (frame.kind === 'discarded') return [];
    const parsed = parseIncoming(frame.fields);
    if (!parsed.ok) {
      this.log.warn({ line: frame.body }, `ignored a line the protocol does not allow: ${parsed.problem}`);
      return [];
    }
    this.log.debug({ line: frame.body }, 'received');
    return this.session.receive(parsed.value);
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

  // ---- errors ----------------------------------------------------------------------------------

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
          return this.link.linkDownError(
            `no answer to $STAT before ${what}; ${what} was not carried out, reconnecting`,
            {
              command: command.kind,
              failure,
            },
          );
        }
        return new StamplineError(
          'ENGRAVER_TIMEOUT',
          `engraver ${this.url} did not answer ${what} within ${this.link.timeoutMs} ms; it may or may not have been carried out`,
          context,
        );
      case 'link-down':
        return this.link.linkDownError(`${failure.detail} during ${what}`, {
          command: command.kind,
          failure,
        });
    }
  }
}
