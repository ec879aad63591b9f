import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checksum,
  corruptChecksum,
  encodeFrame,
  type Frame,
  FrameDecoder,
  MAX_LINE_BYTES,
} from '../../../src/engraver/ascii/framing.js';
import { isStamplineError } from '../../../src/errors.js';

function decodeAll(...chunks: (string | Uint8Array)[]): Frame[] {
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  for (const chunk of chunks)
    frames.push(...decoder.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk));
  frames.push(...decoder.end());
  return frames;
}

function lines(frames: Frame[]): string[][] {
  return frames.flatMap((f) => (f.kind === 'line' ? [f.fields] : []));
}

function discards(frames: Frame[]): string[] {
  return frames.flatMap((f) => (f.kind === 'discarded' ? [f.reason] : []));
}

describe('encodeFrame', () => {
  it('writes $BODY*CC\\r\\n with the XOR of the body as two upper-case hex digits', () => {
    // Worked by hand: S^T^A^T = 0x53^0x54^0x41^0x54 = 0x12
    expect(encodeFrame(['STAT']).toString('latin1')).toBe('$STAT*12\r\n');
    const line = encodeFrame(['ACK', '7']).toString('latin1');
    const body = Buffer.from('ACK,7', 'latin1');
    expect(line).toBe(`$ACK,7*${checksum(body).toString(16).toUpperCase().padStart(2, '0')}\r\n`);
    expect(line).toMatch(/^\$ACK,7\*[0-9A-F]{2}\r\n$/);
  });

  it('keeps empty fields', () => {
    expect(encodeFrame(['JOB', '1', '', '', '0']).toString('latin1')).toMatch(/^\$JOB,1,,,0\*/);
  });

  it.each([
    ['a comma', 'A,B', ','],
    ['a dollar', 'A$B', '$'],
    ['a star', 'A*B', '*'],
  ])('refuses a field with %s, naming the field and the character', (_name, field, char) => {
    let error: unknown;
    try {
      encodeFrame(['JOB', '5', field]);
    } catch (err) {
      error = err;
    }
    expect(isStamplineError(error, 'ENGRAVER_BAD_JOB')).toBe(true);
    expect((error as Error).message).toContain(`field 2`);
    expect((error as Error).message).toContain(`"${char}"`);
  });

  it('refuses bytes outside printable ASCII', () => {
    expect(() => encodeFrame(['JOB', 'é'])).toThrow(/printable ASCII/);
    expect(() => encodeFrame(['JOB', 'a\r\n'])).toThrow(/printable ASCII/);
  });

  it('refuses a line longer than the protocol allows', () => {
    expect(() => encodeFrame(['X', 'a'.repeat(MAX_LINE_BYTES)])).toThrow(/256/);
    // 1 + body + 5 = 256 is the longest line
    expect(encodeFrame(['a'.repeat(MAX_LINE_BYTES - 6)])).toHaveLength(MAX_LINE_BYTES);
  });
});

