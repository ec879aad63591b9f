/**
 * Options shared by every engraver transport. The line builds them from configuration; the CLI
 * builds them from flags. Transport-specific details (host, port, unit, serial path, baud rate)
 * come from the engraver URL, so the same URL names the engraver everywhere.
 */

/** The subset of a pino logger the drivers use; pino itself satisfies it. */
export interface Logger {
  debug(obj: unknown, msg?: string, ...args: unknown[]): void;
  info(obj: unknown, msg?: string, ...args: unknown[]): void;
  warn(obj: unknown, msg?: string, ...args: unknown[]): void;
  error(obj: unknown, msg?: string, ...args: unknown[]): void;
  child(bindings: Record<string, unknown>): Logger;
}

export interface ReconnectOptions {
  /** First delay after a lost link or a failed attempt. */
  initialMs: number;
  /** Ceiling of the exponential backoff. */
  maxMs: number;
}

export interface EngraverOptions {
  /** The engraver's URL, e.g. `modbus-tcp://10.0.0.5:502?unit=1`. */
  url: string;
  /** Every request fails with ENGRAVER_TIMEOUT after this long; default 1000. */
  requestTimeoutMs: number;
  reconnect: ReconnectOptions;
  logger?: Logger;
}

export interface SerialEngraverOptions extends EngraverOptions {
  /** Serial device, e.g. `/dev/ttyUSB0`. */
  path: string;
  baudRate: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 1000;
export const DEFAULT_RECONNECT: ReconnectOptions = { initialMs: 250, maxMs: 10_000 };

/** A logger that drops everything, for when none is given. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
