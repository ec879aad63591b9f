/**
 * The reference engraver served over the sl1-ascii serial protocol (spec engraver-serial.md) on
 * a serial device: a real port, or one end of a socat pseudo-terminal pair. It drives the shared
 * `EngraverDevice`, so the journal of marks is the same whatever the link.
 *
 * On the wire it does what the spec says an engraver does: one reply per command line, `$DONE`
 * and `$FAULT` sent unasked when the device reports them, `$NAK,0,CHECKSUM` to a line it cannot
 * verify, nothing at all for an over-long line or for noise. `faults` act on the wire; an unasked
 * event can also be slipped in between a command and its reply to prove the host copes.
 */

import {
  corruptChecksum,
  describeBytes,
  encodeFrame,
  type Frame,
  FrameDecoder,
} from '../../src/engraver/ascii/framing.js';
import { encodeIncoming, type Incoming, parseCommand } from '../../src/engraver/ascii/messages.js';
import {
  type AsciiPort,
  type AsciiPortFactory,
  closeQuietly,
  openPort,
  serialPortFactory,
} from '../../src/engraver/ascii/port.js';
import { type Logger, silentLogger } from '../../src/engraver/options.js';
import type { DeviceEvent, EngraverDevice } from './device.js';
import { createLinkFaults, type LinkFaults, nextReplyFate, type SimulatedLink } from './link-faults.js';
import { createLinkStats, InFlight, type LinkStats } from './link-stats.js';

const DEFAULT_DROP_MS = 3000;

export interface AsciiEngraverServerOptions {
  device: EngraverDevice;
  path: string;
  baudRate: number;
  logger?: Logger;
  /**
   * How long `faults.dropLink()` keeps the port closed before reopening it; default 3000 ms. A
   * serial line has no carrier to lose: the host sees a drop only as silence, so a drop shorter
   * than its keepalive period plus a reply timeout can pass unnoticed. The default is long
   * enough for the driver's defaults to see it.
   */
  dropForMs?: number;
  /** Before every reply, repeat the last event the device sent (if any), as a noisy engraver might. */
  interleaveEvents?: boolean;
  /** Default: a real serial port. */
  openPort?: AsciiPortFactory;
}

export class AsciiEngraverServer implements SimulatedLink {
  readonly faults: LinkFaults;
  /** Command lines answered, bytes read and written, most commands awaiting a reply at once. */
  readonly stats: LinkStats = createLinkStats();
  private readonly log: Logger;
  private port: AsciiPort | undefined;
  private running = false;
  private decoder = new FrameDecoder();
  private inFlight = new InFlight(this.stats);
  private offDevice: (() => void) | undefined;
  private lastEvent: Incoming | undefined;
  private readonly injected: string[][] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private opening: Promise<void> | undefined;

  constructor(private readonly options: AsciiEngraverServerOptions) {
    this.faults = createLinkFaults(() => this.drop());
    this.log = options.logger ?? silentLogger;
  }

  /** Opens the port. After `faults.dropLink()`, calling it again reopens the port at once. */
  async start(): Promise<void> {
    if (this.running && this.port) return;
    this.running = true;
    this.offDevice ??= this.options.device.on((event) => this.onDeviceEvent(event));
    await this.open();
    this.log.info(
      { path: this.options.path, baudRate: this.options.baudRate },
      'ASCII engraver simulator open',
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.offDevice?.();
    this.offDevice = undefined;
    await this.close();
  }

  get isOpen(): boolean {
    return this.port !== undefined;
  }

  /**
   * The next `count` replies are each preceded by this line (e.g. `['DONE', '77', '3']`), sent
   * after the command arrives and before its reply, as an engraver's unasked event can be.
   */
  injectEventBeforeReply(fields: readonly string[], count = 1): void {
    for (let i = 0; i < count; i++) this.injected.push([...fields]);
  }

  // ---- port ------------------------------------------------------------------------------------

  private open(): Promise<void> {
    this.opening ??= this.openOnce().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async openOnce(): Promise<void> {
    if (this.port) return;
    const factory = this.options.openPort ?? serialPortFactory;
    const port = factory({ path: this.options.path, baudRate: this.options.baudRate });
    await openPort(port);
    // A device that has just come up has heard nothing of what was sent while it was down.
    if (port.flush) await new Promise<void>((resolve) => port.flush!(() => resolve()));
    if (!this.running) {
      await closeQuietly(port);
      return;
    }
    this.decoder = new FrameDecoder();
    this.inFlight = new InFlight(this.stats);
    port.on('data', (chunk) => {
      if (this.port === port) this.onData(chunk);
    });
    port.on('error', (err) => this.log.warn({ err: err.message }, 'serial port error'));
    port.on('close', () => {
      if (this.port === port) this.port = undefined;
    });
    this.port = port;
  }

  private async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port) return;
    for (const frame of this.decoder.end()) this.onDiscard(frame);
    await closeQuietly(port);
  }

