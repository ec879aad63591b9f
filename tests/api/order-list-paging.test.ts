/**
 * GET /api/v1/orders pages through the line's orders, newest first, with a cursor that holds
 * when new orders arrive, and filters them by state and text on the server.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { OrderHeader } from '../../src/line/model.js';
import { useStation } from './support.js';

const s = useStation({ per: 'file', markingTimeMs: 0 });

const SEEDED = 230;
const idOf = (i: number) => `P-${String(i).padStart(3, '0')}`;
/** Every seventh order goes north, and every eleventh is aborted. */
const north = (i: number) => i % 7 === 0;
const aborted = (i: number) => i % 11 === 0;

beforeAll(async () => {
  // Several small batches: orders of one batch often share a millisecond, so pages are cut
  // through orders that only their ids tell apart.
  for (let start = 0; start < SEEDED; start += 23) {
    const batch = [];
    for (let i = start; i < Math.min(SEEDED, start + 23); i++) {
      batch.push({
        id: idOf(i),
        make: i % 2 === 0 ? 'Acme' : 'Brand',
        model: `Model-${i}`,
        target: 'firing-pin' as const,
        ...(north(i) ? { destination: 'DL-NORTH' } : {}),
        firearms: [{ serial: `SN-${i}` }],
      });
    }
    await s.h.line.submitOrders(batch, 'http', 'erp');
  }
  for (let i = 0; i < SEEDED; i++) if (aborted(i)) await s.h.line.abortOrder(idOf(i), 'erp', 'test');
}, 120_000);

interface Page {
  active: unknown[];
  all: OrderHeader[];
  next: string | null;
}

async function list(query = '') {
  return s.api.app.inject({
    method: 'GET',
    url: `/api/v1/orders${query}`,
    headers: s.api.as('user operator'),
  });
}

