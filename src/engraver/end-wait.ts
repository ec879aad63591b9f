/**
 * `waitForEnd` of the line-oriented drivers (ASCII, command markers): the job ends at an end
 * event or at a status poll that shows its end, whichever comes first; a lost link or a missed
 * reply is not the end of the job (the wait keeps asking until its time is up); an abort signal
 * or the driver's stop ends the wait with their reason.
 */
import { StamplineError } from '../errors.js';
import type { Logger } from './options.js';
import { jobOutcome } from './outcome.js';
import type { EngraverStatus, JobOutcome, WaitOptions } from './types.js';

export interface EndWait {
  url: string;
  jobId: number;
  wait: WaitOptions;
  /** Calls the listener when the driver stops (at once if it has); answers the unsubscribe. */
  onStop(listener: () => void): () => void;
  stoppedError: () => StamplineError;
  /** The outcome known without asking (an end event came), if any. */
  known(): JobOutcome | undefined;
  /** Calls `check` after each end event the driver receives; answers the unsubscribe. */
  onEvent(check: () => void): () => void;
  /** One poll: an outcome ends the wait, a status is judged by `jobOutcome`. */
  poll(): Promise<JobOutcome | EngraverStatus>;
  /** Milliseconds before poll `n` (0: the first); 0 for the first polls at once. */
  delay(n: number): number;
  /** How the last status looked, for the message of a wait that timed out. */
  describe(status: EngraverStatus | undefined): string;
  log: Logger;
}

export function waitForJobEnd(w: EndWait): Promise<JobOutcome> {
  const known = w.known();
  if (known) return Promise.resolve(known);
  const { jobId, wait } = w;
  const deadline = Date.now() + wait.timeoutMs;
  return new Promise<JobOutcome>((resolve, reject) => {
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    let lastStatus: EngraverStatus | undefined;
    let lastError: unknown;
    let polls = 0;
    let offStop: () => void = () => undefined;
    const finish = (err: unknown, outcome?: JobOutcome) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      offEvent();
      wait.signal?.removeEventListener('abort', onAbort);
      offStop();
      if (outcome) resolve(outcome);
      else reject(err);
    };
    const onAbort = () => finish(wait.signal?.reason);
    const offEvent = w.onEvent(() => {
      const outcome = w.known();
      if (outcome) finish(undefined, outcome);
    });
    const schedule = () => {
      const ms = Math.max(0, Math.min(w.delay(polls), deadline - Date.now()));
      timer = setTimeout(poll, ms);
    };
    const poll = async () => {
      timer = undefined;
      if (finished) return;
      if (Date.now() >= deadline) {
        const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
        finish(
          new StamplineError(
            'ENGRAVER_TIMEOUT',
            `job ${jobId} had not ended after ${wait.timeoutMs} ms (${w.describe(lastStatus)})${why}`,
            { engraver: w.url, jobId, status: lastStatus, timeoutMs: wait.timeoutMs },
          ),
        );
        return;
      }
      polls++;
      try {
        const read = await w.poll();
        lastError = undefined;
        if ('state' in read) {
          lastStatus = read;
          const outcome = jobOutcome(jobId, read);
          if (outcome) finish(undefined, outcome);
        } else finish(undefined, read);
      } catch (err) {
        if (!(err instanceof StamplineError) || !err.transient) {
          finish(err);
          return;
        }
        lastError = err;
        w.log.debug({ jobId, err: err.message }, 'status poll failed while waiting for the job');
      }
      if (!finished && timer === undefined) schedule();
    };
    if (wait.signal?.aborted) return finish(wait.signal.reason);
    wait.signal?.addEventListener('abort', onAbort, { once: true });
    offStop = w.onStop(() => finish(w.stoppedError()));
    if (finished) return;
    if (w.delay(0) === 0) void poll();
    else schedule();
  });
}
