/**
 * POST /api/v1/identify: a case read at a scene is weighed against every code the line issued,
 * and the firearm that carried the code is named, a voided code's too.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngraverDevice } from '../../simulators/engraver/device.js';
import { encode, parseKey } from '../../src/codes/index.js';
import { identifierForLine } from '../../src/line/identify.js';
import type { Firearm } from '../../src/line/model.js';
import { KEY, makeDir, order, removeDir, until } from '../line/harness.js';
import { apiFor, type Station, startStation } from './support.js';

let dir: string;
let device: EngraverDevice;
let s: Station;
/** the firearm that failed QA: its first code is voided, its second current */
let reworked: Firearm;
let voidedCode: { text: string; gear: string };
/** a firearm engraved once, after the identifier had read the index */
let later: Firearm;

async function run(id: string, count: number): Promise<Firearm[]> {
  await s.h.line.submitOrder(order(id, count), 'http', 'erp');
  await s.h.line.startOrder(id, 'operator');
  await until(async () => (await s.h.line.orderView(id)).order.state === 'engraved', `order ${id} done`);
  return (await s.h.line.orderView(id)).firearms;
}

const identify = (body: unknown, who: Parameters<Station['api']['as']>[0] = 'user qa') =>
  s.api.app.inject({
    method: 'POST',
    url: '/api/v1/identify',
    headers: s.api.as(who),
    payload: body as object,
  });

beforeAll(async () => {
  dir = await makeDir();
  device = new EngraverDevice({ markingTimeMs: 0 });
  s = await startStation(dir, device, { policy: { kind: 'every-case', cases: 1, minGrade: 'C' } });
  const [f] = await run('o1', 2);
  // nothing legible on the case: the firearm fails QA, its code is voided and a new pin made
  const failed = await s.qa.submit(
    { serial: f!.serial, text: '??????????', ammo: { brand: 'X', lacquered: false } },
    'q',
  );
  expect(failed.outcome).toBe('rework');
  voidedCode = { text: f!.code!.text, gear: f!.code!.gear };
  await until(async () => (await s.h.line.orderView('o1')).order.state === 'engraved', 'new pin engraved');
  // the identifier reads the code index once, then hears of each code allocated
  const identifier = identifierForLine(s.h.line, dir, parseKey(KEY), 1);
  await s.api.close();
  s.api = await apiFor(s.h.line, join(dir, 'auth2'), { qa: s.qa, audit: s.audit, identify: identifier });
  reworked = (await s.h.line.orderView('o1')).firearms[0]!;
  later = (await run('o2', 1))[0]!;
}, 60_000);

afterAll(async () => {
  await s?.stop();
  device?.close();
  await removeDir(dir);
});

describe('POST /api/v1/identify', () => {
  it('names the firearm of a voided code, and says it is voided', async () => {
    expect(reworked.voided.map((v) => v.text)).toEqual([voidedCode.text]);
    const res = await identify({ reads: [{ text: voidedCode.text, gear: voidedCode.gear }] });
    expect(res.statusCode, res.body).toBe(200);
    const a = res.json();
    expect(a.outcome).toBe('identified');
    expect(a.firearm).toMatchObject({
      serial: reworked.serial,
      make: 'Acme',
      order: 'o1',
      code: { text: voidedCode.text, status: 'voided' },
      voided: { reason: expect.stringMatching(/^failed QA/), pinScrapped: true },
      qa: { result: 'fail' },
    });
    expect(a.decode).toMatchObject({ ok: true, text: voidedCode.text, confident: true });
    expect(a.issuedCodes).toBe(4);
  });

  it('names the current code of the same firearm as current, from a text read alone', async () => {
    const a = (await identify({ reads: [{ text: reworked.code!.text }] })).json();
    expect(a.outcome).toBe('identified');
    expect(a.firearm).toMatchObject({
      serial: reworked.serial,
      state: 'engraved',
      code: { status: 'current' },
    });
    expect(a.firearm.engravedAt).toEqual(expect.any(String));
    expect(a.candidates[0]).toMatchObject({ text: reworked.code!.text, weightRatio: 1 });
  });

  it('knows the codes allocated after it read the index', async () => {
    const a = (await identify({ reads: [{ text: `${later.code!.text.slice(0, 9)}?` }] })).json();
    expect(a).toMatchObject({ outcome: 'identified', firearm: { serial: later.serial, order: 'o2' } });
  });

  it('answers none for a code this line never issued, and writes the query to the audit trail', async () => {
    const stranger = encode(1, 5, parseKey(KEY));
    const a = (
      await identify({ reads: [{ text: stranger.text, gear: stranger.gear }] }, 'user supervisor')
    ).json();
    expect(a.outcome).toBe('none');
    expect(a.firearm).toBeUndefined();
    expect(a.candidates).toEqual([]);
    const entries = await s.audit.query({ action: 'identify', limit: 10 });
    expect(entries[0]).toMatchObject({ actor: 'sam', after: { outcome: 'none' } });
    expect(entries.some((e) => e.subject === `firearm:${reworked.serial}`)).toBe(true);
  });

  it('refuses bad input naming the read and field, and an operator', async () => {
    const none = await identify({ reads: [] });
    expect(none.statusCode).toBe(400);
    expect(none.json().error.code).toBe('IDENTIFY_INVALID_READS');
    expect(none.json().problems[0].path).toBe('reads');
    const empty = await identify({ reads: [{ text: '  ', gear: '' }] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().problems[0]).toMatchObject({
      path: 'reads[0]',
      reason: expect.stringMatching(/text read, the gear read/),
    });
    const long = await identify({ reads: [{ text: '0123456789AB' }] });
    expect(long.json().problems[0].path).toBe('reads[0].text');
    expect((await identify({ reads: [{ text: voidedCode.text }] }, 'user operator')).statusCode).toBe(403);
  });
});

describe('GET /api/v1/qa/policy under ca-4075', () => {
  it('tells the station the registry cases are judged against', async () => {
    const d = await makeDir();
    const dev = new EngraverDevice({ markingTimeMs: 0 });
    const station = await startStation(d, dev, { policy: { kind: 'ca-4075', rounds: 100 } });
    try {
      const res = await station.api.app.inject({
        method: 'GET',
        url: '/api/v1/qa/policy',
        headers: station.api.as('user qa'),
      });
      expect(res.json()).toEqual({ kind: 'ca-4075', rounds: 100, registry: { issuedCodes: 10_000_000 } });
    } finally {
      await station.stop();
      dev.close();
      await removeDir(d);
    }
  });
});
