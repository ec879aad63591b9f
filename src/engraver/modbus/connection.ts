/**
 * One open Modbus link, TCP or RTU, as the driver uses it: four request kinds, each with a
 * timeout, each failing with a typed `StamplineError`, and a close notification. It wraps a
 * modbus-serial client, whose callbacks never fire when the link closes mid-request, so every
 * request also races the link's close.
 *
 * The connection does not queue: the driver runs every request through one `RequestQueue`.
 */

import { StamplineError } from '../../errors.js';
import type { Logger } from '../options.js';
import type { ModbusClient } from './client.js';

export type ModbusRequest =
  | { fc: 3; address: number; count: number }
  | { fc: 5; address: number; on: boolean }
  | { fc: 6; address: number; value: number }
  | { fc: 16; address: number; values: number[] };

export interface ModbusConnection {
  readonly closed: boolean;
  /** Sends one request and resolves with the registers read (FC3) or an empty array. */
  request(req: ModbusRequest): Promise<number[]>;
  /** Called once when the link closes, whoever closed it. */
  onClose(listener: (reason: string) => void): void;
  close(reason: string): Promise<void>;
}

/** What a transport does around each request (RTU: wait for a quiet line after a bad exchange). */
export interface ExchangeHooks {
  before?(): Promise<void>;
  after?(outcome: 'ok' | 'timeout' | 'garbled' | 'exception'): void;
}

export interface ClientConnectionOptions {
  client: ModbusClient;
  unitId: number;
  requestTimeoutMs: number;
  /** After this many timeouts in a row the link is presumed dead and closed. */
  maxConsecutiveTimeouts: number;
  /** Modbus exception codes that mean busy. */
  busyExceptions: readonly number[];
  describe: string;
  logger: Logger;
  hooks?: ExchangeHooks;
  /** Closes the underlying port or socket for good. */
  destroy(): Promise<void>;
}

const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

export function describeRequest(req: ModbusRequest): string {
  switch (req.fc) {
    case 3:
      return `read registers ${req.address}..${req.address + req.count - 1}`;
    case 5:
      return `write coil ${req.address} ${req.on ? 'on' : 'off'}`;
    case 6:
      return `write register ${req.address}`;
    case 16:
      return `write registers ${req.address}..${req.address + req.values.length - 1}`;
  }
}

export class ClientConnection implements ModbusConnection {
  private isClosed = false;
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private consecutiveTimeouts = 0;
  private abortInFlight: ((err: Error) => void) | undefined;

  constructor(private readonly o: ClientConnectionOptions) {}

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(listener: (reason: string) => void): void {
    if (this.isClosed) listener('closed');
    else this.closeListeners.push(listener);
  }

