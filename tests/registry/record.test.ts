import { describe, expect, it } from 'vitest';
import { engravedRecord, verifiedRecord, voidedRecord } from '../../simulators/registry/sample.js';
import { isStamplineError } from '../../src/errors.js';
import {
  ackSchema,
  checkRecord,
  parseTopic,
  type RegistryRecord,
  topics,
} from '../../src/registry/record.js';

function without(record: RegistryRecord, path: string[]): unknown {
  const copy = structuredClone(record) as Record<string, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  delete target[path[path.length - 1]!];
  return copy;
}

function reasonOf(value: unknown): string {
  const check = checkRecord(value);
  if (check.ok) throw new Error('expected the record to be rejected');
  return check.reason;
}

describe('record v1 schema', () => {
  const engraved = engravedRecord();
  const verified = verifiedRecord(engraved);
  const voided = voidedRecord(engraved);

  it('accepts a record of each event as the contract describes it', () => {
    for (const record of [engraved, verified, voided])
      expect(checkRecord(record)).toEqual({ ok: true, record });
  });

  it.each([
    ['schema'],
    ['recordId'],
    ['event'],
    ['occurredAt'],
    ['issuer'],
    ['line'],
    ['code'],
    ['firearm'],
    ['target'],
    ['order'],
    ['certifiedBy'],
  ])('requires %s on every event', (field) => {
    for (const record of [engraved, verified, voided]) {
      expect(reasonOf(without(record, [field]))).toMatch(
        field === 'event' ? /event/ : new RegExp(`^${field}`),
      );
    }
  });

  it('requires the fields of each event and names the one missing', () => {
    expect(reasonOf(without(engraved, ['gear']))).toMatch(/^gear/);
    expect(reasonOf(without(engraved, ['engraver', 'recipe', 'passes']))).toMatch(
      /^engraver\.recipe\.passes/,
    );
    expect(reasonOf(without(verified, ['qa', 'grade']))).toMatch(/^qa\.grade/);
    expect(reasonOf(without(voided, ['reason']))).toMatch(/^reason/);
    expect(reasonOf(without(engraved, ['firearm', 'serial']))).toMatch(/^firearm\.serial/);
    expect(reasonOf(without(engraved, ['certifiedBy', 'licence']))).toMatch(/^certifiedBy\.licence/);
  });

  it('keeps optional fields optional', () => {
    expect(checkRecord(without(engraved, ['firearm', 'caliber'])).ok).toBe(true);
    expect(checkRecord({ ...engraved, order: { id: 'O-1', destination: '9-87-654-32-1A-00001' } }).ok).toBe(
      true,
    );
  });

  it('refuses fields that belong to another event or to no event', () => {
    expect(reasonOf({ ...voided, gear: (engraved as { gear: string }).gear })).toMatch(/gear/);
    expect(reasonOf({ ...engraved, extra: 1 })).toMatch(/extra/);
  });

  it('takes a code of 10 characters of the Crockford alphabet only', () => {
    for (const code of ['ABCDEFGHJK', '0123456789', 'MNPQRSTVWX'])
      expect(checkRecord({ ...engraved, code }).ok).toBe(true);
    for (const code of [
      'ABCDEFGHJ',
      'ABCDEFGHJKM',
      'ABCDE-FGHJ',
      'ABCDEFGHJI',
      'ABCDEFGHJL',
      'OBCDEFGHJK',
      'UBCDEFGHJK',
      'abcdefghjk',
    ]) {
      expect(reasonOf({ ...engraved, code })).toMatch(/^code/);
    }
  });

  it('takes a gear of exactly 88 zeros and ones', () => {
    expect(reasonOf({ ...engraved, gear: '1'.repeat(87) })).toMatch(/^gear/);
    expect(reasonOf({ ...engraved, gear: `${'1'.repeat(87)}2` })).toMatch(/^gear/);
    expect(checkRecord({ ...engraved, gear: '0'.repeat(88) }).ok).toBe(true);
  });

  it('takes occurredAt only as an ISO 8601 UTC time', () => {
    expect(checkRecord({ ...engraved, occurredAt: '2025-03-01T10:00:00Z' }).ok).toBe(true);
    expect(checkRecord({ ...engraved, occurredAt: '2025-03-01T10:00:00.123Z' }).ok).toBe(true);
    for (const occurredAt of [
      '2025-03-01T10:00:00+01:00',
      '2025-03-01 10:00:00',
      '2025-02-30T10:00:00Z',
      'yesterday',
    ]) {
      expect(reasonOf({ ...engraved, occurredAt })).toMatch(/^occurredAt/);
    }
  });

  it('takes a UUID record id and an issuer of 12 bits', () => {
    expect(reasonOf({ ...engraved, recordId: 'record-1' })).toMatch(/^recordId/);
    expect(reasonOf({ ...engraved, issuer: 4096 })).toMatch(/^issuer/);
    expect(reasonOf({ ...engraved, issuer: 1.5 })).toMatch(/^issuer/);
  });

  it('reads acks tolerantly but only with a known status', () => {
    expect(ackSchema.safeParse({ recordId: 'x', status: 'accepted', extra: true }).success).toBe(true);
    expect(ackSchema.safeParse({ recordId: 'x', status: 'rejected', reason: 'code-conflict' }).success).toBe(
      true,
    );
    expect(ackSchema.safeParse({ recordId: 'x', status: 'ok' }).success).toBe(false);
    expect(ackSchema.safeParse({ status: 'accepted' }).success).toBe(false);
  });
});

describe('topics', () => {
  it('are the three topics of the contract', () => {
    expect(topics(42, 'line-A')).toEqual({
      status: 'microstamp/v1/42/line-A/status',
      records: 'microstamp/v1/42/line-A/records',
      acks: 'microstamp/v1/42/line-A/acks',
    });
  });

  it('refuse a line id or issuer that cannot form a topic', () => {
    for (const line of ['a/b', 'a+', '#', '', 'has space']) {
      expect(() => topics(1, line)).toThrow(expect.objectContaining({ code: 'REGISTRY_BAD_CONFIG' }));
    }
    let thrown: unknown;
    try {
      topics(5000, 'x');
    } catch (err) {
      thrown = err;
    }
    expect(isStamplineError(thrown, 'REGISTRY_BAD_CONFIG')).toBe(true);
  });

  it('parse back into issuer, line and kind', () => {
    expect(parseTopic('microstamp/v1/42/line-A/records')).toEqual({
      issuer: 42,
      line: 'line-A',
      kind: 'records',
    });
    expect(parseTopic('microstamp/v1/4096/line-A/records')).toBeUndefined();
    expect(parseTopic('microstamp/v1/042/line-A/records')).toBeUndefined();
    expect(parseTopic('microstamp/v2/42/line-A/records')).toBeUndefined();
    expect(parseTopic('microstamp/v1/42/line-A/other')).toBeUndefined();
  });
});
