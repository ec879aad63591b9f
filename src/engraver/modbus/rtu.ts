/**
 * Modbus RTU links on a serial port, through modbus-serial's client with a port of our own.
 *
 * RTU frames carry no transaction id, and modbus-serial's RTU ports accept the first frame whose
 * unit and function code fit the request outstanding. A reply that arrives after its request timed
 * out would then be taken as the answer to the next request of the same kind. So this port:
 *   - drops every byte that arrives while no request is outstanding;
 *   - starts each request with an empty buffer;
 *   - accepts only a frame whose CRC is good (a bad one is passed on, to fail at once, only after
 *     the line has gone quiet for an inter-frame gap);
 *   - after a timeout or a garbled reply, sends nothing until the line has been quiet for a while
 *     (the request timeout after a timeout), then flushes the OS buffers;
 *   - remembers that across connections on the same device: a link dropped after timeouts is
 *     reopened within the backoff, sooner than a late reply to its last request may come, and the
 *     first request on the new connection would otherwise take that reply as its answer.
 * A reply later than twice the request timeout cannot be told from a fresh one on RTU; that is a
 * limit of the protocol, and the reason the timeout must suit the slowest engraver on the bus.
 */
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import { StamplineError } from '../../errors.js';
import type { Logger } from '../options.js';
import type { Parity } from '../url.js';
import { ModbusClient } from './client.js';
import { ClientConnection } from './connection.js';
import { crcOk } from './crc16.js';

interface Expectation {
  unit: number;
  fc: number;
  length: number;
}

export class RtuFramePort extends EventEmitter {
  // modbus-serial keys its transactions by these; RTU has no ids, so they stay 1.
  _transactionIdRead = 1;
  _transactionIdWrite = 1;
  /** Bytes dropped because no request was waiting for them or they did not frame. */
  discardedBytes = 0;
  private readonly serial: SerialPort;
  private buffer = Buffer.alloc(0);
  private expect: Expectation | undefined;
  private lastByteAt = 0;
  private gapTimer: NodeJS.Timeout | undefined;
  readonly frameGapMs: number;

  constructor(path: string, options: { baudRate: number; parity: Parity; stopBits: 1 | 2 }) {
    super();
    this.serial = new SerialPort({
      path,
      baudRate: options.baudRate,
      parity: options.parity,
      stopBits: options.stopBits,
      dataBits: 8,
      autoOpen: false,
    });
    // 3.5 character times (11 bits each) is the RTU end of frame; a little more for OS latency.
    this.frameGapMs = Math.max(5, Math.ceil((3.5 * 11 * 1000) / options.baudRate) * 2);
    this.serial.on('data', (chunk: Buffer) => this.onData(chunk));
    this.serial.on('error', (err) => this.emit('error', err));
    this.serial.on('close', () => this.emit('close'));
  }

  get isOpen(): boolean {
    return this.serial.isOpen;
  }

  open(callback: (err?: Error | null) => void): void {
    this.serial.open((err) => callback(err));
  }

  close(callback?: (err?: Error | null) => void): void {
    this.clearGapTimer();
    if (!this.serial.isOpen) {
      callback?.();
      return;
    }
    this.serial.close((err) => callback?.(err));
  }

  write(data: Buffer): void {
    const unit = data[0]!;
    const fc = data[1]!;
    const length = fc === 3 || fc === 4 ? 5 + 2 * data.readUInt16BE(4) : 8;
    this.clearGapTimer();
    this.discard(this.buffer.length);
    this.buffer = Buffer.alloc(0);
    this.expect = { unit, fc, length };
    this.serial.write(data);
  }

  /**
   * Resolves once no byte has arrived for `quietMs` since `since` (or gives up after `maxMs`), then
   * empties every buffer between us and the wire.
   */
  async settle(quietMs: number, since: number, maxMs: number): Promise<boolean> {
    const started = Date.now();
    let quiet = false;
    for (;;) {
      const silentFor = Date.now() - Math.max(this.lastByteAt, since);
      if (silentFor >= quietMs) {
        quiet = true;
        break;
      }
      if (Date.now() - started >= maxMs) break;
      await delay(Math.min(quietMs - silentFor, maxMs - (Date.now() - started)) + 1);
    }
    this.expect = undefined;
    this.discard(this.buffer.length);
    this.buffer = Buffer.alloc(0);
    if (this.serial.isOpen) await new Promise<void>((resolve) => this.serial.flush(() => resolve()));
    return quiet;
  }

