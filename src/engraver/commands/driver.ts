/**
 * The `commands-tcp` and `commands-serial` transports: an `Engraver` that drives a laser marker
 * through a command profile (spec engraver-commands.md).
 *
 * Layers: framing.ts turns bytes into lines, exchange.ts decides (purely) what each line means
 * for the exchange in progress, tracker.ts (purely) what the readings mean for the job; the
 * shared line link (../line-link.ts) owns the port, the queue, the one reply timer, late replies
 * and reconnection; this file is the `Engraver` API on top. Every command goes through the one
 * queue, so a multi-command load or status read is never interleaved.
 */
import { isStamplineError, StamplineError } from '../../errors.js';
import { waitForJobEnd } from '../end-wait.js';
import { LineEngraver, LineLink, settlementOf } from '../line-link.js';
import type { EngraverOptions } from '../options.js';
import type { EngraveJob, Engraver, EngraverStatus, JobOutcome, WaitOptions } from '../types.js';
import {
  CommandSession,
  type ExchangeFailure,
  type MarkerEvent,
  type Outgoing,
  type SessionAction,
} from './exchange.js';
import { type Frame, LineDecoder } from './framing.js';
import { jobCommands, jobProblem } from './job.js';
import { describeTarget, type LinkOpener, type LinkTarget, openLink } from './link.js';
import type { CommandProfile, CompiledExchange } from './profile.js';
import { render } from './template.js';
import { JobTracker, readingOf } from './tracker.js';

export interface CommandEngraverOptions extends EngraverOptions {
  profile: CommandProfile;
  target: LinkTarget;
  /**
   * How often `waitForEnd` reads the status at most; default 100 ms. Without end events it asks at
   * once and then less and less often up to this; with end events (TL) it waits for the event and
   * reads the status this often in case one is lost.
   */
  pollIntervalMs?: number;
  /** Read the status when the link has been idle this long, so a dead link is noticed; 0: never. */
  keepaliveMs?: number;
  random?: () => number;
  openLink?: LinkOpener;
}

type Values = Record<string, number>;

export class CommandEngraver extends LineEngraver<SessionAction, Frame, Values> implements Engraver {
  readonly url: string;
  private readonly profile: CommandProfile;
  private readonly pollMs: number;
  protected readonly link: LineLink<SessionAction, Frame, Values>;
  private readonly session: CommandSession;
  private readonly tracker: JobTracker;
  private readonly end: string;
  private readonly eventListeners = new Set<() => void>();

  /** The job loaded and not yet started: a marker has no job id, so the driver keeps it. */
  private loaded: number | undefined;
  private lastCount: number | undefined;
  /** `lastCount` was read with the marker idle, and nothing was started since. */
  private countFresh = false;

  constructor(options: CommandEngraverOptions) {
    super();
    this.url = options.url;
    this.profile = options.profile;
    this.pollMs = options.pollIntervalMs ?? 100;
    const events = this.profile.compiled.events;
    this.session = new CommandSession(
      events ? { done: events.doneRegex, fault: events.faultRegex } : undefined,
      this.profile.compiled.busy?.regex,
    );
    this.tracker = new JobTracker(this.profile);
    this.end = this.profile.link.commandEnd;
    const open = options.openLink ?? openLink;
    const target = options.target;
    const replyEnd = this.profile.link.replyEnd;
    this.link = new LineLink(
      { ...options, keepaliveMs: options.keepaliveMs ?? 1000, random: options.random },
      {
        where: describeTarget(target),
        peer: 'marker',
        open: (timeoutMs) => open(target, timeoutMs),
        decoder: () => new LineDecoder(replyEnd),
        session: this.session,
        connected: () => {
          this.tracker.linkLost();
          // The marker may have been restarted while the link was down: its count is read afresh.
          this.lastCount = undefined;
          this.countFresh = false;
        },
        frame: (frame) => this.onFrame(frame),
        lost: () => this.tracker.linkLost(),
        act: (action) => this.act(action),
        settled: ({ out, result }) =>
          settlementOf(
            result,
            (ok) => ok.values,
            (failure) => this.failureError(out, failure),
          ),
        readStatus: () => this.readStatus(),
      },
    );
  }

