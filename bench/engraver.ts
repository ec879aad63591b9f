/**
 * Engraver benchmark: one complete job cycle (load, start, wait for DONE) against the simulator
 * with zero marking time.
 *
 * 1. Modbus TCP on loopback: our driver against the fewest raw modbus-serial calls that do the
 *    same job (one FC16 write, one FC5 write, FC3 reads until DONE), measured in the same run,
 *    in alternating rounds so that both see the same machine load. Target: ratio <= 1.3.
 * 2. Requests and bytes per job for each transport: Modbus TCP, Modbus RTU and ASCII over a socat
 *    pseudo-terminal pair (counted by the simulator, and by socat for the serial lines).
 *
 * 3. Command markers (KV and TL profiles) over TCP on loopback: our driver against the fewest raw
 *    socket writes that do the same job (the load lines, the start, then for KV `RX,Ready` until
 *    ready, asking `RX,Error` only while not ready; for TL nothing until `GO F`), alternating job
 *    by job. Target: ratio <= 1.3. Zero marking time ends the marking right after the start is
 *    answered (the simulator's MarkerDevice), so the rows measure the commands, not a timer.
 *
 * Run: npm run bench:engraver [-- --jobs 400 --rounds 8 --marker-jobs 600] [-- --only markers|modbus]
 */

import { connect, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { AsciiEngraverServer } from '../simulators/engraver/ascii-server.js';
import { CommandMarkerServer } from '../simulators/engraver/command-server.js';
import { EngraverDevice } from '../simulators/engraver/device.js';
import type { SimulatedLink } from '../simulators/engraver/link-faults.js';
import { MarkerDevice } from '../simulators/engraver/marker-device.js';
import { ModbusRtuServer } from '../simulators/engraver/modbus-rtu-server.js';
import { type LinkStats, ModbusTcpServer } from '../simulators/engraver/modbus-tcp-server.js';
import { openPtyPair, type PtyPair } from '../simulators/engraver/pty-pair.js';
import { jobCommands } from '../src/engraver/commands/job.js';
import { loadCommandProfile } from '../src/engraver/commands/profile.js';
import { createEngraver } from '../src/engraver/index.js';
import { ModbusClient } from '../src/engraver/modbus/client.js';
import { jobWrites } from '../src/engraver/modbus/register-map.js';
import { loadProfile } from '../src/engraver/profile.js';
import type { EngraveJob, Engraver } from '../src/engraver/types.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const JOBS_PER_ROUND = option('jobs', 300);
const ROUNDS = option('rounds', 6);
const SERIAL_JOBS = option('serial-jobs', 50);
const MARKER_JOBS = option('marker-jobs', 400);
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'markers' && ONLY !== 'modbus') {
  throw new Error(`--only takes markers or modbus, not ${String(ONLY)}`);
}

let nextJobId = 1;
function job(): EngraveJob {
  return {
    jobId: nextJobId++,
    text: 'K7Q2-MX94-RT3',
    gear: '101100111000101011110000110101100111000101011110000110',
    mirror: true,
    target: 'firing-pin',
    recipe: { power: 650, frequency: 30, speed: 250, passes: 2 },
  };
}

async function cycle(engraver: Engraver): Promise<void> {
  const j = job();
  await engraver.loadJob(j);
  await engraver.startJob(j.jobId);
  const outcome = await engraver.waitForEnd(j.jobId, { timeoutMs: 5000 });
  if (outcome.kind !== 'done') throw new Error(`job ${j.jobId} ended ${outcome.kind}`);
}

const profile = loadProfile();

/** The same job with the fewest modbus-serial calls: no queue, no checks beyond DONE. */
async function rawCycle(client: ModbusClient): Promise<void> {
  const j = job();
  const [write] = jobWrites(profile, j);
  await client.writeRegisters(write!.address, write!.values);
  await client.writeCoil(0, true);
  for (;;) {
    const { data } = await client.readHoldingRegisters(1, 5);
    const activeJob = ((data[3]! << 16) | data[4]!) >>> 0;
    if (activeJob === j.jobId && data[0] === 2) return;
    if (activeJob === j.jobId && data[0] === 3) throw new Error(`job ${j.jobId} faulted`);
  }
}

