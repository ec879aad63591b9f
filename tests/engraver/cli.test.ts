/** `stampline engraver probe|test-job` and `stampline sim engraver`, run as an integrator would. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { ModbusTcpServer } from '../../simulators/engraver/modbus-tcp-server.js';
import { createEngraver } from '../../src/engraver/index.js';

const BIN = fileURLToPath(new URL('../../bin/stampline.js', import.meta.url));
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const task of cleanups.splice(0).reverse()) await task();
});

function stampline(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

async function simulator(markingTimeMs = 50): Promise<{ device: EngraverDevice; url: string }> {
  const device = new EngraverDevice({ markingTimeMs });
  const server = new ModbusTcpServer({ device, port: 0 });
  await server.start();
  cleanups.push(
    () => device.close(),
    () => server.stop(),
  );
  return { device, url: `modbus-tcp://127.0.0.1:${server.port}?unit=1` };
}

describe('stampline engraver', () => {
  it('probe prints the interface version and the state', async () => {
    const { url } = await simulator();
    const text = await stampline('engraver', 'probe', url);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^interface\s+1$/m);
    expect(text.stdout).toMatch(/^state\s+READY$/m);
    const json = await stampline('engraver', 'probe', url, '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({
      reachable: true,
      interfaceVersion: 1,
      status: { state: 'READY', activeJob: 0 },
    });
  }, 90_000);

  it('probe exits non-zero with the reason when the engraver cannot be reached or the URL is bad', async () => {
    const unreachable = await stampline('engraver', 'probe', 'modbus-tcp://127.0.0.1:1', '--timeout', '1500');
    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toMatch(/cannot be reached: .*ECONNREFUSED/);
    const bad = await stampline('engraver', 'probe', 'modbus-tcp://127.0.0.1?uint=1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown parameter "uint"/);
  }, 90_000);

  it('test-job runs one job and says how it ended', async () => {
    const { device, url } = await simulator();
    const done = await stampline(
      'engraver',
      'test-job',
      url,
      '--text',
      'PX-4471',
      '--gear',
      '1101',
      '--mirror',
      '--job-id',
      '99',
    );
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/job 99 DONE/);
    expect(device.marks).toMatchObject([
      { jobId: 99, text: 'PX-4471', gear: '1101', mirror: true, outcome: 'done' },
    ]);

    device.faultNextJob(3, 0.5);
    const fault = await stampline('engraver', 'test-job', url, '--text', 'PX-4472', '--job-id', '100');
    expect(fault.code).toBe(1);
    expect(fault.stdout).toMatch(/job 100 FAULT 3 \(marking error\)/);
  }, 90_000);
});

describe('stampline sim engraver', () => {
  it('serves the engraver, journals every mark and takes faults on its standard input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stampline-sim-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const journal = join(dir, 'marks.jsonl');
    const sim = spawn(
      process.execPath,
      [
        BIN,
        'sim',
        'engraver',
        '--transport',
        'modbus-tcp',
        '--port',
        '0',
        '--marking-ms',
        '50',
        '--journal',
        journal,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    cleanups.push(() => stop(sim));
    const output = lines(sim);
    const url = (await output.next(/connect with (\S+)/))[1]!;

    const engraver = createEngraver(url, { requestTimeoutMs: 2000 });
    cleanups.push(() => engraver.stop());
    await engraver.start();
    await engraver.whenConnected(10_000);
    const job = (jobId: number) => ({
      jobId,
      text: `SIM-${jobId}`,
      gear: '1',
      mirror: false,
      target: 'firing-pin' as const,
      recipe: { power: 100, frequency: 10, speed: 100, passes: 1 },
    });

    sim.stdin!.write('fault-next 2 0\n');
    await output.next(/next job faults with 2/);
    await engraver.loadJob(job(5));
    await engraver.startJob(5);
    expect(await engraver.waitForEnd(5, { timeoutMs: 10_000 })).toEqual({
      kind: 'fault',
      jobId: 5,
      fault: 2,
    });
    await engraver.reset();
    await engraver.loadJob(job(6));
    await engraver.startJob(6);
    expect(await engraver.waitForEnd(6, { timeoutMs: 10_000 })).toMatchObject({ kind: 'done', jobId: 6 });

    const marks = readFileSync(journal, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(marks.map((m) => [m.jobId, m.text, m.outcome])).toEqual([
      [5, 'SIM-5', 'marking'],
      [5, 'SIM-5', 'fault'],
      [6, 'SIM-6', 'marking'],
      [6, 'SIM-6', 'done'],
    ]);

    await engraver.stop();
    sim.kill('SIGTERM');
    expect(await exitCode(sim)).toBe(0);
  }, 90_000);

  it('refuses a serial transport without a device', async () => {
    const result = await stampline('sim', 'engraver', '--transport', 'modbus-rtu');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/needs --device PATH/);
  }, 60_000);
});

function lines(child: ChildProcess): { next(pattern: RegExp): Promise<RegExpExecArray> } {
  let buffered = '';
  const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      const match = w.pattern.exec(buffered);
      if (match) {
        buffered = buffered.slice(match.index + match[0].length);
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(match);
      }
    }
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    check();
  });
  return {
    next: (pattern) =>
      new Promise((resolve) => {
        waiters.push({ pattern, resolve });
        check();
      }),
  };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await exitCode(child);
}
