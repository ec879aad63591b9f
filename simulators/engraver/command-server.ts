/**
 * Serves a marker over any command profile, on TCP or on a serial port (a socat pty in tests and
 * by hand), with the link faults every simulator has (delay, withhold, corrupt, drop) and one
 * of its own: `dropEvents`, so a test can lose the unasked end-of-marking message.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { LineDecoder } from '../../src/engraver/commands/framing.js';
import type { CommandProfile } from '../../src/engraver/commands/profile.js';
import { type Logger, silentLogger } from '../../src/engraver/options.js';
import { createLinkFaults, type LinkFaults, nextReplyFate, type SimulatedLink } from './link-faults.js';
import { createLinkStats, InFlight, type LinkStats } from './link-stats.js';
import type { MarkerDevice } from './marker-device.js';
import { MarkerProtocol } from './marker-protocol.js';

export type CommandServerLink =
  | { kind: 'tcp'; host?: string; port: number }
  | { kind: 'serial'; path: string; baudRate: number; dropForMs?: number };

export interface CommandServerOptions {
  device: MarkerDevice;
  profile: CommandProfile;
  link: CommandServerLink;
  logger?: Logger;
}

interface Peer {
  write(data: Buffer): void;
  inFlight: InFlight;
  decoder: LineDecoder;
}

export class CommandMarkerServer implements SimulatedLink {
  readonly faults: LinkFaults & { dropEvents: number };
  readonly stats: LinkStats = createLinkStats();
  private readonly log: Logger;
  private readonly protocol: MarkerProtocol;
  private readonly end: Buffer;
  private readonly peers = new Set<Peer>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private server: Server | undefined;
  private serial: SerialPort | undefined;
  private offDevice: (() => void) | undefined;
  private running = false;
  private boundPort = 0;

  constructor(private readonly options: CommandServerOptions) {
    this.faults = { ...createLinkFaults(() => this.drop()), dropEvents: 0 };
    this.log = options.logger ?? silentLogger;
    this.protocol = new MarkerProtocol(options.profile, options.device);
    this.end = Buffer.from(options.profile.link.replyEnd, 'latin1');
  }

  /** The TCP port listened on (useful with port 0). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.offDevice = this.options.device.on((event) => {
      const line = this.protocol.event(event);
      if (line === undefined) return;
      if (this.faults.dropEvents > 0) {
        this.faults.dropEvents--;
        this.log.warn({ line }, 'fault injection: event dropped');
        return;
      }
      for (const peer of this.peers) peer.write(Buffer.concat([Buffer.from(line, 'latin1'), this.end]));
    });
    const link = this.options.link;
    if (link.kind === 'tcp') {
      const server = createServer((socket) => this.accept(socket));
      this.server = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(link.port, link.host ?? '127.0.0.1', () => resolve());
      });
      const address = server.address();
      this.boundPort = typeof address === 'object' && address ? address.port : link.port;
    } else {
      await this.openSerial();
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.offDevice?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.peers.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.closeSerial();
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    const peer: Peer = {
      write: (data) => {
        if (!socket.destroyed) socket.write(data);
      },
      inFlight: new InFlight(this.stats),
      decoder: new LineDecoder(this.options.profile.link.commandEnd),
    };
    this.peers.add(peer);
    socket.on('data', (chunk) => this.onData(peer, chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.peers.delete(peer);
    });
  }

  private async openSerial(): Promise<void> {
    const link = this.options.link as Extract<CommandServerLink, { kind: 'serial' }>;
    const port = new SerialPort({ path: link.path, baudRate: link.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.serial = port;
    const peer: Peer = {
      write: (data) => {
        if (this.serial === port) port.write(data);
      },
      inFlight: new InFlight(this.stats),
      decoder: new LineDecoder(this.options.profile.link.commandEnd),
    };
    this.peers.add(peer);
    port.on('data', (chunk: Buffer) => this.onData(peer, chunk));
    port.on('error', () => undefined);
    port.on('close', () => this.peers.delete(peer));
  }

  private async closeSerial(): Promise<void> {
    const port = this.serial;
    this.serial = undefined;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private onData(peer: Peer, chunk: Buffer): void {
    this.stats.bytesIn += chunk.length;
    for (const frame of peer.decoder.push(chunk)) {
      if (frame.kind !== 'line') continue;
      this.stats.requests++;
      peer.inFlight.received();
      this.reply(peer, frame.text);
    }
  }

  private reply(peer: Peer, line: string): void {
    const send = () => {
      const answer = this.protocol.answer(line);
      peer.inFlight.answered();
      if (answer === undefined) {
        this.log.warn({ line }, 'unknown command: no reply');
        return;
      }
      const fate = nextReplyFate(this.faults);
      if (fate === 'withhold') {
        this.log.warn({ line }, 'fault injection: reply withheld');
        return;
      }
      // A corrupted reply keeps its terminator but no longer reads as any reply of the profile.
      const text = fate === 'corrupt' ? `${answer.slice(0, -1)}\x7f~` : answer;
      if (fate === 'corrupt') this.log.warn({ line }, 'fault injection: corrupted reply');
      const bytes = Buffer.concat([Buffer.from(text, 'latin1'), this.end]);
      this.stats.bytesOut += bytes.length;
      peer.write(bytes);
    };
    // The marker acts when the command arrives; only its answer is held back.
    const delay = this.faults.delayRepliesMs;
    if (delay > 0) {
      const answer = this.protocol.answer(line);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        peer.inFlight.answered();
        if (answer === undefined || nextReplyFate(this.faults) === 'withhold') return;
        const bytes = Buffer.concat([Buffer.from(answer, 'latin1'), this.end]);
        this.stats.bytesOut += bytes.length;
        peer.write(bytes);
      }, delay);
      this.timers.add(timer);
      return;
    }
    send();
  }

  private drop(): void {
    if (this.options.link.kind === 'tcp') {
      for (const socket of this.sockets) socket.destroy();
      return;
    }
    // A serial line has no carrier: the host sees a drop as silence until the port reopens.
    const dropFor = this.options.link.dropForMs ?? 3000;
    void this.closeSerial().then(() => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.running) void this.openSerial().catch((err) => this.log.error({ err }, 'cannot reopen'));
      }, dropFor);
      this.timers.add(timer);
    });
  }
}