/** Mean ms per job over `jobs` cycles. */
async function timeRound(run: () => Promise<void>, jobs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < jobs; i++) await run();
  return (performance.now() - started) / jobs;
}

/** Times each cycle on its own, so that a pause of the shared machine spoils one sample, not a round. */
async function sampleJobs(run: () => Promise<void>, jobs: number, into: number[]): Promise<void> {
  for (let i = 0; i < jobs; i++) {
    const started = performance.now();
    await run();
    into.push(performance.now() - started);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function perJob(before: LinkStats, after: LinkStats, jobs: number) {
  return {
    requests: (after.requests - before.requests) / jobs,
    bytesIn: (after.bytesIn - before.bytesIn) / jobs,
    bytesOut: (after.bytesOut - before.bytesOut) / jobs,
  };
}

const snapshot = (s: LinkStats): LinkStats => ({ ...s });
const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function tcpComparison() {
  const device = new EngraverDevice({ markingTimeMs: 0 });
  const server = new ModbusTcpServer({ device, port: 0 });
  await server.start();
  const engraver = createEngraver(`modbus-tcp://127.0.0.1:${server.port}?unit=1`, { requestTimeoutMs: 2000 });
  await engraver.start();
  await engraver.whenConnected(5000);
  const client = new ModbusClient();
  await client.connectTCP('127.0.0.1', { port: server.port });
  client.setID(1);
  client.setTimeout(2000);

  // Warm up both paths (JIT, socket buffers) before measuring.
  await timeRound(() => cycle(engraver), 50);
  await timeRound(() => rawCycle(client), 50);

  const ours: number[] = [];
  const raw: number[] = [];
  // Alternate job by job, so that both see the same moments of a shared, noisy machine.
  for (let r = 0; r < ROUNDS * JOBS_PER_ROUND; r++) {
    await sampleJobs(() => cycle(engraver), 1, ours);
    await sampleJobs(() => rawCycle(client), 1, raw);
  }

  const count = 100;
  let before = snapshot(server.stats);
  await timeRound(() => cycle(engraver), count);
  const oursTraffic = perJob(before, server.stats, count);
  before = snapshot(server.stats);
  await timeRound(() => rawCycle(client), count);
  const rawTraffic = perJob(before, server.stats, count);

  await engraver.stop();
  await new Promise<void>((resolve) => client.close(() => resolve()));
  await server.stop();
  device.close();
  return { ours: median(ours), raw: median(raw), oursTraffic, rawTraffic };
}

async function serialTraffic(transport: 'modbus-rtu' | 'ascii-serial') {
  const pair: PtyPair = await openPtyPair({ trace: true });
  const device = new EngraverDevice({ markingTimeMs: 0 });
  let server: SimulatedLink & { stats: LinkStats };
  let url: string;
  if (transport === 'modbus-rtu') {
    server = new ModbusRtuServer({ device, path: pair.a, baudRate: 19200 });
    url = `modbus-rtu://${pair.b}?baud=19200&unit=1`;
  } else {
    server = new AsciiEngraverServer({ device, path: pair.a, baudRate: 115200 });
    url = `ascii-serial://${pair.b}?baud=115200`;
  }
  await server.start();
  const engraver = createEngraver(url, { requestTimeoutMs: 2000 });
  await engraver.start();
  await engraver.whenConnected(5000);
  await timeRound(() => cycle(engraver), 5);
  const before = snapshot(server.stats);
  const wireBefore = { ...pair.traffic };
  const msPerJob = await timeRound(() => cycle(engraver), SERIAL_JOBS);
  const traffic = perJob(before, server.stats, SERIAL_JOBS);
  // socat reports transfers a moment after they happen.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const wire = {
    toEngraver: (pair.traffic.bToA - wireBefore.bToA) / SERIAL_JOBS,
    fromEngraver: (pair.traffic.aToB - wireBefore.aToB) / SERIAL_JOBS,
  };
  await engraver.stop();
  await server.stop();
  await pair.close();
  device.close();
  return { msPerJob, traffic, wire };
}

/** A bare socket that sends a line and waits for a line, nothing else. */
class RawLines {
  private buffer = '';
  private waiter: ((line: string) => void) | undefined;
  private readonly queue: string[] = [];
  constructor(
    private readonly socket: Socket,
    end: string,
  ) {
    socket.setNoDelay(true);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at = this.buffer.indexOf(end);
      while (at >= 0) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + end.length);
        if (this.waiter) {
          const w = this.waiter;
          this.waiter = undefined;
          w(line);
        } else this.queue.push(line);
        at = this.buffer.indexOf(end);
      }
    });
  }
  next(): Promise<string> {
    const line = this.queue.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
  async ask(line: string): Promise<string> {
    this.socket.write(`${line}\r`);
    return this.next();
  }
}

