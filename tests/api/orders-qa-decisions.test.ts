/**
 * A QA decision applied without a read of its own (completed at a later read, or at start-up)
 * reaches the live events and the verdict counter once, like one taken at its read.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type LiveEvent, LiveEvents } from '../../src/api/events.js';
import { LineMetrics } from '../../src/api/metrics.js';
import type { QaApi, QaReadEvent } from '../../src/api/routes/context.js';
import type { QaDecisionEvent } from '../../src/qa/index.js';
import { fakeLine } from '../support/fake-line.js';

const hubs: LiveEvents[] = [];
afterEach(() => {
  for (const h of hubs.splice(0)) h.close();
});

const verdict = (status: 'pass' | 'fail') => ({
  status,
  policy: 'every-case' as const,
  casings: 3,
  needed: 3,
  grade: status === 'pass' ? ('B' as const) : ('F' as const),
  reason: status,
});

const decision = (serial: string, status: 'pass' | 'fail', when: 'retry' | 'start'): QaDecisionEvent => ({
  serial,
  orderId: 'o1',
  code: { index: 7, text: 'ABCDE12345' },
  verdict: verdict(status),
  outcome: status === 'pass' ? 'verified' : 'rework',
  when,
});

/** A QA service as the API sees it, with decisions completed at its start. */
function fakeQa(atStart: QaDecisionEvent[]): QaApi & EventEmitter {
  return Object.assign(new EventEmitter(), {
    policy: { kind: 'every-case', cases: 3, minGrade: 'C' },
    submit: async () => {
      throw new Error('not here');
    },
    firearm: async () => {
      throw new Error('not here');
    },
    records: async () => [],
    statistics: () => [],
    decidedAtStart: () => atStart,
  }) as unknown as QaApi & EventEmitter;
}

function readEvent(serial: string, status: 'pass' | 'fail'): QaReadEvent {
  return {
    serial,
    read: { decode: { grade: 'B' } },
    verdict: verdict(status),
    outcome: status === 'pass' ? 'verified' : 'rework',
  } as unknown as QaReadEvent;
}

async function verdictCounts(metrics: LineMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await metrics.text()).split('\n')) {
    const m = /^stampline_qa_verdicts_total\{result="(\w+)"\} (\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

describe('QA decisions applied without a read of their own', () => {
  it('are counted once each, with those at start-up and those taken at their read', async () => {
    const qa = fakeQa([decision('S-1', 'fail', 'start')]);
    const metrics = new LineMetrics({ line: fakeLine({}, 1), qa, processMetrics: false });
    metrics.start();
    qa.emit('decision', decision('S-2', 'pass', 'retry'));
    qa.emit('read', readEvent('S-3', 'pass'));
    expect(await verdictCounts(metrics)).toEqual({ fail: 1, pass: 2 });
    metrics.stop();
  });

  it('are sent to the live streams as a qa event naming the firearm', () => {
    const qa = fakeQa([]);
    const hub = new LiveEvents({ line: fakeLine({}, 1), qa });
    hubs.push(hub);
    const seen: LiveEvent[] = [];
    hub.subscribe((e) => seen.push(e));
    const d = decision('S-2', 'fail', 'retry');
    qa.emit('decision', d);
    expect(seen.map((e) => [e.name, JSON.parse(e.data)])).toEqual([['qa', { serial: 'S-2', decision: d }]]);
  });
});
