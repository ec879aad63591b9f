/**
 * The outbox's records in memory (`outbox.ts`): every record held, by state (waiting, in flight
 * in the order last sent, rejected), by serial once asked, and the codes its log held at start.
 * Replaying the log applies each entry here; the outbox moves records between the states as it
 * sends them and hears back.
 */
import { StamplineError } from '../errors.js';
import { CODE_IN_RECORD, type Entry, type Held, type RecordEntry } from './outbox-types.js';
import type { RegistryRecord } from './record.js';

export class OutboxBook {
  readonly held = new Map<string, Held>();
  waiting = new Map<string, Held>();
  /** Ordered by last send, oldest first, so overdue records are found at the front. */
  inFlight = new Map<string, Held>();
  readonly rejectedHeld = new Map<string, Held>();
  /** The codes of every record the log held at start, for the allocator's check at start-up. */
  readonly seenCodes = new Set<string>();
  /** serial → ids of the records held for it; built on the first `heldFor`. */
  private bySerial: Map<string, Set<string>> | undefined;

  clear(): void {
    this.held.clear();
    this.waiting.clear();
    this.inFlight.clear();
    this.rejectedHeld.clear();
  }

  /** Forgets everything, before a replay of the log. */
  reset(): void {
    this.clear();
    this.seenCodes.clear();
  }

  /** Applies one entry of the log, read in order at start-up. */
  replay(entry: Entry, segment: number): void {
    if (entry.k === 'rec') {
      this.replayRecord(entry, segment);
      return;
    }
    const h = this.held.get(entry.id);
    if (!h) return;
    if (entry.k === 'ack' && entry.s !== 'rejected') {
      this.forget(h);
    } else if (entry.k === 'ack') {
      if (h.state === 'rejected') return;
      this.waiting.delete(h.id);
      h.state = 'rejected';
      h.rejection = { reason: entry.reason ?? 'no reason given', at: entry.at };
      this.rejectedHeld.set(h.id, h);
    } else if (entry.k === 'retry') {
      if (h.state !== 'rejected') return;
      this.rejectedHeld.delete(h.id);
      h.state = 'waiting';
      delete h.rejection;
      this.waiting.set(h.id, h);
    } else {
      this.forget(h);
    }
  }

  private replayRecord(entry: RecordEntry, segment: number): void {
    // Records were checked against the contract before they were written, and the log catches
    // torn and garbled lines; a full check here would make start-up cost far more than reading.
    if (typeof entry.id !== 'string' || typeof entry.j !== 'string' || typeof entry.t !== 'number') {
      throw new StamplineError(
        'STORE_CORRUPT',
        `outbox segment ${segment} holds an entry that is not a record`,
        {
          segment,
        },
      );
    }
    const code = CODE_IN_RECORD.exec(entry.j)?.[1];
    if (code !== undefined) this.seenCodes.add(code);
    const previous = this.held.get(entry.id);
    if (previous) this.forget(previous);
    const h = this.hold(entry.id, entry.j, entry.t, segment);
    if (entry.rej) {
      h.state = 'rejected';
      h.rejection = { reason: entry.rej.reason, at: entry.rej.at };
      this.rejectedHeld.set(h.id, h);
    } else {
      this.waiting.set(h.id, h);
    }
  }

  hold(id: string, json: string, enqueuedAt: number, seg: number): Held {
    const h: Held = {
      id,
      payload: Buffer.from(json, 'utf8'),
      enqueuedAt,
      seg,
      state: 'waiting',
      attempts: 0,
      sentAt: 0,
    };
    this.held.set(h.id, h);
    if (this.bySerial) this.indexSerial(h);
    return h;
  }

  /** The records held for one firearm's serial, oldest first. */
  heldFor(serial: string): Held[] {
    if (!this.bySerial) {
      // Built on the first ask, not at start-up: start-up stays in proportion to reading the log.
      this.bySerial = new Map();
      for (const h of this.held.values()) this.indexSerial(h);
    }
    const ids = this.bySerial.get(serial);
    if (!ids) return [];
    return [...ids]
      .map((id) => this.held.get(id))
      .filter((h): h is Held => h !== undefined)
      .sort((a, b) => a.enqueuedAt - b.enqueuedAt);
  }

  private indexSerial(h: Held): void {
    const serial = (JSON.parse(h.payload.toString('utf8')) as RegistryRecord).firearm.serial;
    h.serial = serial;
    const ids = this.bySerial!.get(serial) ?? new Set<string>();
    this.bySerial!.set(serial, ids);
    ids.add(h.id);
  }

  forget(h: Held): void {
    if (this.bySerial && h.serial !== undefined) {
      const ids = this.bySerial.get(h.serial);
      ids?.delete(h.id);
      if (ids?.size === 0) this.bySerial.delete(h.serial);
    }
    this.held.delete(h.id);
    this.waiting.delete(h.id);
    this.inFlight.delete(h.id);
    this.rejectedHeld.delete(h.id);
  }

  /** Every in-flight record back at the head of the queue, to be sent again at once. */
  requeueInFlight(): void {
    if (this.inFlight.size === 0) return;
    const merged = new Map<string, Held>();
    for (const h of this.inFlight.values()) {
      h.state = 'waiting';
      merged.set(h.id, h);
    }
    for (const h of this.waiting.values()) merged.set(h.id, h);
    this.inFlight = new Map();
    this.waiting = merged;
  }
}
