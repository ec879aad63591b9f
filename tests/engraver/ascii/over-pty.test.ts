/**
 * The ascii-serial driver against the ASCII simulator over a real serial link: a socat
 * pseudo-terminal pair, the simulator on one end and the driver on the other.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsciiEngraverServer } from '../../../simulators/engraver/ascii-server.js';
import { EngraverDevice } from '../../../simulators/engraver/device.js';
import { openPtyPair, type PtyPair } from '../../../simulators/engraver/pty-pair.js';
import { AsciiSerialEngraver } from '../../../src/engraver/ascii/driver.js';
import { createEngraver } from '../../../src/engraver/index.js';
import { FAULT, type LinkEvent } from '../../../src/engraver/types.js';
import { isStamplineError } from '../../../src/errors.js';
import { rejection } from '../../support/temp.js';
import { requireCommands } from '../../support/tools.js';
import { type LogEntry, makeJob, recordingLogger, until } from './support.js';

const hasSocat = requireCommands('socat');

describe.skipIf(!hasSocat)('ascii-serial driver and simulator over a socat pty pair', () => {
  let pair: PtyPair;
  let device: EngraverDevice;
  let server: AsciiEngraverServer;
  let engraver: AsciiSerialEngraver;
  let events: LinkEvent[];
  let logs: LogEntry[];

  async function connect(
    options: { markingTimeMs?: number; dropForMs?: number; interleaveEvents?: boolean } = {},
  ): Promise<void> {
    device = new EngraverDevice({ markingTimeMs: options.markingTimeMs ?? 200 });
    server = new AsciiEngraverServer({
      device,
      path: pair.a,
      baudRate: 115200,
      dropForMs: options.dropForMs ?? 1000,
      interleaveEvents: options.interleaveEvents ?? false,
    });
    await server.start();
    logs = [];
    engraver = new AsciiSerialEngraver({
      url: `ascii-serial://${pair.b}?baud=115200`,
      path: pair.b,
      baudRate: 115200,
      requestTimeoutMs: 500,
      reconnect: { initialMs: 100, maxMs: 400 },
      pollIntervalMs: 100,
      logger: recordingLogger(logs),
    });
    events = [];
    engraver.onLink((event) => events.push(event));
    await engraver.start();
    await engraver.whenConnected(10_000);
  }

  async function runJob(jobId: number) {
    await engraver.loadJob(makeJob(jobId));
    await engraver.startJob(jobId);
    return engraver.waitForEnd(jobId, { timeoutMs: 15_000 });
  }

  beforeEach(async () => {
    pair = await openPtyPair();
  });

  afterEach(async () => {
    await engraver?.stop();
    await server?.stop();
    device?.close();
    await pair?.close();
  });

  it('is what createEngraver builds for an ascii-serial URL', async () => {
    device = new EngraverDevice({ markingTimeMs: 0 });
    server = new AsciiEngraverServer({ device, path: pair.a, baudRate: 115200 });
    await server.start();
    const built = createEngraver(`ascii-serial://${pair.b}?baud=115200`, {
      requestTimeoutMs: 800,
      reconnect: { initialMs: 100, maxMs: 400 },
    });
    expect(built).toBeInstanceOf(AsciiSerialEngraver);
    try {
      await built.start();
      await built.whenConnected(10_000);
      expect(await built.readStatus()).toEqual({ state: 'READY', activeJob: 0, fault: 0, completed: 0 });
    } finally {
      await built.stop();
    }
  });

  it('connects with $STAT first and reports the status with the up event', async () => {
    await connect();
    expect(events[0]).toEqual({
      kind: 'up',
      status: { state: 'READY', activeJob: 0, fault: 0, completed: 0 },
    });
    expect(engraver.connected).toBe(true);
    expect(await engraver.readInterfaceVersion()).toBeUndefined();
  });

  it('runs a job to DONE and the engraver marks it exactly once', async () => {
    await connect();
    const job = makeJob(41, { mirror: true, target: 'breech-face', gear: '1011001' });
    await engraver.loadJob(job);
    await engraver.startJob(41);
    expect(await engraver.waitForEnd(41, { timeoutMs: 15_000 })).toEqual({
      kind: 'done',
      jobId: 41,
      completed: 1,
    });
    expect(device.marks).toHaveLength(1);
    expect(device.marks[0]).toMatchObject({
      jobId: 41,
      text: job.text,
      gear: '1011001',
      mirror: true,
      breechFace: true,
      recipe: job.recipe,
      outcome: 'done',
    });
    expect(await engraver.readStatus()).toEqual({ state: 'DONE', activeJob: 41, fault: 0, completed: 1 });
    // A second $GO for the same load is refused: the load was used up, nothing is marked twice.
    const again = await rejection(engraver.startJob(41));
    expect(again.code).toBe('ENGRAVER_REJECTED');
    expect(device.marks).toHaveLength(1);
  });

  it('reports a fault mid-job with its code, refuses to start in FAULT, and clears on reset', async () => {
    await connect({ markingTimeMs: 400 });
    device.faultNextJob(FAULT.OVER_TEMPERATURE, 0.5);
    expect(await runJob(7)).toEqual({ kind: 'fault', jobId: 7, fault: FAULT.OVER_TEMPERATURE });
    expect(device.marks[0]).toMatchObject({ jobId: 7, outcome: 'fault', fault: FAULT.OVER_TEMPERATURE });

    await engraver.loadJob(makeJob(8));
    const refused = await rejection(engraver.startJob(8));
    expect(refused.code).toBe('ENGRAVER_FAULT');
    expect(refused.transient).toBe(false);

    await engraver.reset();
    expect((await engraver.readStatus()).state).toBe('READY');
    await engraver.loadJob(makeJob(8));
    expect(await runJob(8)).toMatchObject({ kind: 'done', jobId: 8 });
  });

  it('reports a fault raised at the start (interlock open), whose event comes before the ACK', async () => {
    await connect();
    device.interlockOpen = true;
    expect(await runJob(9)).toEqual({ kind: 'fault', jobId: 9, fault: FAULT.INTERLOCK_OPEN });
    expect(device.marks).toHaveLength(0);
  });

  it('a busy engraver refuses a load', async () => {
    await connect({ markingTimeMs: 2000 });
    await engraver.loadJob(makeJob(1));
    await engraver.startJob(1);
    const busy = await rejection(engraver.loadJob(makeJob(2)));
    expect(busy.code).toBe('ENGRAVER_BUSY');
    expect(busy.transient).toBe(true);
    await engraver.abort();
    expect(await engraver.waitForEnd(1, { timeoutMs: 10_000 })).toEqual({
      kind: 'fault',
      jobId: 1,
      fault: FAULT.MARKING_ERROR,
    });
  });

  it('survives a link drop during marking: reconnects, reports the true state, and the event lost meanwhile does not matter', async () => {
    await connect({ markingTimeMs: 300, dropForMs: 1500 });
    await engraver.loadJob(makeJob(21));
    await engraver.startJob(21);
    const heard: string[] = [];
    engraver.onEvent((event) => heard.push(`${event.kind} ${event.jobId}`));
    server.faults.dropLink();
    // The job ends while the link is down, so its $DONE is lost; the wait falls back to $STAT.
    const outcome = await engraver.waitForEnd(21, { timeoutMs: 20_000 });
    expect(outcome).toEqual({ kind: 'done', jobId: 21, completed: 1 });
    expect(heard).toEqual([]);
    await until('the link to come back', () => engraver.connected);
    const down = events.findIndex((e) => e.kind === 'down');
    expect(down).toBeGreaterThan(0);
    const upAgain = events.slice(down).find((e) => e.kind === 'up');
    expect(upAgain).toEqual({ kind: 'up', status: { state: 'DONE', activeJob: 21, fault: 0, completed: 1 } });
    expect(device.marks.filter((m) => m.jobId === 21)).toHaveLength(1);
    expect(await runJob(22)).toMatchObject({ kind: 'done', jobId: 22 });
  });

  it('handles corrupted reply checksums without a hang', async () => {
    await connect();
    server.faults.corruptReplies = 1;
    const first = await rejection(engraver.loadJob(makeJob(31)));
    expect(first.transient).toBe(true);
    expect(logs.some((e) => (e.obj as { reason?: string }).reason === 'bad-checksum')).toBe(true);
    // Loading again is safe: the engraver holds the same job either way.
    await engraver.loadJob(makeJob(31));
    await engraver.startJob(31);
    server.faults.corruptReplies = 2; // the next two $STAT polls
    expect(await engraver.waitForEnd(31, { timeoutMs: 15_000 })).toMatchObject({ kind: 'done', jobId: 31 });
    expect(device.marks.filter((m) => m.jobId === 31)).toHaveLength(1);
  });

  it('handles withheld replies without a hang, and reconnects when even $STAT goes unanswered', async () => {
    await connect();
    server.faults.withholdReplies = 1;
    const missed = await rejection(engraver.readStatus());
    expect(missed.code).toBe('ENGRAVER_TIMEOUT');
    // One missed reply makes the link suspect (down) until $STAT is answered on it again (up).
    expect(engraver.connected).toBe(false);
    expect((await engraver.readStatus()).state).toBe('READY');
    expect(events.map((e) => e.kind)).toEqual(['up', 'down', 'up']);

    server.faults.withholdReplies = 2; // the $JOB and the $STAT probe after it
    expect((await rejection(engraver.loadJob(makeJob(51)))).code).toBe('ENGRAVER_TIMEOUT');
    const lost = await rejection(engraver.loadJob(makeJob(51)));
    expect(lost.code).toBe('ENGRAVER_LINK_DOWN');
    expect(lost.context.failure).toMatchObject({ kind: 'timeout', waitingFor: 'probe', sent: false });
    await engraver.whenConnected(10_000);
    expect(events.map((e) => e.kind)).toEqual(['up', 'down', 'up', 'down', 'up']);
    expect(await runJob(51)).toMatchObject({ kind: 'done', jobId: 51 });
  });

  it('discards a reply that comes after its request timed out', async () => {
    await connect();
    server.faults.delayRepliesMs = 800; // beyond the 500 ms timeout
    expect((await rejection(engraver.loadJob(makeJob(61)))).code).toBe('ENGRAVER_TIMEOUT');
    server.faults.delayRepliesMs = 0;
    await engraver.startJob(61);
    expect(logs.some((e) => e.msg?.includes('discarded (late)'))).toBe(true);
    expect(await engraver.waitForEnd(61, { timeoutMs: 15_000 })).toMatchObject({ kind: 'done', jobId: 61 });
  });

  it('copes with unasked events between a command and its reply', async () => {
    await connect({ interleaveEvents: true });
    server.injectEventBeforeReply(['DONE', '999', '0'], 3);
    server.injectEventBeforeReply(['FAULT', '998', '3'], 3);
    const seen: number[] = [];
    engraver.onEvent((event) => seen.push(event.jobId));
    expect(await runJob(71)).toMatchObject({ kind: 'done', jobId: 71 });
    expect(await runJob(72)).toMatchObject({ kind: 'done', jobId: 72 });
    expect(seen).toEqual(expect.arrayContaining([999, 998, 71, 72]));
    expect(device.marks.map((m) => m.jobId)).toEqual([71, 72]);
  });

  it('fails requests fast with ENGRAVER_LINK_DOWN once stopped, and stop is safe twice', async () => {
    await connect();
    await engraver.stop();
    await engraver.stop();
    const down = await rejection(engraver.readStatus());
    expect(isStamplineError(down, 'ENGRAVER_LINK_DOWN')).toBe(true);
    expect(events.at(-1)).toEqual({ kind: 'down', reason: 'stopped' });
  });
});
