import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS, type Order, orderSchema, parseOrder, parseOrders, sameOrder } from '../../src/erp/order.js';

const base = () => ({
  id: 'PO-2024-0001',
  make: 'Acme Arms',
  model: 'P-9 Compact',
  caliber: '9mm Luger',
  firearms: [{ serial: 'AC-000001' }, { serial: 'AC-000002' }],
});

function problemsOf(input: unknown): Array<{ path: string; reason: string }> {
  const r = parseOrder(input);
  if (r.ok) throw new Error(`expected problems, got a valid order ${JSON.stringify(r.order)}`);
  return r.problems;
}

function onlyProblem(input: unknown): { path: string; reason: string } {
  const p = problemsOf(input);
  expect(p).toHaveLength(1);
  return p[0]!;
}

describe('parseOrder: a valid order', () => {
  it('is normalised: descriptive text trimmed, target defaulted, blank optionals left out', () => {
    const r = parseOrder({ ...base(), make: '  Acme Arms ', caliber: '   ', destination: '' });
    expect(r).toEqual({
      ok: true,
      order: {
        id: 'PO-2024-0001',
        make: 'Acme Arms',
        model: 'P-9 Compact',
        target: 'firing-pin',
        firearms: [{ serial: 'AC-000001' }, { serial: 'AC-000002' }],
      },
    });
    if (r.ok) expect(Object.keys(r.order)).not.toContain('caliber');
  });

  it('keeps caliber, breech-face target, destination and rework marks', () => {
    const r = parseOrder({
      ...base(),
      target: 'breech-face',
      destination: '1-23-456-78-9A-12345',
      firearms: [{ serial: 'A-1', rework: true }, { serial: 'A-2', rework: false }, { serial: 'A-3' }],
    });
    expect(r.ok && r.order).toMatchObject({
      caliber: '9mm Luger',
      target: 'breech-face',
      destination: '1-23-456-78-9A-12345',
      firearms: [{ serial: 'A-1', rework: true }, { serial: 'A-2' }, { serial: 'A-3' }],
    });
  });

  it('treats null optional fields as absent', () => {
    const r = parseOrder({
      ...base(),
      caliber: null,
      target: null,
      destination: null,
      firearms: [{ serial: 'X', rework: null }],
    });
    expect(r.ok && r.order).toEqual({
      id: 'PO-2024-0001',
      make: 'Acme Arms',
      model: 'P-9 Compact',
      target: 'firing-pin',
      firearms: [{ serial: 'X' }],
    });
  });

  it('accepts the limits exactly: 64-character id, 32-character serial, 100,000 firearms, any-language make', () => {
    const firearms = Array.from({ length: LIMITS.firearms }, (_, i) => ({ serial: `S-${i}` }));
    firearms[0] = { serial: 'Z'.repeat(32) };
    const r = parseOrder({ ...base(), id: '~'.repeat(64), make: 'Česká zbrojovka', firearms });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.order.firearms).toHaveLength(LIMITS.firearms);
  });

  it('accepts any printable ASCII in an id, including inner spaces', () => {
    expect(parseOrder({ ...base(), id: 'PO #17/b (rush) {x}' }).ok).toBe(true);
  });
});

