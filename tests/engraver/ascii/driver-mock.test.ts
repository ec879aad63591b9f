/**
 * The ascii-serial driver alone, on `SerialPortMock`: each test plays the engraver line by line,
 * so the exact order of what the driver writes, and what it makes of each answer, is checked.
 */

import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { AsciiSerialEngraver } from '../../../src/engraver/ascii/driver.js';
import { corruptChecksum, encodeFrame, FrameDecoder } from '../../../src/engraver/ascii/framing.js';
import type { LinkEvent } from '../../../src/engraver/types.js';
import { rejection } from '../../support/temp.js';
import { type LogEntry, makeJob, recordingLogger, until } from './support.js';

const PATH = '/dev/ttyMOCK0';

/** The far end of the mock port: reads the driver's lines and answers them. */
class ScriptedEngraver {
  ports: SerialPortMock[] = [];
  private decoder = new FrameDecoder();
  private read = 0;
  private readonly lines: string[] = [];
  private taken = 0;

  readonly factory = ({ path, baudRate }: { path: string; baudRate: number }) => {
    const port = new SerialPortMock({ path, baudRate, autoOpen: false });
    this.ports.push(port);
    this.decoder = new FrameDecoder();
    this.read = 0;
    return port;
  };

  private get current(): SerialPortMock {
    return this.ports.at(-1)!;
  }

  /** Every line the driver has written on the current port, in order. */
  written(): string[] {
    const binding = this.current.port;
    if (binding && binding.recording.length > this.read) {
      for (const frame of this.decoder.push(binding.recording.subarray(this.read))) {
        if (frame.kind === 'line') this.lines.push(frame.body);
      }
      this.read = binding.recording.length;
    }
    return this.lines;
  }

  /** Waits for the driver's next line. */
  async next(): Promise<string> {
    await until('the driver to write a line', () => this.written().length > this.taken);
    return this.lines[this.taken++]!;
  }

  send(...fields: string[]): void {
    this.current.port!.emitData(encodeFrame(fields));
  }

  sendRaw(bytes: Buffer | string): void {
    this.current.port!.emitData(bytes);
  }

