/**
 * Framing of the sl1-ascii serial protocol (spec engraver-serial.md): `$` BODY `*` CC `\r\n`,
 * CC being the XOR of the BODY bytes as two upper-case hex digits.
 *
 * This layer is pure: bytes in, typed frames out, no timers and no I/O, so it can be fed from a
 * serial port, a test or a fuzzer alike. Every byte that does not end up in a good line comes
 * out as a `discarded` frame with its reason, so the link can log exactly what the wire carried.
 */
import { StamplineError } from '../../errors.js';

/** Longest line accepted, counted from `$` to the final `\n` inclusive. */
export const MAX_LINE_BYTES = 256;

const DOLLAR = 0x24;
const STAR = 0x2a;
const CR = 0x0d;
const LF = 0x0a;

export type DiscardReason =
  /** Bytes outside any line, before a `$`. */
  | 'noise'
  /** A line over MAX_LINE_BYTES; skipped up to its end. */
  | 'too-long'
  /** A well-formed line whose checksum does not match its body. */
  | 'bad-checksum'
  /** A line that is not `$BODY*CC`: no or bad checksum digits, bytes outside printable ASCII, empty body, cut short by a new `$`. */
  | 'malformed'
  /** The unfinished line or noise left when the stream closed. */
  | 'partial-at-close';

export type Frame =
  | {
      kind: 'line';
      /** BODY split on commas; empty fields are kept (an empty text is a valid field). */
      fields: string[];
      body: string;
    }
  | {
      kind: 'discarded';
      reason: DiscardReason;
      /** The discarded bytes, at most MAX_LINE_BYTES of them (the start, for a long run). */
      bytes: Buffer;
      /** How many bytes were discarded in all. */
      length: number;
      detail: string;
    };

export type DiscardedFrame = Extract<Frame, { kind: 'discarded' }>;

/** XOR of the bytes, as NMEA 0183 computes it. */
export function checksum(body: Uint8Array): number {
  let cc = 0;
  for (const byte of body) cc ^= byte;
  return cc;
}

function hex2(value: number): string {
  return value.toString(16).toUpperCase().padStart(2, '0');
}

const FIELD_OK = /^[\x20-\x7e]*$/;
const FIELD_FORBIDDEN = /[$*,]/;

/** Why a field cannot go on the wire, or undefined when it can. */
export function fieldProblem(field: string): string | undefined {
  if (typeof field !== 'string') return 'is not a string';
  if (!FIELD_OK.test(field)) return 'has characters outside printable ASCII';
  const forbidden = FIELD_FORBIDDEN.exec(field);
  if (forbidden)
    return `contains "${forbidden[0]}", which the serial protocol reserves ($ * and , cannot appear inside a field)`;
  return undefined;
}

/**
 * `$` fields joined by commas `*` CC `\r\n`. Throws ENGRAVER_BAD_JOB naming the field when one
 * cannot be carried; the only fields that come from outside are a job's, hence the code.
 */
export function encodeFrame(fields: readonly string[]): Buffer {
  if (fields.length === 0) {
    throw new StamplineError('ENGRAVER_BAD_JOB', 'a serial line needs at least one field', { fields });
  }
  fields.forEach((field, index) => {
    const problem = fieldProblem(field);
    if (problem !== undefined) {
      throw new StamplineError(
        'ENGRAVER_BAD_JOB',
        `field ${index} of ${String(fields[0])} (${JSON.stringify(field)}) ${problem}`,
        { index, field, command: fields[0] },
      );
    }
  });
  const body = Buffer.from(fields.join(','), 'latin1');
  const line = Buffer.concat([
    Buffer.from('$', 'latin1'),
    body,
    Buffer.from(`*${hex2(checksum(body))}\r\n`, 'latin1'),
  ]);
  if (line.length > MAX_LINE_BYTES) {
    throw new StamplineError(
      'ENGRAVER_BAD_JOB',
      `the ${String(fields[0])} line would be ${line.length} bytes; the serial protocol allows ${MAX_LINE_BYTES}`,
      { command: fields[0], length: line.length },
    );
  }
  return line;
}

/**
 * The same line with its checksum made wrong, for simulating a corrupted reply. Only the CC
 * digits change, so the line still has the right shape.
 */
export function corruptChecksum(line: Buffer): Buffer {
  const text = line.toString('latin1');
  const star = text.lastIndexOf('*');
  const cc = Number.parseInt(text.slice(star + 1, star + 3), 16);
  return Buffer.from(`${text.slice(0, star + 1)}${hex2(cc ^ 0x5a)}${text.slice(star + 3)}`, 'latin1');
}

