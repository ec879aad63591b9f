/**
 * Our Modbus speaks standard Modbus, not only to itself: Debian's mbpoll (libmodbus) reads and
 * writes our simulators over TCP and RTU, and our drivers run jobs against an engraver emulated
 * on pymodbus (python3-pymodbus 3.0), over TCP and, through a socat bridge, over RTU.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { ModbusRtuServer } from '../../simulators/engraver/modbus-rtu-server.js';
import { ModbusTcpServer } from '../../simulators/engraver/modbus-tcp-server.js';
import { openPtyPair } from '../../simulators/engraver/pty-pair.js';
import { createEngraver } from '../../src/engraver/index.js';
import type { EngraveJob, Engraver } from '../../src/engraver/types.js';
import { isStamplineError } from '../../src/errors.js';
import { requireCommands } from '../support/tools.js';
import { useCleanups } from './support/rigs.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/sl1_pymodbus_server.py', import.meta.url));
/** Debian's interpreter, where python3-pymodbus lives (a PATH python3 may be another one). */
const DEBIAN_PYTHON = '/usr/bin/python3';

const cleanups = useCleanups();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 15_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** mbpoll prints registers read as "[address]: value" lines. */
function registers(output: string): Map<number, number> {
  const values = new Map<number, number>();
  for (const match of output.matchAll(/^\[(\d+)\]:\s+(-?\d+)/gm))
    values.set(Number(match[1]), Number(match[2]));
  return values;
}

/** The job registers 10..33 of sl1-modbus for job 0x00010203 "AB3", gear 1011, mirror. */
const JOB_WORDS = ['1', '515', '3', '16706', '13056', '0', '0', '0', '0', '0', '0', '45056'].concat([
  '0',
  '0',
  '0',
  '0',
  '0',
  '4',
  '1',
  '0',
  '500',
  '20',
  '300',
  '2',
]);
const JOB_ID = 0x00010203;

function job(overrides: Partial<EngraveJob> = {}): EngraveJob {
  return {
    jobId: 4242,
    text: 'AB3-Z9',
    gear: '10110011100011',
    mirror: true,
    target: 'breech-face',
    recipe: { power: 640, frequency: 25, speed: 280, passes: 3 },
    ...overrides,
  };
}

async function tcpSimulator(markingTimeMs: number): Promise<{ device: EngraverDevice; port: number }> {
  const device = new EngraverDevice({ markingTimeMs });
  const server = new ModbusTcpServer({ device, port: 0 });
  await server.start();
  cleanups.push(
    () => device.close(),
    () => server.stop(),
  );
  return { device, port: server.port };
}

async function rtuSimulator(markingTimeMs: number): Promise<{ device: EngraverDevice; path: string }> {
  const pair = await openPtyPair();
  cleanups.push(() => pair.close());
  const device = new EngraverDevice({ markingTimeMs });
  const server = new ModbusRtuServer({ device, path: pair.a, baudRate: 19200 });
  await server.start();
  cleanups.push(
    () => device.close(),
    () => server.stop(),
  );
  return { device, path: pair.b };
}

describe('mbpoll (libmodbus) against our simulators', () => {
  const mbpoll = requireCommands('mbpoll');
  const mbpollRtu = mbpoll && requireCommands('socat');

  it.runIf(mbpoll)('reads the status registers over Modbus TCP', async () => {
    const { device, port } = await tcpSimulator(0);
    expect(
      device.loadJob({ ...job({ jobId: 0x00012345 }), breechFace: true }) ?? device.go(0x00012345),
    ).toBeUndefined();
    await waitFor(() => device.status().state === 'DONE');

    const result = await run('mbpoll', [
      '-m',
      'tcp',
      '-p',
      String(port),
      '-a',
      '1',
      '-0',
      '-r',
      '0',
      '-c',
      '6',
      '-1',
      '127.0.0.1',
    ]);
    expect(result.code).toBe(0);
    const values = registers(result.stdout);
    // interface 1, state DONE, fault 0, completed 1, activeJob 0x00012345 high word first
    expect([0, 1, 2, 3, 4, 5].map((a) => values.get(a))).toEqual([1, 2, 0, 1, 0x0001, 0x2345]);
  });

  it.runIf(mbpoll)(
    'loads a job with FC16 and starts it with FC5 over Modbus TCP; a write while marking is refused as busy',
    async () => {
      const { device, port } = await tcpSimulator(30_000);
      const base = ['-m', 'tcp', '-p', String(port), '-a', '1', '-0', '-1'];
      const load = await run('mbpoll', [...base, '-r', '10', '127.0.0.1', ...JOB_WORDS]);
      expect(load.code).toBe(0);
      const start = await run('mbpoll', [...base, '-t', '0', '-r', '0', '127.0.0.1', '1']);
      expect(start.code).toBe(0);

      expect(device.marks).toHaveLength(1);
      expect(device.marks[0]).toMatchObject({
        jobId: JOB_ID,
        text: 'AB3',
        gear: '1011',
        mirror: true,
        breechFace: false,
        recipe: { power: 500, frequency: 20, speed: 300, passes: 2 },
      });
      expect(device.status()).toMatchObject({ state: 'BUSY', activeJob: JOB_ID });

      const refused = await run('mbpoll', [...base, '-r', '10', '127.0.0.1', '0', '7']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr + refused.stdout).toMatch(/busy/i);
    },
  );

  it.runIf(mbpollRtu)('reads, loads and starts a job over Modbus RTU on a serial line', async () => {
    const { device, path } = await rtuSimulator(30_000);
    const base = [
      '-m',
      'rtu',
      '-b',
      '19200',
      '-P',
      'none',
      '-d',
      '8',
      '-s',
      '1',
      '-a',
      '1',
      '-0',
      '-1',
      '-o',
      '2',
    ];
    const before = await run('mbpoll', [...base, '-r', '0', '-c', '6', path]);
    expect(before.code).toBe(0);
    expect([0, 1, 2, 3, 4, 5].map((a) => registers(before.stdout).get(a))).toEqual([1, 0, 0, 0, 0, 0]);

    expect((await run('mbpoll', [...base, '-r', '10', path, ...JOB_WORDS])).code).toBe(0);
    expect((await run('mbpoll', [...base, '-t', '0', '-r', '0', path, '1'])).code).toBe(0);
    expect(device.marks.map((m) => [m.jobId, m.text, m.gear])).toEqual([[JOB_ID, 'AB3', '1011']]);

    const after = await run('mbpoll', [...base, '-r', '1', '-c', '5', path]);
    expect([1, 2, 3, 4, 5].map((a) => registers(after.stdout).get(a))).toEqual([1, 0, 0, 0x0001, 0x0203]);
  });
});

