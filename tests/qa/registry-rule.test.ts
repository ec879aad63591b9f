/**
 * ca-4075 judges a case as the registry would: does it let an investigator's query against all
 * the registry's issued codes single out this firearm? every-case and pooled keep their grade.
 */
import { describe, expect, it } from 'vitest';
import { encode, parseKey } from '../../src/codes/index.js';
import {
  compareRead,
  decodeCase,
  evaluate,
  type PolicyRead,
  type QaPolicy,
  registryCheck,
  registryOf,
} from '../../src/qa/index.js';
import { KEY, textOnly } from './support.js';

const key = parseKey(KEY);
const code = encode(7, 90_001, key);
const other = encode(7, 90_002, key);
let nextId = 1;
const read = (marks: { text?: string; gear?: string }, round?: number): PolicyRead => ({
  id: nextId++,
  ...marks,
  ...(round !== undefined ? { round } : {}),
  decode: decodeCase(marks, code.text, key),
});
/** One character misread: a case a person may well type. */
const misread = (text: string, at: number) =>
  `${text.slice(0, at)}${text[at] === 'A' ? 'B' : 'A'}${text.slice(at + 1)}`;
const ca4075: QaPolicy = { kind: 'ca-4075', rounds: 4 };

describe('the registry a case is judged against', () => {
  it('holds the firearm code and no other that the line knows of', () => {
    const registry = registryOf(code.text, 10_000_000);
    expect(registry.size).toBe(10_000_000);
    expect(registry.has(code.symbols)).toBe(true);
    expect(registry.has(other.symbols)).toBe(false);
    expect(registry.issuers).toBeUndefined();
    // every other code is issued with the chance the rest of the registry gives it
    expect(registry.unlisted).toBeCloseTo((10_000_000 - 1) / 2 ** 40, 15);
    const few = registryOf(code.text, 10_000_000, 300);
    expect(few.issuers?.size).toBe(300);
    expect(few.issuers?.has(7)).toBe(true);
  });

  it('identifies a clean text read, but not one with three characters illegible', () => {
    const registry = { issuedCodes: 10_000_000 };
    expect(registryCheck(textOnly(code), code.text, key, registry)).toMatchObject({ identifies: true });
    const blurred = registryCheck({ text: `???${code.text.slice(3)}` }, code.text, key, registry);
    expect(blurred.identifies).toBe(false);
    expect(blurred.problem).toMatch(/does not show enough of the code/);
  });

  it('asks more of a case the more codes the registry holds', () => {
    const text = misread(code.text, 3);
    expect(registryCheck({ text }, code.text, key, { issuedCodes: 1_000_000 }).identifies).toBe(true);
    expect(registryCheck({ text }, code.text, key, { issuedCodes: 1_000_000_000 }).identifies).toBe(false);
  });

  it('does not take a case of another firearm for this one', () => {
    const check = registryCheck(textOnly(other), code.text, key, { issuedCodes: 10_000_000 });
    expect(check.identifies).toBe(false);
  });
});

describe('ca-4075 against the registry', () => {
  it('passes four clean text reads, which every-case (grade C) fails at the first', () => {
    const reads = [1, 2, 3, 4].map((round) => read(textOnly(code), round));
    const ctx = { expected: code.text, key };
    const pass = evaluate(ca4075, reads, ctx);
    expect(pass).toMatchObject({ status: 'pass', casings: 4, grade: 'D' });
    expect(pass.reason).toMatch(/each identify the firearm among the 10,000,000 codes at the registry/);
    const everyCase = evaluate({ kind: 'every-case', cases: 3, minGrade: 'C' }, reads, ctx);
    expect(everyCase.status).toBe('fail');
    expect(everyCase.reason).toMatch(/case 1 of 3/);
  });

  it('takes the size of the registry from the context', () => {
    const text = misread(code.text, 5);
    const reads = [1, 2, 3, 4].map((round) => read({ text }, round));
    const small = evaluate(ca4075, reads, { expected: code.text, key, registry: { issuedCodes: 1_000_000 } });
    expect(small.status).toBe('pass');
    const huge = evaluate(ca4075, reads, {
      expected: code.text,
      key,
      registry: { issuedCodes: 1_000_000_000 },
    });
    expect(huge).toMatchObject({ status: 'fail' });
    expect(huge.reason).toMatch(/1,000,000,000 codes at the registry/);
  });

  it('fails a case of another firearm', () => {
    const v = evaluate(ca4075, [read(textOnly(other), 1)], { expected: code.text, key });
    expect(v.status).toBe('fail');
  });

  it('asks the grade too when one is configured', () => {
    const strict: QaPolicy = { kind: 'ca-4075', rounds: 4, minGrade: 'C' };
    const v = evaluate(strict, [read(textOnly(code), 1)], { expected: code.text, key });
    expect(v).toMatchObject({ status: 'fail' });
    expect(v.reason).toMatch(/grade D, below C/);
  });
});

describe('a read beside the code, for the person who confirms a failure', () => {
  it('marks each character as agreeing, differing or not read, without the code itself', () => {
    const text = `${misread(code.text, 2).slice(0, 9)}?`;
    const c = compareRead({ text }, code);
    expect(c.chars).toEqual([
      'same',
      'same',
      'differs',
      'same',
      'same',
      'same',
      'same',
      'same',
      'same',
      'illegible',
    ]);
    expect([c.charsSame, c.charsDiffering]).toEqual([8, 1]);
    expect(c.teethRead).toBeNull();
    expect(Object.values(c)).not.toContain(code.text);
  });

  it('counts the teeth that differ at the rotation the ring was read at', () => {
    const teeth = [...(code.gear.slice(30) + code.gear.slice(0, 30))];
    teeth[3] = teeth[3] === '1' ? '0' : '1';
    teeth[10] = '?';
    const c = compareRead({ gear: teeth.join('') }, code);
    expect(c).toMatchObject({ text: null, chars: null, teethRead: 87, teethDiffering: 1 });
  });
});
