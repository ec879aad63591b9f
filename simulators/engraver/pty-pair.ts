/**
 * A pair of linked pseudo-terminals made by socat (`socat -d -d pty,raw,echo=0 pty,raw,echo=0`):
 * what is written to one end is read at the other, as on a null-modem cable. Tests, the benchmark
 * and hand testing put a serial simulator on one end and a driver on the other.
 *
 * With `trace`, socat also reports every transfer (`-x -v`), which gives the bytes each way without
 * touching either program.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface PtyPair {
  /** The first end (give it to the simulator). */
  readonly a: string;
  /** The second end (give it to the driver). */
  readonly b: string;
  /** Bytes socat carried from a to b and from b to a (only with `trace`). */
  readonly traffic: { aToB: number; bToA: number };
  close(): Promise<void>;
}

export async function openPtyPair(options: { trace?: boolean; timeoutMs?: number } = {}): Promise<PtyPair> {
  const args = ['-d', '-d', ...(options.trace ? ['-x', '-v'] : []), 'pty,raw,echo=0', 'pty,raw,echo=0'];
  const child: ChildProcess = spawn('socat', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const traffic = { aToB: 0, bToA: 0 };
  const paths: string[] = [];
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(
        new Error(
          `socat did not report two pseudo-terminals within ${options.timeoutMs ?? 5000} ms: ${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 5000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run socat (install the socat package): ${err.message}`));
    });
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`socat exited with ${code} before the pseudo-terminals were ready: ${stderr}`));
    };
    child.once('exit', early);
    let pending = '';
    child.stderr!.setEncoding('latin1');
    child.stderr!.on('data', (chunk: string) => {
      if (paths.length < 2) stderr += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const pty = /N PTY is (\S+)/.exec(line);
        if (pty && paths.length < 2) paths.push(pty[1]!);
        // -v transfer headers: "> 2024/01/01 12:00:00.000000  length=8 from=0 to=7"
        const transfer = /^([<>]) \d{4}\/\d\d\/\d\d [\d:.]+\s+length=(\d+)/.exec(line);
        if (transfer) {
          if (transfer[1] === '>') traffic.aToB += Number(transfer[2]);
          else traffic.bToA += Number(transfer[2]);
        }
        if (/starting data transfer loop/.test(line) && paths.length === 2) {
          clearTimeout(timer);
          child.off('exit', early);
          resolve();
        }
      }
    });
  });

  return {
    a: paths[0]!,
    b: paths[1]!,
    traffic,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
