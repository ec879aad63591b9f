import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CSV_HEADER, CsvRowIndex, formatOrdersCsv, parseOrdersCsv } from '../../src/erp/csv.js';
import { type Order, parseOrder } from '../../src/erp/order.js';
import type { CsvProblem } from '../../src/erp/problems.js';

const H = CSV_HEADER;
const row = (
  id: string,
  serial: string,
  extra: Partial<Record<'make' | 'model' | 'caliber' | 'target' | 'destination', string>> = {},
) =>
  [
    id,
    extra.make ?? 'Acme',
    extra.model ?? 'P-9',
    extra.caliber ?? '9mm',
    serial,
    extra.target ?? '',
    extra.destination ?? '',
  ].join(',');
const file = (...lines: string[]) => `${lines.join('\n')}\n`;

function problemsOf(input: string | Uint8Array): CsvProblem[] {
  const r = parseOrdersCsv(input);
  if (r.ok) throw new Error(`expected problems, got ${JSON.stringify(r.orders)}`);
  return r.problems;
}

describe('parseOrdersCsv: valid files', () => {
  it('groups rows by order_id, in order of first appearance, with the defaults applied', () => {
    const r = parseOrdersCsv(
      file(
        H,
        row('PO-1', 'A-1'),
        row('PO-2', 'B-1', { target: 'breech-face', destination: 'FFL-9', caliber: '' }),
        row('PO-1', 'A-2'),
      ),
    );
    expect(r).toEqual({
      ok: true,
      orders: [
        {
          id: 'PO-1',
          make: 'Acme',
          model: 'P-9',
          caliber: '9mm',
          target: 'firing-pin',
          firearms: [{ serial: 'A-1' }, { serial: 'A-2' }],
        },
        {
          id: 'PO-2',
          make: 'Acme',
          model: 'P-9',
          target: 'breech-face',
          destination: 'FFL-9',
          firearms: [{ serial: 'B-1' }],
        },
      ],
      rows: [[2, 4], [3]],
    });
  });

  it('reads a BOM, CRLF line ends, quoted fields with commas, quotes and line breaks, and blank lines', () => {
    const text = `\uFEFF${H}\r\nPO-1,"Acme, Inc.","P-9 ""Compact""",9mm,A-1,,\r\n\r\n"PO-1","Acme, Inc.","P-9 ""Compact""",9mm,"A-2",firing-pin,\r\n,,,,,,\r\n`;
    const r = parseOrdersCsv(text);
    expect(r.ok && r.orders).toEqual([
      {
        id: 'PO-1',
        make: 'Acme, Inc.',
        model: 'P-9 "Compact"',
        caliber: '9mm',
        target: 'firing-pin',
        firearms: [{ serial: 'A-1' }, { serial: 'A-2' }],
      },
    ]);
    expect(r.ok && r.rows).toEqual([[2, 4]]);
  });

  it('numbers rows as a spreadsheet does when a quoted field spans two lines', () => {
    const r = parseOrdersCsv(file(H, 'PO-1,Acme,"P-9\nsecond line",9mm,A-1,,', row('PO-1', 'a-2')));
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems.map((p) => [p.row, p.field])).toEqual([
        [2, 'model'],
        [3, 'model'],
        [3, 'serial'],
      ]);
  });

  it('takes the header in any case, with spaces, in any column order, with an optional rework column', () => {
    const text = file(
      ' Serial ,ORDER_ID,make,model,caliber,target,destination,Rework',
      'A-1,PO-1,Acme,P-9,,,,yes',
      'A-2,PO-1,Acme,P-9,,,,',
      'A-3,PO-1,Acme,P-9,,,,FALSE',
    );
    const r = parseOrdersCsv(text);
    expect(r.ok && r.orders[0]!.firearms).toEqual([
      { serial: 'A-1', rework: true },
      { serial: 'A-2' },
      { serial: 'A-3' },
    ]);
  });

  it('trims spaces around values', () => {
    const r = parseOrdersCsv(file(H, ' PO-1 , Acme , P-9 , 9mm , A-1 , breech-face , FFL-1 '));
    expect(r.ok && r.orders[0]).toEqual({
      id: 'PO-1',
      make: 'Acme',
      model: 'P-9',
      caliber: '9mm',
      target: 'breech-face',
      destination: 'FFL-1',
      firearms: [{ serial: 'A-1' }],
    });
  });

  it('accepts bytes as read from disk', () => {
    const r = parseOrdersCsv(Buffer.from(file(H, row('PO-1', 'A-1', { make: 'Česká zbrojovka' }))));
    expect(r.ok && r.orders[0]!.make).toBe('Česká zbrojovka');
  });
});