describe('parseOrder: each rule names the field and the reason', () => {
  it('rejects something that is not an object', () => {
    for (const input of [null, 42, 'order', [base()]]) {
      expect(onlyProblem(input)).toMatchObject({
        path: '',
        reason: expect.stringMatching(/must be a JSON object/),
      });
    }
  });

  it.each([
    [{ id: undefined }, 'id', /is required/],
    [{ id: 17 }, 'id', /must be a string, not a number/],
    [{ id: '' }, 'id', /must not be empty/],
    [{ id: 'x'.repeat(65) }, 'id', /at most 64 characters; this one has 65/],
    [{ id: 'PO-é' }, 'id', /"é" \(U\+00E9\) at position 4.*printable ASCII/],
    [{ id: 'PO\t1' }, 'id', /control character \(U\+0009\) at position 3/],
    [{ id: ' PO-1' }, 'id', /must not begin or end with a space/],
    [{ id: 'PO-1 ' }, 'id', /must not begin or end with a space/],
    [{ make: undefined }, 'make', /is required/],
    [{ make: '   ' }, 'make', /must not be empty/],
    [{ make: ['Acme'] }, 'make', /must be a string, not an array/],
    [{ model: 'M'.repeat(65) }, 'model', /at most 64 characters; this one has 65/],
    [{ model: 'P9\nX' }, 'model', /control character \(U\+000A\)/],
    [{ model: 'P\uFFFD9' }, 'model', /not valid UTF-8/],
    [{ caliber: 'c'.repeat(33) }, 'caliber', /at most 32 characters/],
    [{ caliber: 9 }, 'caliber', /must be a string/],
    [{ target: 'pin' }, 'target', /must be "firing-pin" or "breech-face", not "pin"/],
    [{ target: 'Firing-Pin' }, 'target', /must be "firing-pin" or "breech-face"/],
    [{ destination: '1-23-abc' }, 'destination', /lower-case.*upper case only/],
    [{ destination: '1 23' }, 'destination', /a space \(U\+0020\) at position 2/],
    [{ destination: 'D'.repeat(33) }, 'destination', /at most 32 characters/],
    [{ firearms: undefined }, 'firearms', /is required/],
    [{ firearms: { serial: 'A' } }, 'firearms', /must be an array/],
    [{ firearms: [] }, 'firearms', /at least 1 firearm/],
    [{ colour: 'black' }, 'colour', /is not a field of an order/],
    [{ 'odd key': 1 }, '["odd key"]', /is not a field of an order/],
  ])('%j → %s', (change, path, reason) => {
    const p = onlyProblem({ ...base(), ...change });
    expect(p.path).toBe(path);
    expect(p.reason).toMatch(reason);
  });

  it.each([
    [[{ serial: 'A' }, 'B'], 'firearms[1]', /must be an object like \{"serial"/],
    [[{ serial: 'A' }, {}], 'firearms[1].serial', /is required/],
    [[{ serial: 7 }], 'firearms[0].serial', /must be a string, not a number/],
    [[{ serial: '' }], 'firearms[0].serial', /must not be empty/],
    [
      [{ serial: 'ab-1' }],
      'firearms[0].serial',
      /lower-case letters \("ab-1"\); a serial is upper case only/,
    ],
    [[{ serial: 'AB 1' }], 'firearms[0].serial', /a space \(U\+0020\) at position 3/],
    [[{ serial: 'AB_1' }], 'firearms[0].serial', /"_" \(U\+005F\) at position 3/],
    [[{ serial: 'S'.repeat(33) }], 'firearms[0].serial', /at most 32 characters; this one has 33/],
    [
      [{ serial: 'A' }, { serial: 'B' }, { serial: 'A' }],
      'firearms[2].serial',
      /already the serial of firearms\[0\]/,
    ],
    [[{ serial: 'A', rework: 'yes' }], 'firearms[0].rework', /must be true or false, not a string/],
    [[{ serial: 'A', colour: 'red' }], 'firearms[0].colour', /is not a field of a firearm/],
  ])('firearms %j → %s', (firearms, path, reason) => {
    const p = onlyProblem({ ...base(), firearms });
    expect(p.path).toBe(path);
    expect(p.reason).toMatch(reason);
  });

  it('rejects more than 100,000 firearms', () => {
    const firearms = Array.from({ length: LIMITS.firearms + 1 }, (_, i) => ({ serial: `S-${i}` }));
    expect(onlyProblem({ ...base(), firearms })).toMatchObject({
      path: 'firearms',
      reason: expect.stringMatching(/at most 100000 firearms; this one has 100001/),
    });
  });

  it('lists every problem of an order at once, in field order', () => {
    const p = problemsOf({
      id: '',
      make: 3,
      model: '',
      caliber: 'c'.repeat(40),
      target: 'x',
      destination: 'abc',
      extra: true,
      firearms: [{ serial: 'ok-lower' }, { serial: 'GOOD' }, { serial: 'GOOD' }, { serial: 'A', rework: 1 }],
    });
    expect(p.map((x) => x.path)).toEqual([
      'id',
      'make',
      'model',
      'caliber',
      'target',
      'destination',
      'extra',
      'firearms[0].serial',
      'firearms[2].serial',
      'firearms[3].rework',
    ]);
  });

  it('caps a huge list, says how many more, and still counts them all', () => {
    const firearms = Array.from({ length: LIMITS.firearms }, (_, i) => ({ serial: `s-${i}` }));
    const r = parseOrder({ ...base(), firearms });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.total).toBe(LIMITS.firearms);
    expect(r.problems).toHaveLength(201);
    expect(r.problems[199]!.path).toBe('firearms[199].serial');
    expect(r.problems[200]).toEqual({
      path: 'firearms',
      reason: expect.stringMatching(/^99800 more problems not listed \(only the first 200 are\)/),
    });
    const all = parseOrder({ ...base(), firearms }, { maxProblems: 0 });
    expect(!all.ok && all.problems).toHaveLength(LIMITS.firearms);
  });

  it('gives problems that survive a JSON answer unchanged', () => {
    const r = parseOrder({ ...base(), id: '\u0000', firearms: [{ serial: '"<x>"' }] });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(JSON.parse(JSON.stringify(r.problems))).toEqual(r.problems);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        const r = parseOrder(x);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('id', 'make', 'model', 'target', 'firearms', 'caliber'), fc.anything()),
        (x) => {
          parseOrder(x);
        },
      ),
    );
  });
});

