/**
 * Placing files without ever replacing one. The same file name dropped twice must leave two
 * files in processed/ or rejected/, never one overwriting the other.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { fsyncDir } from '../store/durable.js';

/** Codes with which a file system says it has no hard links (some network shares, FAT). */
const NO_LINKS = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EPERM', 'EXDEV', 'EMLINK']);

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Moves `src` to `dest` unless `dest` exists; answers whether it moved. A hard link fails
 * atomically when the name is taken; where links are not supported it falls back to a check then
 * a rename, which is safe because one daemon owns a drop folder.
 */
export async function moveNoClobber(src: string, dest: string): Promise<boolean> {
  try {
    await link(src, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_LINKS.has(code)) throw err;
    if (await exists(dest)) return false;
    await rename(src, dest);
    return true;
  }
  await unlink(src);
  return true;
}

/** Writes `data` durably to `dest` unless `dest` exists; answers whether it wrote. */
export async function writeNoClobber(dest: string, data: string): Promise<boolean> {
  // A dotted temporary name: nothing that lists the folder mistakes it for a finished file.
  const tmp = join(dirname(dest), `.${basename(dest)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    return await moveNoClobber(tmp, dest);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** `name`, then `stem-2.ext`, `stem-3.ext`, ... */
export function* candidateNames(name: string): Generator<string> {
  yield name;
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let k = 2; ; k++) yield `${stem}-${k}${ext}`;
}

/** The first candidate name under which neither the file nor any of its companions exists in `dir`. */
export async function freeName(
  dir: string,
  name: string,
  companionSuffixes: readonly string[] = [],
): Promise<string> {
  for (const candidate of candidateNames(name)) {
    const paths = [candidate, ...companionSuffixes.map((s) => `${candidate}${s}`)].map((n) => join(dir, n));
    let taken = false;
    for (const p of paths) {
      if (await exists(p)) {
        taken = true;
        break;
      }
    }
    if (!taken) return candidate;
  }
  throw new Error('unreachable');
}

export { fsyncDir };