describe('parseOrdersCsv: every problem by row and field', () => {
  it.each([
    ['an empty file', '', 1, /the file is empty/],
    ['a file of blank lines', '\n \r\n', 1, /the file is empty/],
    ['only a BOM', '\uFEFF', 1, /the file is empty/],
    ['only a header', file(H), 2, /a header and no firearm rows/],
    ['a header and blank rows', file(H, '', ',,,,,,'), 2, /a header and no firearm rows/],
    [
      'no header',
      file(row('PO-1', 'A-1')),
      1,
      /row 1 must be the header order_id,make,model,caliber,serial,target,destination/,
    ],
    [
      'a semicolon-separated file',
      file(H.replaceAll(',', ';'), 'PO-1;Acme;P;9;A;;'),
      1,
      /separated by ";"; this format uses commas/,
    ],
    ['a tab-separated file', file(H.replaceAll(',', '\t')), 1, /separated by tabs/],
  ])('%s', (_name, text, at, reason) => {
    const p = problemsOf(text);
    expect(p).toHaveLength(1);
    expect(p[0]!.row).toBe(at);
    expect(p[0]!.reason).toMatch(reason);
  });

  it('names each missing, unknown or repeated column of the header', () => {
    const p = problemsOf(file('order_id,make,model,serial,serial_no,target,make', 'PO-1,A,B,C,D,,A'));
    expect(p).toEqual([
      { row: 1, field: 'serial_no', reason: expect.stringMatching(/is not a column of this format/) },
      { row: 1, field: 'make', reason: 'appears twice (columns 2 and 7)' },
      { row: 1, field: 'caliber', reason: 'the header has no caliber column' },
      { row: 1, field: 'destination', reason: 'the header has no destination column' },
    ]);
  });

  it('names ragged rows, with too few or too many fields', () => {
    const p = problemsOf(file(H, row('PO-1', 'A-1'), 'PO-1,Acme,P-9,9mm,A-2', `${row('PO-1', 'A-3')},extra`));
    expect(p).toEqual([
      { row: 3, reason: 'has 5 fields; the header has 7' },
      { row: 4, reason: 'has 8 fields; the header has 7' },
    ]);
  });

  it('names bytes that are not UTF-8 by their line', () => {
    const bytes = Buffer.concat([
      Buffer.from(`${H}\n${row('PO-1', 'A-1')}\nPO-1,Ac`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('me,P-9,9mm,A-2,,\n'),
    ]);
    expect(problemsOf(bytes)).toEqual([
      { row: 3, reason: expect.stringMatching(/line 3 holds bytes that are not valid UTF-8 .*CSV UTF-8/) },
    ]);
  });

  it('recognises a UTF-16 file', () => {
    expect(problemsOf(Buffer.from(`\uFEFF${file(H, row('PO-1', 'A-1'))}`, 'utf16le'))).toEqual([
      { row: 0, reason: expect.stringMatching(/UTF-16.*CSV UTF-8/) },
    ]);
  });

  it('names a stray quote and an unclosed quote', () => {
    expect(problemsOf(file(H, row('PO-1', 'A-1'), 'PO-1,Ac"me,P-9,9mm,A-2,,', row('PO-1', 'A-3')))).toEqual([
      { row: 3, reason: expect.stringMatching(/double quote inside an unquoted field/) },
    ]);
    expect(problemsOf(file(H, row('PO-1', 'A-1'), 'PO-1,"Acme,P-9,9mm,A-2,,', row('PO-1', 'A-3')))).toEqual([
      { row: 3, reason: expect.stringMatching(/quoted field starts on this row and is never closed/) },
    ]);
  });

  it('names a row that disagrees with the first row of its order, field by field', () => {
    const p = problemsOf(
      file(
        H,
        row('PO-1', 'A-1'),
        row('PO-1', 'A-2', { model: 'P-10', caliber: '' }),
        row('PO-1', 'A-3', { target: 'breech-face', destination: 'X-1' }),
        row('PO-1', 'A-4', { target: 'firing-pin' }),
      ),
    );
    expect(p).toEqual([
      {
        row: 3,
        field: 'model',
        reason:
          '"P-10" differs from "P-9" on row 2, the first row of order "PO-1"; the rows of one order must agree',
      },
      { row: 3, field: 'caliber', reason: expect.stringMatching(/^blank differs from "9mm" on row 2/) },
      { row: 4, field: 'target', reason: expect.stringMatching(/^"breech-face" differs from "firing-pin"/) },
      { row: 4, field: 'destination', reason: expect.stringMatching(/^"X-1" differs from blank/) },
    ]);
  });

  it('names duplicate serials, within an order and across orders of the file', () => {
    const p = problemsOf(file(H, row('PO-1', 'A-1'), row('PO-1', 'A-1'), row('PO-2', 'A-1')));
    expect(p).toEqual([
      { row: 3, field: 'serial', reason: '"A-1" is also on row 2; a serial appears once in an order' },
      {
        row: 4,
        field: 'serial',
        reason: '"A-1" is also on row 2, in order "PO-1"; a serial may be in only one order',
      },
    ]);
  });

  it('applies the order rules to the fields of each row', () => {
    const p = problemsOf(
      file(
        `${H},rework`,
        `${row('PO-1', 'a-1', { make: '', target: 'pin', destination: 'ffl' })},`,
        `${row('', 'B 2')},`,
        `${row('x'.repeat(65), 'C-3')},`,
        `${row('PO-3', 'D-4', { caliber: 'c'.repeat(33) })},maybe`,
      ),
    );
    expect(p.map((x) => [x.row, x.field])).toEqual([
      [2, 'make'],
      [2, 'target'],
      [2, 'destination'],
      [2, 'serial'],
      [3, 'order_id'],
      [3, 'serial'],
      [4, 'order_id'],
      [5, 'caliber'],
      [5, 'rework'],
    ]);
    expect(p[3]!.reason).toMatch(/lower-case letters \("a-1"\); a serial is upper case only/);
    expect(p[4]!.reason).toBe('is required');
    expect(p[8]!.reason).toMatch(/must be true or false .*not "maybe"/);
  });

  it('rejects a file with one bad row among good ones, naming only that row', () => {
    const lines = [H];
    for (let i = 1; i <= 500; i++) lines.push(row('PO-1', i === 321 ? `a-${i}` : `A-${i}`));
    const r = parseOrdersCsv(file(...lines));
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems).toEqual([
        { row: 322, field: 'serial', reason: expect.stringMatching(/lower-case/) },
      ]);
  });

  it('rejects an order of more than 100,000 firearms once, at its 100,001st row', () => {
    const lines = [H];
    for (let i = 0; i <= 100_000; i++) lines.push(`PO-1,Acme,P-9,,S-${i},,`);
    const p = problemsOf(file(...lines));
    expect(p).toEqual([{ row: 100_002, reason: expect.stringMatching(/more than 100000 firearms/) }]);
  });

  it('caps the list and says how many more there are', () => {
    const lines = [H];
    for (let i = 0; i < 1000; i++) lines.push(row('PO-1', `s-${i}`));
    const r = parseOrdersCsv(file(...lines));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.total).toBe(1000);
    expect(r.problems).toHaveLength(201);
    expect(r.problems[200]).toEqual({
      row: 0,
      reason: expect.stringMatching(/^800 more problems not listed/),
    });
  });
});

