/**
 * Framing of text-command links: bytes in, typed frames out, no timers and no I/O. A line ends at
 * the profile's terminator; every byte that does not end up in a good line comes out as a
 * `discarded` frame with its reason, so the link can log exactly what the wire carried.
 *
 * Decisions where markers differ: with a CR LF terminator a bare LF also ends a line (the CR
 * before it is dropped when present); with a CR terminator an LF right after it is the remains
 * of a CR LF and dropped silently; with an LF terminator a CR before it is dropped. Lines are
 * ASCII: a byte outside 0x20..0x7e (tabs included) makes the whole line discarded.
 */

export const MAX_LINE_BYTES = 512;

const CR = 0x0d;
const LF = 0x0a;

export type Terminator = '\r' | '\n' | '\r\n';

export type DiscardReason = 'too-long' | 'not-ascii' | 'partial-at-close';

export type Frame =
  | { kind: 'line'; text: string }
  | { kind: 'discarded'; reason: DiscardReason; bytes: Buffer; length: number; detail: string };

export class LineDecoder {
  private buffer = Buffer.alloc(MAX_LINE_BYTES);
  private used = 0;
  /** Bytes of an over-long line past the buffer. */
  private overflow = 0;
  private afterCr = false;
  private readonly endByte: number;

  constructor(private readonly terminator: Terminator) {
    this.endByte = terminator === '\r' ? CR : LF;
  }

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    for (const byte of chunk) {
      const afterCr = this.afterCr;
      this.afterCr = byte === CR;
      if (this.terminator === '\r' && byte === LF && afterCr) continue;
      if (byte === this.endByte) {
        const frame = this.finish();
        if (frame) frames.push(frame);
        continue;
      }
      if (this.used < MAX_LINE_BYTES) this.buffer[this.used++] = byte;
      else this.overflow++;
    }
    return frames;
  }

  /** The stream closed: an unfinished line is discarded. */
  end(): Frame[] {
    if (this.used === 0) return [];
    const frame = this.discard('partial-at-close', 'the stream closed inside a line');
    return [frame];
  }

  private finish(): Frame | undefined {
    let end = this.used;
    if (this.terminator !== '\r' && end > 0 && this.buffer[end - 1] === CR && this.overflow === 0) end--;
    if (this.overflow > 0) {
      return this.discard(
        'too-long',
        `a line of ${this.used + this.overflow} bytes (limit ${MAX_LINE_BYTES})`,
      );
    }
    const body = this.buffer.subarray(0, end);
    if (body.length === 0) {
      // An empty line carries nothing: markers send them between replies, and they are no fault.
      this.used = 0;
      return undefined;
    }
    for (const byte of body) {
      if (byte < 0x20 || byte > 0x7e)
        return this.discard('not-ascii', 'the line has bytes outside printable ASCII');
    }
    const text = body.toString('latin1');
    this.used = 0;
    return { kind: 'line', text };
  }

  private discard(reason: DiscardReason, detail: string): Frame {
    const bytes = Buffer.from(this.buffer.subarray(0, this.used));
    const length = this.used + this.overflow;
    this.used = 0;
    this.overflow = 0;
    return { kind: 'discarded', reason, bytes, length, detail };
  }
}

export function terminatorBytes(terminator: Terminator): Buffer {
  return Buffer.from(terminator, 'latin1');
}

export { describeBytes } from '../ascii/framing.js';
