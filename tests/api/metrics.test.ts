/** Prometheus metrics of one line: jobs, faults, states, the outbox, registry acks and QA. */
import { describe, expect, it } from 'vitest';
import { engravedRecord } from '../../simulators/registry/sample.js';
import { buildApp } from '../../src/api/app.js';
import { FAULT } from '../../src/engraver/types.js';
import { until } from '../line/harness.js';
import { fakeLine } from '../support/fake-line.js';
import { engrave, useStation } from './support.js';

const s = useStation({ per: 'test', markingTimeMs: 0, outbox: true });

async function scrape(app = s.api.app): Promise<string> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

/** The value of one sample, e.g. `value(text, 'stampline_orders', { state: 'engraved' })`; undefined when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ? m[2].split(',') : [];
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

describe('GET /metrics', () => {
  it('counts jobs and shows firearms and orders per state', async () => {
    await engrave(s, 'A-1', ['S1', 'S2', 'S3']);
    // The line announces the end once the order is put away, a moment after it reads as done.
    await until(async () => value(await scrape(), 'stampline_orders', { state: 'engraved' }) === 1, 'done');
    const text = await scrape();
    expect(value(text, 'stampline_engraver_jobs_total', { result: 'done' })).toBe(3);
    expect(value(text, 'stampline_orders', { state: 'engraved' })).toBe(1);
    expect(value(text, 'stampline_orders', { state: 'running' })).toBe(0);

    await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: s.api.as('token erp'),
      payload: { id: 'B-1', make: 'Acme', model: 'P1', firearms: [{ serial: 'Q1' }, { serial: 'Q2' }] },
    });
    const later = await scrape();
    expect(value(later, 'stampline_firearms', { state: 'queued' })).toBe(2);
    expect(value(later, 'stampline_orders', { state: 'queued' })).toBe(1);
    expect(value(later, 'stampline_indexes_left')).toBe(100_000 - 3);
  });

  it('counts a job that faulted, and the fault by its code', async () => {
    s.device.faultNextJob(FAULT.INTERLOCK_OPEN);
    await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: s.api.as('token erp'),
      payload: { id: 'A-1', make: 'Acme', model: 'P1', firearms: [{ serial: 'S1' }] },
    });
    await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders/A-1/start',
      headers: s.api.as('token operator'),
      payload: {},
    });
    await until(async () => value(await scrape(), 'stampline_orders', { state: 'faulted' }) === 1, 'faulted');
    const text = await scrape();
    expect(value(text, 'stampline_engraver_jobs_total', { result: 'fault' })).toBe(1);
    expect(value(text, 'stampline_engraver_faults_total', { code: '1', name: 'interlock open' })).toBe(1);
  });

  it('shows QA verdicts, the pass rate and reads by grade', async () => {
    const codes = await engrave(s, 'A-1', ['S1', 'S2']);
    const read = (body: object) =>
      s.api.app.inject({
        method: 'POST',
        url: '/api/v1/qa/reads',
        headers: s.api.as('user qa'),
        payload: body,
      });
    const ammo = { brand: 'Federal', lacquered: false };
    expect(value(await scrape(), 'stampline_qa_pass_rate')).toBeNaN();
    await read({ serial: 'S1', ...codes.get('S1')!, ammo });
    await read({ serial: 'S1', ...codes.get('S1')!, ammo });
    await read({ serial: 'S2', text: '??????????', ammo });
    const text = await scrape();
    expect(value(text, 'stampline_qa_verdicts_total', { result: 'pass' })).toBe(1);
    expect(value(text, 'stampline_qa_verdicts_total', { result: 'fail' })).toBe(1);
    expect(value(text, 'stampline_qa_pass_rate')).toBe(0.5);
    expect(value(text, 'stampline_qa_reads_total', { grade: 'A' })).toBe(2);
    expect(value(text, 'stampline_qa_reads_total', { grade: 'F' })).toBe(1);
  });

  it('shows the outbox depth and the latency of registry acks', async () => {
    const record = engravedRecord();
    await s.outbox.enqueue([record]);
    expect(value(await scrape(), 'stampline_outbox_depth')).toBe(1);
    const [sent] = s.outbox.takeToSend(10);
    s.outbox.acknowledge({ recordId: sent!.recordId, status: 'accepted' }, Date.now() + 1500);
    const text = await scrape();
    expect(value(text, 'stampline_outbox_depth')).toBe(0);
    expect(value(text, 'stampline_registry_acks_total', { status: 'accepted' })).toBe(1);
    expect(value(text, 'stampline_registry_ack_latency_seconds_count')).toBe(1);
    expect(value(text, 'stampline_registry_ack_latency_seconds_bucket', { le: '1' })).toBe(0);
    expect(value(text, 'stampline_registry_ack_latency_seconds_bucket', { le: '2.5' })).toBe(1);
  });

  it('keeps each app to its own registry, with process metrics when asked', async () => {
    await engrave(s, 'A-1', ['S1']);
    // A line of its own, with no order ever.
    const line = fakeLine({}, 0);
    const bare = buildApp({ line, health: () => ({ ok: true, checks: {} }), version: 'test' });
    try {
      const text = await scrape(bare);
      expect(value(text, 'stampline_engraver_jobs_total', { result: 'done' })).toBeUndefined();
      expect(value(await scrape(), 'stampline_engraver_jobs_total', { result: 'done' })).toBe(1);
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect(await scrape()).not.toContain('process_cpu_user_seconds_total');
    } finally {
      await bare.close();
    }
  });
});