  readStatus(): Promise<EngraverStatus> {
    return this.link.queue.run(() => this.statusNow());
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
    await this.link.queue.run(async () => {
      await this.ready();
      this.loaded = undefined;
      for (const out of commands) await this.exchange(out);
      this.loaded = job.jobId;
    });
    this.log.debug({ jobId: job.jobId }, 'job loaded');
  }

  async startJob(jobId: number): Promise<void> {
    await this.link.queue.run(async () => {
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
      // The marker may send its end event in the same read as the answer to the start: the job
      // is tracked before that event is read, not when this await resumes.
      await this.exchange(this.outgoing('start', this.profile.compiled.start), () =>
        this.tracker.started(jobId, before),
      );
    });
    this.log.info({ jobId }, 'job started');
  }

  waitForEnd(jobId: number, options: WaitOptions): Promise<JobOutcome> {
    // An end event ends the wait: the status is read only in case one is lost. Without events,
    // short markings end within milliseconds: ask at once, again soon, then less often up to pollMs.
    const events = this.profile.compiled.events !== undefined;
    return waitForJobEnd({
      url: this.url,
      jobId,
      wait: options,
      onStop: (listener) => this.link.onStop(listener),
      stoppedError: () => this.link.linkDownError(`stopped while waiting for job ${jobId}`),
      known: () => this.tracker.finished(jobId),
      onEvent: (check) => {
        this.eventListeners.add(check);
        return () => this.eventListeners.delete(check);
      },
      poll: () => this.pollJob(jobId),
      delay: (n) => (events ? this.pollMs : n === 0 ? 0 : Math.min(n <= 8 ? 0 : 2 ** (n - 9), this.pollMs)),
      describe: (status) => `marker ${status ? status.state : 'not heard'}`,
      log: this.log,
    });
  }

  async abort(): Promise<void> {
    await this.link.queue.run(async () => {
      await this.ready();
      await this.exchange(this.outgoing('abort', this.profile.compiled.abort));
    });
    this.log.info('abort sent');
  }

  async reset(): Promise<void> {
    await this.link.queue.run(async () => {
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

  /**
   * One poll of `waitForEnd`. A count one past the count before the start proves the job done,
   * so the counter alone is read first; any other answer leaves the judgement to a full status
   * read (status queries, then the counter, in that order: a count read before a ready reading
   * could miss a marking that ended in between).
   */
  private pollJob(jobId: number): Promise<EngraverStatus | JobOutcome> {
    return this.link.queue.run(async () => {
      await this.ready();
      const counter = this.profile.compiled.counter;
      if (counter && this.tracker.awaitsCount(jobId)) {
        const { count } = await this.exchange(this.outgoing('counter', counter)).catch((err: unknown) => {
          // TL answers only ST and AM while marking: the marking is not over.
          if (isStamplineError(err, 'ENGRAVER_BUSY')) return {} as Record<string, number>;
          throw err;
        });
        if (count !== undefined && this.tracker.counted(jobId, count)) {
          this.lastCount = count;
          this.countFresh = true;
          const outcome = this.tracker.finished(jobId);
          if (outcome) return outcome;
        }
      }
      return this.statusNow();
    });
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
      this.link.up(status);
    }
    return status;
  }

  private exchange(out: Outgoing, accepted?: (values: Values) => void): Promise<Values> {
    return this.link.request(() => this.session.begin(out), accepted);
  }

  /** The session's actions that are not the link's. */
  private act(action: SessionAction): void {
    switch (action.kind) {
      case 'send':
        this.log.debug({ line: action.line }, 'send');
        this.link.write(Buffer.from(action.line + this.end, 'latin1'));
        break;
      case 'event':
        this.onMarkerEvent(action.event, action.line);
        break;
    }
  }

  private onFrame(frame: Frame): readonly SessionAction[] {
    if (frame.kind === 'discarded') return [];
    this.log.debug({ line: frame.text }, 'received');
    return this.session.receive(frame.text);
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

  // ---- errors ----------------------------------------------------------------------------------

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
          `engraver ${this.url} did not answer ${what} within ${this.link.timeoutMs} ms; it may or may not have been carried out`,
          context,
        );
      case 'link-down':
        return this.link.linkDownError(`${failure.detail} during ${what}`, { command: out.line });
    }
  }
}
