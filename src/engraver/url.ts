/**
 * Engraver URLs: one string names an engraver in configuration, on the command line and in logs.
 *
 *   modbus-tcp://host[:port][?unit=1&profile=sl1-modbus]
 *   modbus-rtu:///dev/ttyUSB0[?baud=19200&unit=1&parity=none&stopBits=1&profile=sl1-modbus]
 *   ascii-serial:///dev/ttyUSB0[?baud=115200]
 *   commands-tcp://host[:port]?profile=kv-marker           (port: the profile's, when not given)
 *   commands-serial:///dev/ttyUSB0?profile=kv-marker[&baud=9600&parity=none&stopBits=1]
 *
 * Unknown query parameters are errors, so a typo (`?uint=2`) cannot silently fall back to a default.
 */
import { StamplineError } from '../errors.js';

export type EngraverTransport =
  | 'modbus-tcp'
  | 'modbus-rtu'
  | 'ascii-serial'
  | 'commands-tcp'
  | 'commands-serial';
export type Parity = 'none' | 'even' | 'odd';

export interface ModbusTcpUrl {
  transport: 'modbus-tcp';
  host: string;
  port: number;
  unitId: number;
  /** Profile name (in config/profiles) or path; undefined means the default profile. */
  profile?: string;
}

export interface ModbusRtuUrl {
  transport: 'modbus-rtu';
  path: string;
  baudRate: number;
  unitId: number;
  parity: Parity;
  stopBits: 1 | 2;
  profile?: string;
}

export interface AsciiSerialUrl {
  transport: 'ascii-serial';
  path: string;
  baudRate: number;
}

/** A marker driven by a command profile; the profile is required, it says how to talk. */
export interface CommandsTcpUrl {
  transport: 'commands-tcp';
  host: string;
  /** Undefined: the profile's `link.tcpPort`. */
  port?: number;
  profile: string;
}

export interface CommandsSerialUrl {
  transport: 'commands-serial';
  path: string;
  /** Undefined: the profile's serial settings. */
  baudRate?: number;
  parity?: Parity;
  stopBits?: 1 | 2;
  profile: string;
}

export type ParsedEngraverUrl =
  | ModbusTcpUrl
  | ModbusRtuUrl
  | AsciiSerialUrl
  | CommandsTcpUrl
  | CommandsSerialUrl;

const SCHEMES: readonly EngraverTransport[] = [
  'modbus-tcp',
  'modbus-rtu',
  'ascii-serial',
  'commands-tcp',
  'commands-serial',
];

export const DEFAULT_MODBUS_TCP_PORT = 502;
export const DEFAULT_RTU_BAUD = 19200;
export const DEFAULT_ASCII_BAUD = 115200;
export const DEFAULT_UNIT_ID = 1;

const BAUD_RATES = new Set([1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]);
const ALLOWED_PARAMS: Record<EngraverTransport, readonly string[]> = {
  'modbus-tcp': ['unit', 'profile'],
  'modbus-rtu': ['baud', 'unit', 'parity', 'stopBits', 'profile'],
  'ascii-serial': ['baud'],
  'commands-tcp': ['profile'],
  'commands-serial': ['baud', 'parity', 'stopBits', 'profile'],
};

function bad(url: string, problem: string): StamplineError {
  return new StamplineError('ENGRAVER_BAD_URL', `engraver URL ${JSON.stringify(url)}: ${problem}`, {
    url,
    problem,
  });
}

export function parseEngraverUrl(url: string): ParsedEngraverUrl {
  if (typeof url !== 'string' || url.trim() === '') throw bad(String(url), 'is empty');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const port = /^[a-z-]+:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(url)?.[1];
    if (port !== undefined && Number(port) > 65535) throw bad(url, `port ${port} is not 1..65535`);
    throw bad(
      url,
      'is not a URL (expected e.g. modbus-tcp://10.0.0.5:502?unit=1 or modbus-rtu:///dev/ttyUSB0?baud=19200)',
    );
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!(SCHEMES as readonly string[]).includes(scheme)) {
    throw bad(url, `unknown transport "${scheme}" (expected ${SCHEMES.join(', ')})`);
  }
  if (!url.toLowerCase().startsWith(`${scheme}://`)) {
    throw bad(url, `expected ${scheme}://… (serial devices take three slashes: ${scheme}:///dev/ttyUSB0)`);
  }
  if (parsed.username || parsed.password) throw bad(url, 'must not carry a user name or password');
  if (parsed.hash) throw bad(url, 'must not have a #fragment');

  const params = parsed.searchParams;
  return parseScheme(url, scheme as EngraverTransport, parsed, params);
}

