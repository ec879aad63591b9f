/**
 * Shared setup of the ASCII transport tests: a job, a logger that keeps what it is told, and a
 * poll-until function with a generous deadline (the tests run on a loaded two-core machine).
 */
import type { Logger } from '../../../src/engraver/options.js';
import type { EngraveJob } from '../../../src/engraver/types.js';

export function makeJob(jobId: number, overrides: Partial<EngraveJob> = {}): EngraveJob {
  return {
    jobId,
    text: `SN${jobId}-X7K2`,
    gear: '1011001110001111',
    mirror: false,
    target: 'firing-pin',
    recipe: { power: 750, frequency: 30, speed: 1200, passes: 2 },
    ...overrides,
  };
}

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: unknown;
  msg: string | undefined;
}

export function recordingLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const make = (): Logger & { entries: LogEntry[] } => ({
    entries,
    debug: (obj, msg) => entries.push({ level: 'debug', obj, msg }),
    info: (obj, msg) => entries.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => entries.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => entries.push({ level: 'error', obj, msg }),
    child: () => make(),
  });
  return make();
}

export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
