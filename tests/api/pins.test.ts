/** The drawing of a firearm's current code: the pin as engraved (mirrored), and the case impression. */
import { describe, expect, it } from 'vitest';
import { renderPinSvg } from '../../src/codes/index.js';
import { engrave, submitOrder, useStation } from './support.js';

const s = useStation({ per: 'test', markingTimeMs: 0 });

const svg = (url: string) => s.api.app.inject({ method: 'GET', url, headers: s.api.as('user operator') });

describe('GET /api/v1/firearms/:serial/pin.svg', () => {
  it('draws the pin face mirrored, and the case impression the right way round', async () => {
    const code = (await engrave(s, 'A-1', ['S1'])).get('S1')!;

    const pin = await svg('/api/v1/firearms/S1/pin.svg');
    expect(pin.statusCode).toBe(200);
    expect(pin.headers['content-type']).toContain('image/svg+xml');
    expect(pin.body).toBe(renderPinSvg(code, { mirror: true }));

    const impression = await svg('/api/v1/firearms/s1/pin.svg?view=case&size=128');
    expect(impression.body).toBe(renderPinSvg(code, { mirror: false, size: 128 }));
    expect(impression.body).not.toBe(renderPinSvg(code, { mirror: true, size: 128 }));
  });

  it('answers 404 for a serial the line does not hold, and 409 for a firearm with no code now', async () => {
    const unknown = await svg('/api/v1/firearms/NOPE/pin.svg');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('QA_UNKNOWN_FIREARM');

    await submitOrder(s, 'B-1', ['Q1']);
    const queued = await svg('/api/v1/firearms/Q1/pin.svg');
    expect(queued.statusCode).toBe(409);
    expect(queued.json().error).toMatchObject({
      code: 'FIREARM_NO_CODE',
      context: { serial: 'Q1', state: 'queued' },
    });
  });

  it('refuses a size it cannot draw, naming it', async () => {
    const res = await svg('/api/v1/firearms/S1/pin.svg?size=100000');
    expect(res.statusCode).toBe(400);
    expect(res.json().problems.map((p: { path: string }) => p.path)).toEqual(['size']);
  });
});