  private drop(): void {
    if (!this.port) return;
    const forMs = this.options.dropForMs ?? DEFAULT_DROP_MS;
    this.log.info({ forMs }, 'fault injection: serial link dropped');
    void this.close();
    this.later(async () => {
      if (!this.running || this.port) return;
      try {
        await this.open();
      } catch (err) {
        this.log.error({ err: (err as Error).message }, 'serial port could not be reopened');
      }
    }, forMs);
  }

  // ---- protocol --------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.stats.bytesIn += chunk.length;
    const frames = this.decoder.push(chunk);
    // Lines that came in one read were all received before any of them was answered.
    const inFlight = this.inFlight;
    inFlight.received(frames.filter(isAnswered).length);
    for (const frame of frames) {
      if (frame.kind === 'line') this.onCommand(frame.fields, inFlight);
      else this.onDiscard(frame, inFlight);
    }
  }

  private onDiscard(frame: Frame, inFlight?: InFlight): void {
    if (frame.kind !== 'discarded') return;
    this.log.warn(
      { reason: frame.reason, length: frame.length, bytes: describeBytes(frame.bytes) },
      `discarded ${frame.length} bytes: ${frame.detail}`,
    );
    if (isAnswered(frame)) this.reply({ kind: 'NAK', jobId: 0, reason: 'CHECKSUM' }, inFlight);
  }

  private onCommand(fields: string[], inFlight: InFlight): void {
    this.stats.requests++;
    const { device } = this.options;
    const parsed = parseCommand(fields);
    if (!parsed.ok) {
      this.log.warn({ line: fields.join(','), problem: parsed.problem }, 'command refused');
      this.reply({ kind: 'NAK', jobId: parsed.jobId, reason: 'BADJOB' }, inFlight);
      return;
    }
    const command = parsed.value;
    switch (command.kind) {
      case 'JOB': {
        const { job } = command;
        const refusal = device.loadJob({
          jobId: job.jobId,
          text: job.text,
          gear: job.gear,
          mirror: job.mirror,
          breechFace: job.target === 'breech-face',
          recipe: job.recipe,
        });
        this.reply(
          refusal ? { kind: 'NAK', jobId: job.jobId, reason: refusal } : { kind: 'ACK', jobId: job.jobId },
          inFlight,
        );
        return;
      }
      case 'GO': {
        const refusal = device.go(command.jobId);
        this.reply(
          refusal
            ? { kind: 'NAK', jobId: command.jobId, reason: refusal }
            : { kind: 'ACK', jobId: command.jobId },
          inFlight,
        );
        return;
      }
      case 'STAT':
        this.reply({ kind: 'STAT', status: device.status() }, inFlight);
        return;
      case 'ABORT':
        device.abort();
        this.reply({ kind: 'ACK', jobId: 0 }, inFlight);
        return;
      case 'RESET':
        device.reset();
        this.reply({ kind: 'ACK', jobId: 0 }, inFlight);
        return;
    }
  }

  /** `inFlight` is where the request was counted; a reply for no counted request passes none. */
  private reply(message: Incoming, inFlight?: InFlight): void {
    const event = this.injected.shift();
    if (event) this.write(encodeFrame(event), 'injected event');
    else if (this.options.interleaveEvents && this.lastEvent)
      this.write(encodeIncoming(this.lastEvent), 'repeated event');

    const fate = nextReplyFate(this.faults);
    if (fate === 'withhold') {
      this.log.info({ message }, 'fault injection: reply withheld');
      inFlight?.answered();
      return;
    }
    let line = encodeIncoming(message);
    if (fate === 'corrupt') {
      this.log.info({ message }, 'fault injection: reply with a bad checksum');
      line = corruptChecksum(line);
    }
    const delay = this.faults.delayRepliesMs;
    if (delay > 0) {
      const port = this.port;
      this.later(() => {
        inFlight?.answered();
        if (this.port === port) this.write(line, 'reply');
      }, delay);
    } else {
      inFlight?.answered();
      this.write(line, 'reply');
    }
  }

  private onDeviceEvent(event: DeviceEvent): void {
    let message: Incoming;
    if (event.kind === 'done') message = { kind: 'DONE', jobId: event.jobId, completed: event.completed };
    else if (event.kind === 'fault') message = { kind: 'FAULT', jobId: event.jobId, fault: event.fault };
    else return;
    this.lastEvent = message;
    // An event that happens while the link is down is lost, as on a real line.
    this.write(encodeIncoming(message), 'event');
  }

  private write(line: Buffer, what: string): void {
    const port = this.port;
    if (!port) {
      this.log.debug({ line: describeBytes(line) }, `${what} not sent: port closed`);
      return;
    }
    this.stats.bytesOut += line.length;
    this.log.debug({ line: describeBytes(line) }, `send ${what}`);
    port.write(line);
  }

  private later(task: () => void | Promise<void>, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void task();
    }, ms);
    this.timers.add(timer);
  }
}

/**
 * A command line gets a reply; so does a line that came whole but cannot be verified (the spec's
 * `NAK,0,CHECKSUM`). An over-long line, noise, or a line cut off by the port closing gets none.
 */
function isAnswered(frame: Frame): boolean {
  return frame.kind === 'line' || frame.reason === 'bad-checksum' || frame.reason === 'malformed';
}