function parseScheme(
  url: string,
  scheme: EngraverTransport,
  parsed: URL,
  params: URLSearchParams,
): ParsedEngraverUrl {
  for (const key of new Set(params.keys())) {
    if (!ALLOWED_PARAMS[scheme].includes(key)) {
      throw bad(url, `unknown parameter "${key}" (${scheme} accepts ${ALLOWED_PARAMS[scheme].join(', ')})`);
    }
    if (params.getAll(key).length > 1) throw bad(url, `parameter "${key}" is given more than once`);
  }
  const profile = params.get('profile') ?? undefined;
  if (profile !== undefined && profile.trim() === '') throw bad(url, 'parameter "profile" is empty');
  if ((scheme === 'commands-tcp' || scheme === 'commands-serial') && profile === undefined) {
    throw bad(url, `${scheme} needs ?profile=NAME (a command profile, e.g. kv-marker or tl-marker)`);
  }

  if (scheme === 'commands-tcp') {
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) throw bad(url, 'has no host (expected commands-tcp://host:port?profile=NAME)');
    if (parsed.pathname !== '' && parsed.pathname !== '/') {
      throw bad(url, `has a path "${parsed.pathname}"; a TCP marker is named by host and port only`);
    }
    if (parsed.port !== '' && (Number(parsed.port) < 1 || Number(parsed.port) > 65535)) {
      throw bad(url, `port ${parsed.port} is not 1..65535`);
    }
    return {
      transport: 'commands-tcp',
      host,
      ...(parsed.port !== '' ? { port: Number(parsed.port) } : {}),
      profile: profile!,
    };
  }

  if (scheme === 'modbus-tcp') {
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) throw bad(url, 'has no host (expected modbus-tcp://host:port)');
    if (parsed.pathname !== '' && parsed.pathname !== '/') {
      throw bad(url, `has a path "${parsed.pathname}"; a TCP engraver is named by host and port only`);
    }
    const port = parsed.port === '' ? DEFAULT_MODBUS_TCP_PORT : Number(parsed.port);
    if (port < 1 || port > 65535) throw bad(url, `port ${parsed.port} is not 1..65535`);
    // Modbus TCP allows unit 0 and 255 (gateways use them); a serial bus only 1..247.
    const unitId = integerParam(url, params, 'unit', DEFAULT_UNIT_ID, 0, 255);
    return { transport: 'modbus-tcp', host, port, unitId, ...(profile ? { profile } : {}) };
  }

  if (parsed.hostname !== '') {
    throw bad(
      url,
      `a serial URL has an empty host and the device as its path (e.g. ${scheme}:///dev/ttyUSB0), not "${parsed.hostname}"`,
    );
  }
  const path = decodeURIComponent(parsed.pathname);
  if (path === '' || path === '/') throw bad(url, 'has no serial device path (e.g. /dev/ttyUSB0)');
  if (!path.startsWith('/')) throw bad(url, `device path "${path}" is not absolute`);
  if (scheme === 'ascii-serial') {
    const baudRate = baudParam(url, params, DEFAULT_ASCII_BAUD);
    return { transport: 'ascii-serial', path, baudRate };
  }
  if (scheme === 'commands-serial') {
    const parity = params.get('parity') ?? undefined;
    if (parity !== undefined && parity !== 'none' && parity !== 'even' && parity !== 'odd') {
      throw bad(url, `parity "${parity}" is not none, even or odd`);
    }
    return {
      transport: 'commands-serial',
      path,
      ...(params.has('baud') ? { baudRate: baudParam(url, params, 0) } : {}),
      ...(parity !== undefined ? { parity } : {}),
      ...(params.has('stopBits')
        ? { stopBits: integerParam(url, params, 'stopBits', 1, 1, 2) as 1 | 2 }
        : {}),
      profile: profile!,
    };
  }
  const baudRate = baudParam(url, params, DEFAULT_RTU_BAUD);
  const unitId = integerParam(url, params, 'unit', DEFAULT_UNIT_ID, 1, 247);
  const parity = params.get('parity') ?? 'none';
  if (parity !== 'none' && parity !== 'even' && parity !== 'odd') {
    throw bad(url, `parity "${parity}" is not none, even or odd`);
  }
  const stopBits = integerParam(url, params, 'stopBits', 1, 1, 2) as 1 | 2;
  return {
    transport: 'modbus-rtu',
    path,
    baudRate,
    unitId,
    parity,
    stopBits,
    ...(profile ? { profile } : {}),
  };
}

function integerParam(
  url: string,
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw bad(url, `parameter "${name}" is "${raw}", expected an integer ${min}..${max}`);
  }
  return Number(raw);
}

function baudParam(url: string, params: URLSearchParams, fallback: number): number {
  const raw = params.get('baud');
  if (raw === null) return fallback;
  const baud = Number(raw);
  if (!/^\d+$/.test(raw) || !BAUD_RATES.has(baud)) {
    throw bad(url, `baud rate "${raw}" is not one of ${[...BAUD_RATES].join(', ')}`);
  }
  return baud;
}

/** The canonical form of a URL, for logs and for comparing two spellings of one engraver. */
export function formatEngraverUrl(parsed: ParsedEngraverUrl): string {
  if (parsed.transport === 'modbus-tcp') {
    const host = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
    const profile = parsed.profile ? `&profile=${encodeURIComponent(parsed.profile)}` : '';
    return `modbus-tcp://${host}:${parsed.port}?unit=${parsed.unitId}${profile}`;
  }
  if (parsed.transport === 'modbus-rtu') {
    const extra =
      (parsed.parity !== 'none' ? `&parity=${parsed.parity}` : '') +
      (parsed.stopBits !== 1 ? `&stopBits=${parsed.stopBits}` : '') +
      (parsed.profile ? `&profile=${encodeURIComponent(parsed.profile)}` : '');
    return `modbus-rtu://${parsed.path}?baud=${parsed.baudRate}&unit=${parsed.unitId}${extra}`;
  }
  if (parsed.transport === 'commands-tcp') {
    const host = parsed.host.includes(':') ? `[${parsed.host}]` : parsed.host;
    const port = parsed.port !== undefined ? `:${parsed.port}` : '';
    return `commands-tcp://${host}${port}?profile=${encodeURIComponent(parsed.profile)}`;
  }
  if (parsed.transport === 'commands-serial') {
    const extra =
      (parsed.baudRate !== undefined ? `&baud=${parsed.baudRate}` : '') +
      (parsed.parity !== undefined ? `&parity=${parsed.parity}` : '') +
      (parsed.stopBits !== undefined ? `&stopBits=${parsed.stopBits}` : '');
    return `commands-serial://${parsed.path}?profile=${encodeURIComponent(parsed.profile)}${extra}`;
  }
  return `ascii-serial://${parsed.path}?baud=${parsed.baudRate}`;
}
