/**
 * Placing files without ever replacing one. The same file name dropped twice must leave two
 * files in processed/ or rejected/, never one overwriting the other; a name too long to take a
 * suffix is shortened, uniquely, rather than left to fail for ever.
 */
import { createHash, randomBytes } from 'node:crypto';
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

/** The longest file name, in bytes, that ext4, XFS, NTFS and SMB shares all take. */
export const NAME_MAX_BYTES = 255;

/** What `writeNoClobber` adds around a name for its temporary file: `.` and `.xxxxxxxx.tmp`. */
export const TEMP_NAME_BYTES = 14;

/** `s` cut to at most `bytes` bytes of UTF-8, never inside a character. */
function cutToBytes(s: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch);
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}

/**
 * `stem` + `tag` + `ext`, within `NAME_MAX_BYTES - reserve` bytes. When the whole does not fit,
 * the stem is cut and marked with `~` and 8 hex digits of the original name's SHA-256, so two
 * long names that share their beginning still get two names.
 */
function fitted(name: string, stem: string, tag: string, ext: string, reserve: number): string {
  const room = NAME_MAX_BYTES - reserve;
  const whole = `${stem}${tag}${ext}`;
  if (Buffer.byteLength(whole) <= room) return whole;
  const mark = `~${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
  // An extension too long to keep (a name of dots) is cut like the rest.
  const keptExt = Buffer.byteLength(ext) <= room / 4 ? ext : '';
  const left = room - Buffer.byteLength(`${mark}${tag}${keptExt}`);
  return `${cutToBytes(stem, Math.max(0, left))}${mark}${tag}${keptExt}`;
}

/**
 * `name`, then `stem-2.ext`, `stem-3.ext`, ...; each within `NAME_MAX_BYTES - reserve` bytes, so
 * that a name as long as the system takes still fits once suffixed, and `reserve` bytes are left
 * for what is added to it (a report's `.report.json`, a temporary file's marks).
 */
export function* candidateNames(name: string, reserve = 0): Generator<string> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  yield fitted(name, stem, '', ext, reserve);
  for (let k = 2; ; k++) yield fitted(name, stem, `-${k}`, ext, reserve);
}

/**
 * The first candidate name under which neither the file nor any of its companions exists in
 * `dir`. Room is left for the longest companion suffix and for the temporary name under which a
 * companion is written.
 */
export async function freeName(
  dir: string,
  name: string,
  companionSuffixes: readonly string[] = [],
): Promise<string> {
  const longest = Math.max(0, ...companionSuffixes.map((s) => Buffer.byteLength(s)));
  const reserve = companionSuffixes.length > 0 ? longest + TEMP_NAME_BYTES : 0;
  for (const candidate of candidateNames(name, reserve)) {
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
