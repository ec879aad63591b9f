/**
 * Every fault of `stampline sim engraver` given on its command line, with no hand timing: the
 * real simulator process on each transport (Modbus TCP on loopback; Modbus RTU and ASCII on a
 * socat pseudo-terminal pair it makes itself with --pty), our driver on the other end, and what
 * the driver sees.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MarkRecord } from '../../simulators/engraver/device.js';
import { createEngraver } from '../../src/engraver/index.js';
import type { Logger } from '../../src/engraver/options.js';
import type { EngraveJob, Engraver, LinkEvent } from '../../src/engraver/types.js';
import { isStamplineError, isTransient } from '../../src/errors.js';
import { requireCommands } from '../support/tools.js';
import { eventually, sampleJob, TRANSPORTS, useCleanups } from './support/rigs.js';
import { type SimProcess, startSimProcess } from './support/sim-process.js';

const REQUEST_TIMEOUT_MS = 800;
/**
 * A serial host sees a dropped line only as silence; the line stays down long enough for the
 * driver to miss several replies in a row and declare it lost.
 */
const SERIAL_DROP_MS = 8 * REQUEST_TIMEOUT_MS;

/** How each simulator says it spoiled a reply. */
const CORRUPTED: Record<(typeof TRANSPORTS)[number], RegExp> = {
  'modbus-tcp': /fault injection: malformed reply/g,
  'modbus-rtu': /fault injection: reply with a bad CRC/g,
  'ascii-serial': /fault injection: reply with a bad checksum/g,
};
const WITHHELD = /fault injection: reply withheld/g;

const cleanups = useCleanups();

interface Driver {
  engraver: Engraver;
  events: LinkEvent[];
}

function driver(url: string, requestTimeoutMs = REQUEST_TIMEOUT_MS): Driver {
  const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
  const engraver = createEngraver(url, {
    requestTimeoutMs,
    reconnect: { initialMs: 100, maxMs: 500 },
    pollIntervalMs: 50,
    logger: quiet,
  });
  const events: LinkEvent[] = [];
  engraver.onLink((event) => events.push(event));
  cleanups.push(() => engraver.stop());
  return { engraver, events };
}

/** A driver connected to the simulator at `url`, with a sample job loaded and started on it. */
async function jobStarted(url: string): Promise<Driver & { job: EngraveJob }> {
  const started = driver(url);
  await started.engraver.start();
  await started.engraver.whenConnected(30_000);
  const job = sampleJob();
  await started.engraver.loadJob(job);
  await started.engraver.startJob(job.jobId);
  return { ...started, job };
}

function occurrences(text: string, pattern: RegExp): number {
  return text.match(pattern)?.length ?? 0;
}

