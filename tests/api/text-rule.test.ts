/**
 * One rule for free text from every source: a lone surrogate, a control character, a
 * bidirectional override or an invisible character is refused naming the field, and text is
 * stored in NFC. The API (orders, QA reads, reasons) and the CSV reader apply the same rule.
 */
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, parseOrdersCsv } from '../../src/erp/csv.js';
import { textRuleProblem } from '../../src/text-rule.js';
import { engrave, useStation } from './support.js';

const s = useStation({ per: 'file', markingTimeMs: 0 });

function postOrder(raw: string) {
  return s.api.app.inject({
    method: 'POST',
    url: '/api/v1/orders',
    headers: { ...s.api.as('token erp'), 'content-type': 'application/json' },
    payload: raw,
  });
}

const order = (id: string, fields: Record<string, string>) =>
  JSON.stringify({ id, make: 'Acme', model: 'P1', firearms: [{ serial: `${id}-1` }], ...fields });

describe('the text rule', () => {
  it.each([
    ['a lone surrogate', '\ud800', 'lone surrogate'],
    ['a right-to-left override', 'Ac\u202eme', 'U+202E'],
    ['a zero-width space', 'Ac\u200bme', 'invisible formatting character (U+200B)'],
    ['a byte-order mark', '\ufeffAcme', 'byte-order mark (U+FEFF)'],
    ['a first-strong isolate', 'Ac\u2068me', 'U+2068'],
    ['a control character', 'Ac\u0007me', 'control character (U+0007)'],
    ['a replacement character', 'Ac\ufffdme', 'U+FFFD'],
  ])('refuses %s, naming it', (_what, text, named) => {
    expect(textRuleProblem(text)).toContain(named);
  });

  it('takes any language, accents and emoji', () => {
    for (const t of ['Heckler & Koch', 'Česká zbrojovka', 'Пистолет Макарова', '南部式', 'Glock 🔫']) {
      expect(textRuleProblem(t), t).toBeUndefined();
    }
  });
});

describe('through the API', () => {
  it('an order whose make holds a lone surrogate is refused naming make, and nothing is stored', async () => {
    // JSON.stringify writes the lone surrogate as the escape \ud800, as a client would send it.
    const res = await postOrder(order('T-1', { make: 'Acme\ud800' }));
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('ORDER_INVALID');
    expect(res.json().problems).toEqual([
      { path: 'make', reason: expect.stringContaining('lone surrogate') },
    ]);
    expect((await s.h.line.listOrders()).map((o) => o.id)).not.toContain('T-1');
  });

  it('an order whose caliber holds a bidirectional override is refused naming caliber', async () => {
    const res = await postOrder(order('T-2', { caliber: '9mm\u202e' }));
    expect(res.statusCode).toBe(400);
    expect(res.json().problems[0]).toMatchObject({ path: 'caliber' });
  });

  it('text is stored in NFC: a decomposed é arrives composed', async () => {
    const res = await postOrder(order('T-3', { make: 'Ce\u0301ska' }));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().make).toBe('C\u00e9ska');
  });

  it('a QA read whose ammunition brand holds an invisible character is refused naming ammo.brand', async () => {
    await engrave(s, 'T-QA', ['T-QA-1']);
    const res = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/qa/reads',
      headers: s.api.as('token qa'),
      payload: { serial: 'T-QA-1', text: '??????????', ammo: { brand: 'Fed\u200deral', lacquered: false } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('QA_INVALID_READ');
    expect(res.json().problems).toEqual([{ path: 'ammo.brand', reason: expect.stringContaining('U+200D') }]);
  });

  it('a reason with a right-to-left override is refused naming reason', async () => {
    const res = await s.api.app.inject({
      method: 'POST',
      url: '/api/v1/orders/T-3/pause',
      headers: s.api.as('token operator'),
      payload: { reason: 'jam\u202e' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().problems).toEqual([{ path: 'reason', reason: expect.stringContaining('U+202E') }]);
  });
});

describe('through the CSV reader', () => {
  it('refuses a make with a bidirectional override, naming the row and the field', () => {
    const parsed = parseOrdersCsv(`${CSV_HEADER}\nPO-1,Ac\u202eme,P-9,9mm,A-1,,\n`);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toEqual([
      expect.objectContaining({ row: 2, field: 'make', reason: expect.stringContaining('U+202E') }),
    ]);
  });

  it('stores text in NFC', () => {
    const parsed = parseOrdersCsv(`${CSV_HEADER}\nPO-1,Ce\u0301ska,P-9,9mm,A-1,,\n`);
    expect(parsed.ok && parsed.orders[0]!.make).toBe('C\u00e9ska');
  });
});