describe('FrameDecoder', () => {
  it('decodes a line split anywhere across chunks', () => {
    const wire = encodeFrame(['STAT', 'READY', '0', '0', '3']).toString('latin1');
    for (let cut = 0; cut <= wire.length; cut++) {
      expect(lines(decodeAll(wire.slice(0, cut), wire.slice(cut)))).toEqual([
        ['STAT', 'READY', '0', '0', '3'],
      ]);
    }
  });

  it('decodes several lines in one chunk', () => {
    const wire = Buffer.concat([encodeFrame(['ACK', '1']), encodeFrame(['DONE', '1', '4'])]);
    expect(lines(decodeAll(wire))).toEqual([
      ['ACK', '1'],
      ['DONE', '1', '4'],
    ]);
  });

  it('reports noise before a $ as its own discarded frame and keeps the line after it', () => {
    const frames = decodeAll(`\x00\xffxyz${encodeFrame(['ACK', '3']).toString('latin1')}`);
    expect(frames[0]).toMatchObject({ kind: 'discarded', reason: 'noise', length: 5 });
    expect(lines(frames)).toEqual([['ACK', '3']]);
  });

  it('reports a bad checksum and keeps going', () => {
    const good = encodeFrame(['ACK', '9']);
    const frames = decodeAll(corruptChecksum(encodeFrame(['ACK', '8'])), good);
    expect(discards(frames)).toEqual(['bad-checksum']);
    expect(lines(frames)).toEqual([['ACK', '9']]);
  });

  it('accepts lower-case checksum digits and a bare \\n', () => {
    const upper = encodeFrame(['NAK', '0', 'CHECKSUM']).toString('latin1');
    expect(lines(decodeAll(upper.toLowerCase().replace('$nak,0,checksum', '$NAK,0,CHECKSUM')))).toEqual([
      ['NAK', '0', 'CHECKSUM'],
    ]);
    expect(lines(decodeAll(upper.replace('\r\n', '\n')))).toEqual([['NAK', '0', 'CHECKSUM']]);
  });

  it.each([
    ['no checksum', '$ACK,1\r\n'],
    ['one checksum digit', '$ACK,1*7\r\n'],
    ['non-hex checksum', '$ACK,1*ZZ\r\n'],
    ['a control byte in the body', `$AC\x01K*${(0x41 ^ 0x43 ^ 0x01 ^ 0x4b).toString(16).toUpperCase()}\r\n`],
    ['an empty body', '$*00\r\n'],
    ['trailing bytes after the checksum', '$STAT*12x\r\n'],
  ])('discards a line with %s as malformed', (_name, wire) => {
    const frames = decodeAll(wire);
    expect(discards(frames)).toEqual(['malformed']);
    expect(lines(frames)).toEqual([]);
  });

  it('discards a line cut short by a new $ and keeps the new line', () => {
    const frames = decodeAll(`$STAT,REA${encodeFrame(['ACK', '2']).toString('latin1')}`);
    expect(frames[0]).toMatchObject({ kind: 'discarded', reason: 'malformed' });
    expect(lines(frames)).toEqual([['ACK', '2']]);
  });

  it('discards a line over 256 bytes without buffering it, and decodes the next one', () => {
    const long = `$${'A'.repeat(400)}*00\r\n`;
    const frames = decodeAll(long, encodeFrame(['ACK', '4']));
    expect(frames[0]).toMatchObject({ kind: 'discarded', reason: 'too-long', length: long.length });
    expect((frames[0] as { bytes: Buffer }).bytes.length).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(lines(frames)).toEqual([['ACK', '4']]);
  });

  it('accepts a line of exactly 256 bytes and refuses one of 257', () => {
    const exact = encodeFrame(['B'.repeat(MAX_LINE_BYTES - 6)]);
    expect(lines(decodeAll(exact))).toHaveLength(1);
    const body = 'B'.repeat(MAX_LINE_BYTES - 5);
    const cc = checksum(Buffer.from(body)).toString(16).toUpperCase().padStart(2, '0');
    expect(discards(decodeAll(`$${body}*${cc}\r\n`))).toEqual(['too-long']);
  });

  it('reports a partial line when the stream closes', () => {
    expect(discards(decodeAll('$STAT,BU'))).toEqual(['partial-at-close']);
    expect(discards(decodeAll('garbage'))).toEqual(['noise']);
  });
});

const printableField = fc
  .array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength: 20 })
  .map((codes) => String.fromCharCode(...codes).replace(/[$*,]/g, ''));

describe('properties', () => {
  it('encode then decode gives back the fields, however the bytes are chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(printableField, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        (messages, cuts) => {
          const usable = messages.filter((fields) => fields.join(',') !== '');
          const wire = Buffer.concat(usable.map((fields) => encodeFrame(fields)));
          const chunks: Buffer[] = [];
          let at = 0;
          for (let i = 0; at < wire.length; i++) {
            const size = cuts[i % cuts.length]!;
            chunks.push(wire.subarray(at, at + size));
            at += size;
          }
          const frames = decodeAll(...chunks);
          expect(discards(frames)).toEqual([]);
          expect(lines(frames)).toEqual(usable);
        },
      ),
    );
  });

  it('arbitrary noise never throws and never yields a line whose checksum is wrong', () => {
    const alphabet = fc.constantFrom(0x24, 0x2a, 0x2c, 0x0d, 0x0a, 0x30, 0x41, 0x46, 0x53, 0x00, 0xff);
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc.array(alphabet, { maxLength: 600 }).map((a) => Uint8Array.from(a)),
    );
    fc.assert(
      fc.property(fc.array(bytes, { minLength: 1, maxLength: 6 }), (chunks) => {
        const decoder = new FrameDecoder();
        const frames = [...chunks.flatMap((c) => decoder.push(c)), ...decoder.end()];
        let accounted = 0;
        for (const frame of frames) {
          if (frame.kind === 'line') {
            expect(frame.fields.join(',')).toBe(frame.body);
            const wire = encodeFrame(frame.fields);
            // The line re-encodes to itself: its checksum is the XOR of its body.
            expect(wire.toString('latin1')).toContain(`$${frame.body}*`);
            accounted += wire.length;
          } else {
            expect(frame.length).toBeGreaterThan(0);
            accounted += frame.length;
          }
        }
        // No byte vanishes unreported: each is in a line or a discard (a line ending in a bare LF
        // re-encodes one byte longer).
        const total = chunks.reduce((n, c) => n + c.length, 0);
        expect(accounted).toBeGreaterThanOrEqual(total - frames.length);
        expect(accounted).toBeLessThanOrEqual(total + frames.length);
      }),
      { numRuns: 300 },
    );
  });

  it('a valid line inside noise is found whenever a $ follows the noise', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(printableField, { minLength: 1, maxLength: 4 }),
        (noise, fields) => {
          fc.pre(fields.join(',') !== '');
          const frames = decodeAll(noise, encodeFrame(fields));
          expect(lines(frames).at(-1)).toEqual(fields);
        },
      ),
    );
  });
});
