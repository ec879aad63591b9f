/**
 * Our driver and the shipped profiles against markers written independently of both: a small
 * Python KV and TL marker (tests/engraver/fixtures/text_marker.py) written from the spec's text.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEngraver } from '../../../src/engraver/index.js';
import { FAULT } from '../../../src/engraver/types.js';
import { requireCommands } from '../../support/tools.js';
import { sampleJob, useCleanups } from '../support/rigs.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/text_marker.py', import.meta.url));
const cleanups = useCleanups();

interface Peer {
  port: number;
  lines: string[];
}

async function startPeer(dialect: 'kv' | 'tl', args: string[] = []): Promise<Peer> {
  const child: ChildProcess = spawn('/usr/bin/python3', [FIXTURE, dialect, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanups.push(() => {
    child.kill();
  });
  const lines: string[] = [];
  let pending = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the Python marker did not start')), 10_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        const m = /^PORT (\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`the Python marker exited with ${code}`)));
  });
  return { port, lines };
}

describe.each([
  ['kv', 'kv-marker'],
  ['tl', 'tl-marker'],
] as const)('a %s marker written from the spec alone', (dialect, profile) => {
  const runnable = requireCommands('python3');

  async function driver(peer: Peer) {
    const engraver = createEngraver(`commands-tcp://127.0.0.1:${peer.port}?profile=${profile}`, {
      requestTimeoutMs: 1500,
      reconnect: { initialMs: 100, maxMs: 800 },
      pollIntervalMs: 50,
    });
    cleanups.push(() => engraver.stop());
    await engraver.start();
    await engraver.whenConnected(10_000);
    return engraver;
  }

  it.runIf(runnable)('marks our job once, with its text and gear, and the count proves it done', async () => {
    const peer = await startPeer(dialect);
    const engraver = await driver(peer);
    const job = sampleJob({ text: 'K7Q2-MX94', gear: '10110' });
    await engraver.loadJob(job);
    await engraver.startJob(job.jobId);
    expect(await engraver.waitForEnd(job.jobId, { timeoutMs: 10_000 })).toEqual({
      kind: 'done',
      jobId: job.jobId,
      completed: 1,
    });
    const program = dialect === 'kv' ? '1' : 'PIN.MRK';
    expect(peer.lines.filter((l) => l.startsWith('MARK'))).toEqual([`MARK ${program} K7Q2-MX94 10110`]);
    expect(await engraver.readStatus()).toEqual({
      state: 'DONE',
      fault: 0,
      completed: 1,
      activeJob: job.jobId,
    });
  });

  it.runIf(runnable)('reports its error code as the line fault, and clears it on reset', async () => {
    const peer = await startPeer(dialect, ['--fault-next', dialect === 'kv' ? '105' : '5']);
    const engraver = await driver(peer);
    const job = sampleJob();
    await engraver.loadJob(job);
    await engraver.startJob(job.jobId);
    expect(await engraver.waitForEnd(job.jobId, { timeoutMs: 10_000 })).toEqual({
      kind: 'fault',
      jobId: job.jobId,
      fault: FAULT.OVER_TEMPERATURE,
    });
    await engraver.reset();
    expect(await engraver.readStatus()).toMatchObject({ state: 'READY', fault: 0 });
  });

  it.runIf(runnable)('refuses a load while marking as busy, and an abort ends in fault 3', async () => {
    const peer = await startPeer(dialect, ['--marking-ms', '20000']);
    const engraver = await driver(peer);
    const job = sampleJob();
    await engraver.loadJob(job);
    await engraver.startJob(job.jobId);
    await expect(engraver.loadJob(sampleJob())).rejects.toMatchObject({ code: 'ENGRAVER_BUSY' });
    await engraver.abort();
    expect(await engraver.waitForEnd(job.jobId, { timeoutMs: 10_000 })).toEqual({
      kind: 'fault',
      jobId: job.jobId,
      fault: FAULT.MARKING_ERROR,
    });
  });
});
