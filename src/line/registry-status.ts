/**
 * A firearm's records as the registry stands with them: those the outbox still holds (queued,
 * or rejected and waiting for an operator), and those that have left it, as the firearm keeps
 * them (accepted, or dismissed). Only an accepted firearm is `reported`.
 */
import type { Firearm, FirearmRegistry, RecordAtRegistry, RecordSettlement } from './model.js';

/** A record the outbox holds, as the line needs it (the outbox's own items fit). */
export interface HeldRecord {
  recordId: string;
  event: RecordAtRegistry['event'];
  code: string;
  state: 'waiting' | 'in-flight' | 'rejected';
  enqueuedAt: string;
  rejection?: { reason: string; at: string };
}

function settledView(s: RecordSettlement): RecordAtRegistry {
  const r: RecordAtRegistry = {
    recordId: s.recordId,
    event: s.event,
    code: s.code,
    state: 'accepted',
    at: s.at,
  };
  if (s.outcome === 'dismissed') {
    r.state = 'dismissed';
    if (s.reason) r.reason = s.reason;
    if (s.by !== undefined) r.by = s.by;
  } else {
    r.ack = s.outcome;
  }
  return r;
}

function heldView(h: HeldRecord): RecordAtRegistry {
  if (h.state === 'rejected' && h.rejection) {
    return {
      recordId: h.recordId,
      event: h.event,
      code: h.code,
      state: 'rejected',
      since: h.enqueuedAt,
      at: h.rejection.at,
      reason: h.rejection.reason,
    };
  }
  return { recordId: h.recordId, event: h.event, code: h.code, state: 'queued', since: h.enqueuedAt };
}

const ORDER: FirearmRegistry['state'][] = ['rejected', 'queued', 'accepted', 'dismissed'];

/**
 * The firearm's registry status. A record both settled and held (its ack was lost in a crash
 * after the firearm heard of it, so it is being sent again) is settled: the registry has it.
 */
export function registryOf(f: Firearm, held: readonly HeldRecord[]): FirearmRegistry {
  const records = new Map<string, RecordAtRegistry>();
  for (const h of held) records.set(h.recordId, heldView(h));
  for (const s of f.settled ?? []) records.set(s.recordId, settledView(s));
  const list = [...records.values()];
  const state =
    ORDER.find((st) => list.some((r) => r.state === st)) ??
    // Stored before settlements were kept: an engraved record no longer held was accepted.
    (f.reported ? 'accepted' : 'none');
  return { state, records: list };
}

/** The firearm as a view shows it: with its registry status, `reported` meaning accepted. */
export function withRegistry(f: Firearm, held: readonly HeldRecord[]): Firearm {
  const registry = registryOf(f, held);
  const { settled: _settled, ...rest } = f;
  return { ...rest, registry, reported: registry.state === 'accepted' };
}