function isHexDigit(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

/**
 * Turns a byte stream into frames. Feed it with `push(chunk)` as bytes arrive and call `end()`
 * when the stream closes. The frames it yields do not depend on how the bytes were split into
 * chunks.
 *
 * Decisions where the spec leaves room: a `$` always starts a new line (a field cannot hold
 * one), so a line cut short by a new `$` is discarded as malformed and the new line is kept; the
 * line ends at `\n`, and the `\r` before it is expected but not required; the checksum digits
 * are accepted in either case on input and always written in upper case.
 */
export class FrameDecoder {
  /** Bytes of the current line, from its `$`; or noise bytes while outside a line. */
  private buffer = Buffer.alloc(MAX_LINE_BYTES);
  private used = 0;
  private mode: 'outside' | 'line' | 'skipping' = 'outside';
  /** Bytes of an over-long line counted while skipping it. */
  private skipped = 0;

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    for (const byte of chunk) this.take(byte, frames);
    return frames;
  }

  /** The stream closed: whatever is buffered is discarded. */
  end(): Frame[] {
    const frames: Frame[] = [];
    if (this.mode === 'outside' && this.used > 0) {
      frames.push(this.discard('noise', 'bytes outside a line'));
    } else if (this.mode === 'line') {
      frames.push(this.discard('partial-at-close', 'the stream closed inside a line'));
    } else if (this.mode === 'skipping') {
      frames.push(this.discardSkipped(false, 'the stream closed inside it'));
    }
    this.mode = 'outside';
    this.used = 0;
    return frames;
  }

  private take(byte: number, frames: Frame[]): void {
    if (byte === DOLLAR) {
      if (this.mode === 'outside' && this.used > 0)
        frames.push(this.discard('noise', 'bytes outside a line'));
      else if (this.mode === 'line')
        frames.push(this.discard('malformed', 'a new line began before this one ended'));
      else if (this.mode === 'skipping')
        frames.push(this.discardSkipped(false, 'a new line began inside it'));
      this.mode = 'line';
      this.append(byte);
      return;
    }
    if (this.mode === 'skipping') {
      this.skipped++;
      if (byte === LF) frames.push(this.discardSkipped(true, 'skipped to its end'));
      return;
    }
    if (this.mode === 'outside') {
      this.append(byte);
      if (this.used === MAX_LINE_BYTES) frames.push(this.discard('noise', 'bytes outside a line'));
      return;
    }
    // Inside a line.
    if (this.used === MAX_LINE_BYTES) {
      // The byte that would make the line too long: skip to its end, keeping what we saw for the log.
      this.mode = 'skipping';
      this.skipped = this.used + 1;
      if (byte === LF) frames.push(this.discardSkipped(true, 'skipped to its end'));
      return;
    }
    this.append(byte);
    if (byte === LF) {
      frames.push(this.finishLine());
    }
  }

  private append(byte: number): void {
    this.buffer[this.used++] = byte;
  }

  private finishLine(): Frame {
    const line = this.buffer.subarray(0, this.used);
    let end = line.length - 1; // at the LF
    if (end > 0 && line[end - 1] === CR) end--;
    // `$` BODY `*` H H, then the terminator from `end`
    const star = end - 3;
    if (end < 4 || line[star] !== STAR || !isHexDigit(line[end - 2]!) || !isHexDigit(line[end - 1]!)) {
      return this.discard('malformed', 'the line does not end in *CC');
    }
    const body = line.subarray(1, star);
    for (const byte of body) {
      if (byte < 0x20 || byte > 0x7e)
        return this.discard('malformed', 'the body has bytes outside printable ASCII');
      if (byte === STAR) return this.discard('malformed', 'the body holds a "*"');
    }
    const expected = checksum(body);
    const given = Number.parseInt(line.subarray(end - 2, end).toString('latin1'), 16);
    if (expected !== given) {
      return this.discard('bad-checksum', `checksum ${hex2(given)}, body gives ${hex2(expected)}`);
    }
    if (body.length === 0) return this.discard('malformed', 'the body is empty');
    const text = body.toString('latin1');
    this.mode = 'outside';
    this.used = 0;
    return { kind: 'line', fields: text.split(','), body: text };
  }

  private discard(reason: DiscardReason, detail: string): DiscardedFrame {
    const bytes = Buffer.from(this.buffer.subarray(0, this.used));
    this.mode = 'outside';
    this.used = 0;
    return { kind: 'discarded', reason, bytes, length: bytes.length, detail };
  }

  private discardSkipped(ended: boolean, detail: string): DiscardedFrame {
    const bytes = Buffer.from(this.buffer.subarray(0, this.used));
    const length = this.skipped;
    this.mode = 'outside';
    this.used = 0;
    this.skipped = 0;
    return {
      kind: 'discarded',
      reason: 'too-long',
      bytes,
      length,
      detail: `a line of ${length}${ended ? '' : ' or more'} bytes (limit ${MAX_LINE_BYTES}); ${detail}`,
    };
  }
}

/** A printable excerpt of discarded bytes for a log line. */
export function describeBytes(bytes: Uint8Array, max = 64): string {
  let out = '';
  for (const byte of bytes.subarray(0, max)) {
    if (byte === CR) out += '\\r';
    else if (byte === LF) out += '\\n';
    else if (byte >= 0x20 && byte <= 0x7e && byte !== 0x5c) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > max ? `${out}…` : out;
}
