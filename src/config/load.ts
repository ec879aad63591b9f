/**
 * Reads a configuration: the YAML file, then the environment overrides, then the caller's
 * overrides, validated together so that every problem is reported at once, each by its path
 * (and its variable, or its line in the file).
 *
 * Relative paths written in the file are resolved against the file's folder, so the daemon
 * finds the same files however it is started (a unit file, a shell, a test). Relative paths
 * from the environment or from overrides are resolved against the working directory, as
 * anything typed in a shell is.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { type Document, isMap, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { loadProfile } from '../engraver/profile.js';
import { parseEngraverUrl } from '../engraver/url.js';
import { isStamplineError, StamplineError } from '../errors.js';
import { CONFIG_FILE_VARIABLE, type EnvProblem, readEnvOverrides, variableFor } from './env.js';
import { type ConfigProblem, errorMap, formatPath, formatProblem, problemsFromIssues } from './problems.js';
import { type Config, type ConfigInput, configSchema, engraverUrlProblem, isProfilePath } from './schema.js';
import { PATH_SETTINGS, SECRET_SETTINGS } from './settings.js';

export const DEFAULT_CONFIG_FILE = 'config/default.yaml';

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> | null }
    : T;

/** Settings to apply over the file and the environment; `null` removes a setting (back to its default). */
export type ConfigOverrides = DeepPartial<ConfigInput>;

export interface LoadConfigOptions {
  /** The configuration file. Default: `$STAMPLINE_CONFIG`, else `config/default.yaml`. */
  file?: string;
  /** Where the `STAMPLINE_*` overrides are read. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Applied last, over the file and the environment (e.g. command-line flags). */
  overrides?: ConfigOverrides;
  /** Relative file names and paths from the environment or overrides are resolved against it. Default: `process.cwd()`. */
  cwd?: string;
}