describe('our drivers against an engraver emulated on pymodbus', () => {
  const pymodbus = requireCommands('pymodbus.server');
  const pymodbusRtu = pymodbus && requireCommands('socat');

  it.runIf(pymodbus)(
    'runs a job to DONE over Modbus TCP, and a load while marking is ENGRAVER_BUSY',
    async () => {
      const server = await pymodbusServer('socket', 400);
      const engraver = await started(
        createEngraver(`modbus-tcp://127.0.0.1:${server.port}?unit=1`, { requestTimeoutMs: 2000 }),
      );
      await runJobChecked(engraver, server);
    },
  );

  it.runIf(pymodbusRtu)(
    'runs a job to DONE over Modbus RTU (pymodbus RTU framing behind a socat serial bridge)',
    async () => {
      const server = await pymodbusServer('rtu', 400);
      const bridge = await socatBridge(server.port);
      const engraver = await started(
        createEngraver(`modbus-rtu://${bridge}?baud=19200&unit=1`, { requestTimeoutMs: 2000 }),
      );
      await runJobChecked(engraver, server);
    },
  );
});

async function runJobChecked(engraver: Engraver, server: PymodbusServer): Promise<void> {
  expect(await engraver.readInterfaceVersion()).toBe(1);
  expect(await engraver.readStatus()).toEqual({ state: 'READY', fault: 0, completed: 0, activeJob: 0 });
  const sent = job();
  await engraver.loadJob(sent);
  await engraver.startJob(sent.jobId);

  const busy = await engraver.loadJob(job({ jobId: 4243 })).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isStamplineError(busy, 'ENGRAVER_BUSY')).toBe(true);

  expect(await engraver.waitForEnd(sent.jobId, { timeoutMs: 10_000 })).toEqual({
    kind: 'done',
    jobId: sent.jobId,
    completed: 1,
  });
  expect(server.marks).toEqual([
    {
      jobId: sent.jobId,
      text: sent.text,
      gear: sent.gear,
      flags: 3,
      recipe: [sent.recipe.power, sent.recipe.frequency, sent.recipe.speed, sent.recipe.passes],
    },
  ]);
}

async function started(engraver: Engraver): Promise<Engraver> {
  cleanups.push(() => engraver.stop());
  await engraver.start();
  await engraver.whenConnected(10_000);
  return engraver;
}

interface PymodbusServer {
  port: number;
  marks: unknown[];
}

async function pymodbusServer(framer: 'socket' | 'rtu', markingMs: number): Promise<PymodbusServer> {
  const child = spawn(DEBIAN_PYTHON, [FIXTURE, '--framer', framer, '--marking-ms', String(markingMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => stopChild(child));
  const marks: unknown[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pymodbus server did not start: ${stderr}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`pymodbus server exited with ${code}: ${stderr}`)));
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const listening = /^listening (\d+)/.exec(line);
        if (listening) {
          clearTimeout(timer);
          resolve(Number(listening[1]));
        }
        if (line.startsWith('MARK ')) marks.push(JSON.parse(line.slice(5)));
      }
    });
  });
  return { port, marks };
}

/** A pseudo-terminal whose bytes socat relays to and from a TCP port. */
async function socatBridge(port: number): Promise<string> {
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', `tcp:127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(() => stopChild(child));
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socat bridge did not start')), 10_000);
    let text = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const pty = /PTY is (\S+)/.exec(text);
      if (pty) {
        clearTimeout(timer);
        resolve(pty[1]!);
      }
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function waitFor(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
