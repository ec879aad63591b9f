/**
 * What the sections of the configuration schema (`schema.ts`) share: the names of the URL schemes,
 * grades and log levels, the building blocks of a setting, and the checks of engraver and MQTT URLs
 * that `config check` and the schema both use.
 */
import { z } from 'zod';
import { parseEngraverUrl } from '../engraver/url.js';
import { isStamplineError } from '../errors.js';

export const ENGRAVER_SCHEMES = ['modbus-tcp', 'modbus-rtu', 'ascii-serial'] as const;
export type EngraverScheme = (typeof ENGRAVER_SCHEMES)[number];

export const MQTT_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss'] as const;
export const TLS_MQTT_SCHEMES = new Set(['mqtts', 'wss']);

export const GRADES = ['A', 'B', 'C', 'D', 'F'] as const;
/** Grades a policy may demand. F is no identification at all, so it cannot be a minimum. */
export const MIN_GRADES = ['A', 'B', 'C', 'D'] as const;
export type MinGrade = (typeof MIN_GRADES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const INDEX_LIMIT = 2 ** 28;
export const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface SettingMeta {
  /** Masked in logs and in `config show`. */
  secret?: true;
  /** A file or folder: a relative path is resolved against the configuration file's folder. */
  fsPath?: true;
  /** A default derived from other settings, as the documentation states it. */
  defaultText?: string;
}

export function setting<T extends z.ZodType>(schema: T, description: string, meta: SettingMeta): T {
  return schema.meta({ description, ...meta });
}

/**
 * What an absent section with required settings parses as, so that each missing setting is
 * reported by its own path (`issuer.key: required`) rather than the section as a whole.
 */
export const ABSENT = {} as never;

export const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** A share between 0 and `max`, with a default. */
export const rate = (max: number, dflt: number) => z.number().min(0).max(max).default(dflt);

export const portNumber = (description: string) => int(1, 65535).describe(description);

export const token = () =>
  z
    .string()
    .min(16, { error: 'must be at least 16 characters' })
    .max(256, { error: 'must be at most 256 characters' })
    .regex(/^[\x21-\x7e]*$/, { error: 'must be printable characters without spaces' });

/**
 * Why an engraver URL is not usable, or undefined. The driver's own parser decides, so that
 * `config check` catches what the driver would refuse at start (a bad unit, baud or parameter).
 */
export function engraverUrlProblem(url: string): string | undefined {
  if (!engraverScheme(url)) return 'must start with modbus-tcp://, modbus-rtu:// or ascii-serial://';
  try {
    parseEngraverUrl(url);
    return undefined;
  } catch (err) {
    if (isStamplineError(err, 'ENGRAVER_BAD_URL')) return String(err.context.problem ?? err.message);
    throw err;
  }
}

export function engraverScheme(url: string): EngraverScheme | undefined {
  return ENGRAVER_SCHEMES.find((s) => url.startsWith(`${s}://`));
}

/** Why an MQTT URL is not usable, or undefined. */
export function mqttUrlProblem(url: string): string | undefined {
  if (!MQTT_SCHEMES.some((s) => url.startsWith(`${s}://`))) {
    return 'must start with mqtt://, mqtts://, ws:// or wss://';
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if (!parsed.hostname) return 'needs a host, e.g. mqtts://registry.example.org:8883';
  if (parsed.username || parsed.password) {
    return 'must not carry a user name or password: set mqtt.username and mqtt.password, which are kept out of logs';
  }
  return undefined;
}

/** A profile is a bare name (shipped in config/profiles/) or a path to a file. */
export function isProfilePath(profile: string): boolean {
  return /[/\\]/.test(profile) || /\.(ya?ml|json)$/i.test(profile);
}

export function recipeKey(make: string, model: string | undefined): string {
  const norm = (s: string) => s.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  return model === undefined ? `${norm(make)}\u0000*` : `${norm(make)}\u0000${norm(model)}`;
}
