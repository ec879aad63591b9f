/**
 * Registry records for the line's events (spec registry-mqtt.md). Record ids are derived from
 * what the record is about, so a record queued again after a crash keeps its id and the
 * registry answers `duplicate` instead of binding twice.
 */
import { createHash } from 'node:crypto';
import type { Recipe } from '../engraver/types.js';
import type { RegistryRecord } from '../registry/record.js';
import type { CodeRef, Firearm, FirearmQa, OrderHeader } from './model.js';

export interface RecordContext {
  issuer: number;
  line: string;
  certifiedBy: { kind: 'manufacturer' | 'engraver'; licence: string };
  engraverId: string;
}

/** A UUID (version 8, name-based with SHA-256) from the parts that identify a record. */
export function deterministicUuid(...parts: Array<string | number>): string {
  const hash = createHash('sha256').update(parts.join('\u001f')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function common(
  ctx: RecordContext,
  event: RegistryRecord['event'],
  order: OrderHeader,
  firearm: Firearm,
  code: CodeRef,
  occurredAt: string,
  discriminator = '',
) {
  return {
    schema: 'microstamp.record/v1' as const,
    recordId: deterministicUuid(ctx.issuer, ctx.line, event, firearm.serial, code.index, discriminator),
    event,
    occurredAt,
    issuer: ctx.issuer,
    line: ctx.line,
    code: code.text,
    firearm: {
      make: order.make,
      model: order.model,
      serial: firearm.serial,
      ...(order.caliber ? { caliber: order.caliber } : {}),
    },
    target: order.target,
    order: { id: order.id, ...(order.destination ? { destination: order.destination } : {}) },
    certifiedBy: ctx.certifiedBy,
  };
}

export function engravedRecord(
  ctx: RecordContext,
  order: OrderHeader,
  firearm: Firearm,
  code: CodeRef,
  recipe: Recipe,
  occurredAt: string,
): RegistryRecord {
  return {
    ...common(ctx, 'engraved', order, firearm, code, occurredAt),
    gear: code.gear,
    engraver: { id: ctx.engraverId, recipe },
  } as RegistryRecord;
}

export function voidedRecord(
  ctx: RecordContext,
  order: OrderHeader,
  firearm: Firearm,
  code: CodeRef,
  reason: string,
  occurredAt: string,
): RegistryRecord {
  return { ...common(ctx, 'voided', order, firearm, code, occurredAt), reason } as RegistryRecord;
}

/**
 * The QA station's decision on a code. The result is part of the record's identity: a code has
 * one decision, and a pass and a fail of it could never be taken for resends of each other.
 */
export function verifiedRecord(
  ctx: RecordContext,
  order: OrderHeader,
  firearm: Firearm,
  code: CodeRef,
  qa: Pick<FirearmQa, 'result' | 'policy' | 'casings' | 'grade'>,
  occurredAt: string,
): RegistryRecord {
  return {
    ...common(ctx, 'verified', order, firearm, code, occurredAt, qa.result),
    qa: { result: qa.result, policy: qa.policy, casings: qa.casings, grade: qa.grade },
  } as RegistryRecord;
}
