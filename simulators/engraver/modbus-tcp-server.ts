/**
 * The reference engraver served over Modbus TCP, framed by hand (MBAP header + PDU) so that every
 * link fault can be injected exactly: delayed, withheld and malformed replies, dropped connections.
 * Each request is answered from the device as it is when the request arrives; a delay only holds
 * the reply back, as a slow gateway would.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../src/engraver/options.js';
import { silentLogger } from '../../src/engraver/options.js';
import type { EngraverDevice } from './device.js';
import { createLinkFaults, type LinkFaults, nextReplyFate, type SimulatedLink } from './link-faults.js';
import { createLinkStats, InFlight, type LinkStats } from './link-stats.js';
import { handlePdu } from './modbus-pdu.js';

export type { LinkStats } from './link-stats.js';

export interface ModbusTcpServerOptions {
  device: EngraverDevice;
  /** 0 takes a free port from the OS; read `port` after `start()`. */
  port: number;
  host?: string;
  /** The unit id answered; 0 and 255 are always answered too, as "this device". */
  unitId?: number;
  logger?: Logger;
}

const MBAP = 7;

export class ModbusTcpServer implements SimulatedLink {
  readonly faults: LinkFaults;
  readonly stats: LinkStats = createLinkStats();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private boundPort = 0;
  private readonly log: Logger;

  constructor(private readonly options: ModbusTcpServerOptions) {
    this.faults = createLinkFaults(() => {
      this.log.info({ connections: this.sockets.size }, 'fault injection: link dropped');
      this.dropConnections();
    });
    this.log = options.logger ?? silentLogger;
  }

  get port(): number {
    return this.boundPort;
  }

  get connections(): number {
    return this.sockets.size;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : this.options.port;
    this.log.info({ port: this.boundPort }, 'Modbus TCP engraver simulator listening');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.dropConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    this.log.debug({ peer: socket.remoteAddress }, 'client connected');
    const inFlight = new InFlight(this.stats);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.stats.bytesIn += chunk.length;
      buffer = Buffer.concat([buffer, chunk]);
      const frames: Buffer[] = [];
      let malformed = false;
      while (buffer.length >= MBAP) {
        const length = buffer.readUInt16BE(4);
        if (buffer.readUInt16BE(2) !== 0 || length < 2 || length > 254) {
          malformed = true;
          break;
        }
        if (buffer.length < 6 + length) break;
        frames.push(buffer.subarray(0, 6 + length));
        buffer = buffer.subarray(6 + length);
      }
      // Requests that came in one read were all received before any of them was answered.
      inFlight.received(frames.length);
      for (const frame of frames) this.answer(socket, frame, inFlight);
      if (malformed) {
        // Not Modbus: nothing after this can be framed, so hang up as a real server would.
        this.log.warn({ peer: socket.remoteAddress }, 'malformed MBAP header; closing the connection');
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
  }

  private answer(socket: Socket, frame: Buffer, inFlight: InFlight): void {
    this.stats.requests++;
    const transactionId = frame.readUInt16BE(0);
    const unit = frame[6]!;
    const wanted = this.options.unitId ?? 1;
    let pdu: Buffer;
    if (unit !== wanted && unit !== 0 && unit !== 255) {
      pdu = Buffer.from([frame[7]! | 0x80, 0x0b]); // gateway target device failed to respond
    } else {
      pdu = handlePdu(this.options.device, frame.subarray(MBAP));
    }
    const fate = nextReplyFate(this.faults);
    if (fate === 'withhold') {
      this.log.info({ transactionId }, 'fault injection: reply withheld');
      inFlight.answered();
      return;
    }
    if (fate === 'corrupt') {
      // A frame whose PDU is one byte short of what the function code promises.
      this.log.info({ transactionId }, 'fault injection: malformed reply');
      pdu = pdu.subarray(0, pdu.length - 1);
    }
    const reply = Buffer.alloc(MBAP + pdu.length);
    reply.writeUInt16BE(transactionId, 0);
    reply.writeUInt16BE(0, 2);
    reply.writeUInt16BE(pdu.length + 1, 4);
    reply[6] = unit;
    pdu.copy(reply, MBAP);
    const send = () => {
      inFlight.answered();
      if (socket.destroyed) return;
      this.stats.bytesOut += reply.length;
      socket.write(reply);
    };
    const delay = this.faults.delayRepliesMs;
    if (delay > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, delay);
      this.timers.add(timer);
    } else {
      send();
    }
  }
}
