import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatText } from '../../src/codes/index.js';
import { buildUiApp, code, FakeSource, firearm, HOSTILE, orderHeader, verdict } from './fixtures.js';

const HTML = { accept: 'text/html,application/xhtml+xml' };
const asQa = { 'x-test-role': 'qa' };

let app: FastifyInstance;
let source: FakeSource;

beforeAll(async () => {
  source = new FakeSource();
  const order = orderHeader();
  const qa = {
    result: 'pass',
    policy: 'every-case',
    grade: 'B',
    casings: 3,
    at: '2026-03-01T11:15:00.000Z',
    by: 'qa-1',
  } as const;
  source.add({
    order,
    firearm: firearm('S-100', 0, {
      qa,
      registry: {
        state: 'accepted',
        records: [
          {
            recordId: 'r-1',
            event: 'engraved',
            code: code(0).text,
            state: 'accepted',
            at: '2026-03-01T09:00:00.000Z',
            ack: 'accepted',
          },
          {
            recordId: 'r-2',
            event: 'verified',
            code: code(0).text,
            state: 'accepted',
            at: '2026-03-01T11:16:00.000Z',
            ack: 'accepted',
          },
        ],
      },
    }),
    reads: [],
    verdict: verdict('pass', 'B'),
  });
  // An order of its own, so the shipment of ORD-1 below keeps its three firearms.
  const laterOrder = orderHeader({ id: 'ORD-3', size: 1 });
  source.add({
    order: laterOrder,
    firearm: firearm('S-103', 3, {
      orderId: laterOrder.id,
      qa,
      registry: {
        state: 'queued',
        records: [
          {
            recordId: 'r-3',
            event: 'engraved',
            code: code(3).text,
            state: 'queued',
            since: '2026-03-01T09:05:00.000Z',
          },
        ],
      },
    }),
    reads: [],
    verdict: verdict('pass', 'B'),
  });
  source.add({
    order,
    firearm: firearm('S-101', 1, {
      voided: [
        { ...code(7), voidedAt: '2026-03-01T08:30:00.000Z', reason: 'failed QA: grade F', pinScrapped: true },
      ],
    }),
    reads: [],
    verdict: verdict('pending'),
  });
  source.add({
    order,
    firearm: firearm('S-102', 2, { state: 'cancelled', code: undefined }),
    reads: [],
    verdict: null,
  });
  const hostile = orderHeader({
    id: 'ORD-<i>2</i>',
    make: HOSTILE,
    model: '"><img src=x onerror=alert(1)>',
    destination: '<b>FFL</b>',
    size: 1,
  });
  source.add({
    order: hostile,
    firearm: firearm('S-200', 0, { orderId: hostile.id }),
    reads: [],
    verdict: verdict('pass', 'A'),
  });
  app = await buildUiApp(source);
});

afterAll(async () => {
  await app.close();
});

/** The page's markup outside the inline pin SVG, where only the line's own drawing may be. */
function scripts(body: string): string[] {
  return [...body.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0]);
}

