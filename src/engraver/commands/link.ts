/**
 * The byte link under a command profile: a TCP socket or a serial port behind one narrow
 * interface, so the driver does not branch on which. Opening resolves when the link can carry
 * bytes, or rejects with why it cannot.
 */
import { connect, type Socket } from 'node:net';
import { SerialPort } from 'serialport';
import type { CommandsSerialUrl, CommandsTcpUrl } from '../url.js';
import type { CommandProfile } from './profile.js';

export interface LinkPort {
  write(data: Buffer, callback: (err?: Error | null) => void): void;
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once when the link ends, whoever ended it. */
  onEnd(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

export type LinkTarget =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'serial'; path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 };

/** Where a commands URL points, the profile filling in what the URL leaves out. */
export function linkTarget(url: CommandsTcpUrl | CommandsSerialUrl, profile: CommandProfile): LinkTarget {
  const link = profile.link;
  return url.transport === 'commands-tcp'
    ? { kind: 'tcp', host: url.host, port: url.port ?? link.tcpPort }
    : {
        kind: 'serial',
        path: url.path,
        baudRate: url.baudRate ?? link.baudRate,
        parity: url.parity ?? link.parity,
        stopBits: url.stopBits ?? link.stopBits,
      };
}

export type LinkOpener = (target: LinkTarget, timeoutMs: number) => Promise<LinkPort>;

export const openLink: LinkOpener = (target, timeoutMs) =>
  target.kind === 'tcp' ? openTcp(target.host, target.port, timeoutMs) : openSerial(target);

function openTcp(host: string, port: number, timeoutMs: number): Promise<LinkPort> {
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
      resolve(socketPort(socket));
    });
  });
}

function socketPort(socket: Socket): LinkPort {
  let ended = false;
  const endListeners: ((reason: string) => void)[] = [];
  const end = (reason: string) => {
    if (ended) return;
    ended = true;
    for (const listener of endListeners) listener(reason);
  };
  socket.on('error', (err) => end(`socket error: ${err.message}`));
  socket.on('close', () => end('connection closed'));
  socket.on('end', () => end('the marker closed the connection'));
  return {
    write: (data, callback) => socket.write(data, (err) => callback(err)),
    onData: (listener) => socket.on('data', listener),
    onEnd: (listener) => endListeners.push(listener),
    close: () =>
      new Promise((resolve) => {
        ended = true;
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        socket.destroy();
      }),
  };
}

function openSerial(target: Extract<LinkTarget, { kind: 'serial' }>): Promise<LinkPort> {
  const port = new SerialPort({
    path: target.path,
    baudRate: target.baudRate,
    dataBits: 8,
    parity: target.parity,
    stopBits: target.stopBits,
    rtscts: false,
    autoOpen: false,
  });
  return new Promise((resolve, reject) => {
    port.open((err) => {
      if (err) return reject(err);
      let ended = false;
      const endListeners: ((reason: string) => void)[] = [];
      const end = (reason: string) => {
        if (ended) return;
        ended = true;
        for (const listener of endListeners) listener(reason);
      };
      port.on('error', (e) => end(`port error: ${e.message}`));
      port.on('close', () => end('port closed'));
      resolve({
        write: (data, callback) => {
          port.write(data, (e) => callback(e));
        },
        onData: (listener) => port.on('data', listener),
        onEnd: (listener) => endListeners.push(listener),
        close: () =>
          new Promise((done) => {
            ended = true;
            port.removeAllListeners();
            port.on('error', () => undefined);
            if (!port.isOpen) return done();
            port.close(() => done());
          }),
      });
    });
  });
}