  /** Called by the transport when the socket or port closes under us. */
  lost(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.abortInFlight?.(this.linkDown(`link closed: ${reason}`));
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  async close(reason: string): Promise<void> {
    if (this.isClosed) return;
    this.lost(reason);
    await this.o.destroy();
  }

  async request(req: ModbusRequest): Promise<number[]> {
    if (this.isClosed) throw this.linkDown('link is closed');
    const before = this.o.hooks?.before;
    if (before) {
      await before();
      if (this.isClosed) throw this.linkDown('link is closed');
    }
    try {
      const values = await this.exchange(req);
      this.consecutiveTimeouts = 0;
      this.o.hooks?.after?.('ok');
      return values;
    } catch (err) {
      if (!(err instanceof StamplineError)) throw err;
      if (err.code === 'ENGRAVER_TIMEOUT') {
        this.consecutiveTimeouts++;
        this.o.hooks?.after?.('timeout');
        if (this.consecutiveTimeouts >= this.o.maxConsecutiveTimeouts && !this.isClosed) {
          this.o.logger.warn(
            { timeouts: this.consecutiveTimeouts },
            'engraver did not answer several requests in a row; closing the link',
          );
          void this.close(`no reply to ${this.consecutiveTimeouts} requests in a row`);
        }
      } else if (err.code === 'ENGRAVER_PROTOCOL') {
        this.o.hooks?.after?.('garbled');
      } else if (err.code !== 'ENGRAVER_LINK_DOWN') {
        this.consecutiveTimeouts = 0;
        this.o.hooks?.after?.('exception');
      }
      throw err;
    }
  }

  private exchange(req: ModbusRequest): Promise<number[]> {
    const { client, unitId } = this.o;
    return new Promise<number[]>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, values?: number[]) => {
        if (settled) return;
        settled = true;
        this.abortInFlight = undefined;
        if (err) reject(err);
        else resolve(values ?? []);
      };
      this.abortInFlight = (err) => finish(err);
      const onReply = (err: unknown, data: unknown) => {
        if (err) finish(this.translate(req, err));
        else {
          const problem = echoProblem(req, data);
          if (problem) finish(this.protocol(req, problem));
          else finish(undefined, req.fc === 3 ? (data as { data: number[] }).data : []);
        }
      };
      try {
        switch (req.fc) {
          case 3:
            client.writeFC3(unitId, req.address, req.count, onReply);
            break;
          case 5:
            client.writeFC5(unitId, req.address, req.on, onReply);
            break;
          case 6:
            client.writeFC6(unitId, req.address, req.value, onReply);
            break;
          case 16:
            client.writeFC16(unitId, req.address, req.values, onReply);
            break;
        }
      } catch (err) {
        finish(this.translate(req, err));
      }
    });
  }

  private translate(req: ModbusRequest, err: unknown): StamplineError {
    const e = err as { name?: string; errno?: string; message?: string; modbusCode?: number };
    const what = describeRequest(req);
    const context = { engraver: this.o.describe, request: what };
    if (typeof e.modbusCode === 'number') {
      const code = e.modbusCode;
      const name = EXCEPTION_NAMES[code] ?? 'unknown exception';
      const ctx = { ...context, modbusException: code };
      if (this.o.busyExceptions.includes(code)) {
        return new StamplineError(
          'ENGRAVER_BUSY',
          `engraver is busy and refused to ${what} (Modbus exception ${code}: ${name})`,
          ctx,
        );
      }
      if (code === 5 || code === 11) {
        return new StamplineError(
          'ENGRAVER_TIMEOUT',
          `engraver did not ${what} in time (Modbus exception ${code}: ${name})`,
          ctx,
        );
      }
      if (code === 10) {
        return new StamplineError(
          'ENGRAVER_LINK_DOWN',
          `gateway cannot reach the engraver (Modbus exception ${code}: ${name})`,
          ctx,
        );
      }
      return new StamplineError(
        'ENGRAVER_REJECTED',
        `engraver refused to ${what} (Modbus exception ${code}: ${name}); check the register map in the profile`,
        ctx,
      );
    }
    if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError') {
      return new StamplineError(
        'ENGRAVER_TIMEOUT',
        `engraver did not answer "${what}" within ${this.o.requestTimeoutMs} ms`,
        { ...context, timeoutMs: this.o.requestTimeoutMs },
      );
    }
    if (e.message === 'Port Not Open' || this.isClosed) {
      return this.linkDown(`link is closed (${what})`);
    }
    return this.protocol(req, e.message ?? String(err));
  }

  private protocol(req: ModbusRequest, problem: string): StamplineError {
    return new StamplineError('ENGRAVER_PROTOCOL', `bad reply to "${describeRequest(req)}": ${problem}`, {
      engraver: this.o.describe,
      request: describeRequest(req),
      problem,
    });
  }

  private linkDown(message: string): StamplineError {
    return new StamplineError('ENGRAVER_LINK_DOWN', `${this.o.describe}: ${message}`, {
      engraver: this.o.describe,
    });
  }
}

/** A write's reply echoes what was written; a reply that does not is someone else's. */
function echoProblem(req: ModbusRequest, data: unknown): string | undefined {
  const d = data as { address?: number; length?: number; state?: boolean; value?: number; data?: number[] };
  switch (req.fc) {
    case 3:
      return Array.isArray(d.data) && d.data.length === req.count
        ? undefined
        : `expected ${req.count} registers, got ${d.data?.length}`;
    case 5:
      // Only the address: engravers whose command coils clear themselves may echo the coil as off.
      return d.address === req.address ? undefined : `reply echoes coil ${d.address}`;
    case 6:
      return d.address === req.address && d.value === req.value
        ? undefined
        : `reply echoes register ${d.address}`;
    case 16:
      return d.address === req.address && d.length === req.values.length
        ? undefined
        : `reply echoes registers ${d.address} count ${d.length}`;
  }
}
