// Records: find firearms by serial, code or order, and read one firearm's whole history: every
// code it carried (voided ones too), every read of every case, the verdicts, and its certificate.
import { enc, get, query } from '../api.js';
import { h, replace } from '../dom.js';
import { asCode, FIREARM_STATE_WORDS, groupCode, plural, sourceOf, when } from '../format.js';
import {
  chip,
  errorSlot,
  facts,
  field,
  firearmHistory,
  itemHeading,
  pinFigures,
  registryStatus,
} from '../ui.js';
import { identifyPanel } from './identify.js';

const KINDS = [
  ['serial', 'Serial'],
  ['code', 'Code'],
  ['order', 'Order'],
];
const VERDICT_WORDS = { pending: 'pending', pass: 'pass', fail: 'fail' };
const GEAR_TEETH = 88;
const RESULT_LIMIT = 500;

export function mount(root, ctx) {
  return ctx.params[0] ? mountRecord(root, ctx, ctx.params[0]) : mountSearch(root, ctx);
}

function table(headers, rows, attrs = {}) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'list', ...attrs },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          headers.map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', null, rows),
    ),
  );
}

function verdictOf(rec) {
  const status = rec.verdict?.status ?? rec.firearm?.qa?.result;
  return status ? chip(status, VERDICT_WORDS) : '';
}

/**
 * Whether a read identified its firearm. Under ca-4075 a case is judged as the registry would
 * (docs/qa.md): a read of a code that policy passed, or has not failed yet, identified it there,
 * though on its own, against all 2^40 codes, it may not have.
 */
function identifiesCell(r, code, rec) {
  if (r.decode?.matches) return 'yes';
  const qa = code?.current ? (rec.verdict ?? rec.firearm?.qa) : code?.qa;
  const status = qa?.status ?? qa?.result;
  if (qa?.policy === 'ca-4075' && status && status !== 'fail' && r.decode?.ok) return 'at the registry';
  return 'no';
}

function mountSearch(root, ctx) {
  const errors = errorSlot();
  const kind = h(
    'select',
    { 'data-test': 'records-kind' },
    KINDS.map(([v, t]) => h('option', { value: v, selected: ctx.query.get('by') === v }, t)),
  );
  const value = h('input', {
    type: 'search',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 64,
    value: ctx.query.get('q') ?? '',
    'data-test': 'records-query',
  });
  const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'records-search' }, 'Search');
  const results = h('div', { 'data-test': 'records-results' });
  const form = h(
    'form',
    { class: 'filters', novalidate: true, role: 'search' },
    field('Search by', kind),
    field('Serial, code or order id', value),
    h('div', { class: 'actions' }, submit),
  );
  root.append(h('h1', { tabindex: -1 }, 'Records'), form, errors.el, results);

  async function search() {
    errors.clear();
    const by = kind.value;
    let q = value.value.trim();
    if (!q) {
      errors.show({ code: 'INVALID_INPUT', message: 'type what to look for' }, 'No search');
      value.focus();
      return;
    }
    if (by === 'serial') q = q.toUpperCase();
    if (by === 'code') {
      const code = asCode(q);
      if (!code) {
        errors.show(
          {
            code: 'INVALID_INPUT',
            message: 'a code has 10 characters of 0-9 and A-Z (without I, L, O, U), with or without the dash',
          },
          'No search',
        );
        value.focus();
        return;
      }
      q = code;
    }
    history.replaceState(null, '', `#/records${query({ by, q })}`);
    try {
      const res = await get(`/api/v1/records${query({ [by]: q })}`);
      const found = res.results ?? [];
      if (found.length === 1 && by !== 'order') {
        ctx.navigate(`#/records/${enc(found[0].firearm.serial)}`);
        return;
      }
      replace(
        results,
        found.length === 0
          ? h('p', { class: 'empty', 'data-test': 'records-none' }, 'Nothing found.')
          : [
              h(
                'div',
                { class: 'screen-head' },
                h(
                  'p',
                  null,
                  plural(found.length, 'firearm'),
                  found.length > RESULT_LIMIT
                    ? `; the first ${RESULT_LIMIT} are listed, the file holds all`
                    : '',
                ),
                h(
                  'a',
                  {
                    class: 'button',
                    download: '',
                    href: `/api/v1/records.csv${query({ [by]: q })}`,
                    'data-test': 'records-export',
                  },
                  'Export CSV',
                ),
              ),
              table(
                ['Serial', 'Order', 'Make and model', 'State', 'Code', 'Voided', 'Verdict'],
                found.slice(0, RESULT_LIMIT).map((r) =>
                  h(
                    'tr',
                    { 'data-test': 'record-row', 'data-serial': r.firearm.serial },
                    h(
                      'td',
                      null,
                      h(
                        'a',
                        {
                          href: `#/records/${enc(r.firearm.serial)}`,
                          class: 'mono',
                          'data-test': 'record-link',
                        },
                        r.firearm.serial,
                      ),
                    ),
                    h('td', null, h('a', { href: `#/orders/${enc(r.order.id)}`, class: 'mono' }, r.order.id)),
                    h('td', null, `${r.order.make} ${r.order.model}`),
                    h('td', null, chip(r.firearm.state, FIREARM_STATE_WORDS)),
                    h('td', { class: 'mono code' }, groupCode(r.firearm.code?.text)),
                    h(
                      'td',
                      { class: 'num' },
                      r.firearm.voided?.length ? String(r.firearm.voided.length) : '',
                    ),
                    h('td', null, verdictOf(r)),
                  ),
                ),
                { 'data-test': 'records-table' },
              ),
            ],
      );
    } catch (err) {
      replace(results);
      errors.show(err, 'The search failed');
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    search();
  });
  if (ctx.can('identify')) root.append(identifyPanel());
  if (value.value) search();
  value.focus();
  ctx.focused = true;
}