  private onData(chunk: Buffer): void {
    this.lastByteAt = Date.now();
    if (!this.expect) {
      this.discard(chunk.length);
      return;
    }
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > 512) {
      this.discard(this.buffer.length - 256);
      this.buffer = this.buffer.subarray(-256);
    }
    this.extract(false);
  }

  /** Emits the reply if the buffer holds it; `lineQuiet` allows passing on a bad-CRC frame. */
  private extract(lineQuiet: boolean): void {
    const e = this.expect;
    if (!e) return;
    let firstComplete: { at: number; length: number } | undefined;
    for (let i = 0; i + 1 < this.buffer.length; i++) {
      if (this.buffer[i] !== e.unit) continue;
      const fc = this.buffer[i + 1];
      const length = fc === e.fc ? e.length : fc === (e.fc | 0x80) ? 5 : 0;
      if (length === 0 || i + length > this.buffer.length) continue;
      if (crcOk(this.buffer.subarray(i, i + length))) {
        this.deliver(i, length);
        return;
      }
      firstComplete ??= { at: i, length };
    }
    if (!firstComplete) return;
    if (lineQuiet) {
      this.deliver(firstComplete.at, firstComplete.length);
    } else {
      this.clearGapTimer();
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        if (Date.now() - this.lastByteAt >= this.frameGapMs) this.extract(true);
      }, this.frameGapMs);
    }
  }

  private deliver(at: number, length: number): void {
    this.clearGapTimer();
    const frame = Buffer.from(this.buffer.subarray(at, at + length));
    this.discard(this.buffer.length - length);
    this.buffer = Buffer.alloc(0);
    this.expect = undefined;
    this.emit('data', frame);
  }

  private discard(count: number): void {
    if (count > 0) this.discardedBytes += count;
  }

  private clearGapTimer(): void {
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export interface RtuLinkOptions {
  path: string;
  baudRate: number;
  parity: Parity;
  stopBits: 1 | 2;
  unitId: number;
  requestTimeoutMs: number;
  maxConsecutiveTimeouts: number;
  busyExceptions: readonly number[];
  describe: string;
  logger: Logger;
}

/** When a request last timed out on each serial device, for the connection opened after it. */
const lastTimeoutAt = new Map<string, number>();

export async function openRtuConnection(o: RtuLinkOptions): Promise<ClientConnection> {
  const port = new RtuFramePort(o.path, { baudRate: o.baudRate, parity: o.parity, stopBits: o.stopBits });
  const client = new ModbusClient(port);
  try {
    await new Promise<void>((resolve, reject) =>
      client.open((err: Error | null) => (err ? reject(err) : resolve())),
    );
  } catch (err) {
    throw new StamplineError(
      'ENGRAVER_LINK_DOWN',
      `${o.describe}: cannot open ${o.path}: ${(err as Error).message}`,
      { engraver: o.describe, path: o.path },
      { cause: err },
    );
  }
  // Bytes that waited in the OS buffer while the port was closed belong to no request of ours.
  await port.settle(0, 0, 0);
  client.setTimeout(o.requestTimeoutMs);
  client.on('error', (err) => o.logger.debug({ err: String(err) }, 'engraver serial port error'));

  // After a bad exchange, wait for a quiet line before the next request (see the file comment),
  // also when it was the last exchange of the connection before this one.
  const troubledAt = lastTimeoutAt.get(o.path);
  let suspect: { quietMs: number; since: number } | undefined =
    troubledAt === undefined ? undefined : { quietMs: o.requestTimeoutMs, since: troubledAt };
  const connection = new ClientConnection({
    client,
    unitId: o.unitId,
    requestTimeoutMs: o.requestTimeoutMs,
    maxConsecutiveTimeouts: o.maxConsecutiveTimeouts,
    busyExceptions: o.busyExceptions,
    describe: o.describe,
    logger: o.logger,
    hooks: {
      async before() {
        if (!suspect) return;
        const { quietMs, since } = suspect;
        suspect = undefined;
        const quiet = await port.settle(quietMs, since, quietMs * 5);
        if (!quiet) o.logger.warn({ quietMs }, 'serial line did not go quiet; sending anyway');
      },
      after(outcome) {
        if (outcome === 'timeout') {
          const now = Date.now();
          lastTimeoutAt.set(o.path, now);
          suspect = { quietMs: o.requestTimeoutMs, since: now };
        } else if (outcome === 'garbled') suspect = { quietMs: port.frameGapMs * 4, since: Date.now() };
      },
    },
    destroy: () =>
      new Promise<void>((resolve) => {
        // Cancels modbus-serial's pending request timers; our port has no destroy of its own.
        client.destroy(() => {});
        port.close(() => resolve());
      }),
  });
  port.on('close', () => connection.lost('serial port closed'));
  return connection;
}
