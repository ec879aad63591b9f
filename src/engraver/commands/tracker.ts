/**
 * What the line sees of a marker that keeps no job id: the `EngraverStatus` is made from the
 * marker's readings and what this driver knows of the job it started (or was told of after a
 * restart, `recall`). Pure: readings and events in, statuses out.
 *
 * A job's end is proven by the marker's count of completed markings (one more than before the
 * start), by an end event, or, for a marker without a count, by watching it go from marking to
 * ready on one unbroken link. Anything else (the count did not move or went back, a link lost
 * in between, a restart) cannot prove whether the pin was marked: the status then names no job
 * (`activeJob` 0) and says why in `unprovable`, and the line voids the code and sets the pin
 * aside (docs/architecture.md, recovery).
 */
import type { EngraverStateName, EngraverStatus, JobOutcome } from '../types.js';
import { type CommandProfile, lineFault } from './profile.js';

export interface MarkerReading {
  ready: boolean;
  marking: boolean;
  /** The marker's own error code, 0 when none (-1: the fault bit is set but no code was given). */
  error: number;
  count: number | undefined;
}

interface Tracked {
  jobId: number;
  countBefore: number | undefined;
  countAfter: number | undefined;
  phase: 'marking' | 'done' | 'fault';
  fault: number;
  /** Started by this driver and watched on one unbroken link since. */
  watched: boolean;
}

const WRAP = 65536;

/** The reading the status replies give, merged. */
export function readingOf(profile: CommandProfile, values: Record<string, number>): MarkerReading {
  const mask = values.mask;
  const bits = profile.mask;
  const has = (bit: number | undefined) => mask !== undefined && bit !== undefined && (mask & bit) !== 0;
  let error = values.error ?? 0;
  if (error === 0 && has(bits?.fault)) error = -1;
  if (mask !== undefined && bits?.fault !== undefined && !has(bits.fault)) error = 0;
  const marking =
    values.marking !== undefined
      ? values.marking !== 0
      : bits?.marking !== undefined && mask !== undefined
        ? has(bits.marking)
        : values.ready === 0 && error === 0;
  const ready =
    values.ready !== undefined
      ? values.ready !== 0
      : bits?.ready !== undefined && mask !== undefined
        ? has(bits.ready)
        : !marking && error === 0;
  return { ready, marking, error, count: values.count };
}

export class JobTracker {
  private job: Tracked | undefined;

  constructor(private readonly profile: CommandProfile) {}

  get activeJob(): number {
    return this.job?.jobId ?? 0;
  }

  /** The marker took the start of `jobId`; `countBefore` is its count read just before. */
  started(jobId: number, countBefore: number | undefined): void {
    this.job = { jobId, countBefore, countAfter: undefined, phase: 'marking', fault: 0, watched: true };
  }

  /**
   * After a restart the line names the job it had started and the count it noted before; what
   * became of it is then judged from the readings, as if the start had just been made unseen.
   */
  recall(jobId: number, countBefore: number | undefined): void {
    if (this.job?.jobId === jobId) return;
    this.job = { jobId, countBefore, countAfter: undefined, phase: 'marking', fault: 0, watched: false };
  }

  /** The link was lost: a marker without a count can no longer show a job's end. */
  linkLost(): void {
    if (this.job) this.job.watched = false;
  }

  /** How the job ended, when an end event or a reading has settled it. */
  finished(jobId: number): JobOutcome | undefined {
    const job = this.job;
    if (job?.jobId !== jobId) return undefined;
    if (job.phase === 'done') return { kind: 'done', jobId, completed: job.countAfter ?? 0 };
    if (job.phase === 'fault') return { kind: 'fault', jobId, fault: job.fault };
    return undefined;
  }

  /**
   * Whether a count read alone can prove `jobId` done: it is marking, with the count before its
   * start noted.
   */
  awaitsCount(jobId: number): boolean {
    const job = this.job;
    return job?.jobId === jobId && job.phase === 'marking' && job.countBefore !== undefined;
  }

  /**
   * A count read alone: one past the count before the start proves the marking completed. Any
   * other count proves nothing by itself, and leaves the job to the next full reading.
   */
  counted(jobId: number, count: number): boolean {
    const job = this.job;
    if (!this.awaitsCount(jobId) || job === undefined || job.countBefore === undefined) return false;
    const now = count % WRAP;
    if ((now - job.countBefore + WRAP) % WRAP !== 1) return false;
    job.phase = 'done';
    job.countAfter = now;
    return true;
  }

  /** An end event; answers the count the marker now shows, when known. */
  event(event: { kind: 'done' } | { kind: 'fault'; error: number }): number | undefined {
    const job = this.job;
    if (job?.phase !== 'marking') return undefined;
    if (event.kind === 'done') {
      job.phase = 'done';
      if (job.countBefore !== undefined) job.countAfter = (job.countBefore + 1) % WRAP;
      return job.countAfter;
    }
    job.phase = 'fault';
    job.fault = lineFault(this.profile, event.error);
    return job.countBefore;
  }

  observe(reading: MarkerReading): EngraverStatus {
    const fault = reading.error === 0 ? 0 : lineFault(this.profile, reading.error < 0 ? -1 : reading.error);
    const completed = reading.count === undefined ? 0 : reading.count % WRAP;
    const live: EngraverStateName = reading.marking ? 'BUSY' : reading.error !== 0 ? 'FAULT' : 'READY';
    const job = this.job;
    if (!job) return { state: live, fault, completed, activeJob: 0 };
    const status = (state: EngraverStateName): EngraverStatus => ({
      state,
      fault,
      completed,
      activeJob: job.jobId,
    });
    const forget = (why: string): EngraverStatus => {
      this.job = undefined;
      return { state: live, fault, completed, activeJob: 0, unprovable: why };
    };
    const count = reading.count === undefined ? undefined : reading.count % WRAP;
    const wentBack = (from: number | undefined) => count !== undefined && from !== undefined && count < from;

    if (job.phase === 'marking') {
      if (reading.marking) return status('BUSY');
      if (reading.error !== 0) {
        job.phase = 'fault';
        job.fault = fault;
        return status('FAULT');
      }
      if (count !== undefined && job.countBefore !== undefined) {
        const moved = (count - job.countBefore + WRAP) % WRAP;
        if (moved === 1) {
          job.phase = 'done';
          job.countAfter = count;
          return status('DONE');
        }
        if (moved === 0) {
          return forget(
            `the marker is ready and its count of completed markings is still ${count}, as before job ${job.jobId} started: it was restarted, or its fault was cleared, before the end was seen; the pin may be marked`,
          );
        }
        return forget(
          `the marker's count of completed markings went from ${job.countBefore} to ${count} since job ${job.jobId} started: it was restarted or marked other jobs; the pin may be marked`,
        );
      }
      if (job.watched && count === undefined && this.profile.counter === null) {
        job.phase = 'done';
        return status('DONE');
      }
      return forget(
        this.profile.counter === null
          ? `the marker keeps no count of completed markings, and job ${job.jobId} was not watched to its end on one link: whether the pin was marked cannot be proven`
          : `no count of completed markings was noted before job ${job.jobId} started: whether the pin was marked cannot be proven`,
      );
    }
    // The job ended; a count that went back means the marker was restarted since.
    if (wentBack(job.countAfter ?? job.countBefore))
      return forget('the marker was restarted since the last job ended');
    if (job.phase === 'done')
      return status(reading.marking ? 'BUSY' : reading.error !== 0 ? 'FAULT' : 'DONE');
    return status(reading.marking ? 'BUSY' : reading.error !== 0 ? 'FAULT' : 'READY');
  }
}
