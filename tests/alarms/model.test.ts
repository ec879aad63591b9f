/** The alarm model: a table of observations, each with the alarms it must raise and clear. */
import { describe, expect, it } from 'vitest';
import {
  type AlarmKind,
  AlarmModel,
  type AlarmThresholds,
  type Observation,
} from '../../src/alarms/model.js';
import { StamplineError } from '../../src/errors.js';

const T: AlarmThresholds = { qaWindow: 10, qaMinVerdicts: 5, qaFailShare: 0.2, codesLeftBelow: 100 };
const AT = '2026-01-01T00:00:00.000Z';

interface Row {
  name: string;
  /** observations given first, whose changes are not checked */
  before?: Observation[];
  obs: Observation;
  raise?: AlarmKind[];
  clear?: AlarmKind[];
}

const engraverUp: Observation = { kind: 'engraver', connected: true, state: 'READY', fault: 0 };
const engraverFault: Observation = { kind: 'engraver', connected: true, state: 'FAULT', fault: 1 };
const verdicts = (pass: number, fail: number): Observation[] => [
  ...Array.from({ length: fail }, (): Observation => ({ kind: 'qa-verdict', status: 'fail' })),
  ...Array.from({ length: pass }, (): Observation => ({ kind: 'qa-verdict', status: 'pass' })),
];

const ROWS: Row[] = [
  { name: 'an engraver read in READY raises nothing', obs: engraverUp },
  { name: 'an engraver read in FAULT raises engraver-fault', obs: engraverFault, raise: ['engraver-fault'] },
  {
    name: 'a halted line (a refused job) is an engraver-fault',
    obs: { kind: 'engraver', connected: true, state: 'READY', halted: { reason: 'refused job 3', fault: 0 } },
    raise: ['engraver-fault'],
  },
  {
    name: 'a fault ends when a READY state is read',
    before: [engraverFault],
    obs: engraverUp,
    clear: ['engraver-fault'],
  },
  {
    name: 'a link lost during a fault raises link-down and keeps the fault',
    before: [engraverFault],
    obs: { kind: 'engraver', connected: false, reason: 'ECONNRESET' },
    raise: ['engraver-link-down'],
  },
  {
    name: 'the link back clears link-down',
    before: [{ kind: 'engraver', connected: false }],
    obs: engraverUp,
    clear: ['engraver-link-down'],
  },
  {
    name: 'a registry link down raises registry-link-down',
    obs: { kind: 'registry-link', state: 'down', error: 'ECONNREFUSED' },
    raise: ['registry-link-down'],
  },
  {
    name: 'connecting again says nothing about the link',
    before: [{ kind: 'registry-link', state: 'down', error: null }],
    obs: { kind: 'registry-link', state: 'connecting', error: null },
  },
  {
    name: 'the registry link up clears it',
    before: [{ kind: 'registry-link', state: 'down', error: null }],
    obs: { kind: 'registry-link', state: 'up', error: null },
    clear: ['registry-link-down'],
  },
  {
    name: 'a rejected record raises records-rejected',
    obs: { kind: 'outbox', rejected: 1 },
    raise: ['records-rejected'],
  },
  {
    name: 'more rejected records keep the one alarm',
    before: [{ kind: 'outbox', rejected: 1 }],
    obs: { kind: 'outbox', rejected: 3 },
  },
  {
    name: 'no rejected record left clears it',
    before: [{ kind: 'outbox', rejected: 2 }],
    obs: { kind: 'outbox', rejected: 0 },
    clear: ['records-rejected'],
  },
  {
    name: 'a store repair raises store-repair',
    obs: { kind: 'repair', store: 'audit trail', file: 'audit-000001.jsonl', droppedBytes: 12 },
    raise: ['store-repair'],
  },
  {
    name: 'a repair of another store is another alarm',
    before: [{ kind: 'repair', store: 'audit trail', file: 'a', droppedBytes: 1 }],
    obs: { kind: 'repair', store: 'QA read log', file: 'b', droppedBytes: 1 },
    raise: ['store-repair'],
  },
  {
    name: 'QA: too few verdicts are not judged',
    before: verdicts(0, 3),
    obs: { kind: 'qa-verdict', status: 'fail' },
  },
  {
    name: 'QA: 2 failures of 5 is over 20 %',
    before: verdicts(3, 1),
    obs: { kind: 'qa-verdict', status: 'fail' },
    raise: ['qa-failures'],
  },
  {
    name: 'QA: 1 failure of 5 is at the threshold, not over',
    before: verdicts(3, 1),
    obs: { kind: 'qa-verdict', status: 'pass' },
  },
  {
    name: 'QA: passes that push the failures out of the window clear it',
    before: [...verdicts(0, 3), ...verdicts(7, 0)],
    obs: { kind: 'qa-verdict', status: 'pass' },
    clear: ['qa-failures'],
  },
  {
    name: 'codes: below the threshold raises codes-low',
    obs: { kind: 'codes', left: 99 },
    raise: ['codes-low'],
  },
  { name: 'codes: at the threshold raises nothing', obs: { kind: 'codes', left: 100 } },
  {
    name: 'codes: a new block clears it',
    before: [{ kind: 'codes', left: 5 }],
    obs: { kind: 'codes', left: 100_000 },
    clear: ['codes-low'],
  },
];

