/**
 * The engraver subsystem's front door: `createEngraver(url, options)` returns the driver the URL's
 * transport calls for. The line holds an `Engraver` and never branches on the transport.
 */
import { AsciiSerialEngraver } from './ascii/driver.js';
import { CommandEngraver } from './commands/driver.js';
import { linkTarget } from './commands/link.js';
import { type CommandProfile, loadCommandProfile } from './commands/profile.js';
import { ModbusRtuEngraver, ModbusTcpEngraver } from './modbus/driver.js';
import { DEFAULT_RECONNECT, DEFAULT_REQUEST_TIMEOUT_MS, type EngraverOptions } from './options.js';
import { loadProfile, type ModbusProfile } from './profile.js';
import type { Engraver } from './types.js';
import { parseEngraverUrl } from './url.js';

export interface CreateEngraverOptions extends Partial<Omit<EngraverOptions, 'url'>> {
  /**
   * Modbus only: the register map, as a loaded profile or a name/path. Takes precedence over the
   * URL's `profile` parameter; the default is sl1-modbus.
   */
  profile?: ModbusProfile | string;
  /** Command markers only: a loaded profile instead of the URL's `profile` name. */
  commandProfile?: CommandProfile;
  /** Status poll interval while waiting for a job; default 100 ms (Modbus, commands), 250 ms (ASCII). */
  pollIntervalMs?: number;
}

export function createEngraver(url: string, options: CreateEngraverOptions = {}): Engraver {
  const target = parseEngraverUrl(url);
  const base: EngraverOptions = {
    url,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    reconnect: options.reconnect ?? DEFAULT_RECONNECT,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const poll = options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {};
  if (target.transport === 'ascii-serial') {
    return new AsciiSerialEngraver({ ...base, ...poll, path: target.path, baudRate: target.baudRate });
  }
  if (target.transport === 'commands-tcp' || target.transport === 'commands-serial') {
    const profile = options.commandProfile ?? loadCommandProfile(target.profile);
    return new CommandEngraver({ ...base, ...poll, profile, target: linkTarget(target, profile) });
  }
  const profile = typeof options.profile === 'string' ? loadProfile(options.profile) : options.profile;
  const modbus = { ...base, ...poll, ...(profile ? { profile } : {}) };
  return target.transport === 'modbus-tcp' ? new ModbusTcpEngraver(modbus) : new ModbusRtuEngraver(modbus);
}

export { StamplineError } from '../errors.js';
export { CommandEngraver } from './commands/driver.js';
export { linkTarget } from './commands/link.js';
export { type CommandProfile, loadCommandProfile, parseCommandProfile } from './commands/profile.js';
export { sendRawCommand } from './commands/raw.js';
export type { EngraverOptions, Logger, SerialEngraverOptions } from './options.js';
export { loadProfile, type ModbusProfile, parseProfile } from './profile.js';
export * from './types.js';
export {
  type EngraverTransport,
  formatEngraverUrl,
  type ParsedEngraverUrl,
  parseEngraverUrl,
} from './url.js';
