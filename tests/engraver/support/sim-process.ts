/**
 * `stampline sim engraver` run as its own process, as an integrator runs it: its output read
 * line by line, run-time commands written to its standard input.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Cleanup } from './rigs.js';

export const BIN = fileURLToPath(new URL('../../../bin/stampline.js', import.meta.url));

export interface SimProcess {
  readonly child: ChildProcess;
  /** The URL the simulator says to connect with. */
  readonly url: string;
  /** Everything it has printed so far. */
  output(): string;
  /** The next match of `pattern` in what it prints after the previous match; rejects after `timeoutMs`. */
  next(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Types a run-time command and waits for the simulator to echo `reply`. */
  command(line: string, reply: RegExp): Promise<void>;
  /** Stops it with SIGTERM; resolves with its exit code. */
  stop(): Promise<number | null>;
}

/** Starts the simulator with `args` (after `sim engraver`); `cleanups` gets what kills it. */
export async function startSimProcess(args: readonly string[], cleanups: Cleanup[]): Promise<SimProcess> {
  const child = spawn(process.execPath, [BIN, 'sim', 'engraver', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  cleanups.push(() => kill(child));
  let all = '';
  let unread = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    all += chunk.toString();
    unread += chunk.toString();
    for (const wake of [...waiters]) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.once('exit', () => {
    for (const wake of [...waiters]) wake();
  });

  const next = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`the simulator did not print ${pattern} within ${timeoutMs} ms:\n${all}${stderr}`));
      }, timeoutMs);
      function check() {
        const match = pattern.exec(unread);
        if (match) {
          unread = unread.slice(match.index + match[0].length);
        } else if (child.exitCode === null && child.signalCode === null) {
          return;
        }
        clearTimeout(timer);
        waiters.delete(check);
        if (match) resolve(match);
        else reject(new Error(`the simulator exited before printing ${pattern}:\n${all}${stderr}`));
      }
      waiters.add(check);
      check();
    });

  const url = (await next(/connect with (\S+)/, 60_000))[1]!;
  return {
    child,
    url,
    output: () => all,
    next,
    async command(line, reply) {
      child.stdin!.write(`${line}\n`);
      await next(reply);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exitCode(child);
    },
  };
}

export function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await exitCode(child);
}
