/**
 * The QA station over HTTP: reads that pass, a read that fails and sends the firearm to rework,
 * the refusals of the QA service, and the records and statistics that follow.
 */
import { describe, expect, it } from 'vitest';
import { until } from '../line/harness.js';
import { type Caller, engrave, submitOrder, useStation } from './support.js';

const s = useStation({ per: 'test', markingTimeMs: 0 });

const federal = { brand: 'Federal HST', lacquered: false };

const read = (body: object, who: Caller = 'user qa') =>
  s.api.app.inject({ method: 'POST', url: '/api/v1/qa/reads', headers: s.api.as(who), payload: body });
const get = (url: string, who: Caller = 'user qa') =>
  s.api.app.inject({ method: 'GET', url, headers: s.api.as(who) });

describe('POST /api/v1/qa/reads', () => {
  it('stores each read, answers the verdict, and verifies the firearm once the policy is met', async () => {
    const codes = await engrave(s, 'A-1', ['S1']);
    const { text: code, gear } = codes.get('S1')!;

    const first = await read({ serial: 'S1', text: code, gear, ammo: federal });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      read: { serial: 'S1', by: 'quentin', code: { text: code }, decode: { matches: true } },
      verdict: { status: 'pending', policy: 'every-case', casings: 1, needed: 2 },
      outcome: 'pending',
    });

    const second = await read(
      { code: `${code.slice(0, 5)}-${code.slice(5)}`, text: code, gear, ammo: federal },
      'token qa',
    );
    expect(second.statusCode).toBe(201);
    expect(second.json()).toMatchObject({
      read: { by: 'qa' },
      verdict: { status: 'pass' },
      outcome: 'verified',
    });

    const record = (await get('/api/v1/qa/firearms/s1')).json();
    expect(record.firearm).toMatchObject({
      serial: 'S1',
      state: 'engraved',
      qa: { result: 'pass', by: 'qa' },
    });
    expect(record.verdict.status).toBe('pass');
    expect(record.reads).toHaveLength(2);

    const again = await read({ serial: 'S1', text: code, gear, ammo: federal });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('QA_ALREADY_DECIDED');
  });

  it('sends a firearm whose case fails to rework: its code is voided and a new one engraved', async () => {
    const codes = await engrave(s, 'A-1', ['S1', 'S2']);
    const failed = await read({
      serial: 'S1',
      text: '??????????',
      ammo: { brand: 'Cheap', lacquered: true },
    });
    expect(failed.statusCode).toBe(201);
    expect(failed.json()).toMatchObject({ verdict: { status: 'fail' }, outcome: 'rework' });

    await until(async () => {
      const f = (await get('/api/v1/records/S1')).json().firearm;
      return f.state === 'engraved' && f.code.text !== codes.get('S1')!.text;
    }, 'a new code engraved on S1');
    // The order is done once the line has settled the job, a moment after the firearm shows it.
    await until(
      async () => (await get('/api/v1/orders/A-1')).json().order.state === 'engraved',
      'the reopened order done again',
    );
    const record = (await get('/api/v1/records/S1')).json();
    expect(record.firearm.voided).toEqual([
      expect.objectContaining({
        text: codes.get('S1')!.text,
        pinScrapped: true,
        reason: expect.stringMatching(/^failed QA/),
      }),
    ]);
    expect(record.reads).toHaveLength(1);
    expect(record.verdict).toMatchObject({ status: 'pending', casings: 0 });

    // The voided code still finds its firearm, with the read of that code.
    const byOldCode = (await get(`/api/v1/records?code=${codes.get('S1')!.text}`)).json().results;
    expect(byOldCode.map((r: { firearm: { serial: string } }) => r.firearm.serial)).toEqual(['S1']);
  });

  it('passes on the refusals of the QA service with their status', async () => {
    await engrave(s, 'A-1', ['S1']);
    const unknown = await read({ serial: 'NOPE', text: '0123456789', ammo: federal });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('QA_UNKNOWN_FIREARM');

    await submitOrder(s, 'B-1', ['Q1']);
    const notEngraved = await read({ serial: 'Q1', text: '0123456789', ammo: federal });
    expect(notEngraved.statusCode).toBe(409);
    expect(notEngraved.json().error.code).toBe('QA_NOT_ENGRAVED');
  });
});

describe('GET /api/v1/qa/policy', () => {
  it('answers the configured policy', async () => {
    expect((await get('/api/v1/qa/policy', 'token erp')).json()).toEqual({
      kind: 'every-case',
      cases: 2,
      minGrade: 'C',
    });
  });
});

describe('records and statistics', () => {
  it('finds firearms by serial, by code and by order, and a firearm by its serial', async () => {
    const codes = await engrave(s, 'A-1', ['S1', 'S2', 'S3']);
    const bySerial = (await get('/api/v1/records?serial=S2')).json().results;
    expect(bySerial).toEqual([expect.objectContaining({ order: expect.objectContaining({ id: 'A-1' }) })]);
    const byCode = (await get(`/api/v1/records?code=${codes.get('S3')!.text}`)).json().results;
    expect(byCode.map((r: { firearm: { serial: string } }) => r.firearm.serial)).toEqual(['S3']);
    const byOrder = (await get('/api/v1/records?order=A-1')).json().results;
    expect(byOrder.map((r: { firearm: { serial: string } }) => r.firearm.serial)).toEqual(['S1', 'S2', 'S3']);

    const one = await get('/api/v1/records/S1');
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({
      order: { id: 'A-1' },
      firearm: { serial: 'S1', code: { text: codes.get('S1')!.text }, history: expect.any(Array) },
      reads: [],
      verdict: { status: 'pending' },
    });
    const missing = await get('/api/v1/records/NOPE');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('QA_UNKNOWN_FIREARM');
  });

  it('groups reads by the asked dimension, ammunition by default', async () => {
    const codes = await engrave(s, 'A-1', ['S1']);
    const { text, gear } = codes.get('S1')!;
    await read({ serial: 'S1', text, gear, ammo: federal });
    await read({ serial: 'S1', text, gear, ammo: { brand: 'Winchester', lacquered: true } });

    const byAmmo = (await get('/api/v1/stats')).json();
    expect(byAmmo.by).toBe('ammo');
    expect(byAmmo.rows.map((r: { key: string }) => r.key).sort()).toEqual(['Federal HST', 'Winchester']);

    const byLacquer = (await get('/api/v1/stats?by=lacquer')).json();
    expect(byLacquer.rows.map((r: { key: string; reads: number }) => [r.key, r.reads]).sort()).toEqual([
      ['lacquered', 1],
      ['plain', 1],
    ]);
    const byModel = (await get('/api/v1/stats?by=model')).json().rows;
    expect(byModel).toEqual([
      expect.objectContaining({
        key: 'Acme P1',
        reads: 2,
        verdicts: { pass: 1, fail: 0 },
        grades: expect.any(Object),
      }),
    ]);
  });
});