describe('the zod schema and parseOrder', () => {
  const serial = fc.oneof(
    fc.stringMatching(/^[A-Z0-9-]{1,32}$/),
    fc.constantFrom('', 'ab', 'A B', 'S'.repeat(33), 'É'),
  );
  const lengths = [32, 33, 64, 65].map((n) => 'M'.repeat(n));
  const text = fc.oneof(
    fc.string({ maxLength: 70 }),
    fc.constantFrom('  ', 'Acme', ' Česká ', 'a\tb', 'x\uFFFD', ` ${'M'.repeat(64)} `, ...lengths),
  );
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const order = fc.record(
    {
      id: fc.oneof(
        fc.string({ maxLength: 70 }),
        fc.constantFrom('PO-1', ' PO', 'é', 'x'.repeat(64), 'x'.repeat(65)),
      ),
      make: text,
      model: text,
      caliber: maybe(fc.oneof(text, fc.constant(null))),
      target: maybe(fc.constantFrom('firing-pin', 'breech-face', '', 'pin', null)),
      destination: maybe(fc.constantFrom('1-23-456', '', 'abc', null, 'D'.repeat(33))),
      firearms: fc.array(
        fc.record(
          { serial, rework: maybe(fc.constantFrom(true, false, null, 'yes')) },
          { requiredKeys: ['serial'] },
        ),
        { maxLength: 6 },
      ),
    },
    { requiredKeys: ['id', 'make', 'model', 'firearms'] },
  );

  it('agree on which orders are valid', () => {
    fc.assert(
      fc.property(order, (o) => {
        expect(parseOrder(o).ok).toBe(orderSchema.safeParse(o).success);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseOrders (a JSON file of several orders)', () => {
  it('finds a serial that is in two orders and an id used twice', () => {
    const r = parseOrders([
      base(),
      { ...base(), id: 'PO-2', firearms: [{ serial: 'B-1' }, { serial: 'AC-000002' }] },
      { ...base(), firearms: [{ serial: 'C-1' }] },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      {
        path: '[1].firearms[1].serial',
        reason: expect.stringMatching(/also in order \[0\] \(firearms\[1\]\)/),
      },
      { path: '[2].id', reason: expect.stringMatching(/also the id of \[0\]/) },
    ]);
  });

  it('prefixes problems with the index of the order', () => {
    const r = parseOrders([base(), { ...base(), id: 'PO-2', make: '' }]);
    expect(!r.ok && r.problems).toEqual([{ path: '[1].make', reason: 'must not be empty' }]);
  });

  it('takes a single object as one order', () => {
    const r = parseOrders(base());
    expect(r.ok && r.orders.map((o) => o.id)).toEqual(['PO-2024-0001']);
  });
});

describe('sameOrder', () => {
  const a = (parseOrder(base()) as { order: Order }).order;
  it('is true for an equal order and false for any difference', () => {
    expect(sameOrder(a, structuredClone(a))).toBe(true);
    expect(sameOrder(a, { ...a, model: 'X' })).toBe(false);
    expect(sameOrder(a, { ...a, firearms: [a.firearms[0]!, { serial: 'AC-000002', rework: true }] })).toBe(
      false,
    );
    expect(sameOrder(a, { ...a, firearms: a.firearms.slice(1) })).toBe(false);
  });
});