describe('the alarm model', () => {
  it.each(ROWS)('$name', (row) => {
    const m = new AlarmModel(T);
    for (const o of row.before ?? []) m.observe(o, AT);
    const changes = m.observe(row.obs, AT);
    expect(changes.filter((c) => c.type === 'raise').map((c) => c.alarm.kind)).toEqual(row.raise ?? []);
    expect(changes.filter((c) => c.type === 'clear').map((c) => c.alarm.kind)).toEqual(row.clear ?? []);
  });

  it('acknowledging a condition alarm does not clear it; the condition ending does', () => {
    const m = new AlarmModel(T);
    const [raised] = m.observe(engraverFault, AT);
    const acked = m.acknowledge(raised!.alarm.id, 'otto', '2026-01-01T00:01:00.000Z');
    expect(acked.map((c) => c.type)).toEqual(['acknowledge']);
    expect(m.activeAlarms()[0]).toMatchObject({ acknowledgedBy: 'otto', clearedAt: null });
    const [cleared] = m.observe(engraverUp, '2026-01-01T00:02:00.000Z');
    expect(cleared).toMatchObject({
      type: 'clear',
      alarm: { acknowledgedBy: 'otto', clearedAt: '2026-01-01T00:02:00.000Z' },
    });
    expect(m.activeAlarms()).toEqual([]);
  });

  it('a store repair, which has no condition to end, clears when acknowledged', () => {
    const m = new AlarmModel(T);
    const [raised] = m.observe({ kind: 'repair', store: 'audit trail', file: 'f', droppedBytes: 3 }, AT);
    expect(m.acknowledge(raised!.alarm.id, 'sam', AT).map((c) => c.type)).toEqual(['acknowledge', 'clear']);
    expect(m.activeAlarms()).toEqual([]);
  });

  it('refuses to acknowledge an unknown alarm, or one acknowledged already, naming by whom', () => {
    const m = new AlarmModel(T);
    expect(() => m.acknowledge(7, 'otto', AT)).toThrow(StamplineError);
    const [raised] = m.observe(engraverFault, AT);
    m.acknowledge(raised!.alarm.id, 'otto', AT);
    try {
      m.acknowledge(raised!.alarm.id, 'sam', AT);
      expect.unreachable();
    } catch (err) {
      expect((err as StamplineError).code).toBe('ALARM_ACKNOWLEDGED');
      expect((err as StamplineError).message).toContain('otto');
    }
  });

  it('lists the most severe first, and restores active alarms with ids that keep growing', () => {
    const m = new AlarmModel(T);
    m.observe({ kind: 'codes', left: 10 }, AT);
    m.observe({ kind: 'registry-link', state: 'down', error: null }, AT);
    m.observe(engraverFault, AT);
    expect(m.activeAlarms().map((a) => a.kind)).toEqual([
      'engraver-fault',
      'codes-low',
      'registry-link-down',
    ]);
    const again = new AlarmModel(T, { active: m.activeAlarms(), nextId: m.next });
    expect(again.observe(engraverFault, AT)).toEqual([]);
    const [raised] = again.observe({ kind: 'outbox', rejected: 1 }, AT);
    expect(raised!.alarm.id).toBe(4);
  });

  it('tells how many codes are left and what to do, critical at none', () => {
    const m = new AlarmModel(T);
    const [raised] = m.observe({ kind: 'codes', left: 0 }, AT);
    expect(raised!.alarm.severity).toBe('critical');
    expect(raised!.alarm.message).toMatch(/Only 0 codes left.*issuer\.indexBlock/);
  });
});