function mountRecord(root, ctx, serial) {
  const errors = errorSlot();
  const body = h('div');
  root.append(
    ...itemHeading({
      listHref: '#/records',
      listLabel: 'Records',
      test: 'back-to-records',
      kind: 'Firearm',
      name: serial,
    }),
    errors.el,
    body,
  );

  function render(rec) {
    const { order, firearm: f, reads = [], verdict } = rec;
    const codes = [
      ...(f.voided ?? []).map((v) => ({ ...v, current: false })),
      ...(f.code ? [{ ...f.code, current: true }] : []),
    ].sort((a, b) => String(a.allocatedAt).localeCompare(String(b.allocatedAt)));
    const codeOfIndex = new Map(codes.map((c) => [c.index, c]));
    replace(
      body,
      h(
        'div',
        { class: 'record-head' },
        facts(
          [
            ['Make and model', `${order.make} ${order.model}`],
            ['Caliber', order.caliber ?? 'not given'],
            ['Order', h('a', { href: `#/orders/${enc(order.id)}` }, order.id)],
            ['Destination dealer licence', order.destination ?? 'not given'],
            ['State', chip(f.state, FIREARM_STATE_WORDS)],
            [
              'Current code',
              f.code
                ? h('span', { class: 'mono code', 'data-test': 'record-code' }, groupCode(f.code.text))
                : 'none',
            ],
            ['Verdict', h('span', { 'data-test': 'record-verdict' }, verdictOf(rec) || 'none yet')],
            verdict?.reason ? ['Why', verdict.reason] : null,
            f.rework ? ['Rework', 'yes'] : null,
            f.engravedAt ? ['Engraved', when(f.engravedAt)] : null,
            ['Registry', registryStatus(f)],
          ],
          { 'data-test': 'record-facts' },
        ),
        f.code ? pinFigures(f.serial) : null,
      ),
      h(
        'p',
        { class: 'links' },
        h(
          'a',
          {
            class: 'button',
            href: `/certificates/firearms/${enc(f.serial)}`,
            target: '_blank',
            rel: 'noopener',
            'data-test': 'record-certificate',
          },
          'Certificate',
        ),
        ' ',
        ctx.can('qa.read') && f.state === 'engraved'
          ? h('a', { class: 'button', href: `#/qa/${enc(f.serial)}`, 'data-test': 'record-qa' }, 'QA station')
          : null,
      ),
      h('h2', null, 'Codes'),
      table(
        ['Code', 'Status', 'Allocated', 'Voided', 'Reason', 'Pin'],
        codes.map((c) =>
          h(
            'tr',
            { 'data-test': 'record-code-row', 'data-current': String(c.current) },
            h('td', { class: 'mono code' }, groupCode(c.text)),
            h('td', null, c.current ? 'current' : chip('voided')),
            h('td', null, when(c.allocatedAt)),
            h('td', null, c.current ? '' : when(c.voidedAt)),
            h('td', null, c.reason ?? ''),
            h('td', null, c.current ? '' : c.pinScrapped ? 'scrapped' : 'not marked'),
          ),
        ),
        { 'data-test': 'record-codes' },
      ),
      h('h2', null, `Reads (${reads.length})`),
      reads.length === 0
        ? h('p', { class: 'empty' }, 'No case read yet.')
        : table(
            [
              '#',
              'When',
              'By',
              'Code read',
              'Text read',
              'Source',
              'Gear',
              'Ammunition',
              'Round',
              'Decodes to',
              'Grade',
              'Identifies',
            ],
            reads.map((r) => {
              const code = codeOfIndex.get(r.code?.index);
              const illegible = r.decode?.illegibleTeeth;
              return h(
                'tr',
                { 'data-test': 'record-read', class: code && !code.current ? 'voided-row' : '' },
                h('td', { class: 'num' }, String(r.id)),
                h('td', { title: r.at }, when(r.at)),
                h('td', null, r.by),
                h('td', { class: 'mono' }, groupCode(r.code?.text), code && !code.current ? ' (voided)' : ''),
                h('td', { class: 'mono' }, r.text ?? ''),
                h('td', { 'data-test': 'record-read-source' }, sourceOf(r)),
                h('td', null, r.gear ? `${GEAR_TEETH - (illegible ?? 0)}/${GEAR_TEETH}` : 'not read'),
                h('td', null, r.ammo?.brand ?? '', r.ammo?.lacquered ? ', lacquered' : ''),
                h('td', { class: 'num' }, r.round ?? ''),
                h('td', { class: 'mono' }, r.decode?.ok ? groupCode(r.decode.text) : 'not decoded'),
                h('td', null, h('span', { class: `grade grade-${r.decode?.grade}` }, r.decode?.grade ?? '')),
                h('td', null, identifiesCell(r, code, rec)),
              );
            }),
            { 'data-test': 'record-reads' },
          ),
      h('h2', null, 'History'),
      firearmHistory(f.history, { 'data-test': 'record-history' }),
    );
  }

  let stopped = false;
  async function load() {
    try {
      const rec = await get(`/api/v1/records/${enc(serial)}`);
      if (!stopped) render(rec);
    } catch (err) {
      if (!stopped) errors.show(err, `The record of ${serial} cannot be read`);
    }
  }
  const unsubscribe = ctx.live.subscribe((type, data) => {
    const s = data?.serial ?? data?.firearm?.serial ?? data?.read?.serial;
    if ((type === 'firearm' || type === 'qa') && s === serial) load();
  });
  load();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
