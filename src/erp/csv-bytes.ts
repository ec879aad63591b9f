/** A drop-folder file's bytes as text: UTF-8 only, with where and why when it is not. */
import { isUtf8 } from 'node:buffer';
import type { CsvProblem } from './problems.js';

/** Offset of the first byte that is not valid UTF-8, or -1. Only run once a file is known to be bad. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Decodes a file's bytes as UTF-8, or says where and why it cannot. */
export function decodeCsvBytes(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; problem: CsvProblem } {
  if (
    bytes.length >= 2 &&
    ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
  ) {
    return {
      ok: false,
      problem: { row: 0, reason: 'the file is UTF-16 text; save it as "CSV UTF-8" (comma delimited)' },
    };
  }
  if (!isUtf8(bytes)) {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    return {
      ok: false,
      problem: {
        row: line,
        reason: `line ${line} holds bytes that are not valid UTF-8 (first at byte ${at}); save the file as "CSV UTF-8" (comma delimited)`,
      },
    };
  }
  return { ok: true, text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') };
}
