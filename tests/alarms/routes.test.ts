/** The alarm routes, the `alarm` live event and the alarm metrics, over a real alarm service. */
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { AlarmService } from '../../src/alarms/service.js';
import { LiveEvents } from '../../src/api/events.js';
import { apiFor, type Caller, type TestApi } from '../api/support.js';
import { fakeLine } from '../support/fake-line.js';
import { tempFolderPerTest } from '../support/temp.js';

const dir = tempFolderPerTest('alarm-routes', async () => {
  await api?.close();
  await alarms?.stop();
});
let alarms: AlarmService;
let api: TestApi;
const audit: Array<{ actor: string; action: string; subject: string }> = [];
// The alarm routes do not touch the line; the metrics read its status and order list.
const line = fakeLine({}, 5000);

beforeEach(async () => {
  audit.length = 0;
  alarms = new AlarmService({
    dataDir: dir.path,
    audit: {
      async record(e) {
        audit.push(e);
      },
    },
  });
  await alarms.start();
  api = await apiFor(line, join(dir.path, 'auth'), { alarms });
});

const ack = (id: number | string, who: Caller = 'user operator') =>
  api.app.inject({ method: 'POST', url: `/api/v1/alarms/${id}/ack`, payload: {}, headers: api.as(who) });
const list = (query = '', who: Caller = 'token qa') =>
  api.app.inject({ method: 'GET', url: `/api/v1/alarms${query}`, headers: api.as(who) });

async function engraverFault(): Promise<number> {
  await alarms.observe({ kind: 'engraver', connected: true, state: 'FAULT', fault: 1 });
  return alarms.active()[0]!.id;
}

describe('GET /api/v1/alarms', () => {
  it('lists the active alarms most severe first, and the journal newest first with paging', async () => {
    await alarms.observe({ kind: 'codes', left: 10 });
    await alarms.observe({ kind: 'registry-link', state: 'down', error: null });
    await alarms.observe({ kind: 'registry-link', state: 'up', error: null });
    await engraverFault();
    const res = await list('?limit=2');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.active.map((a: { kind: string }) => a.kind)).toEqual(['engraver-fault', 'codes-low']);
    expect(body.journal.map((a: { id: number }) => a.id)).toEqual([3, 2]);
    expect(body.next).toBe(2);
    const older = (await list(`?limit=2&before=${body.next}`)).json();
    expect(older.journal).toEqual([expect.objectContaining({ id: 1, kind: 'codes-low' })]);
    expect(older.next).toBeNull();
  });

  it('refuses a bad page size, naming it', async () => {
    const res = await list('?limit=0');
    expect(res.statusCode).toBe(400);
    expect(res.json().problems).toEqual([expect.objectContaining({ path: 'limit' })]);
  });

  it('needs an identity', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/api/v1/alarms' });
    expect(res.statusCode).toBe(401);
  });
});

describe('POST /api/v1/alarms/:id/ack', () => {
  it('records who acknowledged it, audits it, and leaves the alarm active', async () => {
    const id = await engraverFault();
    const res = await ack(id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, acknowledgedBy: 'olga', clearedAt: null });
    expect(audit).toEqual([
      expect.objectContaining({ actor: 'olga', action: 'alarm.acknowledge', subject: `alarm:${id}` }),
    ]);
    expect((await list()).json().active).toEqual([expect.objectContaining({ id, acknowledgedBy: 'olga' })]);
  });

  it('is refused to QA, the ERP and the QA token, naming who may', async () => {
    const id = await engraverFault();
    for (const who of ['user qa', 'token erp', 'token qa'] as const) {
      const res = await ack(id, who);
      expect(res.statusCode, who).toBe(403);
      expect(res.json().error.code).toBe('AUTH_FORBIDDEN');
    }
    for (const who of ['user supervisor', 'user admin', 'token operator'] as const) {
      await alarms.observe({ kind: 'engraver', connected: true, state: 'READY', fault: 0 });
      const again = await engraverFault();
      expect((await ack(again, who)).statusCode, who).toBe(200);
    }
    expect(audit.map((e) => e.actor)).toEqual(['sam', 'ada', 'operator']);
  });

  it('answers 409 for an alarm acknowledged already, naming by whom, and 404 for one not active', async () => {
    const id = await engraverFault();
    await ack(id);
    const twice = await ack(id, 'user supervisor');
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error).toMatchObject({ code: 'ALARM_ACKNOWLEDGED' });
    expect(twice.json().error.message).toContain('olga');
    await alarms.observe({ kind: 'engraver', connected: true, state: 'READY', fault: 0 });
    const cleared = await ack(id);
    expect(cleared.statusCode).toBe(404);
    expect(cleared.json().error.code).toBe('ALARM_NOT_FOUND');
    expect(audit).toHaveLength(1);
  });

  it('refuses an id that is not a number, naming it', async () => {
    const res = await ack('seven');
    expect(res.statusCode).toBe(400);
    expect(res.json().problems).toEqual([expect.objectContaining({ path: 'id' })]);
  });
});

describe('alarm events and metrics', () => {
  it('sends each raise, acknowledgement and clear on the event stream', async () => {
    const hub = new LiveEvents({ line, alarms });
    const seen: Array<{ name: string; data: { change: string; alarm: { kind: string } } }> = [];
    const off = hub.subscribe((e) => seen.push({ name: e.name, data: JSON.parse(e.data) }));
    const id = await engraverFault();
    await alarms.acknowledge(id, 'olga');
    await alarms.observe({ kind: 'engraver', connected: true, state: 'READY', fault: 0 });
    off();
    expect(seen.filter((e) => e.name === 'alarm').map((e) => [e.data.change, e.data.alarm.kind])).toEqual([
      ['raise', 'engraver-fault'],
      ['acknowledge', 'engraver-fault'],
      ['clear', 'engraver-fault'],
    ]);
  });

  it('has a gauge of the active alarms and a counter of those raised, per kind', async () => {
    await engraverFault();
    await alarms.observe({ kind: 'engraver', connected: true, state: 'READY', fault: 0 });
    await engraverFault();
    await alarms.observe({ kind: 'outbox', rejected: 2 });
    const text = (await api.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('stampline_alarm_active{kind="engraver-fault"} 1');
    expect(text).toContain('stampline_alarm_active{kind="records-rejected"} 1');
    expect(text).toContain('stampline_alarm_active{kind="codes-low"} 0');
    expect(text).toContain('stampline_alarms_raised_total{kind="engraver-fault"} 2');
  });
});
