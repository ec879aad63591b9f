/**
 * Environment variables that override the settings an integrator changes most. A value is
 * checked for its shape here (a port is a whole number) so that a bad one is reported by the
 * variable's name; its range is checked by the schema, like any other value.
 */
import { resolve } from 'node:path';

export const CONFIG_FILE_VARIABLE = 'STAMPLINE_CONFIG';

type Parsed = { value: unknown } | { problem: string };

export interface EnvOverride {
  readonly variable: string;
  /** The setting it replaces. */
  readonly path: readonly string[];
  /** What the value looks like, for the documentation. */
  readonly format: string;
  readonly secret: boolean;
  parse(value: string, cwd: string): Parsed;
}

const text = (): EnvOverride['parse'] => (value) => ({ value });

const wholeNumber = (): EnvOverride['parse'] => (value) =>
  /^\d{1,15}$/.test(value) ? { value: Number(value) } : { problem: 'must be a whole number' };

/** A relative path in the environment is relative to the directory the command runs in. */
const directory = (): EnvOverride['parse'] => (value, cwd) => ({ value: resolve(cwd, value) });

const indexBlock = (): EnvOverride['parse'] => (value) => {
  const m = /^(\d{1,15}):(\d{1,15})$/.exec(value);
  if (!m) return { problem: 'must be START:SIZE, two whole numbers, e.g. 0:1000000' };
  return { value: { start: Number(m[1]), size: Number(m[2]) } };
};

function override(
  variable: string,
  path: string,
  format: string,
  parse: EnvOverride['parse'],
  secret = false,
): EnvOverride {
  return { variable, path: path.split('.'), format, parse, secret };
}

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  override('STAMPLINE_DATA_DIR', 'line.dataDir', 'a folder; relative to the working directory', directory()),
  override('STAMPLINE_LINE_ID', 'line.id', 'the line id', text()),
  override('STAMPLINE_ISSUER', 'issuer.number', 'a whole number 0..4095', wholeNumber()),
  override('STAMPLINE_ISSUER_KEY', 'issuer.key', '32 hex digits', text(), true),
  override('STAMPLINE_INDEX_BLOCK', 'issuer.indexBlock', '`START:SIZE`, e.g. `0:1000000`', indexBlock()),
  override('STAMPLINE_HTTP_PORT', 'http.port', 'a port number', wholeNumber()),
  override('STAMPLINE_ERP_TOKEN', 'auth.erpToken', '16..256 characters', text(), true),
  override('STAMPLINE_OPERATOR_TOKEN', 'auth.operatorToken', '16..256 characters', text(), true),
  override('STAMPLINE_QA_TOKEN', 'auth.qaToken', '16..256 characters', text(), true),
  override('STAMPLINE_ENGRAVER_URL', 'engraver.url', 'an engraver URL', text()),
  override('STAMPLINE_MQTT_URL', 'mqtt.url', 'an MQTT URL', text()),
];

export interface EnvValue {
  variable: string;
  path: readonly string[];
  value: unknown;
}

export interface EnvProblem {
  variable: string;
  path: readonly string[];
  message: string;
}

/**
 * The overrides present in `env`. Surrounding spaces are dropped, and an empty variable counts
 * as unset (as `KEY=` in a compose file or a unit file means "nothing here").
 */
export function readEnvOverrides(
  env: NodeJS.ProcessEnv,
  cwd: string,
): { values: EnvValue[]; problems: EnvProblem[] } {
  const values: EnvValue[] = [];
  const problems: EnvProblem[] = [];
  for (const o of ENV_OVERRIDES) {
    const raw = env[o.variable]?.trim();
    if (!raw) continue;
    const parsed = o.parse(raw, cwd);
    if ('problem' in parsed) {
      // Never echo a secret, not even a malformed one.
      const shown = o.secret ? '' : ` (got "${raw.length > 80 ? `${raw.slice(0, 80)}...` : raw}")`;
      problems.push({ variable: o.variable, path: o.path, message: `${parsed.problem}${shown}` });
    } else {
      values.push({ variable: o.variable, path: o.path, value: parsed.value });
    }
  }
  return { values, problems };
}

/** The variable that can set `path` (or a section containing it), if any. */
export function variableFor(path: readonly (string | number)[]): string | undefined {
  return ENV_OVERRIDES.find((o) => o.path.every((seg, i) => path[i] === seg))?.variable;
}
