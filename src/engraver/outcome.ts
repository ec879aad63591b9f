/**
 * How a started job ended, judged from one status read, the same for every transport. A job the
 * engraver no longer holds is ENGRAVER_JOB_LOST, never taken for done: the line then settles it
 * from the engraver's state, as after a restart.
 */
import { StamplineError } from '../errors.js';
import type { EngraverStatus, JobOutcome } from './types.js';

/** The job's outcome, or undefined while it is still marking. */
export function jobOutcome(jobId: number, status: EngraverStatus): JobOutcome | undefined {
  if (status.activeJob === jobId) {
    if (status.state === 'BUSY') return undefined;
    if (status.state === 'DONE') return { kind: 'done', jobId, completed: status.completed };
    if (status.state === 'FAULT') return { kind: 'fault', jobId, fault: status.fault };
  }
  const why =
    status.activeJob === 0
      ? 'the engraver was power-cycled (activeJob 0)'
      : status.activeJob !== jobId
        ? `the engraver now holds job ${status.activeJob}`
        : 'the engraver is READY again, so the job ended unobserved (a fault was reset)';
  throw new StamplineError('ENGRAVER_JOB_LOST', `job ${jobId} is no longer on the engraver: ${why}`, {
    jobId,
    status,
  });
}