describe('GET /certificates/firearms/:serial', () => {
  it('prints a passed firearm: make, model, caliber, serial, grouped code, pin face, verdict, certifier', async () => {
    const res = await app.inject({ url: '/certificates/firearms/S-100', headers: asQa });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.body;
    const text = code(0).text;
    expect(body).toContain('<title>Microstamp certificate S-100</title>');
    expect(body).toContain('data-test="cert-make">Acme<');
    expect(body).toContain('data-test="cert-model">P1<');
    expect(body).toContain('>9mm<');
    expect(body).toContain(`data-test="cert-code">${formatText(text)}<`);
    expect(body).toContain('data-test="cert-verdict">passed<');
    expect(body).toContain('data-test="cert-policy">every-case<');
    expect(body).toContain('data-test="cert-grade">B<');
    expect(body).toContain('data-test="cert-destination">FFL-1-23-456<');
    expect(body).toContain('Licensed engraver');
    expect(body).toContain('>line-1<');
    expect(body).toContain('2026-03-02 10:30 UTC'); // issued
    expect(body).toContain('2026-03-01 11:15 UTC'); // decided by QA
    // the pin face is drawn inline, mirrored as engraved
    expect(body).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(body).toContain(`${text.slice(0, 5)}-${text.slice(5)} (pin, mirrored)`);
    expect(body).not.toContain('data-test="cert-not-certified"');
  });

  it('says where the firearm stands at the state registry: accepted only once every record is', async () => {
    const accepted = await app.inject({ url: '/certificates/firearms/S-100', headers: asQa });
    expect(accepted.body).toMatch(/data-test="cert-registry">accepted [^<]*2026/);
    const queued = await app.inject({ url: '/certificates/firearms/S-103', headers: asQa });
    expect(queued.body).toMatch(/data-test="cert-registry">queued, not yet accepted, since [^<]*2026/);
  });

  it('escapes what it prints: the licence from configuration and every field of the order', async () => {
    const res = await app.inject({ url: '/certificates/firearms/S-200', headers: asQa });
    expect(res.statusCode).toBe(200);
    const body = res.body;
    expect(body).toContain('LIC-&lt;b&gt;7&lt;/b&gt;');
    expect(body).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;');
    expect(body).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(body).toContain('&lt;b&gt;FFL&lt;/b&gt;');
    expect(body).not.toContain('<img');
    expect(body).not.toContain('<b>');
    expect(scripts(body)).toEqual(['<script type="module" src="/ui/js/certificate.js">']);
  });

  it('says plainly that a firearm that has not passed has no certificate', async () => {
    const pending = await app.inject({ url: '/certificates/firearms/S-101', headers: asQa });
    expect(pending.statusCode).toBe(200);
    expect(pending.body).toContain('not a certificate');
    expect(pending.body).toContain('data-test="cert-not-certified"');
    expect(pending.body).toContain('data-test="cert-verdict">awaiting QA<');
    // its voided code stays on record
    expect(pending.body).toContain(formatText(code(7).text));
    expect(pending.body).toContain('failed QA: grade F');

    const cancelled = await app.inject({ url: '/certificates/firearms/S-102', headers: asQa });
    expect(cancelled.body).toContain('data-test="cert-code">none yet<');
    expect(cancelled.body).not.toContain('<svg');
  });

  it('takes a serial in lower case as the same serial', async () => {
    const res = await app.inject({ url: '/certificates/firearms/s-100', headers: asQa });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('data-test="cert-serial">S-100<');
  });

  it('answers 404 QA_UNKNOWN_FIREARM for a serial the line does not hold', async () => {
    const res = await app.inject({ url: '/certificates/firearms/NOPE-1', headers: asQa });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('QA_UNKNOWN_FIREARM');
    const page = await app.inject({ url: '/certificates/firearms/NOPE-1', headers: { ...asQa, ...HTML } });
    expect(page.statusCode).toBe(404);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('QA_UNKNOWN_FIREARM');
    expect(page.body).toContain('no firearm NOPE-1 on this line');
  });

  it('refuses without an identity, before reading any record', async () => {
    source.calls = [];
    const res = await app.inject('/certificates/firearms/S-100');
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('AUTH_REQUIRED');
    const page = await app.inject({ url: '/certificates/firearms/S-100', headers: HTML });
    expect(page.statusCode).toBe(401);
    expect(page.body).toContain('data-test="cert-login"');
    expect(page.body).toContain('/#/login?next=%2Fcertificates%2Ffirearms%2FS-100');
    expect(page.body).not.toContain('Acme');
    expect(source.calls).toEqual([]);
  });

  it('lets every role read certificates', async () => {
    for (const role of ['operator', 'qa', 'supervisor', 'admin']) {
      const res = await app.inject({ url: '/certificates/firearms/S-100', headers: { 'x-test-role': role } });
      expect(res.statusCode, role).toBe(200);
    }
  });

  it('rejects a malformed serial with 400 naming the field', async () => {
    const res = await app.inject({ url: '/certificates/firearms/S%20100%21', headers: asQa });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
    expect(res.json().error.context.problems[0].path).toBe('serial');
  });

  it('prints on A4 by default and on Letter when asked, and refuses another paper', async () => {
    const a4 = await app.inject({ url: '/certificates/firearms/S-100', headers: asQa });
    expect(a4.body).toContain('href="/ui/css/paper-a4.css"');
    const letter = await app.inject({ url: '/certificates/firearms/S-100?paper=letter', headers: asQa });
    expect(letter.body).toContain('href="/ui/css/paper-letter.css"');
    const bad = await app.inject({ url: '/certificates/firearms/S-100?paper=a3', headers: asQa });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.context.problems[0].path).toBe('paper');
  });

  it('has a print button that the print style sheet hides', async () => {
    const res = await app.inject({ url: '/certificates/firearms/S-100', headers: asQa });
    expect(res.body).toMatch(
      /<nav class="toolbar no-print"[^>]*>\s*<button type="button" id="print" data-test="cert-print">Print<\/button>/,
    );
    const css = (await app.inject('/ui/css/certificate.css')).body;
    expect(css).toMatch(/@media print\s*{[\s\S]*\.no-print\s*{\s*display: none;/);
  });
});

describe('GET /certificates/orders/:id', () => {
  it('lists the shipment: each firearm with code, verdict and grade, the totals, dealer and certifier', async () => {
    const res = await app.inject({ url: '/certificates/orders/ORD-1', headers: asQa });
    expect(res.statusCode).toBe(200);
    const body = res.body;
    expect(body).toContain('data-test="cert-destination">FFL-1-23-456<');
    expect(body).toContain('LIC-&lt;b&gt;7&lt;/b&gt;');
    for (const serial of ['S-100', 'S-101', 'S-102']) expect(body).toContain(`>${serial}<`);
    expect(body).not.toContain('S-200');
    expect(body).toContain(`>${formatText(code(0).text)}</td><td>passed</td><td>B</td>`);
    expect(body).toContain(`>${formatText(code(1).text)}</td><td>awaiting QA</td>`);
    expect(body).toMatch(/Firearms in the order<\/dt><dd>3</);
    expect(body).toMatch(/Passed verification<\/dt><dd>1</);
    expect(body).toMatch(/Awaiting QA<\/dt><dd>1</);
    expect(body).toMatch(/Cancelled, not shipped<\/dt><dd>1</);
    // one of two shippable firearms still waits for QA: not yet a certificate
    expect(body).toContain('1 of 2 firearm(s) have not passed verification');
  });

  it('is a certificate once every shipped firearm passed, and escapes the order', async () => {
    const res = await app.inject({
      url: `/certificates/orders/${encodeURIComponent('ORD-<i>2</i>')}`,
      headers: asQa,
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<title>Shipment certificate ORD-&lt;i&gt;2&lt;/i&gt;</title>');
    expect(res.body).not.toContain('data-test="cert-not-certified"');
    expect(res.body).not.toContain('<i>');
    expect(res.body).not.toContain('<img');
    expect(scripts(res.body)).toHaveLength(1);
  });

  it('answers 404 ORDER_NOT_FOUND for an unknown order and 401 without an identity', async () => {
    const missing = await app.inject({ url: '/certificates/orders/NOPE', headers: asQa });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('ORDER_NOT_FOUND');
    const anonymous = await app.inject('/certificates/orders/ORD-1');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('AUTH_REQUIRED');
  });
});
