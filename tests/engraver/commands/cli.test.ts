/**
 * `stampline engraver send|probe|test-job` on text-command markers and `stampline sim engraver
 * --transport commands-tcp --profile`, run as an integrator writing a profile would.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandMarkerServer } from '../../../simulators/engraver/command-server.js';
import { MarkerDevice } from '../../../simulators/engraver/marker-device.js';
import { loadCommandProfile } from '../../../src/engraver/commands/profile.js';

const BIN = fileURLToPath(new URL('../../../bin/stampline.js', import.meta.url));
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

async function marker(name: string): Promise<{ device: MarkerDevice; url: string }> {
  const profile = loadCommandProfile(name);
  const device = new MarkerDevice({ markingTimeMs: 50 });
  const server = new CommandMarkerServer({ device, profile, link: { kind: 'tcp', port: 0 } });
  await server.start();
  cleanups.push(
    () => device.close(),
    () => server.stop(),
  );
  return { device, url: `commands-tcp://127.0.0.1:${server.port}?profile=${name}` };
}

describe('stampline engraver on a command marker', () => {
  it('send prints what the marker answers, and exits 1 when it answers nothing', async () => {
    const { url } = await marker('kv-marker');
    const ready = await stampline('engraver', 'send', url, 'RX,Ready');
    expect(ready).toMatchObject({ code: 0 });
    expect(ready.stdout).toBe('> RX,Ready\n< RX,OK,1\n');
    const silent = await stampline('engraver', 'send', url, 'NOPE', '--timeout', '500');
    expect(silent.code).toBe(1);
    expect(silent.stdout).toMatch(/\(no answer\)/);
    const modbus = await stampline('engraver', 'send', 'modbus-tcp://127.0.0.1:1', 'X');
    expect(modbus.code).toBe(2);
    expect(modbus.stderr).toMatch(/text-command markers/);
  }, 90_000);

  it('test-job marks the text and gear given, and probe shows the count', async () => {
    const { device, url } = await marker('tl-marker');
    const run = await stampline('engraver', 'test-job', url, '--text', 'K7Q2-MX94', '--gear', '1011');
    expect(run.stdout).toMatch(/DONE \(engraver has completed 1 jobs since power-on\)/);
    expect(run.code).toBe(0);
    expect(device.marks).toEqual([
      expect.objectContaining({ program: 'PIN.MRK', text: 'K7Q2-MX94', gear: '1011' }),
    ]);
    const probe = await stampline('engraver', 'probe', url, '--json');
    expect(JSON.parse(probe.stdout)).toMatchObject({
      reachable: true,
      status: { state: 'READY', completed: 1 },
    });
  }, 90_000);

  it('a URL without a profile, or a profile that is not valid, is refused with the reason', async () => {
    const none = await stampline('engraver', 'probe', 'commands-tcp://127.0.0.1:9');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/needs \?profile=NAME/);
    const modbus = await stampline('engraver', 'probe', 'commands-tcp://127.0.0.1:9?profile=sl1-modbus');
    expect(modbus.code).toBe(2);
    expect(modbus.stderr).toMatch(/command profile .*sl1-modbus.* is not valid: .*kind/);
  }, 90_000);
});

describe('stampline sim engraver --transport commands-tcp', () => {
  it('serves a profile that the driver then runs a job on', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [
        BIN,
        'sim',
        'engraver',
        '--transport',
        'commands-tcp',
        '--profile',
        'kv-marker',
        '--port',
        '0',
        '--marking-ms',
        '50',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    cleanups.push(() => {
      child.kill('SIGTERM');
    });
    let out = '';
    child.stdout!.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 30_000);
      child.stdout!.on('data', (chunk: string) => {
        out += chunk;
        const m = /connect with (commands-tcp:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const run = await stampline('engraver', 'test-job', url, '--text', 'AB12', '--gear', '10');
    expect(run.code).toBe(0);
    child.stdin!.write('status\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(out).toMatch(/marking done \(count 1\)/);
    expect(out).toMatch(/count 1, program 1, blocks \["AB12","10"\]/);
  }, 90_000);
});
