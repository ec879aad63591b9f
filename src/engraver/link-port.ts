/**
 * The byte link under the line-oriented drivers (ASCII, command markers): a TCP socket or a
 * serial port behind one narrow interface, so a driver does not branch on which. Opening resolves
 * when the link can carry bytes, or rejects with why it cannot.
 */
import { connect, type Socket } from 'node:net';

export interface LinkPort {
  /** A write that fails ends the link (`onEnd`); `callback` is for a caller that waits on one write. */
  write(data: Buffer, callback?: (err?: Error | null) => void): void;
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once when the link ends, whoever ended it. */
  onEnd(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

/**
 * A serial port as `SerialPort` and `SerialPortMock` (from 'serialport') both are, so tests can
 * swap one for the other.
 */
export interface SerialPortLike {
  readonly isOpen: boolean;
  open(callback: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): void;
  write(data: Buffer, callback?: (err: Error | null | undefined) => void): boolean;
  flush?(callback?: (err: Error | null) => void): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: (err?: Error | null) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeAllListeners(): unknown;
}

export function openPort(port: SerialPortLike): Promise<void> {
  return new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
}

/** Lets a port go without waiting, and without a late 'error' event becoming unhandled. */
export function closeQuietly(port: SerialPortLike): Promise<void> {
  port.removeAllListeners();
  port.on('error', () => undefined);
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => port.close(() => resolve()));
}

/** The end of a link, told once to every listener whatever ends it first. */
class Ending {
  ended = false;
  private readonly listeners: ((reason: string) => void)[] = [];
  on(listener: (reason: string) => void): void {
    this.listeners.push(listener);
  }
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of this.listeners) listener(reason);
  }
}

/** Opens a serial port (not yet open) and gives it as a link. */
export async function openSerialLink(port: SerialPortLike): Promise<LinkPort> {
  try {
    await openPort(port);
  } catch (err) {
    port.removeAllListeners();
    throw err;
  }
  const ending = new Ending();
  port.on('error', (e) => ending.end(`port error: ${e.message}`));
  port.on('close', () => ending.end('port closed'));
  return {
    write: (data, callback) => {
      port.write(data, callback && ((e) => callback(e)));
    },
    onData: (listener) => port.on('data', listener),
    onEnd: (listener) => ending.on(listener),
    close: () => {
      ending.ended = true;
      return closeQuietly(port);
    },
  };
}

export function openTcpLink(host: string, port: number, timeoutMs: number): Promise<LinkPort> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection to ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socketLink(socket));
    });
  });
}

function socketLink(socket: Socket): LinkPort {
  const ending = new Ending();
  socket.on('error', (err) => ending.end(`socket error: ${err.message}`));
  socket.on('close', () => ending.end('connection closed'));
  socket.on('end', () => ending.end('the marker closed the connection'));
  return {
    write: (data, callback) => {
      socket.write(data, callback && ((err) => callback(err)));
    },
    onData: (listener) => socket.on('data', listener),
    onEnd: (listener) => ending.on(listener),
    close: () =>
      new Promise((resolve) => {
        ending.ended = true;
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.destroy();
      }),
  };
}
