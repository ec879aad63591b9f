/**
 * The reference engraver served over Modbus RTU on a serial device (a real port, or one end of a
 * socat pseudo-terminal pair). Framed by hand: a request is complete when its function code's
 * length has arrived; a frame with a bad CRC or for another unit is ignored, as on a real bus.
 */
import { SerialPort } from 'serialport';
import { crcOk, withCrc } from '../../src/engraver/modbus/crc16.js';
import { type Logger, silentLogger } from '../../src/engraver/options.js';
import type { Parity } from '../../src/engraver/url.js';
import type { EngraverDevice } from './device.js';
import { createLinkFaults, type LinkFaults, nextReplyFate, type SimulatedLink } from './link-faults.js';
import { createLinkStats, InFlight, type LinkStats } from './link-stats.js';
import { handlePdu, rtuRequestLength } from './modbus-pdu.js';

export interface ModbusRtuServerOptions {
  device: EngraverDevice;
  path: string;
  baudRate: number;
  parity?: Parity;
  stopBits?: 1 | 2;
  unitId?: number;
  /** How long `faults.dropLink()` keeps the port closed; default 1000 ms. */
  dropForMs?: number;
  logger?: Logger;
}

export class ModbusRtuServer implements SimulatedLink {
  readonly faults: LinkFaults;
  readonly stats: LinkStats = createLinkStats();
  private port: SerialPort | undefined;
  private running = false;
  private buffer = Buffer.alloc(0);
  private inFlight = new InFlight(this.stats);
  private lastByteAt = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly gapMs: number;
  private readonly log: Logger;

  constructor(private readonly options: ModbusRtuServerOptions) {
    this.faults = createLinkFaults(() => this.drop());
    this.log = options.logger ?? silentLogger;
    // A pause longer than 3.5 characters ends a frame; leave room for pseudo-terminal jitter.
    this.gapMs = Math.max(20, Math.ceil((3.5 * 11 * 1000) / options.baudRate) * 4);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.open();
    this.log.info(
      { path: this.options.path, baudRate: this.options.baudRate },
      'Modbus RTU engraver simulator open',
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.close();
  }

  private async open(): Promise<void> {
    const port = new SerialPort({
      path: this.options.path,
      baudRate: this.options.baudRate,
      parity: this.options.parity ?? 'none',
      stopBits: this.options.stopBits ?? 1,
      dataBits: 8,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    // A device that has just come up has heard nothing of what was sent while it was down.
    await new Promise<void>((resolve) => port.flush(() => resolve()));
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    port.on('error', (err) => this.log.warn({ err: err.message }, 'serial port error'));
    this.port = port;
    this.buffer = Buffer.alloc(0);
    this.inFlight = new InFlight(this.stats);
  }

  private async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private drop(): void {
    if (!this.port) return;
    this.log.info({ forMs: this.options.dropForMs ?? 1000 }, 'fault injection: serial link dropped');
    void this.close();
    this.later(async () => {
      if (!this.running) return;
      try {
        await this.open();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'serial port could not be reopened');
      }
    }, this.options.dropForMs ?? 1000);
  }

  private onData(chunk: Buffer): void {
    this.stats.bytesIn += chunk.length;
    const now = Date.now();
    if (now - this.lastByteAt > this.gapMs) this.buffer = Buffer.alloc(0);
    this.lastByteAt = now;
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffer.length < 2) break;
      const length = rtuRequestLength(this.buffer);
      if (length === undefined) break;
      if (length === 'unknown-function' || length > 256) {
        this.buffer = this.buffer.subarray(1);
        continue;
      }
      if (this.buffer.length < length) break;
      const frame = this.buffer.subarray(0, length);
      if (!crcOk(frame)) {
        this.buffer = this.buffer.subarray(1);
        continue;
      }
      this.buffer = this.buffer.subarray(length);
      // Another unit's frame is someone else's business on the bus.
      if (frame[0] === (this.options.unitId ?? 1) || frame[0] === 0) frames.push(frame);
    }
    // Requests that came in one read were all received before any of them was answered.
    const inFlight = this.inFlight;
    inFlight.received(frames.filter((frame) => frame[0] !== 0).length);
    for (const frame of frames) {
      if (frame[0] === 0)
        this.act(frame); // broadcast: acted on, never answered
      else this.answer(frame, inFlight);
    }
  }

  private act(frame: Buffer): Buffer {
    this.stats.requests++;
    return handlePdu(this.options.device, frame.subarray(1, frame.length - 2));
  }

  private answer(frame: Buffer, inFlight: InFlight): void {
    const unit = frame[0]!;
    const pdu = this.act(frame);
    const fate = nextReplyFate(this.faults);
    if (fate === 'withhold') {
      this.log.info('fault injection: reply withheld');
      inFlight.answered();
      return;
    }
    const reply = withCrc(Buffer.concat([Buffer.from([unit]), pdu]));
    if (fate === 'corrupt') {
      this.log.info('fault injection: reply with a bad CRC');
      reply[reply.length - 1] = reply[reply.length - 1]! ^ 0xff;
    }
    const port = this.port;
    const send = () => {
      inFlight.answered();
      if (!port?.isOpen || port !== this.port) return;
      this.stats.bytesOut += reply.length;
      port.write(reply);
    };
    const delay = this.faults.delayRepliesMs;
    if (delay > 0) this.later(send, delay);
    else send();
  }

  private later(task: () => void | Promise<void>, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void task();
    }, ms);
    this.timers.add(timer);
  }
}
