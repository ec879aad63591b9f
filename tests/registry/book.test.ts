import { describe, expect, it } from 'vitest';
import { RegistryBook } from '../../simulators/registry/book.js';
import { engravedRecord, verifiedRecord, voidedRecord } from '../../simulators/registry/sample.js';
import type { RegistryRecord } from '../../src/registry/record.js';

const ISSUER = 1234;
const LINE = 'line-1';

function send(book: RegistryBook, record: unknown, issuer = ISSUER, line = LINE) {
  return book.decide(issuer, line, JSON.stringify(record));
}

describe('simulated registry book', () => {
  it('accepts a valid record once and answers duplicate to the same id after', () => {
    const book = new RegistryBook();
    const r = engravedRecord();
    expect(send(book, r).ack).toEqual({ recordId: r.recordId, status: 'accepted' });
    expect(send(book, r).ack).toEqual({ recordId: r.recordId, status: 'duplicate' });
    expect(book.size).toBe(1);
  });

  it('rejects a record that is not valid, saying why', () => {
    const book = new RegistryBook();
    const r = { ...engravedRecord(), gear: '101' };
    const d = send(book, r);
    expect(d.ack?.status).toBe('rejected');
    expect(d.ack?.reason).toMatch(/gear/);
    expect(book.size).toBe(0);
  });

  it('rejects a code already bound to another firearm with code-conflict', () => {
    const book = new RegistryBook();
    const first = engravedRecord({ serial: 'A-1' });
    const second = engravedRecord({ serial: 'A-2', code: first.code });
    send(book, first);
    expect(send(book, second).ack).toEqual({
      recordId: second.recordId,
      status: 'rejected',
      reason: 'code-conflict',
    });
    expect(book.binding(first.code)?.firearm.serial).toBe('A-1');
  });

  it('accepts more events for the same firearm and code', () => {
    const book = new RegistryBook();
    const engraved = engravedRecord({ serial: 'A-1' });
    send(book, engraved);
    expect(send(book, verifiedRecord(engraved)).ack?.status).toBe('accepted');
    expect(book.binding(engraved.code)).toMatchObject({ state: 'active', verified: 'pass' });
  });

  it('rejects a record whose issuer or line is not the one of its topic', () => {
    const book = new RegistryBook();
    const r = engravedRecord();
    expect(send(book, r, ISSUER, 'line-2').ack?.reason).toMatch(/^topic-mismatch/);
    expect(send(book, r, 99, LINE).ack?.reason).toMatch(/^topic-mismatch/);
  });

  it('cannot answer a message without a record id', () => {
    const book = new RegistryBook();
    expect(book.decide(ISSUER, LINE, 'not json')).toEqual({ problem: 'payload is not JSON' });
    expect(book.decide(ISSUER, LINE, '{"event":"engraved"}')).toEqual({ problem: 'payload has no recordId' });
  });

  it("orders a firearm's events by occurredAt, whatever order they arrive in", () => {
    const book = new RegistryBook();
    const engraved = engravedRecord({ serial: 'A-1', occurredAt: '2025-01-01T10:00:00Z' });
    const verified = verifiedRecord(engraved, 'fail');
    const voided = voidedRecord(engraved);
    const rework = engravedRecord({ serial: 'A-1', occurredAt: '2025-01-01T10:05:00.5Z' });
    for (const r of [rework, voided, verified, engraved]) send(book, r);
    const order = (records: RegistryRecord[]) => records.map((r) => r.recordId);
    expect(order(book.recordsFor('A-1'))).toEqual(order([engraved, verified, voided, rework]));
    expect(book.binding(engraved.code)).toMatchObject({ state: 'voided', verified: 'fail' });
    expect(book.binding(rework.code)).toMatchObject({ state: 'active', verified: null });
  });

  it('compares times as instants, not as text', () => {
    const book = new RegistryBook();
    const later = engravedRecord({ serial: 'B-1', occurredAt: '2025-01-01T10:00:00.500Z' });
    const earlier = { ...voidedRecord(later), occurredAt: '2025-01-01T10:00:00Z' };
    send(book, later);
    send(book, earlier);
    expect(book.recordsFor('B-1').map((r) => r.event)).toEqual(['voided', 'engraved']);
    expect(book.binding(later.code)?.state).toBe('active');
  });
});
