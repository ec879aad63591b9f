/**
 * Where a command marker is and how to open its link: a TCP socket or a serial port, as the URL
 * and the profile say (the shared `LinkPort` of link-port.ts).
 */
import { SerialPort } from 'serialport';
import { type LinkPort, openSerialLink, openTcpLink } from '../link-port.js';
import type { CommandsSerialUrl, CommandsTcpUrl } from '../url.js';
import type { CommandProfile } from './profile.js';

export type { LinkPort } from '../link-port.js';

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
  target.kind === 'tcp'
    ? openTcpLink(target.host, target.port, timeoutMs)
    : openSerialLink(
        new SerialPort({
          path: target.path,
          baudRate: target.baudRate,
          dataBits: 8,
          parity: target.parity,
          stopBits: target.stopBits,
          rtscts: false,
          autoOpen: false,
        }),
      );

export function describeTarget(target: LinkTarget): string {
  return target.kind === 'tcp' ? `${target.host}:${target.port}` : target.path;
}
