/**
 * The simulators count requests received and not yet answered, so that a test can prove a host
 * never overlapped its requests (see the conformance suite). Here a raw client on each transport
 * overlaps on purpose, to show the count sees it, and waits politely, to show it then stays at 1.
 */
import { Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { AsciiEngraverServer } from '../../simulators/engraver/ascii-server.js';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import type { SimulatedLink } from '../../simulators/engraver/link-faults.js';
import { ModbusRtuServer } from '../../simulators/engraver/modbus-rtu-server.js';
import { ModbusTcpServer } from '../../simulators/engraver/modbus-tcp-server.js';
import { openPtyPair } from '../../simulators/engraver/pty-pair.js';
import { encodeCommand } from '../../src/engraver/ascii/messages.js';
import { withCrc } from '../../src/engraver/modbus/crc16.js';
import type { EngraverTransport } from '../../src/engraver/url.js';
import { requireCommands } from '../support/tools.js';
import { TRANSPORTS } from './support/rigs.js';

/** A raw link to a simulator: send bytes, wait for a number of replies. */
interface RawClient {
  /** Sends `count` requests in one write and waits for all their replies. */
  request(count: number): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const task of cleanups.splice(0).reverse()) await task();
});

/** One request to read the state register, framed for the transport. */
function stateRequest(transport: EngraverTransport, transactionId: number): Buffer {
  if (transport === 'ascii-serial') return encodeCommand({ kind: 'STAT' });
  const pdu = Buffer.from([3, 0, 1, 0, 1]);
  if (transport === 'modbus-rtu') return withCrc(Buffer.concat([Buffer.from([1]), pdu]));
  const mbap = Buffer.alloc(7);
  mbap.writeUInt16BE(transactionId, 0);
  mbap.writeUInt16BE(pdu.length + 1, 4);
  mbap[6] = 1;
  return Buffer.concat([mbap, pdu]);
}

/** Whether `bytes` hold `count` whole replies to `stateRequest`. */
function hasReplies(transport: EngraverTransport, bytes: Buffer, count: number): boolean {
  if (transport === 'ascii-serial') return bytes.toString('latin1').split('\n').length > count;
  return bytes.length >= count * (transport === 'modbus-rtu' ? 7 : 11);
}

async function openSimulator(transport: EngraverTransport): Promise<{ link: SimulatedLink; raw: RawClient }> {
  const device = new EngraverDevice({ markingTimeMs: 0 });
  cleanups.push(() => device.close());
  let write: (bytes: Buffer) => void;
  let received = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
  };
  let link: SimulatedLink;
  if (transport === 'modbus-tcp') {
    const server = new ModbusTcpServer({ device, port: 0 });
    await server.start();
    cleanups.push(() => server.stop());
    const socket = new Socket();
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect({ host: '127.0.0.1', port: server.port }, resolve);
    });
    cleanups.push(() => {
      socket.destroy();
    });
    socket.on('data', onData);
    write = (bytes) => socket.write(bytes);
    link = server;
  } else {
    const pair = await openPtyPair();
    cleanups.push(() => pair.close());
    const baudRate = transport === 'modbus-rtu' ? 19200 : 115200;
    const server =
      transport === 'modbus-rtu'
        ? new ModbusRtuServer({ device, path: pair.a, baudRate })
        : new AsciiEngraverServer({ device, path: pair.a, baudRate });
    await server.start();
    cleanups.push(() => server.stop());
    const port = new SerialPort({ path: pair.b, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    cleanups.push(() => new Promise<void>((resolve) => port.close(() => resolve())));
    port.on('data', onData);
    write = (bytes) => port.write(bytes);
    link = server;
  }
  let transactionId = 1;
  const raw: RawClient = {
    async request(count) {
      received = Buffer.alloc(0);
      const frames = Array.from({ length: count }, () => stateRequest(transport, transactionId++));
      write(Buffer.concat(frames));
      const deadline = Date.now() + 10_000;
      while (!hasReplies(transport, received, count)) {
        if (Date.now() > deadline) throw new Error(`no ${count} replies within 10 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
  return { link, raw };
}

describe.each(TRANSPORTS)('the %s simulator', (transport) => {
  const runnable = transport === 'modbus-tcp' || requireCommands('socat');

  it.runIf(runnable)(
    'counts requests in flight: one when the host waits, more when it does not',
    async () => {
      const { link, raw } = await openSimulator(transport);
      // Replies held back, so a request sent before the previous reply finds it still owed.
      link.faults.delayRepliesMs = 300;

      await raw.request(1);
      await raw.request(1);
      await raw.request(1);
      expect(link.stats.maxInFlight).toBe(1);

      await raw.request(3);
      expect(link.stats.maxInFlight).toBe(3);
    },
  );
});
