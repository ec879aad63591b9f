/**
 * The line's alarms as a pure machine: observations of the services go in, raises and clears
 * come out. Nothing here reads a clock, a file or a socket; the service around it (service.ts)
 * gives it the time, writes what it decides to the journal and tells the listeners.
 *
 * An alarm about a condition (the engraver in fault, a link down, too few codes left) clears when
 * an observation shows the condition has ended, whether or not anyone acknowledged it;
 * acknowledging only says that a person has seen it. An alarm about an event (a store repair)
 * has no condition that could end, so it clears when a person acknowledges it.
 */
import { StamplineError } from '../errors.js';

export const ALARM_KINDS = [
  'engraver-fault',
  'engraver-link-down',
  'registry-link-down',
  'records-rejected',
  'store-repair',
  'qa-failures',
  'codes-low',
] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

/** Most severe first: the order of the banner. */
export const SEVERITIES = ['critical', 'major', 'warning'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Alarm {
  id: number;
  kind: AlarmKind;
  /** One alarm of a key is active at a time: the kind, and for store repairs the log repaired. */
  key: string;
  severity: Severity;
  /** For an operator: what is wrong and what to do. */
  message: string;
  raisedAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  clearedAt: string | null;
}

export interface AlarmThresholds {
  /** Verdicts looked at for the QA failure alarm: the last this many. */
  qaWindow: number;
  /** The QA alarm is judged only once the window holds at least this many verdicts. */
  qaMinVerdicts: number;
  /** Raised when the share of failed verdicts in the window is above this (0..1). */
  qaFailShare: number;
  /** Raised when fewer codes than this are left in the issuer's index block. */
  codesLeftBelow: number;
}

export type Observation =
  | {
      kind: 'engraver';
      connected: boolean;
      /** the engraver's state as last read, if any */
      state?: string;
      fault?: number;
      /** the line waits for a person (fault, or a job the engraver refused) */
      halted?: { reason: string; fault?: number };
      reason?: string;
    }
  | { kind: 'registry-link'; state: 'stopped' | 'connecting' | 'up' | 'down'; error: string | null }
  | { kind: 'outbox'; rejected: number }
  /** a durable log had its torn last entry cut off at start */
  | { kind: 'repair'; store: string; file: string; droppedBytes: number }
  | { kind: 'qa-verdict'; status: 'pass' | 'fail' }
  | { kind: 'codes'; left: number };

export type AlarmChange =
  | { type: 'raise'; alarm: Alarm }
  | { type: 'acknowledge'; alarm: Alarm }
  | { type: 'clear'; alarm: Alarm };

/** What a condition is now: true with its alarm, false, or not known from this observation. */
type Condition = { key: string; kind: AlarmKind; on: false } | ({ key: string; on: true } & Raise);

interface Raise {
  kind: AlarmKind;
  severity: Severity;
  message: string;
}

const EVENT_KINDS: ReadonlySet<AlarmKind> = new Set(['store-repair']);

export const DEFAULT_THRESHOLDS: AlarmThresholds = {
  qaWindow: 50,
  qaMinVerdicts: 20,
  qaFailShare: 0.2,
  codesLeftBelow: 1000,
};

export class AlarmModel {
  private readonly active = new Map<string, Alarm>();
  private readonly verdicts: Array<'pass' | 'fail'> = [];
  private nextId: number;

  constructor(
    private readonly thresholds: AlarmThresholds = DEFAULT_THRESHOLDS,
    restored: { active?: Alarm[]; nextId?: number } = {},
  ) {
    for (const a of restored.active ?? []) this.active.set(a.key, { ...a });
    const maxId = Math.max(0, ...(restored.active ?? []).map((a) => a.id));
    this.nextId = Math.max(restored.nextId ?? 1, maxId + 1);
  }

  /** Active alarms, most severe first, then oldest first. */
  activeAlarms(): Alarm[] {
    return [...this.active.values()].sort(bySeverity).map((a) => ({ ...a }));
  }

  /** The next id the model will give (the journal keeps it across restarts). */
  get next(): number {
    return this.nextId;
  }

  observe(obs: Observation, at: string): AlarmChange[] {
    const changes: AlarmChange[] = [];
    for (const c of this.conditions(obs)) {
      const held = this.active.get(c.key);
      if (c.on && !held) {
        const alarm: Alarm = {
          id: this.nextId++,
          kind: c.kind,
          key: c.key,
          severity: c.severity,
          message: c.message,
          raisedAt: at,
          acknowledgedAt: null,
          acknowledgedBy: null,
          clearedAt: null,
        };
        this.active.set(c.key, alarm);
        changes.push({ type: 'raise', alarm: { ...alarm } });
      } else if (!c.on && held && !EVENT_KINDS.has(held.kind)) {
        this.active.delete(c.key);
        changes.push({ type: 'clear', alarm: { ...held, clearedAt: at } });
      }
    }
    return changes;
  }

  /**
   * A person has seen the alarm. Throws ALARM_NOT_FOUND for an id that is not active and
   * ALARM_ACKNOWLEDGED for one already acknowledged (naming by whom), so two people pressing at
   * once are both told what happened.
   */
  acknowledge(id: number, by: string, at: string): AlarmChange[] {
    const held = [...this.active.values()].find((a) => a.id === id);
    if (!held) throw new StamplineError('ALARM_NOT_FOUND', `no active alarm ${id}`, { id });
    if (held.acknowledgedAt !== null) {
      throw new StamplineError(
        'ALARM_ACKNOWLEDGED',
        `alarm ${id} was already acknowledged by ${held.acknowledgedBy} at ${held.acknowledgedAt}`,
        { id, acknowledgedBy: held.acknowledgedBy, acknowledgedAt: held.acknowledgedAt },
      );
    }
    held.acknowledgedAt = at;
    held.acknowledgedBy = by;
    const changes: AlarmChange[] = [{ type: 'acknowledge', alarm: { ...held } }];
    if (EVENT_KINDS.has(held.kind)) {
      this.active.delete(held.key);
      changes.push({ type: 'clear', alarm: { ...held, clearedAt: at } });
    }
    return changes;
  }

  private conditions(obs: Observation): Condition[] {
    switch (obs.kind) {
      case 'engraver':
        return engraverConditions(obs);
      case 'registry-link':
        if (obs.state === 'down')
          return [
            {
              key: 'registry-link-down',
              on: true,
              kind: 'registry-link-down',
              severity: 'warning',
              message: `The registry broker cannot be reached${obs.error ? ` (${obs.error})` : ''}. Records wait in the outbox and nothing is lost; the line keeps retrying. Check the network and the broker.`,
            },
          ];
        if (obs.state === 'up') return [{ key: 'registry-link-down', kind: 'registry-link-down', on: false }];
        return [];
      case 'outbox':
        return [
          obs.rejected > 0
            ? {
                key: 'records-rejected',
                on: true,
                kind: 'records-rejected',
                severity: 'major',
                message: `The registry rejected ${plural(obs.rejected, 'record')}. They are kept in the outbox: read the registry's reason there, fix the cause, then retry or dismiss each.`,
              }
            : { key: 'records-rejected', kind: 'records-rejected', on: false },
        ];
      case 'repair':
        return [
          {
            key: `store-repair:${obs.store}`,
            on: true,
            kind: 'store-repair',
            severity: 'warning',
            message: `The ${obs.store} was cut short when the line last stopped (power loss?): its torn last entry, ${plural(obs.droppedBytes, 'byte')} in ${obs.file}, was removed at start. Nothing that had been confirmed was lost. Check the line's data (stampline audit verify), then acknowledge.`,
          },
        ];
      case 'qa-verdict':
        return this.qaConditions(obs.status);
      case 'codes':
        return [
          obs.left < this.thresholds.codesLeftBelow
            ? {
                key: 'codes-low',
                on: true,
                kind: 'codes-low',
                severity: obs.left === 0 ? 'critical' : 'warning',
                message: `Only ${plural(obs.left, 'code')} left in the issuer's index block (alarm below ${this.thresholds.codesLeftBelow}). Ask for a new index block and set issuer.indexBlock before it runs out: the line cannot engrave without codes.`,
              }
            : { key: 'codes-low', kind: 'codes-low', on: false },
        ];
    }
  }

  private qaConditions(status: 'pass' | 'fail'): Condition[] {
    const t = this.thresholds;
    this.verdicts.push(status);
    while (this.verdicts.length > t.qaWindow) this.verdicts.shift();
    if (this.verdicts.length < Math.min(t.qaMinVerdicts, t.qaWindow)) return [];
    const failed = this.verdicts.filter((v) => v === 'fail').length;
    const share = failed / this.verdicts.length;
    if (share <= t.qaFailShare) return [{ key: 'qa-failures', kind: 'qa-failures', on: false }];
    return [
      {
        key: 'qa-failures',
        on: true,
        kind: 'qa-failures',
        severity: 'major',
        message: `${failed} of the last ${this.verdicts.length} QA verdicts failed (${Math.round(share * 100)} %, alarm above ${Math.round(t.qaFailShare * 100)} %). Check the engraver's recipe, the pins and the test-fire reads before engraving more.`,
      },
    ];
  }
}

function engraverConditions(obs: Extract<Observation, { kind: 'engraver' }>): Condition[] {
  const out: Condition[] = [];
  if (obs.connected) out.push({ key: 'engraver-link-down', kind: 'engraver-link-down', on: false });
  else
    out.push({
      key: 'engraver-link-down',
      on: true,
      kind: 'engraver-link-down',
      severity: 'critical',
      message: `The engraver cannot be reached${obs.reason ? ` (${obs.reason})` : ''}. Nothing is engraved until it is back; the line keeps retrying. Check its power and network cable.`,
    });
  const faulted = obs.state === 'FAULT';
  if (faulted || obs.halted) {
    const code = faulted ? obs.fault : obs.halted?.fault;
    const why = obs.halted?.reason ? `: ${obs.halted.reason}` : '';
    out.push({
      key: 'engraver-fault',
      on: true,
      kind: 'engraver-fault',
      severity: 'critical',
      message: faulted
        ? `The engraver is in FAULT${code ? ` (fault ${code})` : ''}${why}. Clear the cause at the engraver (interlock, part), then press Reset on the Line screen.`
        : `The line is halted${why}. Deal with the cause, then press Reset on the Line screen.`,
    });
  } else if (obs.connected && obs.state !== undefined) {
    // Only a state actually read says the fault is over; a link down says nothing about it.
    out.push({ key: 'engraver-fault', kind: 'engraver-fault', on: false });
  }
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function bySeverity(a: Alarm, b: Alarm): number {
  return SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || a.id - b.id;
}
