// The alarm journal: every alarm the line keeps, newest first, with when it was raised, who
// acknowledged it and when, and when it cleared. Follows the line's alarm events.

import { KIND_WORDS, SEVERITY_WORDS } from '../alarm-banner.js';
import { enc, get, throttle } from '../api.js';
import { h, replace } from '../dom.js';
import { plural, when } from '../format.js';
import { errorSlot } from '../ui.js';

const PAGE = 50;

function time(iso) {
  return iso ? h('time', { datetime: iso, title: iso }, when(iso)) : '–';
}

function row(a) {
  const state = a.clearedAt ? 'cleared' : 'active';
  return h(
    'tr',
    { 'data-test': 'alarm-row', 'data-alarm': a.id, 'data-kind': a.kind, 'data-state': state },
    h('td', null, String(a.id)),
    h(
      'td',
      null,
      h('span', { class: `chip alarm-chip alarm-${a.severity}` }, SEVERITY_WORDS[a.severity] ?? a.severity),
    ),
    h(
      'td',
      null,
      h('strong', null, KIND_WORDS[a.kind] ?? a.kind),
      h('br'),
      h('span', { class: 'alarm-text' }, a.message),
    ),
    h('td', { 'data-test': 'alarm-raised' }, time(a.raisedAt)),
    h(
      'td',
      { 'data-test': 'alarm-acknowledged' },
      a.acknowledgedAt ? [a.acknowledgedBy ?? '', ', ', time(a.acknowledgedAt)] : '–',
    ),
    h('td', { 'data-test': 'alarm-cleared' }, a.clearedAt ? time(a.clearedAt) : h('strong', null, 'active')),
  );
}

export function mount(root, ctx) {
  const errors = errorSlot();
  const body = h('div', { 'data-test': 'alarm-journal' });
  const more = h('button', { type: 'button', 'data-test': 'alarm-journal-more' }, 'Show older alarms');
  // The wrapper is what hides: `.actions` sets display, and a hidden button inside would still show.
  const moreWrap = h('div', { class: 'actions', hidden: true }, more);
  root.append(
    h('h1', { tabindex: -1 }, 'Alarms'),
    h(
      'p',
      { class: 'muted' },
      'An alarm clears when its cause ends; acknowledging says that someone has seen it. A store repair has no cause that could end, so acknowledging clears it.',
    ),
    errors.el,
    body,
    moreWrap,
  );

  let alarms = [];
  let next = null;

  function render() {
    const active = alarms.filter((a) => !a.clearedAt).length;
    replace(
      body,
      h(
        'p',
        { 'data-test': 'alarm-journal-count' },
        plural(alarms.length, 'alarm'),
        ' shown, ',
        plural(active, 'active alarm', 'active alarms'),
        alarms.length > 0 ? '; newest first' : '',
      ),
      alarms.length === 0
        ? null
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'list alarm-table', 'data-test': 'alarm-table' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['#', 'Severity', 'Alarm', 'Raised', 'Acknowledged', 'Cleared'].map((t) =>
                    h('th', { scope: 'col' }, t),
                  ),
                ),
              ),
              h('tbody', null, alarms.map(row)),
            ),
          ),
    );
    moreWrap.hidden = next === null;
  }

  async function load(reset) {
    try {
      const before = reset || next === null ? '' : `&before=${enc(next)}`;
      const limit = reset ? Math.max(PAGE, alarms.length) : PAGE;
      const page = await get(`/api/v1/alarms?limit=${limit}${before}`);
      alarms = reset ? page.journal : [...alarms, ...page.journal];
      next = page.next;
      errors.clear();
      render();
    } catch (err) {
      errors.show(err, 'The alarm journal could not load');
    }
  }

  more.addEventListener('click', () => load(false));
  const reload = throttle(() => load(true), 500);
  const unsubscribe = ctx.live.subscribe((type) => {
    if (type === 'alarm') reload();
  });
  load(true);
  return () => {
    unsubscribe();
    reload.cancel();
  };
}
