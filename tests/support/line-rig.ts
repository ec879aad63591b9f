/**
 * A line rig for scenarios with real processes: the simulated engraver (Modbus TCP), an MQTT
 * broker and the simulated registry live in the test process, so they outlive the daemon, which
 * runs as a child process of `bin/stampline.js start` and can be killed at will.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../simulators/broker/mosquitto.js';
import { AsciiEngraverServer } from '../../simulators/engraver/ascii-server.js';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import type { SimulatedLink } from '../../simulators/engraver/link-faults.js';
import { ModbusRtuServer } from '../../simulators/engraver/modbus-rtu-server.js';
import { ModbusTcpServer } from '../../simulators/engraver/modbus-tcp-server.js';
import { openPtyPair, type PtyPair } from '../../simulators/engraver/pty-pair.js';
import { SimulatedRegistry } from '../../simulators/registry/registry.js';

export { freePort };

export const ERP_TOKEN = 'erp-token-for-tests-0001';
export const OPERATOR_TOKEN = 'operator-token-for-tests-0001';
const BIN = resolve(import.meta.dirname, '../../bin/stampline.js');

export interface RigOptions {
  markingTimeMs: number;
  /** URL of a broker already running; the rig does not own it. */
  mqttUrl: string;
  protocolVersion?: 4 | 5;
  /** The engraver's link; serial ones run over a socat pseudo-terminal pair. Default modbus-tcp. */
  transport?: 'modbus-tcp' | 'modbus-rtu' | 'ascii-serial';
  /** Watch `<rig dir>/drop` for CSV orders. */
  dropFolder?: boolean;
}

export class LineRig {
  dir = '';
  device!: EngraverDevice;
  engraverServer!: SimulatedLink;
  engraverUrl = '';
  private pty: PtyPair | undefined;
  registry!: SimulatedRegistry;
  httpPort = 0;
  configFile = '';
  daemon: ChildProcess | undefined;
  output = '';

  constructor(private readonly options: RigOptions) {}

  async start(): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'stampline-rig-'));
    this.device = new EngraverDevice({ markingTimeMs: this.options.markingTimeMs });
    const transport = this.options.transport ?? 'modbus-tcp';
    if (transport === 'modbus-tcp') {
      const tcp = new ModbusTcpServer({ device: this.device, port: 0, host: '127.0.0.1' });
      await tcp.start();
      this.engraverServer = tcp;
      this.engraverUrl = `modbus-tcp://127.0.0.1:${tcp.port}?unit=1`;
    } else {
      this.pty = await openPtyPair();
      this.engraverServer =
        transport === 'modbus-rtu'
          ? new ModbusRtuServer({ device: this.device, path: this.pty.a, baudRate: 115200 })
          : new AsciiEngraverServer({ device: this.device, path: this.pty.a, baudRate: 115200 });
      await this.engraverServer.start();
      this.engraverUrl = `${transport}://${this.pty.b}?baud=115200${transport === 'modbus-rtu' ? '&unit=1' : ''}`;
    }
    this.registry = new SimulatedRegistry({
      mqtt: {
        url: this.options.mqttUrl,
        protocolVersion: this.options.protocolVersion ?? 4,
        clientId: `registry-${process.pid}-${Date.now()}`,
      },
      file: join(this.dir, 'registry.jsonl'),
    });
    await this.registry.start();
    this.httpPort = await freePort();
    this.configFile = join(this.dir, 'line.yaml');
    await writeFile(
      this.configFile,
      stringify({
        line: { id: 'rig', dataDir: join(this.dir, 'data') },
        issuer: {
          number: 7,
          kind: 'manufacturer',
          licence: 'FFL-TEST-0001',
          key: '00112233445566778899aabbccddeeff',
          indexBlock: { start: 5000, size: 100000 },
        },
        http: { host: '127.0.0.1', port: this.httpPort },
        auth: { erpToken: ERP_TOKEN, operatorToken: OPERATOR_TOKEN },
        engraver: {
          url: this.engraverUrl,
          id: 'rig-laser',
          requestTimeoutMs: 1000,
          reconnect: { initialMs: 50, maxMs: 500 },
        },
        mqtt: {
          url: this.options.mqttUrl,
          protocolVersion: this.options.protocolVersion ?? 4,
          clientId: `rig-line-${process.pid}-${Date.now()}`,
          resendAfterMs: 2000,
          reconnectMs: 200,
        },
        ...(this.options.dropFolder
          ? { erp: { dropFolder: { path: this.dropDir, pollMs: 100, settleMs: 200 } } }
          : {}),
        log: { level: 'info', pretty: false },
      }),
    );
  }

  /** Starts the daemon; resolves once its API answers. */
  async startDaemon(env: Record<string, string> = {}): Promise<ChildProcess> {
    const child = spawn(process.execPath, [BIN, 'start', '--config', this.configFile], {
      env: { ...process.env, ...env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.daemon = child;
    child.stdout!.on('data', (b: Buffer) => {
      this.output += b.toString();
    });
    child.stderr!.on('data', (b: Buffer) => {
      this.output += b.toString();
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) return child;
      try {
        const res = await fetch(`${this.url}/healthz`);
        if (res.ok) return child;
      } catch {}
      if (Date.now() > deadline) throw new Error(`daemon did not come up:\n${this.output.slice(-3000)}`);
      await sleep(100);
    }
  }

  /** Resolves with the signal or exit code when the daemon process ends. */
  exited(child = this.daemon!): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
    }
    return new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  }

  async stopDaemon(): Promise<void> {
    const child = this.daemon;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await this.exited(child);
  }

  get dropDir(): string {
    return join(this.dir, 'drop');
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  async api(
    method: string,
    path: string,
    body?: unknown,
    token = OPERATOR_TOKEN,
    // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the API answers
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  async stop(): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null && this.daemon.signalCode === null) {
      this.daemon.kill('SIGKILL');
      await this.exited();
    }
    await this.registry?.stop().catch(() => {});
    await this.engraverServer?.stop().catch(() => {});
    await this.pty?.close();
    this.device?.close();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
