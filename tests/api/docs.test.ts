/**
 * The OpenAPI document at /docs/json lists every route with its schemas and who may call it, and
 * the explorer at /docs works without the internet: everything it loads comes from the line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from './route-table.js';
import { useStation } from './support.js';

const s = useStation({ per: 'file', markingTimeMs: 0 });
// biome-ignore lint/suspicious/noExplicitAny: the test reads the OpenAPI document as JSON
let doc: any;

beforeAll(async () => {
  const res = await s.api.app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});

const openApiPath = (route: string) => route.replace(/:(\w+)/g, '{$1}');

describe('the OpenAPI document', () => {
  it('is OpenAPI 3 with the version, both security schemes and the tags', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info).toMatchObject({ title: 'stampline', version: 'test' });
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      cookie: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'stampline_session' }),
    });
    const tags = doc.tags.map((t: { name: string }) => t.name);
    expect(tags).toEqual(
      expect.arrayContaining(['orders', 'line', 'outbox', 'qa', 'records', 'stats', 'audit', 'events']),
    );
  });

  it('lists every route, and no route that is not in the table', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const expected = ROUTES.map((r) => `${r.method} ${openApiPath(r.route)}`);
    expect(listed.sort()).toEqual(expected.sort());
  });

  it('says which routes need credentials, and which are open', () => {
    for (const r of ROUTES) {
      if (r.route.startsWith('/api/v1/session') || r.route.startsWith('/api/v1/users')) continue;
      const op = doc.paths[openApiPath(r.route)][r.method.toLowerCase()];
      if (r.permission === 'open') expect(op.security, r.route).toEqual([]);
      else expect(op.security, r.route).toEqual([{ bearer: [] }, { cookie: [] }]);
      expect(op.tags, r.route).toHaveLength(1);
      expect(op.summary, r.route).toEqual(expect.any(String));
    }
  });

  it('carries the schemas of bodies, parameters and answers', () => {
    const read = doc.paths['/api/v1/qa/reads'].post;
    const body = read.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining(['serial', 'code', 'text', 'gear', 'ammo']),
    );
    expect(read.responses['201'].content['application/json'].schema.properties).toHaveProperty('verdict');
    expect(read.responses['400'].content['application/json'].schema.properties).toHaveProperty('problems');

    const by = doc.paths['/api/v1/stats'].get.parameters.find((p: { name: string }) => p.name === 'by');
    expect(by).toMatchObject({
      in: 'query',
      schema: { enum: ['ammo', 'lacquer', 'engraver', 'recipe', 'model'] },
    });

    const order = doc.paths['/api/v1/orders'].post.requestBody.content['application/json'].schema;
    expect(order.required).toEqual(expect.arrayContaining(['id', 'make', 'model', 'firearms']));

    const view = doc.paths['/api/v1/orders/{id}'].get;
    expect(view.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(view.responses['200'].content['application/json'].schema.properties).toHaveProperty('firearms');

    expect(doc.paths['/api/v1/firearms/{serial}/pin.svg'].get.responses['200'].content).toHaveProperty(
      'image/svg+xml',
    );
  });
});

describe('the explorer at /docs', () => {
  it('loads only files the line serves itself, and never calls out to a validator', async () => {
    const page = await s.api.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(3);
    for (const url of assets) {
      expect(url, 'a local file').toMatch(/^\/docs\//);
      expect((await s.api.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    const init = await s.api.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.body).toContain('"validatorUrl":null');
  });
});