async function page(query = ''): Promise<Page> {
  const res = await list(query);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Every page from the first, following `next`. */
async function everyPage(params: Record<string, string>): Promise<Page[]> {
  const pages: Page[] = [];
  let before: string | null = null;
  do {
    const q = new URLSearchParams(params);
    if (before !== null) q.set('before', before);
    const p = await page(`?${q}`);
    pages.push(p);
    before = p.next;
  } while (before !== null && pages.length < 100);
  return pages;
}

const ids = (orders: OrderHeader[]) => orders.map((o) => o.id);

describe('GET /api/v1/orders, paged', () => {
  it('answers the newest 200 orders by default, with a cursor to the rest and the active orders', async () => {
    const held = await s.h.line.listOrders();
    const first = await page();
    expect(first.all).toHaveLength(200);
    expect(ids(first.all)).toEqual(ids(held).slice(0, 200));
    expect(first.next).toEqual(expect.any(String));
    expect(first.active.length).toBeGreaterThan(0);
  });

  it('pages through every order once, newest first, and the last page says there is no next', async () => {
    const held = await s.h.line.listOrders();
    const pages = await everyPage({ limit: '17' });
    expect(pages).toHaveLength(Math.ceil(held.length / 17));
    for (const p of pages.slice(0, -1)) expect(p.all).toHaveLength(17);
    expect(pages.at(-1)!.next).toBeNull();
    const seen = pages.flatMap((p) => ids(p.all));
    expect(seen).toEqual(ids(held));
    expect(new Set(seen).size).toBe(held.length);
    const keys = pages.flatMap((p) => p.all.map((o) => [o.createdAt, o.id] as const));
    for (let i = 1; i < keys.length; i++) expect(keys[i - 1]! > keys[i]!).toBe(true);
  });

  it('filters by state, comma-separated or repeated, on every page', async () => {
    const wanted = Array.from({ length: SEEDED }, (_, i) => i)
      .filter(aborted)
      .map(idOf)
      .sort()
      .reverse();
    const pages = await everyPage({ state: 'aborted', limit: '5' });
    expect(
      pages
        .flatMap((p) => ids(p.all))
        .sort()
        .reverse(),
    ).toEqual(wanted);
    for (const p of pages) for (const o of p.all) expect(o.state).toBe('aborted');

    const both = (await page('?state=aborted,complete&limit=1000')).all;
    const repeated = (await page('?state=aborted&state=complete&limit=1000')).all;
    expect(ids(repeated)).toEqual(ids(both));
    expect(both.length).toBe(wanted.length);
    expect((await page('?state=running')).all).toEqual([]);
  });

  it('finds text in the id, make, model or destination, in any case', async () => {
    const northIds = Array.from({ length: SEEDED }, (_, i) => i)
      .filter(north)
      .map(idOf);
    const byDestination = await everyPage({ q: 'dl-north', limit: '4' });
    expect(
      byDestination
        .flatMap((p) => ids(p.all))
        .slice()
        .sort(),
    ).toEqual(northIds);
    expect(ids((await page('?q=p-123')).all)).toEqual(['P-123']);
    expect(ids((await page('?q=MODEL-45')).all)).toEqual(['P-045']);
    const brand = (await page('?q=bRaNd&limit=1000')).all;
    expect(brand).toHaveLength(SEEDED / 2);
    for (const o of brand) expect(o.make).toBe('Brand');
    const northAborted = (await page('?q=north&state=aborted&limit=1000')).all;
    expect(ids(northAborted).sort()).toEqual(northIds.filter((id) => aborted(Number(id.slice(2)))).sort());
    expect((await page('?q=nowhere-at-all')).all).toEqual([]);
    expect((await page('?q=nowhere-at-all')).next).toBeNull();
  });

  it('keeps later pages as they were when an order arrives between pages', async () => {
    const before = await s.h.line.listOrders();
    const first = await page('?limit=50');
    expect(ids(first.all)).toEqual(ids(before).slice(0, 50));
    await s.h.line.submitOrder(
      {
        id: 'LATE-1',
        make: 'Acme',
        model: 'Late',
        target: 'firing-pin',
        firearms: [{ serial: 'SN-LATE-1' }],
      },
      'http',
      'erp',
    );
    const second = await page(`?limit=50&before=${encodeURIComponent(first.next!)}`);
    expect(ids(second.all)).toEqual(ids(before).slice(50, 100));
    expect(ids((await page('?limit=1')).all)).toEqual(['LATE-1']);
  });

  it('cuts pages through orders created in the same millisecond, by id, none missing or repeated', async () => {
    // Long before the others, so they are the oldest orders and the rest of the file is unmoved.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2001-01-01T00:00:00.000Z'));
    try {
      await s.h.line.submitOrders(
        ['T-1', 'T-5', 'T-3', 'T-4', 'T-2', 'T-7', 'T-6'].map((id) => ({
          id,
          make: 'Acme',
          model: 'Same-Instant',
          target: 'firing-pin' as const,
          firearms: [{ serial: `SN-${id}` }],
        })),
        'http',
        'erp',
      );
    } finally {
      vi.useRealTimers();
    }
    const pages = await everyPage({ q: 'same-instant', limit: '2' });
    expect(pages.map((p) => ids(p.all))).toEqual([['T-7', 'T-6'], ['T-5', 'T-4'], ['T-3', 'T-2'], ['T-1']]);
    for (const o of pages.flatMap((p) => p.all)) expect(o.createdAt).toBe('2001-01-01T00:00:00.000Z');
    const held = await s.h.line.listOrders();
    expect((await everyPage({ limit: '3' })).flatMap((p) => ids(p.all))).toEqual(ids(held));
  });

  it('answers 400 INVALID_INPUT naming each bad parameter', async () => {
    const cases: Array<[string, string]> = [
      ['?limit=0', 'limit'],
      ['?limit=1001', 'limit'],
      ['?limit=ten', 'limit'],
      ['?limit=2.5', 'limit'],
      ['?before=not-a-cursor', 'before'],
      [`?before=${Buffer.from('{"a":1}').toString('base64url')}`, 'before'],
      ['?state=shipped', 'state'],
      ['?state=engraved,lost', 'state'],
      ['?state=done', 'state'],
      ['?sort=oldest', 'sort'],
    ];
    for (const [query, param] of cases) {
      const res = await list(query);
      expect(res.statusCode, query).toBe(400);
      const body = res.json();
      expect(body.error.code, query).toBe('INVALID_INPUT');
      expect(body.error.context.in, query).toBe('query');
      expect(
        body.problems.map((p: { path: string }) => p.path),
        query,
      ).toEqual([param]);
    }
    const unknownState = (await list('?state=engraved,lost')).json();
    expect(unknownState.problems[0].reason).toContain('lost');
    // only the unknown one is named as such; engraved is a state
    expect(unknownState.problems[0].reason).toMatch(/^not an order state: lost \(/);
  });
});