async function markerComparison(name: 'kv-marker' | 'tl-marker') {
  const markerProfile = loadCommandProfile(name);
  const device = new MarkerDevice({ markingTimeMs: 0 });
  const server = new CommandMarkerServer({ device, profile: markerProfile, link: { kind: 'tcp', port: 0 } });
  await server.start();
  const engraver = createEngraver(`commands-tcp://127.0.0.1:${server.port}?profile=${name}`, {
    requestTimeoutMs: 2000,
    commandProfile: markerProfile,
  });
  await engraver.start();
  await engraver.whenConnected(5000);
  // The raw client has a marker of its own: a TL marker tells every connection of each end.
  const rawDevice = new MarkerDevice({ markingTimeMs: 0 });
  const rawServer = new CommandMarkerServer({
    device: rawDevice,
    profile: markerProfile,
    link: { kind: 'tcp', port: 0 },
  });
  await rawServer.start();
  const socket = connect({ host: '127.0.0.1', port: rawServer.port });
  await new Promise((resolve) => socket.once('connect', resolve));
  const raw = new RawLines(socket, markerProfile.link.replyEnd);
  const rawCycle = async () => {
    for (const command of jobCommands(markerProfile, job())) await raw.ask(command.line);
    if (name === 'tl-marker') {
      if ((await raw.ask('GO')) !== 'GO M') throw new Error('GO refused');
      if ((await raw.next()) !== 'GO F') throw new Error('marking failed');
      return;
    }
    if ((await raw.ask('WX,StartMarking')) !== 'WX,OK') throw new Error('start refused');
    // Ready again after a start that took means the marking ended without error; only while not
    // ready is the error asked, to tell marking from failed.
    for (;;) {
      if ((await raw.ask('RX,Ready')) === 'RX,OK,1') return;
      if ((await raw.ask('RX,Error')) !== 'RX,OK,0') throw new Error('marking failed');
    }
  };
  await timeRound(() => cycle(engraver), 50);
  await timeRound(rawCycle, 50);
  const ours: number[] = [];
  const rawTimes: number[] = [];
  for (let i = 0; i < MARKER_JOBS; i++) {
    await sampleJobs(() => cycle(engraver), 1, ours);
    await sampleJobs(rawCycle, 1, rawTimes);
  }
  const count = 100;
  let before = snapshot(server.stats);
  await timeRound(() => cycle(engraver), count);
  const oursTraffic = perJob(before, server.stats, count);
  before = snapshot(rawServer.stats);
  await timeRound(rawCycle, count);
  const rawTraffic = perJob(before, rawServer.stats, count);
  await engraver.stop();
  socket.destroy();
  await server.stop();
  await rawServer.stop();
  device.close();
  rawDevice.close();
  return { ours: median(ours), raw: median(rawTimes), oursTraffic, rawTraffic };
}

