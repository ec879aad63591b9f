/**
 * The simulated registry's book: which code is bound to which firearm, and every accepted record.
 * Pure and synchronous: it decides the answer to one message and remembers what it accepted; the
 * MQTT side and the file live in registry.ts.
 */
import { type Ack, checkRecord, type RegistryRecord } from '../../src/registry/record.js';

export interface FirearmId {
  make: string;
  model: string;
  serial: string;
}

export interface Binding {
  code: string;
  issuer: number;
  firearm: FirearmId;
  /** `voided` once the newest event (by occurredAt) for this code is a void. */
  state: 'active' | 'voided';
  /** The result of the newest verification, or null before any. */
  verified: 'pass' | 'fail' | null;
  /** Ids of the accepted records for this code, ordered by occurredAt. */
  recordIds: string[];
}

/** What the registry answers to one message; `record` is set when it is to be stored. */
export type Decision =
  | { ack: Ack; record: RegistryRecord }
  | { ack: Ack; record?: undefined }
  /** A message with no usable record id cannot be answered. */
  | { ack?: undefined; problem: string };

export function firearmKey(f: FirearmId): string {
  return JSON.stringify([f.make, f.model, f.serial]);
}

export class RegistryBook {
  private readonly byId = new Map<string, RegistryRecord>();
  /** code → key of the firearm it is bound to */
  private readonly codeOwner = new Map<string, string>();
  private readonly byCode = new Map<string, RegistryRecord[]>();
  private readonly bySerial = new Map<string, RegistryRecord[]>();
  /** every code bound, in the order first bound: only ever appended to */
  private readonly codeList: string[] = [];

  get size(): number {
    return this.byId.size;
  }

  has(recordId: string): boolean {
    return this.byId.has(recordId);
  }

  /**
   * Decides the answer to a message on `microstamp/v1/{issuer}/{line}/records`: duplicate for a
   * record id already accepted, rejected for anything not valid against the contract, for a record
   * naming another issuer or line than its topic, or for a code bound to another firearm;
   * accepted otherwise (and remembered).
   */
  decide(topicIssuer: number, topicLine: string, payload: Buffer | string): Decision {
    let value: unknown;
    try {
      value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    } catch {
      return { problem: 'payload is not JSON' };
    }
    return this.decideParsed(topicIssuer, topicLine, value);
  }

  /** As `decide`, for a payload already parsed. */
  decideParsed(topicIssuer: number, topicLine: string, value: unknown): Decision {
    const recordId = (value as { recordId?: unknown } | null)?.recordId;
    if (typeof recordId !== 'string' || recordId.length === 0) {
      return { problem: 'payload has no recordId' };
    }
    if (this.byId.has(recordId)) return { ack: { recordId, status: 'duplicate' } };
    const check = checkRecord(value);
    if (!check.ok) return { ack: { recordId, status: 'rejected', reason: `invalid: ${check.reason}` } };
    const record = check.record;
    if (record.issuer !== topicIssuer || record.line !== topicLine) {
      return {
        ack: {
          recordId,
          status: 'rejected',
          reason: `topic-mismatch: record is for issuer ${record.issuer} line ${record.line}, topic for issuer ${topicIssuer} line ${topicLine}`,
        },
      };
    }
    const owner = this.codeOwner.get(record.code);
    if (owner !== undefined && owner !== firearmKey(record.firearm)) {
      return { ack: { recordId, status: 'rejected', reason: 'code-conflict' } };
    }
    this.add(record);
    return { ack: { recordId, status: 'accepted' }, record };
  }

  /** Remembers an accepted record (also used when loading the file). */
  add(record: RegistryRecord): void {
    if (this.byId.has(record.recordId)) return;
    this.byId.set(record.recordId, record);
    if (!this.byCode.has(record.code)) this.codeList.push(record.code);
    this.codeOwner.set(record.code, firearmKey(record.firearm));
    insertByTime(this.byCode, record.code, record);
    insertByTime(this.bySerial, record.firearm.serial, record);
  }

  /** Every code bound, oldest code first. */
  bindings(): Binding[] {
    const out: Binding[] = [];
    for (const [code, records] of this.byCode) out.push(toBinding(code, records));
    return out;
  }

  /** Every code bound, in the order first bound; later codes are appended. */
  codes(): readonly string[] {
    return this.codeList;
  }

  binding(code: string): Binding | undefined {
    const records = this.byCode.get(code);
    return records ? toBinding(code, records) : undefined;
  }

  /** A firearm's accepted records ordered by occurredAt (a serial of several makes gives all of them). */
  recordsFor(serial: string): RegistryRecord[] {
    return [...(this.bySerial.get(serial) ?? [])];
  }

  record(recordId: string): RegistryRecord | undefined {
    return this.byId.get(recordId);
  }
}

function insertByTime(map: Map<string, RegistryRecord[]>, key: string, record: RegistryRecord): void {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  // Records may arrive out of order; a firearm's history is kept in the order things happened.
  // ISO strings with and without fractions do not sort as text, so compare the instants.
  const t = Date.parse(record.occurredAt);
  let i = list.length;
  while (i > 0 && Date.parse(list[i - 1]!.occurredAt) > t) i--;
  list.splice(i, 0, record);
}

function toBinding(code: string, records: RegistryRecord[]): Binding {
  const first = records[0]!;
  const last = records[records.length - 1]!;
  let verified: Binding['verified'] = null;
  for (const r of records) if (r.event === 'verified') verified = r.qa.result;
  return {
    code,
    issuer: first.issuer,
    firearm: { make: first.firearm.make, model: first.firearm.model, serial: first.firearm.serial },
    state: last.event === 'voided' ? 'voided' : 'active',
    verified,
    recordIds: records.map((r) => r.recordId),
  };
}
