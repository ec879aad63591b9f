/**
 * The serial port as the ASCII driver and simulator use it: a narrow interface that both
 * `SerialPort` and `SerialPortMock` (from 'serialport') satisfy, so tests can swap one for the
 * other through a factory.
 */
import { SerialPort } from 'serialport';

export interface AsciiPort {
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

/** Builds a port that is not open yet; the caller opens it. */
export type AsciiPortFactory = (options: { path: string; baudRate: number }) => AsciiPort;

/** A real serial port, 8N1 without flow control as the spec asks. */
export const serialPortFactory: AsciiPortFactory = ({ path, baudRate }) =>
  new SerialPort({
    path,
    baudRate,
    dataBits: 8,
    parity: 'none',
    stopBits: 1,
    rtscts: false,
    autoOpen: false,
  });

export function openPort(port: AsciiPort): Promise<void> {
  return new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
}

/** Lets a port go without waiting, and without a late 'error' event becoming unhandled. */
export function closeQuietly(port: AsciiPort): Promise<void> {
  port.removeAllListeners();
  port.on('error', () => undefined);
  if (!port.isOpen) return Promise.resolve();
  return new Promise((resolve) => port.close(() => resolve()));
}
