import { describe, expect, it } from 'vitest';
import { encode, parseKey } from '../../src/codes/index.js';
import { decodeCase, evaluate, type PolicyRead, type QaPolicy } from '../../src/qa/index.js';
import { KEY, readOf, textOnly } from './support.js';

const key = parseKey(KEY);
const code = encode(1, 4242, key);
const other = encode(1, 4243, key);
const ctx = { expected: code.text, key };

let nextId = 1;
function read(marks: { text?: string; gear?: string }, round?: number): PolicyRead {
  return {
    id: nextId++,
    ...marks,
    ...(round !== undefined ? { round } : {}),
    decode: decodeCase(marks, code.text, key),
  };
}
const graded = (g: 'A' | 'B' | 'C' | 'D' | 'F', round?: number) => read(readOf(code, g), round);

describe('the reads made for the tests', () => {
  it('decode on their own to the grade asked for', () => {
    for (const g of ['A', 'B', 'C', 'D'] as const) {
      const d = graded(g).decode;
      expect([d.grade, d.confident, d.matches]).toEqual([g, true, true]);
    }
    expect(graded('F').decode).toMatchObject({ ok: false, grade: 'F', matches: false });
    expect(read(textOnly(code)).decode).toMatchObject({ ok: true, confident: false, matches: false });
  });
});

describe('every-case', () => {
  const policy: QaPolicy = { kind: 'every-case', cases: 3, minGrade: 'C' };

  it('is pending until each of N cases is read, and passes when every one reaches the grade', () => {
    const reads = [graded('A'), graded('C')];
    const pending = evaluate(policy, reads, ctx);
    expect(pending).toMatchObject({ status: 'pending', casings: 2, needed: 3, grade: 'C' });
    expect(pending.reason).toMatch(/1 more to read/);
    const pass = evaluate(policy, [...reads, graded('B')], ctx);
    expect(pass).toMatchObject({ status: 'pass', policy: 'every-case', casings: 3, needed: 3, grade: 'C' });
  });

  it('fails at the first case below the minimum grade, without waiting for the others', () => {
    const fail = evaluate(policy, [graded('A'), graded('D')], ctx);
    expect(fail).toMatchObject({ status: 'fail', casings: 2, grade: 'D' });
    expect(fail.reason).toMatch(/case 2 of 3 .* grade D, below C/);
  });

  it('takes the minimum grade from the policy', () => {
    const reads = [graded('B'), graded('B'), graded('B')];
    expect(evaluate({ ...policy, minGrade: 'B' }, reads, ctx).status).toBe('pass');
    expect(evaluate({ ...policy, minGrade: 'A' }, reads, ctx).status).toBe('fail');
  });

  it('fails a case that does not decode, one that does not single the code out, and one of another firearm', () => {
    expect(evaluate(policy, [graded('F')], ctx)).toMatchObject({ status: 'fail', grade: 'F' });
    expect(evaluate(policy, [read(textOnly(code))], ctx).reason).toMatch(/without identifying it/);
    const foreign = read({ text: other.text, gear: other.gear });
    expect(foreign.decode).toMatchObject({ confident: true, matches: false, text: other.text });
    expect(evaluate(policy, [foreign], ctx).reason).toMatch(new RegExp(`another code, ${other.text}`));
  });

  it('is pending with grade F before any read', () => {
    expect(evaluate(policy, [], ctx)).toMatchObject({ status: 'pending', casings: 0, grade: 'F' });
  });
});

describe('ca-4075', () => {
  const policy: QaPolicy = { kind: 'ca-4075', rounds: 100 };

  it('examines the first two and the last two rounds and names the rounds still to read', () => {
    const v = evaluate(policy, [graded('D', 1), graded('A', 100)], ctx);
    expect(v).toMatchObject({ status: 'pending', needed: 4, casings: 2, missingRounds: [2, 99] });
    expect(v.reason).toMatch(/rounds 2, 99 of 100 still to be read/);
    const pass = evaluate(policy, [graded('D', 1), graded('A', 100), graded('B', 99), graded('C', 2)], ctx);
    expect(pass).toMatchObject({ status: 'pass', casings: 4, grade: 'D', missingRounds: [] });
  });

  it('without a minimum grade passes a case the registry could identify the firearm from; with one, that grade too', () => {
    // a clean text read alone singles the code out among 10,000,000 issued codes (the old trap)
    expect(evaluate(policy, [read(textOnly(code), 1)], ctx).status).toBe('pending');
    const blurred = evaluate(policy, [read({ text: `${code.text.slice(0, 7)}???` }, 1)], ctx);
    expect(blurred.status).toBe('fail');
    expect(blurred.reason).toMatch(
      /round 1 of 100 .* does not show enough of the code .* 10,000,000 codes at the registry/,
    );
    expect(evaluate(policy, [graded('D', 1)], ctx).status).toBe('pending');
    const strict: QaPolicy = { kind: 'ca-4075', rounds: 100, minGrade: 'B' };
    expect(evaluate(strict, [graded('B', 1)], ctx).status).toBe('pending');
    const fail = evaluate(strict, [graded('B', 1), graded('C', 99)], ctx);
    expect(fail).toMatchObject({ status: 'fail', grade: 'C' });
    expect(fail.reason).toMatch(/round 99 of 100 .* grade C, below B/);
  });

  it('looks only at the first read of an examined round (others come only from an earlier policy)', () => {
    const v = evaluate(policy, [graded('A', 1), graded('F', 1), graded('F', 50), graded('A')], ctx);
    expect(v).toMatchObject({ status: 'pending', casings: 1, missingRounds: [2, 99, 100] });
  });

  it('examines rounds 1 to 4 of a four-round test fire', () => {
    const four: QaPolicy = { kind: 'ca-4075', rounds: 4 };
    expect(evaluate(four, [], ctx).missingRounds).toEqual([1, 2, 3, 4]);
  });
});

describe('pooled', () => {
  const policy: QaPolicy = { kind: 'pooled', cases: 3, minGrade: 'C' };

  it('waits for all N cases, then decodes them together', () => {
    // Text-only reads identify nothing on their own; with a third case that has a gear read the
    // pool identifies the firearm.
    const weak = [read(textOnly(code)), read(textOnly(code))];
    expect(evaluate(policy, weak, ctx)).toMatchObject({ status: 'pending', casings: 2, needed: 3 });
    const pass = evaluate(policy, [...weak, graded('C')], ctx);
    expect(pass).toMatchObject({ status: 'pass', casings: 3 });
    expect(['A', 'B', 'C']).toContain(pass.grade);
  });

  it('fails once the cases are all read and together stay below the grade, and passes with a lower minimum', () => {
    // Three clean text reads together identify the code, but only with grade D.
    const v = evaluate(policy, [read(textOnly(code)), read(textOnly(code)), read(textOnly(code))], ctx);
    expect(v).toMatchObject({ status: 'fail', casings: 3, grade: 'D' });
    expect(v.reason).toMatch(/the 3 cases decoded together have grade D, below C/);
    expect(
      evaluate(
        { ...policy, minGrade: 'D' },
        [read(textOnly(code)), read(textOnly(code)), read(textOnly(code))],
        ctx,
      ).status,
    ).toBe('pass');
  });

  it('fails when nothing could be read on any case', () => {
    const v = evaluate(policy, [graded('F'), graded('F'), graded('F')], ctx);
    expect(v).toMatchObject({ status: 'fail', grade: 'F' });
    expect(v.reason).toMatch(/do not decode/);
  });
});
