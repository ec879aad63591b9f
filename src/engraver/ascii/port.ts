/**
 * The serial port as the ASCII driver and simulator use it: the `SerialPortLike` of
 * link-port.ts, built by a factory so tests can pass `SerialPortMock` for `SerialPort`.
 */
import { SerialPort } from 'serialport';
import type { SerialPortLike } from '../link-port.js';

export { closeQuietly, openPort } from '../link-port.js';
export type AsciiPort = SerialPortLike;

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
