/**
 * A null-modem cable for tests: `socat -d -d pty,raw,echo=0 pty,raw,echo=0` makes two linked
 * pseudo-terminals and names them on stderr ("N PTY is /dev/pts/N"); what one end writes, the
 * other reads.
 */
import { spawn } from 'node:child_process';

export interface Pty {
  /** The simulator's end. */
  readonly a: string;
  /** The driver's end. */
  readonly b: string;
  close(): Promise<void>;
}

export async function socatPtyPair(timeoutMs = 10_000): Promise<Pty> {
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const paths: string[] = [];
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill();
      reject(new Error(`socat: ${why}; stderr: ${stderr}`));
    };
    const timer = setTimeout(() => fail(`no two pseudo-terminals within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code) => fail(`exited with ${code} before the link was ready`));
    child.stderr.setEncoding('latin1');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      for (const match of stderr.matchAll(/PTY is (\/dev\/\S+)/g)) {
        if (!paths.includes(match[1]!)) paths.push(match[1]!);
      }
      if (paths.length === 2 && /starting data transfer loop/.test(stderr)) {
        clearTimeout(timer);
        child.stderr.removeAllListeners('data');
        child.stderr.resume();
        resolve();
      }
    });
  });
  return {
    a: paths[0]!,
    b: paths[1]!,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
