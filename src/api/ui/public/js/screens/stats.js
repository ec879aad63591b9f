// Statistics: the line's trend per day or shift (pins engraved, QA pass rate, pins scrapped)
// and the case reads grouped by ammunition, lacquer, engraver, recipe or model (how legible the
// characters were, how often the gear ring was read, how often a case identified its firearm on
// its own, and the grades), over a range of days, as charts, as tables, and as CSV files.
import { enc, get, query } from '../api.js';
import { gradeChart, seriesChart, shareChart } from '../charts.js';
import { h, replace } from '../dom.js';
import { GRADES, pct } from '../format.js';
import { errorSlot, field } from '../ui.js';

const DIMENSIONS = [
  ['ammo', 'Ammunition'],
  ['lacquer', 'Lacquer'],
  ['engraver', 'Engraver'],
  ['recipe', 'Recipe'],
  ['model', 'Model'],
];
const PERS = [
  ['day', 'Per day'],
  ['shift', 'Per shift'],
];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function table(headers, rows, attrs) {
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', { class: 'list', ...attrs }, h('thead', null, h('tr', null, headers)), h('tbody', null, rows)),
  );
}

const th = (t, attrs = {}) => h('th', { scope: 'col', ...attrs }, t);
const num = (v) => h('td', { class: 'num' }, v);

