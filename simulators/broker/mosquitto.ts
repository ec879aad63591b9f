/**
 * A private Mosquitto (the Debian package) for tests and benchmarks: its own config in a folder
 * of its own, on a port taken from the system, optionally with TLS (client certificates
 * required), a password file, or on-disk persistence. It never touches a system-wide service.
 *
 * `stop()` and `start()` again on the same instance keep the port, so a test can take the broker
 * away for a while and bring it back where the line expects it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { StamplineError } from '../../src/errors.js';

export interface MosquittoOptions {
  /** A folder for the config, logs and persistence; the caller removes it. */
  dir: string;
  /** PEM paths: the broker then speaks TLS only and requires a client certificate signed by `ca`. */
  tls?: { ca: string; cert: string; key: string; requireCertificate?: boolean };
  /** Only these users may connect (plain passwords; hashed into a file with mosquitto_passwd). */
  users?: Record<string, string>;
  /** Keep sessions and queued messages across a stop and start. */
  persistence?: boolean;
  port?: number;
}

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** Starts the broker (again); resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the broker (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): Promise<void>;
  /** Kills it at once, as a crash would. */
  kill(): Promise<void>;
  /** What the broker wrote to standard error, for diagnosing a failed test. */
  log(): string;
  /** The broker's process id while it runs. */
  readonly pid: number | undefined;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function createMosquitto(opts: MosquittoOptions): Promise<Mosquitto> {
  await mkdir(opts.dir, { recursive: true });
  const port = opts.port ?? (await freePort());
  // As root mosquitto drops to user `mosquitto`, who cannot read a private temporary folder.
  const lines = [`user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'log_dest stderr'];
  lines.push('log_type error', 'log_type warning', 'log_type notice');
  if (opts.tls) {
    lines.push(`cafile ${opts.tls.ca}`, `certfile ${opts.tls.cert}`, `keyfile ${opts.tls.key}`);
    lines.push(`require_certificate ${opts.tls.requireCertificate === false ? 'false' : 'true'}`);
  }
  if (opts.users) {
    const file = join(opts.dir, 'passwords');
    await writeFile(file, '', { mode: 0o600 });
    for (const [user, password] of Object.entries(opts.users)) {
      const result = spawnSync('mosquitto_passwd', ['-b', file, user, password], { encoding: 'utf8' });
      if (result.status !== 0) {
        throw new StamplineError('REGISTRY_BROKER_FAILED', `mosquitto_passwd failed: ${result.stderr}`, {});
      }
    }
    lines.push('allow_anonymous false', `password_file ${file}`);
  } else {
    lines.push('allow_anonymous true');
  }
  if (opts.persistence) lines.push('persistence true', `persistence_location ${opts.dir}/`);
  const config = join(opts.dir, 'mosquitto.conf');
  await writeFile(config, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  let stderr = '';
  const scheme = opts.tls ? 'mqtts' : 'mqtt';

  const waitExit = async (proc: ChildProcess, signal: NodeJS.Signals): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      const proc = spawn('mosquitto', ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = proc;
      proc.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
      });
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        if (proc.exitCode !== null) break;
        if (await canConnect(port)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await waitExit(proc, 'SIGKILL');
      child = undefined;
      throw new StamplineError(
        'REGISTRY_BROKER_FAILED',
        `mosquitto did not start on port ${port}: ${stderr}`,
        {
          port,
        },
      );
    },
    async stop() {
      const proc = child;
      child = undefined;
      if (proc) await waitExit(proc, 'SIGTERM');
    },
    async kill() {
      const proc = child;
      child = undefined;
      if (proc) await waitExit(proc, 'SIGKILL');
    },
    log: () => stderr,
    get pid() {
      return child?.pid;
    },
  };
}
