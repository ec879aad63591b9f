/**
 * One engraver on a real link for each transport: a simulator on one end, our driver on the other.
 * Modbus TCP runs on loopback with a port from the OS; Modbus RTU and ASCII run over a socat
 * pseudo-terminal pair. The conformance suite runs the same tests on every rig.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { AsciiEngraverServer } from '../../../simulators/engraver/ascii-server.js';
import { EngraverDevice, type MarkRecord } from '../../../simulators/engraver/device.js';
import type { SimulatedLink } from '../../../simulators/engraver/link-faults.js';
import { ModbusRtuServer } from '../../../simulators/engraver/modbus-rtu-server.js';
import { ModbusTcpServer } from '../../../simulators/engraver/modbus-tcp-server.js';
import { openPtyPair } from '../../../simulators/engraver/pty-pair.js';
import { createEngraver } from '../../../src/engraver/index.js';
import type { EngraveJob, Engraver, LinkEvent } from '../../../src/engraver/types.js';
import type { EngraverTransport } from '../../../src/engraver/url.js';

export interface Rig {
  transport: EngraverTransport;
  url: string;
  device: EngraverDevice;
  link: SimulatedLink;
  engraver: Engraver;
  /** Every link event the driver emitted, in order. */
  events: LinkEvent[];
  /** The device's journal file, parsed: one entry per write (start and end of each mark). */
  journal(): MarkRecord[];
  close(): Promise<void>;
}

export interface RigOptions {
  markingTimeMs: number;
}

/** Generous enough for a loaded 2-core machine, short enough to keep fault tests quick. */
export const REQUEST_TIMEOUT_MS = 1500;
/**
 * A serial host sees a drop only as silence: long enough that the driver misses several replies
 * in a row (a timeout, a quiet wait, another timeout) and declares the link lost.
 */
const SERIAL_DROP_MS = 6 * REQUEST_TIMEOUT_MS;
const RECONNECT = { initialMs: 100, maxMs: 800 };

/** The transports served by the reference engraver; command markers have their own rigs. */
export const TRANSPORTS = [
  'modbus-tcp',
  'modbus-rtu',
  'ascii-serial',
] as const satisfies readonly EngraverTransport[];

export async function openRig(transport: EngraverTransport, options: RigOptions): Promise<Rig> {
  if (transport === 'commands-tcp' || transport === 'commands-serial') {
    throw new Error(`${transport} runs on a marker rig (tests/engraver/commands/rigs.ts)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'stampline-engraver-'));
  const journalFile = join(dir, 'journal.jsonl');
  const device = new EngraverDevice({ markingTimeMs: options.markingTimeMs, journalFile });
  const cleanups: Cleanup[] = [() => device.close(), () => rmSync(dir, { recursive: true, force: true })];
  try {
    let link: SimulatedLink;
    let url: string;
    if (transport === 'modbus-tcp') {
      const server = new ModbusTcpServer({ device, port: 0 });
      await server.start();
      cleanups.unshift(() => server.stop());
      link = server;
      url = `modbus-tcp://127.0.0.1:${server.port}?unit=1`;
    } else {
      const pair = await openPtyPair();
      cleanups.unshift(() => pair.close());
      if (transport === 'modbus-rtu') {
        const server = new ModbusRtuServer({
          device,
          path: pair.a,
          baudRate: 19200,
          dropForMs: SERIAL_DROP_MS,
        });
        await server.start();
        cleanups.unshift(() => server.stop());
        link = server;
        url = `modbus-rtu://${pair.b}?baud=19200&unit=1`;
      } else {
        const server = new AsciiEngraverServer({
          device,
          path: pair.a,
          baudRate: 115200,
          dropForMs: SERIAL_DROP_MS,
        });
        await server.start();
        cleanups.unshift(() => server.stop());
        link = server;
        url = `ascii-serial://${pair.b}?baud=115200`;
      }
    }
    const engraver = createEngraver(url, {
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      reconnect: RECONNECT,
      pollIntervalMs: 50,
    });
    const events: LinkEvent[] = [];
    engraver.onLink((event) => events.push(event));
    cleanups.unshift(() => engraver.stop());
    await engraver.start();
    await engraver.whenConnected(10_000);
    return {
      transport,
      url,
      device,
      link,
      engraver,
      events,
      journal: () =>
        readFileSync(journalFile, 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => JSON.parse(line) as MarkRecord),
      close: () => runAll(cleanups),
    };
  } catch (err) {
    await runAll(cleanups);
    throw err;
  }
}

/** Something a test started and must undo, however the test ends. */
export type Cleanup = () => Promise<void> | void;

/**
 * Registers an afterEach that runs what the test pushed on the answer, last pushed first; one that
 * fails does not keep the others from running.
 */
export function useCleanups(): Cleanup[] {
  const cleanups: Cleanup[] = [];
  afterEach(() => runAll(cleanups.splice(0).reverse()));
  return cleanups;
}

async function runAll(tasks: Cleanup[]): Promise<void> {
  for (const task of tasks) {
    try {
      await task();
    } catch {
      // keep cleaning up
    }
  }
}

let nextJobId = 1000;

export function sampleJob(overrides: Partial<EngraveJob> = {}): EngraveJob {
  return {
    jobId: nextJobId++,
    text: 'K7Q2-MX94',
    gear: '101100111000101011110000110',
    mirror: true,
    target: 'firing-pin',
    recipe: { power: 650, frequency: 30, speed: 250, passes: 2 },
    ...overrides,
  };
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