export interface ParseConfigOptions {
  /** Relative paths in `input` are resolved against it. Default: `cwd`. */
  baseDir?: string;
  /** Overrides to read; none unless given. */
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read. */
  file: string;
  /** The environment variables that overrode a setting. */
  variables: string[];
  /** Things that are allowed but probably not meant. */
  warnings: string[];
}

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** In YAML an empty value (`key:`) is null; it means "not set", so the default applies. */
function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (!isPlainObject(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = stripNulls(x);
  return out;
}

function getAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v = doc;
  for (const seg of path) {
    if (!isPlainObject(v) && !Array.isArray(v)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** Sets a value, making missing sections; leaves alone a section that is not a mapping (the schema reports it). */
function setAt(doc: Json, path: readonly string[], value: unknown): void {
  let node = doc;
  for (const seg of path.slice(0, -1)) {
    if (node[seg] === undefined) node[seg] = {};
    const next = node[seg];
    if (!isPlainObject(next)) return;
    node = next;
  }
  node[path[path.length - 1]!] = value;
}

/** The value config/default.yaml ships for every setting a line must give itself. */
export const PLACEHOLDER = 'SET';

/** The paths of every value that is still the template's placeholder. */
function placeholders(doc: unknown, at: string[] = []): string[][] {
  if (doc === PLACEHOLDER) return [at];
  if (!isPlainObject(doc)) return [];
  return Object.entries(doc).flatMap(([k, v]) => placeholders(v, [...at, k]));
}

function placeholderMessage(path: readonly string[]): string {
  const variable = variableFor(path as string[]);
  return `still ${PLACEHOLDER}, as in the template: give this line's value${variable ? ` (in the file, or with ${variable})` : ''}`;
}

function deleteAt(doc: Json, path: readonly string[]): void {
  const parent = getAt(doc, path.slice(0, -1));
  if (isPlainObject(parent)) delete parent[path[path.length - 1]!];
}

function mergeInto(target: Json, source: Json, at: string[], touched: string[][]): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const path = [...at, key];
    if (value === null) {
      delete target[key];
      touched.push(path);
    } else if (isPlainObject(value) && isPlainObject(target[key])) {
      mergeInto(target[key], value, path, touched);
    } else {
      target[key] = structuredClone(value);
      touched.push(path);
    }
  }
}

/** Resolves, in place, every relative path setting of `doc` against `base`. */
function resolvePaths(doc: unknown, base: string): void {
  for (const path of PATH_SETTINGS) {
    const v = getAt(doc, path);
    if (typeof v === 'string') setAt(doc as Json, path, resolve(base, v));
  }
  const profile = getAt(doc, ['engraver', 'profile']);
  if (typeof profile === 'string' && isProfilePath(profile))
    setAt(doc as Json, ['engraver', 'profile'], resolve(base, profile));
}

/**
 * Files the configuration names that must be usable when the line starts: a missing
 * certificate or a broken register map is a setting to fix, not a surprise at the first
 * connection.
 */
function unusableFiles(doc: unknown, base: string): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  for (const path of [
    ['mqtt', 'tls', 'ca'],
    ['mqtt', 'tls', 'cert'],
    ['mqtt', 'tls', 'key'],
  ]) {
    const v = getAt(doc, path);
    if (typeof v !== 'string' || v === '') continue;
    const file = resolve(base, v);
    try {
      if (!statSync(file).isFile()) {
        out.push({ path, message: `is not a file: ${file}` });
        continue;
      }
      accessSync(file, constants.R_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      out.push({
        path,
        message: code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file} (${code})`,
      });
    }
  }
  const profileProblem = registerMapProblem(doc, base);
  if (profileProblem) out.push(profileProblem);
  return out;
}

/** Loads the register map a Modbus engraver will use, as the driver will at start. */
function registerMapProblem(doc: unknown, base: string): { path: string[]; message: string } | undefined {
  const url = getAt(doc, ['engraver', 'url']);
  if (typeof url !== 'string' || engraverUrlProblem(url)) return undefined;
  const parsed = parseEngraverUrl(url);
  if (parsed.transport === 'ascii-serial') return undefined;
  // A command marker's profile is named in its URL and checked when the driver loads it.
  if (parsed.transport === 'commands-tcp' || parsed.transport === 'commands-serial') return undefined;
  const given = getAt(doc, ['engraver', 'profile']);
  if (given !== undefined && typeof given !== 'string') return undefined;
  const profile =
    typeof given === 'string' ? (isProfilePath(given) ? resolve(base, given) : given) : parsed.profile;
  try {
    loadProfile(profile);
    return undefined;
  } catch (err) {
    if (!isStamplineError(err, 'ENGRAVER_BAD_PROFILE')) throw err;
    return {
      path:
        given !== undefined || parsed.profile === undefined ? ['engraver', 'profile'] : ['engraver', 'url'],
      message: err.message,
    };
  }
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  return prefix.length <= path.length && prefix.every((seg, i) => path[i] === seg);
}

interface Source {
  /** How the configuration is named in messages. */
  label: string;
  file?: string;
  baseDir: string;
  yaml?: { doc: Document; lines: LineCounter };
  /** The file's own document had secrets in it. */
  mode?: number;
}

function locate(source: Source, path: readonly PropertyKey[]): { line: number; column: number } | undefined {
  if (!source.yaml) return undefined;
  let node: unknown = source.yaml.doc.contents;
  let offset: number | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => {
        const k = p.key as { value?: unknown } | null;
        return k !== null && typeof k === 'object' && String(k.value) === String(seg);
      });
      if (!pair) return undefined;
      offset = (pair.key as Node).range?.[0];
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return undefined;
      offset = item.range?.[0];
      node = item;
    } else {
      return undefined;
    }
  }
  if (offset === undefined) return undefined;
  const { line, col } = source.yaml.lines.linePos(offset);
  return { line, column: col };
}

function build(
  input: unknown,
  source: Source,
  env: NodeJS.ProcessEnv,
  overrides: ConfigOverrides | undefined,
  cwd: string,
): LoadedConfig {
  const problems: ConfigProblem[] = [];
  // An empty file is an empty mapping: every setting at its default, every required one missing.
  const fromFile = input === undefined || input === null ? {} : stripNulls(input);
  if (!isPlainObject(fromFile)) {
    throw invalid(source, [
      { path: '', message: 'must be a mapping of sections (line:, issuer:, engraver:, ...)' },
    ]);
  }
  const doc = structuredClone(fromFile);

  const fromEnv = readEnvOverrides(env, cwd);
  for (const p of fromEnv.problems) problems.push(envProblem(p));
  for (const v of fromEnv.values) setAt(doc, v.path, v.value);

  const touched: string[][] = [];
  if (overrides) {
    const o = structuredClone(overrides) as Json;
    resolvePaths(o, cwd);
    mergeInto(doc, o, [], touched);
  }
  const bad = new Set(fromEnv.problems.map((p) => p.variable));
  const variables = fromEnv.values.map((v) => v.variable);

  const notFromFile = (path: readonly PropertyKey[]) =>
    fromEnv.values.some((v) => startsWith(path, v.path)) || touched.some((t) => startsWith(path, t));

  const describe = (path: readonly PropertyKey[], message: string): ConfigProblem => {
    const variable = fromEnv.values.find((v) => startsWith(path, v.path))?.variable;
    const problem: ConfigProblem = { path: formatPath(path), message };
    if (variable) problem.variable = variable;
    if (message === 'required') {
      const settable = variableFor(path as (string | number)[]);
      if (settable && !bad.has(settable))
        problem.message = `required: set it in the file, or with ${settable}`;
    }
    if (!notFromFile(path)) Object.assign(problem, locate(source, path));
    return problem;
  };

  // A value still `SET`, as the template ships it, is named for what it is rather than as a
  // wrong type; the schema then sees it as absent, so nothing else is said of it.
  const unset = placeholders(doc);
  for (const path of unset) {
    problems.push(describe(path, placeholderMessage(path)));
    deleteAt(doc, path);
  }
  const parsed = configSchema.safeParse(doc, { error: errorMap });
  if (!parsed.success) {
    for (const p of problemsFromIssues(parsed.error.issues, doc)) {
      if (unset.some((u) => startsWith(p.path, u))) continue;
      problems.push(describe(p.path, p.message));
    }
  }
  for (const p of unusableFiles(doc, source.baseDir)) {
    // A value the schema already refused is not worth a second problem.
    if (!problems.some((q) => q.path === formatPath(p.path))) problems.push(describe(p.path, p.message));
  }
  if (problems.length > 0 || !parsed.success) throw invalid(source, problems);

  const config = parsed.data;
  resolvePaths(config, source.baseDir);
  return { config, file: source.file ?? '', variables, warnings: warningsFor(config, source, fromFile) };
}

function envProblem(p: EnvProblem): ConfigProblem {
  return { path: p.path.join('.'), variable: p.variable, message: p.message };
}

function invalid(source: Source, problems: ConfigProblem[]): StamplineError {
  const n = problems.length;
  const list = problems.map((p) => `  ${formatProblem(p)}`).join('\n');
  return new StamplineError(
    'CONFIG_INVALID',
    `${source.label}: invalid configuration, ${n} problem${n === 1 ? '' : 's'}:\n${list}`,
    { file: source.file, problems },
  );
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function warningsFor(config: Config, source: Source, fromFile: Json): string[] {
  const warnings: string[] = [];
  if (!config.mqtt.tls.rejectUnauthorized) {
    warnings.push("mqtt.tls.rejectUnauthorized is false: the broker's certificate is not checked");
  }
  const url = new URL(config.mqtt.url);
  if (
    config.mqtt.password &&
    (url.protocol === 'mqtt:' || url.protocol === 'ws:') &&
    !LOOPBACK.has(url.hostname)
  ) {
    warnings.push(`mqtt.password is sent unencrypted to ${url.hostname}: use mqtts:// or wss://`);
  }
  const secretsInFile = SECRET_SETTINGS.filter((p) => getAt(fromFile, p) !== undefined).map((p) =>
    p.join('.'),
  );
  // A configuration that runs simulators is a demo or a test: its secrets guard nothing real.
  const simulating = Object.values(config.simulators).some((s) => s.enabled);
  if (
    !simulating &&
    source.mode !== undefined &&
    (source.mode & 0o077) !== 0 &&
    secretsInFile.length > 0 &&
    process.platform !== 'win32'
  ) {
    warnings.push(
      `${source.label} holds secrets (${secretsInFile.join(', ')}) and other users can read it: chmod 600 it, or set the secrets in the environment`,
    );
  }
  return warnings;
}

function display(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** The file `loadConfig` reads: `file`, else `$STAMPLINE_CONFIG`, else `config/default.yaml`; absolute. */
export function resolveConfigFile(opts: LoadConfigOptions = {}): string {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const named = opts.file ?? (env[CONFIG_FILE_VARIABLE]?.trim() || undefined) ?? DEFAULT_CONFIG_FILE;
  return resolve(cwd, named);
}

async function readSource(
  file: string,
  label: string,
  origin: string,
): Promise<{ source: Source; input: unknown }> {
  let text: string;
  let mode: number;
  try {
    [text, mode] = await Promise.all([readFile(file, 'utf8'), stat(file).then((s) => s.mode)]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : (err as Error).message;
    throw new StamplineError(
      'CONFIG_UNREADABLE',
      `cannot read configuration file ${label}${origin}: ${reason}`,
      { file, reason: code ?? reason },
      { cause: err },
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { line, column: col, message: e.message.split('\n')[0]! };
    });
    const first = errors[0]!;
    const list = errors.map((e) => `  line ${e.line}, column ${e.column}: ${e.message}`).join('\n');
    throw new StamplineError('CONFIG_UNREADABLE', `configuration file ${label} is not valid YAML:\n${list}`, {
      file,
      line: first.line,
      column: first.column,
      errors,
    });
  }
  return { source: { label, file, baseDir: dirname(file), yaml: { doc, lines }, mode }, input: doc.toJS() };
}

/** Reads, overrides and validates a configuration, and says where it came from. */
export async function readConfig(opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file = resolveConfigFile({ ...opts, env, cwd });
  const origin =
    opts.file === undefined
      ? env[CONFIG_FILE_VARIABLE]?.trim()
        ? ` (named by ${CONFIG_FILE_VARIABLE})`
        : ' (the default)'
      : '';
  const { source, input } = await readSource(file, display(file, cwd), origin);
  return build(input, source, env, opts.overrides, cwd);
}

/** The configuration the daemon runs with. Throws CONFIG_UNREADABLE or CONFIG_INVALID. */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<Config> {
  return (await readConfig(opts)).config;
}

/**
 * Validates a configuration held in memory (tests, tools). Unlike `loadConfig` it reads no
 * environment unless `env` is given.
 */
export function parseConfig(input: unknown, opts: ParseConfigOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  const source: Source = { label: 'configuration', baseDir: opts.baseDir ?? cwd };
  return build(input, source, opts.env ?? {}, opts.overrides, cwd).config;
}
