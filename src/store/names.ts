/**
 * Document names and the files they live in. A name is a `/`-separated path of safe segments
 * (`orders/ORD-1/firearms-0003`); anything from outside (an order id may hold any printable
 * character) goes through `safeName` first, which maps it reversibly onto safe characters.
 */
import { StamplineError } from '../errors.js';

/** Longest segment, in bytes: leaves room for `.json` and a temp-file suffix under the usual 255. */
export const MAX_SEGMENT_LENGTH = 200;
const MAX_NAME_LENGTH = 1024;

// A segment may not begin with '.', so '.', '..', hidden and temporary files are never names.
const SEGMENT = /^[A-Za-z0-9_%-][A-Za-z0-9._%-]*$/;
const KEPT = /[A-Za-z0-9_-]/;
const SAFE = /^(?:[A-Za-z0-9_.-]|%[0-9A-F]{2})+$/;

/** Throws INVALID_INPUT unless `name` is a valid document name (or folder prefix when `folder`). */
export function checkName(name: string, folder = false): string[] {
  if (typeof name !== 'string') {
    throw new StamplineError('INVALID_INPUT', 'a document name must be a string', { name });
  }
  const trimmed = folder ? name.replace(/\/+$/, '') : name;
  if (folder && trimmed === '') return [];
  const problem = (why: string) =>
    new StamplineError('INVALID_INPUT', `document name ${JSON.stringify(name)} ${why}`, { name });
  if (trimmed.length > MAX_NAME_LENGTH) throw problem(`is longer than ${MAX_NAME_LENGTH} characters`);
  const parts = trimmed.split('/');
  for (const part of parts) {
    if (part === '') throw problem('has an empty segment');
    if (part.length > MAX_SEGMENT_LENGTH) throw problem(`has a segment longer than ${MAX_SEGMENT_LENGTH}`);
    if (!SEGMENT.test(part)) {
      throw problem(
        'may hold only A-Z a-z 0-9 _ - % and . (not first) in each segment; use safeName() for outside ids',
      );
    }
  }
  return parts;
}

/**
 * Maps any string onto a name segment, reversibly: letters, digits, `_` and `-` stay, `.` stays
 * unless it comes first, and every other character becomes `%XX` for each byte of its UTF-8
 * form. `fromSafeName` undoes it. Letter case is kept, so the data folder must be on a
 * case-sensitive file system (as Linux file systems are).
 */
export function safeName(s: string): string {
  if (typeof s !== 'string' || s.length === 0) {
    throw new StamplineError('INVALID_INPUT', 'cannot name a document after an empty string', { value: s });
  }
  if (Buffer.from(s, 'utf8').toString('utf8') !== s) {
    throw new StamplineError('INVALID_INPUT', 'the string holds an unpaired surrogate', { value: s });
  }
  let out = '';
  for (const ch of s) {
    if (KEPT.test(ch) || (ch === '.' && out !== '')) out += ch;
    else
      for (const byte of Buffer.from(ch, 'utf8'))
        out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.length > MAX_SEGMENT_LENGTH) {
    throw new StamplineError(
      'INVALID_INPUT',
      `${JSON.stringify(s.slice(0, 40))}… is too long to name a document (${out.length} > ${MAX_SEGMENT_LENGTH} once encoded)`,
      { length: out.length },
    );
  }
  return out;
}

/** The string `safeName` was given. Throws INVALID_INPUT for a segment safeName cannot produce. */
export function fromSafeName(segment: string): string {
  let decoded: string | undefined;
  if (typeof segment === 'string' && SAFE.test(segment)) {
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      decoded = undefined;
    }
  }
  if (decoded === undefined || safeName(decoded) !== segment) {
    throw new StamplineError('INVALID_INPUT', `${JSON.stringify(segment)} is not a safeName() encoding`, {
      segment,
    });
  }
  return decoded;
}