describe('formatOrdersCsv', () => {
  const safeText = fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((s) => parseOrder({ id: 'X', make: s, model: 'M', firearms: [{ serial: 'A' }] }).ok);
  const order = fc.record({
    id: fc.stringMatching(/^[!-~]([ -~]{0,10}[!-~])?$/),
    make: safeText.map((s) => s.trim()),
    model: safeText.map((s) => s.trim()),
    caliber: fc.option(
      safeText.map((s) => s.trim()),
      { nil: undefined },
    ),
    target: fc.constantFrom('firing-pin' as const, 'breech-face' as const),
    destination: fc.option(fc.stringMatching(/^[A-Z0-9-]{1,32}$/), { nil: undefined }),
    serials: fc.uniqueArray(fc.stringMatching(/^[A-Z0-9-]{1,32}$/), { minLength: 1, maxLength: 5 }),
    reworks: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  });

  it('writes files that read back as the same orders', () => {
    fc.assert(
      fc.property(fc.uniqueArray(order, { minLength: 1, maxLength: 3, selector: (o) => o.id }), (gen) => {
        const used = new Set<string>();
        const orders: Order[] = gen
          .map(({ serials, reworks, caliber, destination, ...o }) => {
            const out: Order = { ...o, firearms: [] };
            if (caliber !== undefined && caliber !== '') out.caliber = caliber;
            if (destination !== undefined) out.destination = destination;
            serials.forEach((serial, i) => {
              if (used.has(serial)) return;
              used.add(serial);
              out.firearms.push(reworks[i] ? { serial, rework: true } : { serial });
            });
            return out;
          })
          .filter((o) => o.firearms.length > 0);
        if (orders.length === 0) return;
        const r = parseOrdersCsv(formatOrdersCsv(orders));
        expect(r.ok && r.orders).toEqual(
          orders.map((o) => parseOrder(o).ok && (parseOrder(o) as { order: Order }).order),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('CsvRowIndex', () => {
  it('finds the row of an order and of one of its serials', () => {
    const r = parseOrdersCsv(file(H, row('PO-1', 'A-1'), '', row('PO-2', 'B-1'), row('PO-1', 'A-2')));
    if (!r.ok) throw new Error('expected a valid file');
    const index = new CsvRowIndex(r.orders, r.rows);
    expect(index.row('PO-1')).toBe(2);
    expect(index.row('PO-1', 'A-2')).toBe(5);
    expect(index.row('PO-2', 'B-1')).toBe(4);
    expect(index.row('PO-2', 'A-1')).toBeUndefined();
    expect(index.row('PO-9')).toBeUndefined();
    expect(index.row(undefined, 'B-1')).toBe(4);
    expect(index.row(undefined, 'Z-9')).toBeUndefined();
    expect(index.row(undefined)).toBeUndefined();
  });
});
