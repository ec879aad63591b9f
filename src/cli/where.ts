/**
 * Where a command finds the line's data, as the daemon does: `--data-dir`, else the
 * configuration's `line.dataDir`. Every command that reads or changes a line's data takes the
 * same two options through `where()`, so none of them defaults differently.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { readConfig, resolveConfigFile } from '../config/load.js';
import { isStamplineError } from '../errors.js';
import { migrateStore, storeFormat } from '../store/migrations.js';

export interface WhereOptions {
  config?: string;
  dataDir?: string;
}

/**
 * The data folder, found as the daemon finds it: `--data-dir`, else the configuration file's
 * `line.dataDir` (`--config`, else `STAMPLINE_CONFIG`, else config/default.yaml) with
 * `STAMPLINE_DATA_DIR` over it. A configuration the daemon would refuse only for settings these
 * commands do not use (a secret kept in the daemon's environment) still gives its data folder.
 */
export async function dataDirOf(opts: WhereOptions): Promise<string> {
  if (opts.dataDir) return resolve(opts.dataDir);
  const fromEnv = process.env.STAMPLINE_DATA_DIR?.trim();
  if (fromEnv && opts.config === undefined) return resolve(fromEnv);
  try {
    return (await readConfig(opts.config === undefined ? {} : { file: opts.config })).config.line.dataDir;
  } catch (err) {
    if (!isStamplineError(err, 'CONFIG_INVALID')) throw err;
    const file = resolveConfigFile(opts.config === undefined ? {} : { file: opts.config });
    const problems = (err.context.problems ?? []) as { path: string }[];
    if (problems.some((p) => p.path === 'line' || p.path.startsWith('line.dataDir'))) throw err;
    if (fromEnv) return resolve(fromEnv);
    const doc = parseYaml(await readFile(file, 'utf8')) as { line?: { dataDir?: unknown } } | null;
    const dir = doc?.line?.dataDir;
    if (typeof dir !== 'string' || dir === '') throw err;
    return resolve(dirname(file), dir);
  }
}

/**
 * The data folder for a command that only reads it (or, like the users file, keeps nothing whose
 * shape the data format covers): a folder a newer release wrote is refused, naming both formats;
 * an older one is read as it is and migrated by the next start, since these commands run beside a
 * daemon and never take the store.
 */
export async function dataToRead(opts: WhereOptions): Promise<string> {
  const dir = await dataDirOf(opts);
  await storeFormat(dir);
  return dir;
}

/**
 * The data folder for a command that changes the store (the daemon stopped): a newer format is
 * refused, an older one migrated first, with its audit entry naming `command`.
 */
export async function dataToChange(opts: WhereOptions, command: string): Promise<string> {
  const dir = await dataDirOf(opts);
  await migrateStore(dir, { actor: `stampline ${command}` });
  return dir;
}

/** Adds `--config` and `--data-dir` to a command that works on a line's data. */
export function where(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file that names the data folder (line.dataDir)')
    .option(
      '--data-dir <dir>',
      'the line data folder (default: STAMPLINE_DATA_DIR, else from the configuration)',
    );
}