function modbusTables(
  out: string[],
  tcp: Awaited<ReturnType<typeof tcpComparison>>,
  rtu: SerialResult,
  ascii: SerialResult,
): void {
  const ratio = tcp.ours / tcp.raw;
  out.push(
    `Modbus and ASCII: job cycle with zero marking time. TCP: median time of one job over ${ROUNDS * JOBS_PER_ROUND} jobs each way, the two alternating job by job; serial: mean over ${SERIAL_JOBS} jobs.`,
  );
  out.push('');
  out.push(
    '| Modbus TCP, loopback | ms per job (median) | requests per job | bytes per job (to / from engraver) |',
  );
  out.push('|---|---:|---:|---:|');
  out.push(
    `| raw modbus-serial calls (baseline) | ${fmt(tcp.raw, 3)} | ${fmt(tcp.rawTraffic.requests)} | ${fmt(tcp.rawTraffic.bytesIn, 0)} / ${fmt(tcp.rawTraffic.bytesOut, 0)} |`,
  );
  out.push(
    `| stampline driver | ${fmt(tcp.ours, 3)} | ${fmt(tcp.oursTraffic.requests)} | ${fmt(tcp.oursTraffic.bytesIn, 0)} / ${fmt(tcp.oursTraffic.bytesOut, 0)} |`,
  );
  out.push(`| **ratio (target <= 1.3)** | **${fmt(ratio, 2)}** | | |`);
  out.push('');
  out.push(
    '| transport (stampline driver) | ms per job | requests per job | bytes per job (to / from engraver) |',
  );
  out.push('|---|---:|---:|---:|');
  out.push(
    `| modbus-tcp, loopback | ${fmt(tcp.ours, 3)} | ${fmt(tcp.oursTraffic.requests)} | ${fmt(tcp.oursTraffic.bytesIn, 0)} / ${fmt(tcp.oursTraffic.bytesOut, 0)} |`,
  );
  out.push(
    `| modbus-rtu, socat pty pair | ${fmt(rtu.msPerJob, 2)} | ${fmt(rtu.traffic.requests)} | ${fmt(rtu.wire.toEngraver, 0)} / ${fmt(rtu.wire.fromEngraver, 0)} |`,
  );
  out.push(
    `| ascii-serial, socat pty pair | ${fmt(ascii.msPerJob, 2)} | ${fmt(ascii.traffic.requests)} | ${fmt(ascii.wire.toEngraver, 0)} / ${fmt(ascii.wire.fromEngraver, 0)} |`,
  );
  out.push('');
  out.push(
    'Serial bytes are counted by socat on the wire; a pseudo-terminal does not pace bytes at the baud rate, so serial times are not those of a real line.',
  );
}

type MarkerResult = Awaited<ReturnType<typeof markerComparison>>;
type SerialResult = Awaited<ReturnType<typeof serialTraffic>>;

function markerTable(out: string[], kv: MarkerResult, tl: MarkerResult): void {
  out.push(
    `Command markers: job cycle with zero marking time, median time of one job over ${MARKER_JOBS} jobs each way, the two alternating job by job.`,
  );
  out.push('');
  out.push(
    '| Command markers, TCP loopback | ms per job (median) | commands per job | bytes per job (to / from marker) |',
  );
  out.push('|---|---:|---:|---:|');
  for (const [label, m] of [
    ['KV', kv],
    ['TL', tl],
  ] as const) {
    out.push(
      `| ${label}: raw socket writes (baseline) | ${fmt(m.raw, 3)} | ${fmt(m.rawTraffic.requests)} | ${fmt(m.rawTraffic.bytesIn, 0)} / ${fmt(m.rawTraffic.bytesOut, 0)} |`,
    );
    out.push(
      `| ${label}: stampline driver | ${fmt(m.ours, 3)} | ${fmt(m.oursTraffic.requests)} | ${fmt(m.oursTraffic.bytesIn, 0)} / ${fmt(m.oursTraffic.bytesOut, 0)} |`,
    );
    out.push(`| **${label}: ratio (target <= 1.3)** | **${fmt(m.ours / m.raw, 2)}** | | |`);
  }
}

async function main() {
  const out: string[] = [];
  out.push(
    `Date: ${new Date().toISOString().slice(0, 10)}; machine: ${cpus().length} cores, ${cpus()[0]?.model.trim()}; Node ${process.version}`,
  );
  out.push('');
  if (ONLY !== 'modbus') {
    const kv = await markerComparison('kv-marker');
    const tl = await markerComparison('tl-marker');
    markerTable(out, kv, tl);
    out.push('');
  }
  if (ONLY !== 'markers') {
    const tcp = await tcpComparison();
    const rtu = await serialTraffic('modbus-rtu');
    const ascii = await serialTraffic('ascii-serial');
    modbusTables(out, tcp, rtu, ascii);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
