/**
 * Backups of a line's data folder, taken while the line runs, and their restore.
 *
 * A backup is what a crash at one instant would have left on the disk: with every durable write
 * of the process held (`write-gate.ts`), each file of the folder is hard-linked into a staging
 * folder beside it and its size noted. That takes a moment whatever the history, and the line
 * goes on at once. A document is replaced by rename, so its link keeps the content it had; a log
 * segment or an index shard is appended in place, so its link is cut back to the size noted.
 * The staging folder is then packed as a gzipped tar with a `stampline-backup.json` that names
 * the line and the store, and removed.
 *
 * A restore unpacks into an empty or new folder only, files and folders only (no links, no path
 * outside the folder), and the caller runs `store check` on the result.
 */
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { isStamplineError, StamplineError } from '../errors.js';
import { StoreIdentity } from './identity.js';
import { holdWrites } from './write-gate.js';

/** The description at the root of every backup. */
export const BACKUP_MANIFEST = 'stampline-backup.json';
/** Staging folders of backups in progress, inside the data folder; never part of a backup. */
const STAGING_PREFIX = '.backup-';

export interface BackupManifest {
  kind: 'stampline-backup';
  createdAt: string;
  /** The store's identity (`store.json`), when it has one. */
  storeId?: string;
  /** The data format of the copy (`store.json`), when it has one; a restore keeps it. */
  format?: number;
  lineId?: string;
  files: number;
  bytes: number;
}

/** A consistent copy of the data folder, ready to pack. */
export interface Staged {
  dir: string;
  manifest: BackupManifest;
  remove(): Promise<void>;
}

/** Lock files and half-written temporary files are the process's, not the line's data. */
function skipped(name: string): boolean {
  return (
    name === '.lock' || name.endsWith('.lock') || name.endsWith('.tmp') || name.startsWith(STAGING_PREFIX)
  );
}

async function filesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      if (skipped(e.name)) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile()) found.push(path);
    }
  };
  await walk(root);
  return found;
}

/**
 * Stages a consistent copy of `dataDir` inside it. Durable writes of this process wait only while
 * the files are linked.
 */
export async function stageBackup(dataDir: string, lineId?: string): Promise<Staged> {
  const dir = join(dataDir, `${STAGING_PREFIX}${process.pid}-${Date.now()}`);
  const sizes = new Map<string, number>();
  try {
    await holdWrites(async () => {
      for (const file of await filesUnder(dataDir)) {
        const target = join(dir, relative(dataDir, file));
        await mkdir(dirname(target), { recursive: true });
        try {
          await link(file, target);
          sizes.set(target, (await stat(target)).size);
        } catch (err) {
          // A log segment dropped since the folder was listed (its record already says so).
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    });
    let bytes = 0;
    for (const [target, size] of sizes) {
      bytes += size;
      if ((await stat(target)).size === size) continue;
      // Appended to since: a copy cut back to what it held at the instant of the backup.
      const cut = `${target}.cut`;
      await copyFile(target, cut);
      await truncate(cut, size);
      await rename(cut, target);
    }
    const identity = await readFile(join(dataDir, 'store.json'), 'utf8')
      .then((t) => JSON.parse(t) as { id?: string; format?: number })
      .catch(() => undefined);
    const manifest: BackupManifest = {
      kind: 'stampline-backup',
      createdAt: new Date().toISOString(),
      ...(identity?.id ? { storeId: identity.id } : {}),
      ...(typeof identity?.format === 'number' ? { format: identity.format } : {}),
      ...(lineId ? { lineId } : {}),
      files: sizes.size,
      bytes,
    };
    await mkdir(dir, { recursive: true });
    await writeJson(join(dir, BACKUP_MANIFEST), manifest);
    return { dir, manifest, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new StamplineError(
      'STORE_UNAVAILABLE',
      `cannot take a backup of ${dataDir}: ${(err as Error).message}`,
      { dataDir },
      { cause: err },
    );
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** The staged copy as a gzipped tar stream, paths relative to the data folder. */
export function packBackup(staged: Staged): Readable {
  return tar.create({ gzip: true, cwd: staged.dir, portable: true }, ['.']) as unknown as Readable;
}

/** Takes a backup of `dataDir` into `file` (written beside it, then renamed into place). */
export async function backupToFile(dataDir: string, file: string, lineId?: string): Promise<BackupManifest> {
  const staged = await stageBackup(dataDir, lineId);
  const part = `${file}.part`;
  try {
    await pipeline(packBackup(staged), createWriteStream(part));
    await rename(part, file);
    return staged.manifest;
  } catch (err) {
    await rm(part, { force: true });
    throw err;
  } finally {
    await staged.remove();
  }
}

/**
 * Unpacks a backup into `dataDir`, which must be empty or absent. Refuses an archive that is not
 * a stampline backup, and any entry that is not a plain file or folder.
 */
export async function restoreBackup(file: string, dataDir: string): Promise<BackupManifest> {
  const present = await readdir(dataDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  if (present.length > 0) {
    throw new StamplineError(
      'INVALID_INPUT',
      `${dataDir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}): a backup is restored into an empty or new folder only`,
      { dataDir },
    );
  }
  await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new StamplineError('INVALID_INPUT', `cannot read the backup ${file}: ${err.message}`, { file });
  });
  await mkdir(dataDir, { recursive: true });
  const refused: string[] = [];
  try {
    await pipeline(
      createReadStream(file),
      tar.extract({
        cwd: dataDir,
        strict: true,
        filter: (path, entry) => {
          const type = 'type' in entry ? entry.type : undefined;
          const ok = type === 'File' || type === 'Directory';
          if (!ok || path.split(/[\\/]/).includes('..')) refused.push(path);
          return ok;
        },
      }),
    );
  } catch (err) {
    await emptyOut(dataDir);
    throw new StamplineError(
      'INVALID_INPUT',
      `${file} is not a readable stampline backup: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  let manifest: BackupManifest | undefined;
  try {
    manifest = JSON.parse(await readFile(join(dataDir, BACKUP_MANIFEST), 'utf8')) as BackupManifest;
  } catch {}
  if (manifest?.kind !== 'stampline-backup' || refused.length > 0) {
    await emptyOut(dataDir);
    throw new StamplineError(
      'INVALID_INPUT',
      refused.length > 0
        ? `${file} holds entries a stampline backup never has (${refused.slice(0, 3).join(', ')}): nothing restored`
        : `${file} is not a stampline backup (no ${BACKUP_MANIFEST} in it): nothing restored`,
      { file },
    );
  }
  await rm(join(dataDir, BACKUP_MANIFEST));
  // An older format is restored as it is and migrated by the next start; a newer one this release
  // cannot run on, so it is not left behind for a start to trip over.
  try {
    await new StoreIdentity(dataDir).read();
  } catch (err) {
    // Anything else wrong with it is the check's to report, after the restore.
    if (!isStamplineError(err, 'STORE_FORMAT_NEWER')) return manifest;
    await emptyOut(dataDir);
    throw new StamplineError(
      'STORE_FORMAT_NEWER',
      `${file}: ${err.message.replace(/; nothing in the folder was changed$/, '')}; nothing restored`,
      err.context,
    );
  }
  return manifest;
}

/** Leaves `dir` empty after a refused restore (it was empty before). */
async function emptyOut(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    await rm(join(dir, name), { recursive: true, force: true });
  }
}
