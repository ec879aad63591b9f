/**
 * What the review of the API found at its edges: a logout with no body, the headers of every
 * answer and of the explorer, the security entries of the OpenAPI document, and requests refused
 * before any route (a `__proto__` key, a URL over 16 KB), each answered in the catalogue's shape.
 */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/errors.js';
import { engrave, useStation } from './support.js';

const s = useStation({ per: 'test', markingTimeMs: 0 });

async function loggedIn(): Promise<string> {
  return s.api.as('user operator').cookie!;
}

async function sessionWorks(cookie: string): Promise<boolean> {
  const res = await s.api.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
  return res.statusCode === 200;
}

describe('logging out', () => {
  it('works with a cookie and no body at all, and ends the session', async () => {
    const cookie = await loggedIn();
    const res = await s.api.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } });
    expect(res.statusCode, res.body).toBe(204);
    expect(await sessionWorks(cookie)).toBe(false);
  });

  it('works with Content-Type: application/json and an empty body', async () => {
    const cookie = await loggedIn();
    const res = await s.api.app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, 'content-type': 'application/json', 'content-length': '0' },
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(await sessionWorks(cookie)).toBe(false);
  });

  it('still refuses a change with a cookie sent as a form could send it', async () => {
    const cookie = await loggedIn();
    const res = await s.api.app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(res.statusCode).toBe(415);
    expect(await sessionWorks(cookie)).toBe(true);
  });
});

describe('the headers of every answer', () => {
  it('say nosniff on JSON answers, errors and the pin drawing', async () => {
    await engrave(s, 'O-1', ['SN-1']);
    const { app, as } = s.api;
    const urls = [
      '/api/v1/line',
      '/api/v1/orders',
      '/api/v1/nowhere',
      '/healthz',
      '/api/v1/firearms/SN-1/pin.svg',
    ];
    for (const url of urls) {
      const res = await app.inject({ method: 'GET', url, headers: as('user operator') });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('give the explorer a Content-Security-Policy that forbids framing, and nosniff', async () => {
    for (const url of ['/docs', '/docs/static/index.html', '/docs/json']) {
      const res = await s.api.app.inject({ method: 'GET', url });
      if (res.statusCode === 302) continue;
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      const csp = String(res.headers['content-security-policy'] ?? '');
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).not.toMatch(/script-src[^;]*unsafe-inline/);
    }
  });
});

describe('the OpenAPI document', () => {
  it('says that the user routes and who-am-I and logout take credentials', async () => {
    const doc = (await s.api.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const secured = [{ bearer: [] }, { cookie: [] }];
    expect(doc.paths['/api/v1/session'].get.security).toEqual(secured);
    expect(doc.paths['/api/v1/session'].delete.security).toEqual(secured);
    expect(doc.paths['/api/v1/session'].post.security).toEqual([]);
    expect(doc.paths['/api/v1/users'].get.security).toEqual(secured);
    expect(doc.paths['/api/v1/users'].post.security).toEqual(secured);
    expect(doc.paths['/api/v1/users/{name}'].patch.security).toEqual(secured);
  });
});

describe('requests refused before any route', () => {
  it('a __proto__ key is refused saying so, not as JSON that does not parse', async () => {
    const res = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers: { ...s.api.as('token erp'), 'content-type': 'application/json' },
      payload: '{"id":"O-2","make":"A","model":"B","firearms":[{"serial":"S-1","__proto__":{"x":1}}]}',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
    expect(res.json().error.message).toContain('a key named __proto__ is not allowed');
  });

  it('an escaped __proto__ key is refused too, and broken JSON says where it breaks', async () => {
    const headers = { ...s.api.as('token erp'), 'content-type': 'application/json' };
    const escaped = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers,
      payload: '{"\\u005f_proto__":{"x":1}}',
    });
    expect(escaped.json().error.message).toContain('__proto__');
    const broken = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders',
      headers,
      payload: '{"id":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.message).toMatch(/^the body is not valid JSON: ./);
  });

  it('a URL over 16 KB gets 431 in the catalogue shape, with a code of the catalogue', async () => {
    await s.api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = s.api.app.server.address() as AddressInfo;
    const answer = await new Promise<{ status: number; body: string; nosniff: unknown }>(
      (resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: `/api/v1/orders?q=${'x'.repeat(17 * 1024)}`, method: 'GET' },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body, nosniff: res.headers['x-content-type-options'] }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(answer.status).toBe(431);
    const body = JSON.parse(answer.body);
    expect(body.error.code).toBe('REQUEST_TOO_LARGE');
    expect(ERROR_CATALOGUE.REQUEST_TOO_LARGE.status).toBe(431);
    expect(body.error.message).toContain('16 KB');
    expect(answer.nosniff).toBe('nosniff');
  });
});
