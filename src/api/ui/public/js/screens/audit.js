// The audit trail, for supervisors and admins: who did what to which thing, filtered, with the
// before and after of each change, and a check that the hash chain is unbroken.
import { get, query } from '../api.js';
import { h, replace } from '../dom.js';
import { plural, sourceOf, when } from '../format.js';
import { busy, errorSlot, field } from '../ui.js';

function isoOf(local) {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function json(value) {
  return value === null || value === undefined ? '' : JSON.stringify(value, null, 2);
}

export function mount(root, ctx) {
  const errors = errorSlot();
  const input = (name, attrs = {}) =>
    h('input', {
      name,
      autocomplete: 'off',
      spellcheck: 'false',
      value: ctx.query.get(name) ?? '',
      'data-test': `audit-${name}`,
      ...attrs,
    });
  const actor = input('actor', { placeholder: 'alice, erp, line' });
  const action = input('action', { placeholder: 'order.start' });
  const subject = input('subject', { placeholder: 'order:A-17' });
  const from = input('from', { type: 'datetime-local' });
  const to = input('to', { type: 'datetime-local' });
  const limit = input('limit', { type: 'number', min: 1, max: 1000, value: ctx.query.get('limit') ?? '100' });
  const search = h('button', { type: 'submit', class: 'primary', 'data-test': 'audit-search' }, 'Show');
  const verify = h('button', { type: 'button', 'data-test': 'audit-verify' }, 'Verify the trail');
  // The entries shown, as a file: the same filters, asked of the CSV route when clicked.
  const exportLink = h(
    'a',
    { class: 'button', download: '', href: '/api/v1/audit.csv', 'data-test': 'audit-export' },
    'Export CSV',
  );
  const verdict = h('div', { 'data-test': 'audit-verify-result', 'aria-live': 'polite' });
  const body = h('div', { 'data-test': 'audit-entries' });
  const form = h(
    'form',
    { class: 'filters', novalidate: true, 'data-test': 'audit-form' },
    field('Actor', actor),
    field('Action', action),
    field('Subject', subject),
    field('From', from),
    field('To', to),
    field('At most', limit),
    h('div', { class: 'actions' }, search),
  );
  root.append(
    h('div', { class: 'screen-head' }, h('h1', { tabindex: -1 }, 'Audit trail'), exportLink, verify),
    verdict,
    form,
    errors.el,
    body,
  );

  /** A case read from an image says so, with what the person corrected of the reader's read. */
  function readNote(e) {
    if (e.action !== 'qa.read' || e.after?.source !== 'image') return null;
    return h('span', { class: 'hint', 'data-test': 'audit-read-source' }, sourceOf(e.after));
  }

  function render(entries) {
    const sorted = [...entries].sort((a, b) => b.seq - a.seq);
    replace(
      body,
      h('p', null, plural(sorted.length, 'entry', 'entries'), sorted.length > 0 ? ', newest first' : ''),
      sorted.length === 0
        ? null
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'list audit-list', 'data-test': 'audit-table' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['#', 'When', 'Actor', 'Action', 'Subject', 'Reason', 'Change'].map((t) =>
                    h('th', { scope: 'col' }, t),
                  ),
                ),
              ),
              h(
                'tbody',
                null,
                sorted.map((e) =>
                  h(
                    'tr',
                    { 'data-test': 'audit-row', 'data-seq': String(e.seq) },
                    h('td', { class: 'num' }, String(e.seq)),
                    h('td', { title: e.time, class: 'audit-when' }, when(e.time)),
                    h('td', { class: 'mono', title: e.actor }, e.actor),
                    h('td', { class: 'mono', title: e.action }, e.action),
                    h('td', { class: 'mono', title: e.subject }, e.subject),
                    h('td', { class: 'audit-reason', title: e.reason ?? '' }, e.reason ?? '', readNote(e)),
                    h(
                      'td',
                      null,
                      e.before != null || e.after != null
                        ? h(
                            'details',
                            null,
                            h('summary', { 'data-test': 'audit-change' }, 'Before and after'),
                            h(
                              'div',
                              { class: 'change' },
                              h('pre', null, json(e.before)),
                              h('pre', null, json(e.after)),
                            ),
                          )
                        : '',
                    ),
                  ),
                ),
              ),
            ),
          ),
    );
  }

  async function load() {
    errors.clear();
    const params = {
      actor: actor.value.trim(),
      action: action.value.trim(),
      subject: subject.value.trim(),
      from: isoOf(from.value),
      to: isoOf(to.value),
      limit: limit.value.trim(),
    };
    exportLink.href = `/api/v1/audit.csv${query(params)}`;
    try {
      const res = await busy(search, () => get(`/api/v1/audit${query(params)}`));
      render(res.entries ?? []);
    } catch (err) {
      replace(body);
      errors.show(err, 'The trail cannot be read');
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  verify.addEventListener('click', async () => {
    replace(verdict);
    try {
      const res = await busy(verify, () => get('/api/v1/audit/verify'));
      replace(
        verdict,
        res.ok
          ? h(
              'p',
              { class: 'advice ok', role: 'status', 'data-test': 'audit-verified' },
              h('strong', null, 'The trail verifies. '),
              `${plural(res.count, 'entry', 'entries')}, chained without a gap; last hash `,
              h('code', null, String(res.head ?? '').slice(0, 16)),
              '…',
            )
          : h(
              'p',
              { class: 'advice bad', role: 'alert', 'data-test': 'audit-broken' },
              h('strong', null, `The trail is broken at entry ${res.firstBad?.seq}. `),
              `${res.firstBad?.reason ?? ''} (segment ${res.firstBad?.segment}, line ${res.firstBad?.line}); ${plural(res.count, 'entry', 'entries')} before it verify.`,
            ),
      );
    } catch (err) {
      errors.show(err, 'The trail cannot be verified');
    }
  });
  load();
}
