/**
 * Who may do what, route by route: every caller (a user of each role, each machine token, and
 * nobody) against every guarded route of the API.
 */
import { describe, expect, it } from 'vitest';
import type { Permission } from '../../src/api/auth/types.js';
import { GUARDED, type RouteCase } from './route-table.js';
import { CALLERS, type Caller, useStation } from './support.js';

/** The permission matrix of issue 5, written out. */
const HOLDERS: Record<Exclude<Permission, 'users.manage'>, Caller[]> = {
  view: Object.keys(CALLERS) as Caller[],
  'orders.submit': ['user operator', 'user supervisor', 'user admin', 'token erp', 'token operator'],
  'orders.control': ['user operator', 'user supervisor', 'user admin', 'token operator'],
  'engraver.reset': ['user operator', 'user supervisor', 'user admin', 'token operator'],
  'qa.read': ['user qa', 'user supervisor', 'user admin', 'token qa'],
  identify: ['user qa', 'user supervisor', 'user admin'],
  'outbox.retry': ['user operator', 'user supervisor', 'user admin', 'token operator'],
  'outbox.dismiss': ['user supervisor', 'user admin'],
  'alarms.ack': ['user operator', 'user supervisor', 'user admin', 'token operator'],
  'audit.read': ['user supervisor', 'user admin'],
  backup: ['user supervisor', 'user admin', 'token operator'],
};

const s = useStation({ per: 'file', markingTimeMs: 0 });

async function send(r: RouteCase, headers: Record<string, string>) {
  const stream = r.route === '/api/v1/events';
  const res = await s.api.app.inject({
    method: r.method,
    url: r.url,
    headers,
    ...(r.body !== undefined ? { payload: r.body as object } : {}),
    ...(stream ? { payloadAsStream: true } : {}),
  });
  if (stream) {
    // An open stream says only its status here; it is closed at once.
    const status = res.statusCode;
    const body = status === 200 ? undefined : await new Response(res.stream() as never).json();
    res.stream().destroy();
    return { status, body };
  }
  const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
  return { status: res.statusCode, body: res.body ? (json ? res.json() : res.body) : undefined };
}

describe('every guarded route refuses whoever may not use it', () => {
  it.each(GUARDED.map((r) => [`${r.method} ${r.route}`, r] as const))('%s', async (_name, r) => {
    const anonymous = await send(r, {});
    expect(anonymous.status, 'without identity').toBe(401);
    expect(anonymous.body.error.code).toBe('AUTH_REQUIRED');

    const holders = HOLDERS[r.permission as keyof typeof HOLDERS];
    for (const who of Object.keys(CALLERS) as Caller[]) {
      const res = await send(r, s.api.as(who));
      if (holders.includes(who)) {
        expect([401, 403], `${who} may ${r.permission}`).not.toContain(res.status);
      } else {
        expect(res.status, `${who} may not ${r.permission}`).toBe(403);
        expect(res.body.error.code).toBe('AUTH_FORBIDDEN');
        expect(res.body.error.context).toMatchObject({ permission: r.permission });
        // The refusal says who may, so a person knows whom to ask.
        for (const holder of holders) expect(res.body.error.message).toContain(holder);
      }
    }
  });

  it('refuses an unknown bearer token as having no identity', async () => {
    const res = await s.api.app.inject({
      method: 'GET',
      url: '/api/v1/line',
      headers: { authorization: 'Bearer not-a-token-of-this-line' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('AUTH_REQUIRED');
  });

  it('keeps /healthz, /metrics, /docs and the error catalogue open', async () => {
    for (const url of ['/healthz', '/metrics', '/docs', '/docs/json', '/api/v1/errors']) {
      expect((await s.api.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });
});