export function mount(root, ctx) {
  const by = DIMENSIONS.some(([d]) => d === ctx.params[0]) ? ctx.params[0] : 'ammo';
  const dayParam = (k) => (DAY.test(ctx.query.get(k) ?? '') ? ctx.query.get(k) : '');
  const range = { from: dayParam('from'), to: dayParam('to') };
  const per = ctx.query.get('per') === 'shift' ? 'shift' : 'day';
  const hash = (over) => {
    const q = { from: range.from, to: range.to, per: per === 'day' ? '' : per, ...over };
    return `#/stats/${enc(over.by ?? by)}${query({ from: q.from, to: q.to, per: q.per })}`;
  };
  const title = DIMENSIONS.find(([d]) => d === by)[1];

  const errors = errorSlot();
  const from = h('input', { type: 'date', value: range.from, 'data-test': 'stats-from' });
  const to = h('input', { type: 'date', value: range.to, 'data-test': 'stats-to' });
  const form = h(
    'form',
    { class: 'filters', novalidate: true, 'data-test': 'stats-range', 'aria-label': 'Days counted' },
    field('From', from),
    field('To', to),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', 'data-test': 'stats-apply' }, 'Show'),
      h('a', { class: 'button', href: `#/stats/${enc(by)}`, 'data-test': 'stats-all' }, 'All days'),
    ),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.navigate(hash({ from: from.value, to: to.value, by }));
  });

  const trendBody = h('div', { 'data-test': 'stats-trend' });
  const trendRange = h('p', { class: 'hint', 'data-test': 'stats-trend-range' });
  const trendExport = h(
    'a',
    {
      class: 'button',
      download: '',
      href: `/api/v1/stats/trend.csv${query({ ...range, per })}`,
      'data-test': 'stats-trend-export',
    },
    'Export CSV',
  );
  const perSwitch = h(
    'div',
    { class: 'switch', role: 'group', 'aria-label': 'Trend per' },
    PERS.map(([p, label]) =>
      h(
        'a',
        {
          href: hash({ per: p === 'day' ? '' : p }),
          class: 'button',
          'aria-current': p === per ? 'true' : false,
          'data-test': `stats-per-${p}`,
        },
        label,
      ),
    ),
    trendExport,
  );

  const body = h('div', { 'data-test': 'stats-body' });
  const exportLink = h(
    'a',
    {
      class: 'button',
      download: '',
      href: `/api/v1/stats.csv${query({ by, ...range })}`,
      'data-test': 'stats-export',
    },
    'Export CSV',
  );
  const switcher = h(
    'div',
    { class: 'switch', role: 'group', 'aria-label': 'Group reads by' },
    DIMENSIONS.map(([d, label]) =>
      h(
        'a',
        {
          href: hash({ by: d }),
          class: 'button',
          'aria-current': d === by ? 'true' : false,
          'data-test': `stats-by-${d}`,
        },
        label,
      ),
    ),
    exportLink,
  );
  const readsRange = h('p', { class: 'hint', 'data-test': 'stats-range-shown' });
  root.append(
    h('h1', { tabindex: -1 }, 'Statistics'),
    form,
    errors.el,
    h(
      'section',
      { 'aria-labelledby': 'stats-trend-head' },
      h('h2', { id: 'stats-trend-head' }, 'Trend'),
      perSwitch,
      trendRange,
      trendBody,
    ),
    h(
      'section',
      { 'aria-labelledby': 'stats-reads-head' },
      h('h2', { id: 'stats-reads-head' }, `Case reads by ${title.toLowerCase()}`),
      switcher,
      readsRange,
      body,
    ),
  );

  function renderTrend(res) {
    const rows = res.rows ?? [];
    trendRange.textContent = `${res.from} to ${res.to}, ${per === 'shift' ? 'per shift (early 06:00, late 14:00, night 22:00)' : 'per day'}, in the line's time zone.`;
    const short = (r) => (per === 'shift' ? `${r.day.slice(5)} ${r.shift[0].toUpperCase()}` : r.day.slice(5));
    const count = (key, word) =>
      rows.map((r) => ({ label: r.period, short: short(r), value: r[key], text: `${r[key]} ${word}` }));
    const totals = rows.reduce(
      (t, r) => ({
        engraved: t.engraved + r.engraved,
        passed: t.passed + r.passed,
        failed: t.failed + r.failed,
        scrapped: t.scrapped + r.scrapped,
      }),
      { engraved: 0, passed: 0, failed: 0, scrapped: 0 },
    );
    replace(
      trendBody,
      h(
        'div',
        { class: 'charts' },
        h(
          'figure',
          null,
          h('figcaption', null, `Pins engraved: ${totals.engraved}`),
          seriesChart('Pins engraved', count('engraved', 'engraved'), 'count', 'chart-engraved'),
        ),
        h(
          'figure',
          null,
          h(
            'figcaption',
            null,
            `QA pass rate: ${totals.passed + totals.failed === 0 ? 'no decision' : pct(totals.passed / (totals.passed + totals.failed))}`,
          ),
          seriesChart(
            'QA pass rate',
            rows.map((r) => ({
              label: r.period,
              short: short(r),
              value: r.passRate,
              text:
                r.passRate === null
                  ? 'no QA decision'
                  : `${pct(r.passRate)} (${r.passed} passed, ${r.failed} failed)`,
            })),
            'share',
            'chart-pass-rate',
          ),
        ),
        h(
          'figure',
          null,
          h('figcaption', null, `Pins scrapped: ${totals.scrapped}`),
          seriesChart('Pins scrapped', count('scrapped', 'scrapped'), 'count', 'chart-scrapped'),
        ),
      ),
      table(
        [
          th(per === 'shift' ? 'Shift' : 'Day'),
          th('Engraved', { class: 'num' }),
          th('Cases read', { class: 'num' }),
          th('Passed', { class: 'num' }),
          th('Failed', { class: 'num' }),
          th('Pass rate', { class: 'num' }),
          th('Scrapped', { class: 'num' }),
        ],
        rows.map((r) =>
          h(
            'tr',
            { 'data-test': 'stats-trend-row', 'data-key': r.period },
            h('th', { scope: 'row', title: `${r.start} to ${r.end}` }, r.period),
            num(String(r.engraved)),
            num(String(r.reads)),
            num(String(r.passed)),
            num(String(r.failed)),
            num(r.passRate === null ? '–' : pct(r.passRate)),
            num(String(r.scrapped)),
          ),
        ),
        { 'data-test': 'stats-trend-table' },
      ),
    );
  }

  function render(rows) {
    readsRange.textContent =
      range.from || range.to
        ? `Reads of ${range.from || 'the first day'} to ${range.to || 'today'}.`
        : 'Reads of every day.';
    if (rows.length === 0) {
      replace(body, h('p', { class: 'empty' }, 'No case was read on these days.'));
      return;
    }
    const lower = title.toLowerCase();
    const sorted = [...rows].sort((a, b) => b.reads - a.reads || String(a.key).localeCompare(String(b.key)));
    const share = (key) => sorted.map((r) => ({ label: r.key, value: r[key], note: `${r.reads} reads` }));
    replace(
      body,
      h(
        'div',
        { class: 'charts' },
        h(
          'figure',
          null,
          h('figcaption', null, `Cases that identified their firearm on their own, by ${lower}`),
          shareChart(`Decode rate by ${lower}`, share('decodeRate'), 'chart-decode'),
        ),
        h(
          'figure',
          null,
          h('figcaption', null, `Characters legible, by ${lower}`),
          shareChart(`Character legibility by ${lower}`, share('charLegibility'), 'chart-legibility'),
        ),
        h(
          'figure',
          null,
          h('figcaption', null, `Gear ring read, by ${lower}`),
          shareChart(`Gear ring read by ${lower}`, share('gearPresent'), 'chart-gear'),
        ),
        h(
          'figure',
          null,
          h('figcaption', null, `Grades by ${lower} (A best, F undecodable)`),
          gradeChart(
            `Grades by ${lower}`,
            sorted.map((r) => ({ label: r.key, grades: r.grades })),
            'chart-grades',
          ),
          h(
            'p',
            { class: 'legend' },
            GRADES.map((g) => h('span', { class: `key grade-${g}` }, g)),
          ),
        ),
      ),
      table(
        [
          th(title),
          ...['Reads', 'Characters legible', 'Gear read', 'Identified alone', 'Passed', 'Failed'].map((t) =>
            th(t, { class: 'num' }),
          ),
          GRADES.map((g) => th(g, { class: 'num', title: `reads of grade ${g}` })),
        ],
        sorted.map((r) =>
          h(
            'tr',
            { 'data-test': 'stats-row', 'data-key': r.key },
            h('th', { scope: 'row' }, r.key),
            num(String(r.reads)),
            num(pct(r.charLegibility)),
            num(pct(r.gearPresent)),
            num(pct(r.decodeRate)),
            num(String(r.verdicts?.pass ?? 0)),
            num(String(r.verdicts?.fail ?? 0)),
            GRADES.map((g) => num(String(r.grades?.[g] ?? 0))),
          ),
        ),
        { 'data-test': 'stats-table' },
      ),
    );
  }

  let stopped = false;
  async function load() {
    const [trend, reads] = await Promise.allSettled([
      get(`/api/v1/stats/trend${query({ ...range, per })}`),
      get(`/api/v1/stats${query({ by, ...range })}`),
    ]);
    if (stopped) return;
    if (trend.status === 'fulfilled') renderTrend(trend.value);
    if (reads.status === 'fulfilled') render(reads.value.rows ?? []);
    const failed = [trend, reads].find((r) => r.status === 'rejected');
    if (failed) errors.show(failed.reason, 'The statistics cannot be read');
  }
  load();
  return () => {
    stopped = true;
  };
}