  /** Nothing more was written within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    const before = this.written().length;
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.written().length === before;
  }
}

let engraver: AsciiSerialEngraver | undefined;

afterEach(async () => {
  await engraver?.stop();
  engraver = undefined;
  SerialPortMock.binding.reset();
});

async function connected(options: { requestTimeoutMs?: number } = {}) {
  SerialPortMock.binding.createPort(PATH, { record: true });
  const far = new ScriptedEngraver();
  const logs: LogEntry[] = [];
  const events: LinkEvent[] = [];
  engraver = new AsciiSerialEngraver({
    url: `ascii-serial://${PATH}?baud=115200`,
    path: PATH,
    baudRate: 115200,
    requestTimeoutMs: options.requestTimeoutMs ?? 1000,
    reconnect: { initialMs: 50, maxMs: 200 },
    pollIntervalMs: 50,
    logger: recordingLogger(logs),
    openPort: far.factory,
  });
  engraver.onLink((event) => events.push(event));
  const started = engraver.start();
  expect(await far.next()).toBe('STAT');
  far.send('STAT', 'READY', '0', '0', '0');
  await started;
  expect(events).toEqual([{ kind: 'up', status: { state: 'READY', activeJob: 0, fault: 0, completed: 0 } }]);
  return { far, logs, events, engraver };
}

describe('AsciiSerialEngraver on a scripted engraver', () => {
  it('retries once after $STAT when the engraver could not read our line', async () => {
    const { far, engraver } = await connected();
    const loading = engraver.loadJob(makeJob(5));
    expect(await far.next()).toMatch(/^JOB,5,/);
    far.send('NAK', '0', 'CHECKSUM');
    expect(await far.next()).toBe('STAT');
    far.send('STAT', 'READY', '0', '0', '0');
    expect(await far.next()).toMatch(/^JOB,5,/);
    far.send('ACK', '5');
    await loading;
  });

  it('gives up with a transient protocol error when our line is corrupted twice', async () => {
    const { far, engraver } = await connected();
    const starting = engraver.startJob(5);
    expect(await far.next()).toBe('GO,5');
    far.send('NAK', '0', 'CHECKSUM');
    expect(await far.next()).toBe('STAT');
    far.send('STAT', 'READY', '0', '0', '0');
    expect(await far.next()).toBe('GO,5');
    far.send('NAK', '0', 'CHECKSUM');
    const error = await rejection(starting);
    expect(error.code).toBe('ENGRAVER_PROTOCOL');
    expect(error.transient).toBe(true);
  });

  it.each([
    ['BUSY', 'ENGRAVER_BUSY', true],
    ['BADJOB', 'ENGRAVER_REJECTED', false],
    ['NOJOB', 'ENGRAVER_REJECTED', false],
    ['FAULT', 'ENGRAVER_FAULT', false],
  ])('maps NAK %s to %s', async (reason, code, transient) => {
    const { far, engraver } = await connected();
    const loading = engraver.loadJob(makeJob(9));
    await far.next();
    far.send('NAK', '9', reason);
    const error = await rejection(loading);
    expect(error.code).toBe(code);
    expect(error.transient).toBe(transient);
    expect(error.message).toContain(reason);
  });

  it('takes an event before the reply as an event, and the wait ends on it without polling', async () => {
    const { far, engraver } = await connected();
    const starting = engraver.startJob(5);
    expect(await far.next()).toBe('GO,5');
    far.send('DONE', '5', '1');
    far.send('ACK', '5');
    await starting;
    expect(await engraver.waitForEnd(5, { timeoutMs: 5000 })).toEqual({
      kind: 'done',
      jobId: 5,
      completed: 1,
    });
    expect(await far.silentFor(100)).toBe(true);
  });

  it('ignores a reply for another job id and waits for its own', async () => {
    const { far, logs, engraver } = await connected();
    const starting = engraver.startJob(6);
    await far.next();
    far.send('ACK', '5');
    far.send('NAK', '6', 'NOJOB');
    expect((await rejection(starting)).code).toBe('ENGRAVER_REJECTED');
    expect(logs.some((e) => e.msg?.includes('discarded (unasked)'))).toBe(true);
  });

  it('never takes a late reply for the answer to the next request, and asks $STAT first', async () => {
    const { far, logs, engraver } = await connected({ requestTimeoutMs: 300 });
    const first = engraver.loadJob(makeJob(5));
    expect(await far.next()).toMatch(/^JOB,5,/);
    expect((await rejection(first)).code).toBe('ENGRAVER_TIMEOUT');

    const retry = engraver.loadJob(makeJob(5));
    far.send('ACK', '5'); // the first $JOB's answer, too late
    expect(await far.next()).toBe('STAT');
    far.send('STAT', 'BUSY', '4', '0', '0');
    expect(await far.next()).toMatch(/^JOB,5,/);
    far.send('NAK', '5', 'BUSY');
    expect((await rejection(retry)).code).toBe('ENGRAVER_BUSY');
    expect(logs.some((e) => e.msg?.includes('discarded (late)'))).toBe(true);
  });

  it('ignores noise, bad checksums and over-long lines from the engraver, logging each', async () => {
    const { far, logs, engraver } = await connected();
    const reading = engraver.readStatus();
    await far.next();
    far.sendRaw('\x00\x13garbage');
    far.sendRaw(corruptChecksum(encodeFrame(['STAT', 'FAULT', '1', '3', '0'])));
    far.sendRaw(`$${'X'.repeat(300)}*00\r\n`);
    far.send('STAT', 'BUSY', '2', '0', '7');
    expect(await reading).toEqual({ state: 'BUSY', activeJob: 2, fault: 0, completed: 7 });
    const reasons = logs.map((e) => (e.obj as { reason?: string }).reason).filter(Boolean);
    expect(reasons).toEqual(expect.arrayContaining(['noise', 'bad-checksum', 'too-long']));
  });

  it('falls back to polling $STAT when no event comes', async () => {
    const { far, engraver } = await connected();
    const waiting = engraver.waitForEnd(3, { timeoutMs: 10_000 });
    expect(await far.next()).toBe('STAT');
    far.send('STAT', 'BUSY', '3', '0', '0');
    expect(await far.next()).toBe('STAT');
    far.send('STAT', 'FAULT', '3', '2', '0');
    expect(await waiting).toEqual({ kind: 'fault', jobId: 3, fault: 2 });
  });

  it('says a job is lost when the engraver holds another one', async () => {
    const { far, engraver } = await connected();
    const waiting = engraver.waitForEnd(3, { timeoutMs: 10_000 });
    await far.next();
    far.send('STAT', 'READY', '0', '0', '0');
    const error = await rejection(waiting);
    expect(error.code).toBe('ENGRAVER_JOB_LOST');
    expect(error.message).toMatch(/power-cycled/);
  });

  it('gives up waiting with ENGRAVER_TIMEOUT, and honours an abort signal', async () => {
    const { far, engraver } = await connected();
    const answer = setInterval(() => {
      if (far.written().length > 0) far.send('STAT', 'BUSY', '3', '0', '0');
    }, 40);
    try {
      const error = await rejection(engraver.waitForEnd(3, { timeoutMs: 300 }));
      expect(error.code).toBe('ENGRAVER_TIMEOUT');
      expect(error.message).toMatch(/BUSY, activeJob 3/);
      const controller = new AbortController();
      const waiting = engraver.waitForEnd(3, { timeoutMs: 10_000, signal: controller.signal });
      controller.abort(new Error('operator cancelled'));
      await expect(waiting).rejects.toThrow('operator cancelled');
    } finally {
      clearInterval(answer);
    }
  });

  it('fails the request in flight when the port closes, then reconnects with $STAT first', async () => {
    const { far, events, engraver } = await connected();
    const reading = engraver.readStatus();
    await far.next();
    far.ports.at(-1)!.close();
    const error = await rejection(reading);
    expect(error.code).toBe('ENGRAVER_LINK_DOWN');
    await until('a second port', () => far.ports.length === 2 && far.ports[1]!.isOpen);
    expect(await far.next()).toBe('STAT');
    far.send('STAT', 'DONE', '8', '0', '4');
    await engraver.whenConnected(5000);
    expect(events.slice(1)).toEqual([
      { kind: 'down', reason: 'port closed' },
      { kind: 'up', status: { state: 'DONE', activeJob: 8, fault: 0, completed: 4 } },
    ]);
  });

  it('starts even when the port cannot be opened, and says why it is not connected', async () => {
    const far = new ScriptedEngraver();
    engraver = new AsciiSerialEngraver({
      url: 'ascii-serial:///dev/ttyNOTHERE?baud=115200',
      path: '/dev/ttyNOTHERE',
      baudRate: 115200,
      requestTimeoutMs: 1000,
      reconnect: { initialMs: 50, maxMs: 100 },
      openPort: far.factory,
    });
    await engraver.start();
    expect(engraver.connected).toBe(false);
    const error = await rejection(engraver.whenConnected(300));
    expect(error.code).toBe('ENGRAVER_LINK_DOWN');
    expect(error.message).toMatch(/cannot open \/dev\/ttyNOTHERE/);
    expect((await rejection(engraver.readStatus())).code).toBe('ENGRAVER_LINK_DOWN');
    expect(far.ports.length).toBeGreaterThan(1); // it keeps trying
  });

  it('refuses a job the protocol cannot carry before writing anything', async () => {
    const { far, engraver } = await connected();
    const error = await rejection(engraver.loadJob(makeJob(4, { text: 'A,B' })));
    expect(error.code).toBe('ENGRAVER_BAD_JOB');
    expect(error.message).toMatch(/","/);
    expect(await far.silentFor(50)).toBe(true);
  });
});
