/**
 * Sample records for tests, benchmarks and hand testing. The codes are random characters of the
 * right alphabet, not real codewords: the registry checks a code's form and its binding, not its
 * Reed-Solomon check symbols (it does not hold the issuer's key).
 */
import { randomInt, randomUUID } from 'node:crypto';
import { CROCKFORD, type RegistryRecord } from '../../src/registry/record.js';

export function randomCode(): string {
  let code = '';
  for (let i = 0; i < 10; i++) code += CROCKFORD[randomInt(32)];
  return code;
}

export function randomGear(): string {
  let gear = '11100100';
  while (gear.length < 88) gear += randomInt(2) === 1 ? '1' : '0';
  return gear;
}

export interface SampleOptions {
  issuer?: number;
  line?: string;
  serial?: string;
  code?: string;
  occurredAt?: string;
  make?: string;
  model?: string;
}

export function engravedRecord(opts: SampleOptions = {}): RegistryRecord {
  return {
    schema: 'microstamp.record/v1',
    recordId: randomUUID(),
    event: 'engraved',
    occurredAt: opts.occurredAt ?? new Date().toISOString(),
    issuer: opts.issuer ?? 1234,
    line: opts.line ?? 'line-1',
    code: opts.code ?? randomCode(),
    gear: randomGear(),
    firearm: {
      make: opts.make ?? 'Acme Arms',
      model: opts.model ?? 'P-9',
      serial: opts.serial ?? `SN-${randomInt(1e9)}`,
      caliber: '9x19mm',
    },
    target: 'firing-pin',
    engraver: { id: 'engraver-1', recipe: { power: 800, frequency: 30, speed: 400, passes: 2 } },
    order: { id: 'ORDER-1' },
    certifiedBy: { kind: 'manufacturer', licence: 'FFL-1-23-456-07-8A-90123' },
  };
}

export function verifiedRecord(engraved: RegistryRecord, result: 'pass' | 'fail' = 'pass'): RegistryRecord {
  return {
    schema: 'microstamp.record/v1',
    recordId: randomUUID(),
    event: 'verified',
    occurredAt: new Date(Date.parse(engraved.occurredAt) + 60_000).toISOString(),
    issuer: engraved.issuer,
    line: engraved.line,
    code: engraved.code,
    firearm: engraved.firearm,
    target: engraved.target,
    qa: { result, policy: 'every-case', casings: 3, grade: result === 'pass' ? 'B' : 'F' },
    order: engraved.order,
    certifiedBy: engraved.certifiedBy,
  };
}

export function voidedRecord(engraved: RegistryRecord, reason = 'QA failed: pin scrapped'): RegistryRecord {
  return {
    schema: 'microstamp.record/v1',
    recordId: randomUUID(),
    event: 'voided',
    occurredAt: new Date(Date.parse(engraved.occurredAt) + 120_000).toISOString(),
    issuer: engraved.issuer,
    line: engraved.line,
    code: engraved.code,
    firearm: engraved.firearm,
    target: engraved.target,
    reason,
    order: engraved.order,
    certifiedBy: engraved.certifiedBy,
  };
}
