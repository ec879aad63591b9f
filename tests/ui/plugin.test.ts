import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allows, MACHINE_ROLES, USER_ROLES } from '../../src/api/auth/types.js';
import { publicDir } from '../../src/api/ui/index.js';
import { buildUiApp, FakeSource } from './fixtures.js';

let app: FastifyInstance;

beforeAll(async () => {
  app = await buildUiApp(new FakeSource());
});

afterAll(async () => {
  await app.close();
});

/** Every module the page loads: the entry script and, transitively, each static or dynamic import. */
function moduleGraph(): string[] {
  const root = publicDir();
  const seen = new Set<string>();
  const queue = ['js/app.js'];
  while (queue.length > 0) {
    const rel = queue.shift()!;
    if (seen.has(rel)) continue;
    seen.add(rel);
    const source = readFileSync(join(root, rel), 'utf8');
    for (const m of source.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      queue.push(join(rel, '..', m[1]!).replace(/\\/g, '/'));
    }
  }
  return [...seen];
}

describe('the single page', () => {
  it('serves index.html at / as HTML, with a policy that allows only its own scripts', async () => {
    const res = await app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<script type="module" src="/ui/js/app.js"></script>');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('needs no identity for the page and its files', async () => {
    for (const url of ['/', '/ui/js/app.js', '/ui/css/app.css', '/ui/site.json']) {
      expect((await app.inject(url)).statusCode, url).toBe(200);
    }
  });

  it('references only files of its own, each served with its type', async () => {
    const index = (await app.inject('/')).body;
    const refs = [...index.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    expect(index).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    const types: Record<string, RegExp> = {
      '.js': /^(?:text|application)\/javascript/,
      '.css': /^text\/css/,
      '.svg': /^image\/svg\+xml/,
    };
    for (const ref of refs) {
      const res = await app.inject(ref);
      expect(res.statusCode, ref).toBe(200);
      const ext = ref.slice(ref.lastIndexOf('.'));
      expect(res.headers['content-type'], ref).toMatch(types[ext]!);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('serves every module the page imports, as JavaScript', async () => {
    const modules = moduleGraph();
    expect(modules).toContain('js/screens/qa.js');
    expect(modules).toContain('js/screens/users.js');
    for (const rel of modules) {
      const res = await app.inject(`/ui/${rel}`);
      expect(res.statusCode, rel).toBe(200);
      expect(res.headers['content-type'], rel).toMatch(/^(?:text|application)\/javascript/);
    }
  });

  it('serves the certificate style sheets and script', async () => {
    for (const [url, type] of [
      ['/ui/css/certificate.css', /^text\/css/],
      ['/ui/css/paper-a4.css', /^text\/css/],
      ['/ui/css/paper-letter.css', /^text\/css/],
      ['/ui/js/certificate.js', /javascript/],
    ] as const) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(type);
    }
  });

  it('answers 404 for a file it does not have, and nothing outside its folder', async () => {
    expect((await app.inject('/ui/js/nope.js')).statusCode).toBe(404);
    for (const url of ['/ui/../package.json', '/ui/%2e%2e/%2e%2e/index.ts', '/ui/..%2f..%2findex.ts']) {
      const res = await app.inject(url);
      expect(res.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(res.body).not.toContain('uiPlugin');
    }
  });

  it('sends /ui/ to the page', async () => {
    const res = await app.inject('/ui/');
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/');
  });
});

describe('GET /ui/site.json', () => {
  it('names the line and the issuer kind', async () => {
    const site = (await app.inject('/ui/site.json')).json();
    expect(site.lineId).toBe('line-1');
    expect(site.issuerKind).toBe('engraver');
  });

  it('gives each role exactly the permissions the access rules grant', async () => {
    const { permissions } = (await app.inject('/ui/site.json')).json();
    expect(permissions.user.qa).toContain('qa.read');
    expect(permissions.user.qa).not.toContain('orders.control');
    expect(permissions.user.operator).not.toContain('audit.read');
    expect(permissions.user.admin).toContain('users.manage');
    for (const [kind, roles] of [
      ['user', USER_ROLES],
      ['token', MACHINE_ROLES],
    ] as const) {
      for (const role of roles) {
        const granted: string[] = permissions[kind][role];
        for (const p of granted) {
          expect(allows({ kind, name: 'x', role }, p as never), `${kind} ${role} ${p}`).toBe(true);
        }
        // nothing the rules grant is missing
        for (const p of permissions.user.admin.concat(permissions.token.erp)) {
          if (allows({ kind, name: 'x', role }, p)) expect(granted, `${kind} ${role}`).toContain(p);
        }
      }
    }
  });
});