function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe.each(TRANSPORTS)('stampline sim engraver --transport %s', (transport) => {
  const runnable = transport === 'modbus-tcp' || requireCommands('socat');
  const serial = transport !== 'modbus-tcp';
  const linkArgs = serial ? ['--pty', '--drop-for', String(SERIAL_DROP_MS)] : ['--port', '0'];

  function simulator(...args: string[]): Promise<SimProcess> {
    return startSimProcess(['--transport', transport, ...linkArgs, ...args], cleanups);
  }

  function journalFile(): string {
    const dir = mkdtempSync(join(tmpdir(), 'stampline-sim-faults-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return join(dir, 'marks.jsonl');
  }

  function journal(file: string): MarkRecord[] {
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as MarkRecord);
  }

  it.runIf(runnable)(
    '--delay-replies holds every reply back that long; "delay" changes it at run time',
    async () => {
      // Held back a minute, no reply comes while the test runs: the driver cannot connect. (After
      // a shorter delay a late reply could reach the Modbus RTU driver on its next connection,
      // where frames carry no id and it would pass for a fresh one.)
      const sim = await simulator('--delay-replies', '60000');
      const impatient = driver(sim.url);
      await impatient.engraver.start();
      expect(await failure(impatient.engraver.whenConnected(3 * REQUEST_TIMEOUT_MS))).toBeInstanceOf(Error);
      expect(impatient.engraver.connected).toBe(false);
      await impatient.engraver.stop();

      const delayMs = 1500;
      await sim.command(`delay ${delayMs}`, new RegExp(`replies delayed ${delayMs} ms`));
      const patient = driver(sim.url, 4 * delayMs);
      const startedAt = Date.now();
      await patient.engraver.start();
      await patient.engraver.whenConnected(30_000);
      // The reply to the first status read came, and no sooner than the delay allows.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(delayMs - 50);

      await sim.command('delay 0', /replies delayed 0 ms/);
      expect(await patient.engraver.readStatus()).toEqual({
        state: 'READY',
        fault: 0,
        completed: 0,
        activeJob: 0,
      });
    },
    90_000,
  );

  it.runIf(runnable)(
    '--withhold-replies N leaves exactly the first N requests unanswered; the driver connects after them',
    async () => {
      const sim = await simulator('--withhold-replies', '2');
      const { engraver } = driver(sim.url);
      await engraver.start();
      await engraver.whenConnected(30_000);
      expect(await engraver.readStatus()).toEqual({ state: 'READY', fault: 0, completed: 0, activeJob: 0 });
      expect(occurrences(sim.output(), WITHHELD)).toBe(2);
    },
    90_000,
  );

  it.runIf(runnable)(
    '--withhold-replies all and --corrupt-replies N: no connection until "withhold 0", then N spoilt replies; "corrupt all" fails requests as transient',
    async () => {
      const sim = await simulator('--withhold-replies', 'all', '--corrupt-replies', '2');
      const { engraver } = driver(sim.url);
      await engraver.start();
      expect(await failure(engraver.whenConnected(3 * REQUEST_TIMEOUT_MS))).toBeInstanceOf(Error);
      expect(occurrences(sim.output(), WITHHELD)).toBeGreaterThan(0);
      expect(occurrences(sim.output(), CORRUPTED[transport])).toBe(0);

      await sim.command('withhold 0', /no reply withheld/);
      await engraver.whenConnected(30_000);
      expect(await engraver.readStatus()).toEqual({ state: 'READY', fault: 0, completed: 0, activeJob: 0 });
      expect(occurrences(sim.output(), CORRUPTED[transport])).toBe(2);

      await sim.command('corrupt all', /every reply corrupted/);
      const failed = await failure(engraver.readStatus());
      expect(isStamplineError(failed)).toBe(true);
      expect(isTransient(failed)).toBe(true);

      await sim.command('corrupt 0', /no reply corrupted/);
      await engraver.whenConnected(30_000);
      await eventually(() => engraver.connected, 30_000, 'the link to be up');
      expect(await engraver.readStatus()).toMatchObject({ state: 'READY', activeJob: 0 });
    },
    90_000,
  );

  it.runIf(runnable)(
    '--drop-at-next-marking drops the link during the marking; the driver reconnects and reads the true state',
    async () => {
      const marks = journalFile();
      const markingMs = serial ? 4000 : 3000;
      const sim = await simulator(
        '--marking-ms',
        String(markingMs),
        '--journal',
        marks,
        '--drop-at-next-marking',
        '0.1',
      );
      const { engraver, events, job } = await jobStarted(sim.url);

      await sim.next(new RegExp(`drop-at-next-marking: struck during the marking of job ${job.jobId}`));
      const outcome = await engraver.waitForEnd(job.jobId, { timeoutMs: 60_000 });
      expect(outcome).toEqual({ kind: 'done', jobId: job.jobId, completed: 1 });

      // It struck while the engraver was marking: after the start, before the end.
      const printed = sim.output();
      const struckAt = printed.indexOf('drop-at-next-marking: struck');
      expect(printed.indexOf(`marking job ${job.jobId}`)).toBeLessThan(struckAt);
      expect(printed.indexOf(`job ${job.jobId} DONE`)).toBeGreaterThan(struckAt);

      const downAt = events.findIndex((e) => e.kind === 'down');
      expect(downAt).toBeGreaterThan(0);
      const up = events.slice(downAt).find((e) => e.kind === 'up');
      expect(up?.kind === 'up' && up.status.activeJob).toBe(job.jobId);
      expect(up?.kind === 'up' && ['BUSY', 'DONE'].includes(up.status.state)).toBe(true);
      expect(journal(marks).map((m) => [m.jobId, m.outcome])).toEqual([
        [job.jobId, 'marking'],
        [job.jobId, 'done'],
      ]);
    },
    120_000,
  );

  it.runIf(runnable)(
    '--power-cycle-at-next-marking with --drop-at-next-marking: a power cut mid-marking; the driver finds READY with no job and reports the job lost',
    async () => {
      const marks = journalFile();
      const sim = await simulator(
        '--marking-ms',
        '30000',
        '--journal',
        marks,
        '--drop-at-next-marking',
        '0.05',
        '--power-cycle-at-next-marking',
        '0.05',
      );
      const { engraver, events, job } = await jobStarted(sim.url);
      const ended = failure(engraver.waitForEnd(job.jobId, { timeoutMs: 60_000 }));

      await sim.next(/power cycled/);
      await eventually(
        () => events.some((e, i) => e.kind === 'up' && events.slice(0, i).some((d) => d.kind === 'down')),
        60_000,
        'the link to come back',
      );
      const up = events.filter((e) => e.kind === 'up').at(-1);
      expect(up?.kind === 'up' && up.status).toEqual({
        state: 'READY',
        fault: 0,
        completed: 0,
        activeJob: 0,
      });
      const lost = await ended;
      expect(isStamplineError(lost)).toBe(true);
      expect(isTransient(lost)).toBe(false);
      expect(journal(marks).at(-1)).toMatchObject({ jobId: job.jobId, outcome: 'power-lost' });
    },
    120_000,
  );
});
