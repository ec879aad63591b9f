/**
 * Named points in the job cycle where a crash test may kill the daemon. The line calls its crash
 * hook at each (`LineOptions.crashHook`); the daemon's hook, `crashPoint`, dies there with SIGKILL
 * only when STAMPLINE_CRASH_AT names the point (and, with STAMPLINE_CRASH_AFTER=N, only the N-th
 * time it is reached), so tests can prove recovery at each step with real processes. Unset in
 * production, it costs one comparison. In-process tests inject a hook of their own instead.
 */
export type CrashPoint =
  | 'after-allocation'
  | 'after-load'
  /** `marking` is durable; the start has not been sent. */
  | 'before-start'
  | 'during-marking'
  | 'after-done-before-save'
  | 'after-record-queued';

const target = process.env.STAMPLINE_CRASH_AT;
let remaining = Number.parseInt(process.env.STAMPLINE_CRASH_AFTER ?? '1', 10) || 1;

export function crashPoint(point: CrashPoint): void {
  if (target !== point) return;
  if (--remaining > 0) return;
  process.kill(process.pid, 'SIGKILL');
}
