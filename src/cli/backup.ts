/**
 * `stampline backup --to FILE` and `stampline restore FILE --data-dir DIR`.
 *
 * A backup of a stopped line is taken here, holding the store's lock; of a running line (the lock
 * held by its daemon), the daemon takes it (`GET /api/v1/backup`, permission `backup`) so that
 * the copy is one instant of its data, and this command writes what it sends. A restore fills an
 * empty or new folder and runs `store check` on it.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { readConfig } from '../config/load.js';
import { isStamplineError, StamplineError } from '../errors.js';
import { checkStore } from '../line/store-check.js';
import { backupToFile, restoreBackup } from '../store/backup.js';
import { DocumentStore } from '../store/documents.js';
import { printCheck } from './store.js';
import { dataDirOf, dataToRead, type WhereOptions, where } from './where.js';

interface BackupOptions extends WhereOptions {
  to: string;
  url?: string;
  token?: string;
}

/** The running daemon's address and a token for it, from the options, else the configuration. */
async function daemonOf(o: BackupOptions): Promise<{ url: string; token: string }> {
  let url = o.url;
  let token = o.token ?? process.env.STAMPLINE_OPERATOR_TOKEN;
  if (!url || !token) {
    const { config } = await readConfig(o.config === undefined ? {} : { file: o.config });
    const host = ['0.0.0.0', '::', ''].includes(config.http.host) ? '127.0.0.1' : config.http.host;
    url ??= `http://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`;
    token ??= config.auth.operatorToken;
  }
  if (!token) {
    throw new StamplineError(
      'INVALID_INPUT',
      'the line is running: its daemon takes the backup, and asking it needs a token with the backup permission (--token, or STAMPLINE_OPERATOR_TOKEN)',
    );
  }
  return { url: url.replace(/\/+$/, ''), token };
}

async function fromDaemon(o: BackupOptions, file: string): Promise<string> {
  const { url, token } = await daemonOf(o);
  let res: Response;
  try {
    res = await fetch(`${url}/api/v1/backup`, { headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    throw new StamplineError(
      'INVALID_INPUT',
      `the line's store is held by a running daemon, which cannot be reached at ${url} (${(err as Error).message}): give its address with --url`,
      { url },
    );
  }
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    throw new StamplineError(
      'INVALID_INPUT',
      `the daemon at ${url} refused the backup (${res.status}): ${body?.error?.message ?? res.statusText}`,
      { url, status: res.status },
    );
  }
  const part = `${file}.part`;
  try {
    await pipeline(Readable.fromWeb(res.body as never), createWriteStream(part));
    await rename(part, file);
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  }
  return `taken by the running line at ${url}`;
}

const isFolder = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

async function takeBackup(o: BackupOptions): Promise<void> {
  // The copy keeps the folder's data format: a backup taken before an upgrade is the way back.
  const dataDir = await dataToRead(o);
  const file = resolve(o.to);
  if (!(await isFolder(dataDir))) {
    throw new StamplineError('INVALID_INPUT', `no data folder ${dataDir}`, { dataDir });
  }
  if (!(await isFolder(dirname(file)))) {
    throw new StamplineError(
      'INVALID_INPUT',
      `no folder ${dirname(file)} to write the backup ${file} into: create it, or give --to a file in an existing folder`,
      { file },
    );
  }
  const store = new DocumentStore({ dir: join(dataDir, 'docs') });
  let how: string;
  try {
    await store.start();
  } catch (err) {
    if (!isStamplineError(err, 'STORE_LOCKED')) throw err;
    how = await fromDaemon(o, file);
    process.stdout.write(`backup of ${dataDir} written to ${file} (${how})\n`);
    return;
  }
  try {
    const m = await backupToFile(dataDir, file);
    how = `${m.files} files, ${m.bytes} bytes, the line stopped`;
  } finally {
    await store.stop();
  }
  process.stdout.write(`backup of ${dataDir} written to ${file} (${how})\n`);
}

export function registerBackupCommands(program: Command): void {
  where(
    program
      .command('backup')
      .description(
        'take a consistent copy of the line’s data into FILE (a gzipped tar), while the line runs or with it stopped',
      )
      .requiredOption('--to <file>', 'the backup file to write'),
  )
    .option('--url <url>', 'the running daemon’s address (default: from the configuration’s http)')
    .option(
      '--token <token>',
      'a token with the backup permission, for a running line (default: STAMPLINE_OPERATOR_TOKEN, else the configuration’s)',
    )
    .action(takeBackup);

  where(
    program
      .command('restore')
      .description(
        'put a backup back into an empty or new data folder, then check it as `store check` does (exits 1 if the check fails)',
      )
      .argument('<file>', 'the backup file'),
  ).action(async (file: string, o: WhereOptions) => {
    const dataDir = await dataDirOf(o);
    const m = await restoreBackup(resolve(file), dataDir);
    process.stdout.write(
      `restored the backup of ${m.createdAt}${m.lineId ? ` (line ${m.lineId})` : ''} into ${dataDir}: ${m.files} files\n`,
    );
    const report = await checkStore({ dataDir });
    process.stdout.write(printCheck(report, dataDir));
    if (!report.ok) process.exitCode = 1;
  });
}
