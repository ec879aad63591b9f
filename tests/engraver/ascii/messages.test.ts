import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../../src/engraver/ascii/framing.js';
import {
  type Command,
  encodeCommand,
  encodeIncoming,
  gearFromHex,
  gearToHex,
  type Incoming,
  parseCommand,
  parseIncoming,
} from '../../../src/engraver/ascii/messages.js';
import type { EngraveJob } from '../../../src/engraver/types.js';
import { isStamplineError } from '../../../src/errors.js';

const job: EngraveJob = {
  jobId: 42,
  text: 'X7K2-9QPA',
  gear: '1011001',
  mirror: true,
  target: 'breech-face',
  recipe: { power: 750, frequency: 30, speed: 1200, passes: 3 },
};

function fieldsOf(wire: Buffer): string[] {
  const frames = new FrameDecoder().push(wire);
  expect(frames).toHaveLength(1);
  const frame = frames[0]!;
  if (frame.kind !== 'line') throw new Error(`not a line: ${frame.reason}`);
  return frame.fields;
}

describe('gear hex', () => {
  it('puts the first bit in the most significant bit of the first digit, padded with 0 bits', () => {
    expect(gearToHex('1011001')).toBe('B2'); // 1011 001(0)
    expect(gearToHex('1')).toBe('8');
    expect(gearToHex('')).toBe('');
    expect(gearToHex('0000111100001111')).toBe('0F0F');
  });

  it('reads back only digits that fit the bit count with zero padding', () => {
    expect(gearFromHex('B2', 7)).toBe('1011001');
    expect(gearFromHex('b2', 7)).toBe('1011001');
    expect(gearFromHex('B3', 7)).toBeUndefined(); // padding bit set
    expect(gearFromHex('B2', 9)).toBeUndefined(); // 9 bits need 3 digits
    expect(gearFromHex('', 0)).toBe('');
  });

  it('round-trips any gear', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('0', '1'), { maxLength: 96 }), (bits) => {
        const gear = bits.join('');
        expect(gearFromHex(gearToHex(gear), gear.length)).toBe(gear);
      }),
    );
  });
});

describe('commands', () => {
  it('writes JOB with the fields in the order of the spec', () => {
    expect(fieldsOf(encodeCommand({ kind: 'JOB', job }))).toEqual([
      'JOB',
      '42',
      'X7K2-9QPA',
      'B2',
      '7',
      '3', // mirror | breech face
      '750',
      '30',
      '1200',
      '3',
    ]);
  });

  it.each<Command>([
    { kind: 'JOB', job },
    { kind: 'JOB', job: { ...job, text: '', gear: '', mirror: false, target: 'firing-pin' } },
    { kind: 'GO', jobId: 4294967295 },
    { kind: 'STAT' },
    { kind: 'ABORT' },
    { kind: 'RESET' },
  ])('parses back what it writes: $kind', (command) => {
    expect(parseCommand(fieldsOf(encodeCommand(command)))).toEqual({ ok: true, value: command });
  });

  it.each([
    ['a comma in the text', { ...job, text: 'A,B' }, /text "A,B" contains ","/],
    ['a job id of 0', { ...job, jobId: 0 }, /jobId 0/],
    ['text over 16 characters', { ...job, text: 'A'.repeat(17) }, /0\.\.16/],
    ['a gear with a 2', { ...job, gear: '102' }, /gear/],
    ['passes 0', { ...job, recipe: { ...job.recipe, passes: 0 } }, /passes 0/],
    ['an unknown target', { ...job, target: 'slide' as never }, /target "slide"/],
  ])('refuses a job with %s, saying why', (_name, bad, message) => {
    let error: unknown;
    try {
      encodeCommand({ kind: 'JOB', job: bad as EngraveJob });
    } catch (err) {
      error = err;
    }
    expect(isStamplineError(error, 'ENGRAVER_BAD_JOB')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    [['JOB', '9', 'T', 'B2', '7', '0', '100', '20', '300'], 9, /9 fields/],
    [['JOB', '9', 'T', 'B3', '7', '0', '100', '20', '300', '1'], 9, /hex digits/],
    [['JOB', '9', 'T', '', '0', '4', '100', '20', '300', '1'], 9, /flags/],
    [['JOB', '9', 'T', '', '0', '0', '1001', '20', '300', '1'], 9, /power 1001/],
    [['JOB', 'x'], 0, /job id/],
    [['GO', '0'], 0, /job id/],
    [['STAT', 'now'], 0, /no fields/],
    [['MARK'], 0, /unknown command "MARK"/],
  ])('refuses a malformed command %j, keeping its job id for the NAK', (fields, jobId, problem) => {
    const parsed = parseCommand(fields);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.jobId).toBe(jobId);
      expect(parsed.problem).toMatch(problem);
    }
  });
});

describe('replies and events', () => {
  it.each<Incoming>([
    { kind: 'ACK', jobId: 0 },
    { kind: 'NAK', jobId: 5, reason: 'BUSY' },
    { kind: 'NAK', jobId: 0, reason: 'CHECKSUM' },
    { kind: 'STAT', status: { state: 'BUSY', activeJob: 4294967295, fault: 0, completed: 65535 } },
    { kind: 'DONE', jobId: 12, completed: 3 },
    { kind: 'FAULT', jobId: 12, fault: 5 },
  ])('round-trips $kind', (message) => {
    expect(parseIncoming(fieldsOf(encodeIncoming(message)))).toEqual({ ok: true, value: message });
  });

  it.each([
    [['NAK', '5', 'LATER'], /reason "LATER"/],
    [['STAT', 'IDLE', '0', '0', '0'], /state "IDLE"/],
    [['STAT', 'READY', '0', '0'], /4 fields/],
    [['ACK', '-1'], /job id/],
    [['DONE', '5', '70000'], /jobId,completed/],
    [['HELLO'], /unknown message/],
  ])('refuses %j, saying why', (fields, problem) => {
    const parsed = parseIncoming(fields);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });
});
