// Statistics of the case reads, grouped by ammunition, lacquer, engraver, recipe or model: how
// legible the characters were, how often the gear ring was read, how often a case identified
// its firearm on its own, and the grades, as charts and as a table.
import { enc, get, query } from '../api.js';
import { gradeChart, shareChart } from '../charts.js';
import { h, replace } from '../dom.js';
import { GRADES, pct } from '../format.js';
import { errorSlot } from '../ui.js';

const DIMENSIONS = [
  ['ammo', 'Ammunition'],
  ['lacquer', 'Lacquer'],
  ['engraver', 'Engraver'],
  ['recipe', 'Recipe'],
  ['model', 'Model'],
];

export function mount(root, ctx) {
  const by = DIMENSIONS.some(([d]) => d === ctx.params[0]) ? ctx.params[0] : 'ammo';
  const errors = errorSlot();
  const body = h('div', { 'data-test': 'stats-body' });
  const switcher = h(
    'div',
    { class: 'switch', role: 'group', 'aria-label': 'Group reads by' },
    DIMENSIONS.map(([d, label]) =>
      h(
        'a',
        {
          href: `#/stats/${enc(d)}`,
          class: 'button',
          'aria-current': d === by ? 'true' : false,
          'data-test': `stats-by-${d}`,
        },
        label,
      ),
    ),
  );
  root.append(h('h1', { tabindex: -1 }, 'Statistics'), switcher, errors.el, body);
  const title = DIMENSIONS.find(([d]) => d === by)[1].toLowerCase();

  function render(rows) {
    if (rows.length === 0) {
      replace(body, h('p', { class: 'empty' }, 'No case has been read yet.'));
      return;
    }
    const sorted = [...rows].sort((a, b) => b.reads - a.reads || String(a.key).localeCompare(String(b.key)));
    replace(
      body,
      h(
        'div',
        { class: 'charts' },
        h(
          'figure',
          null,
          h('figcaption', null, `Cases that identified their firearm on their own, by ${title}`),
          shareChart(
            `Decode rate by ${title}`,
            sorted.map((r) => ({ label: r.key, value: r.decodeRate, note: `${r.reads} reads` })),
            'chart-decode',
          ),
        ),
        h(
          'figure',
          null,
          h('figcaption', null, `Characters legible, by ${title}`),
          shareChart(
            `Character legibility by ${title}`,
            sorted.map((r) => ({ label: r.key, value: r.charLegibility })),
            'chart-legibility',
          ),
        ),
        h(
          'figure',
          null,
          h('figcaption', null, `Gear ring read, by ${title}`),
          shareChart(
            `Gear ring read by ${title}`,
            sorted.map((r) => ({ label: r.key, value: r.gearPresent })),
            'chart-gear',
          ),
        ),
        h(
          'figure',
          null,
          h('figcaption', null, `Grades by ${title} (A best, F undecodable)`),
          gradeChart(
            `Grades by ${title}`,
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
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'list', 'data-test': 'stats-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              [
                DIMENSIONS.find(([d]) => d === by)[1],
                'Reads',
                'Characters legible',
                'Gear read',
                'Identified alone',
                'Passed',
                'Failed',
              ].map((t) => h('th', { scope: 'col' }, t)),
              GRADES.map((g) => h('th', { scope: 'col', class: 'num', title: `reads of grade ${g}` }, g)),
            ),
          ),
          h(
            'tbody',
            null,
            sorted.map((r) =>
              h(
                'tr',
                { 'data-test': 'stats-row', 'data-key': r.key },
                h('th', { scope: 'row' }, r.key),
                h('td', { class: 'num' }, String(r.reads)),
                h('td', { class: 'num' }, pct(r.charLegibility)),
                h('td', { class: 'num' }, pct(r.gearPresent)),
                h('td', { class: 'num' }, pct(r.decodeRate)),
                h('td', { class: 'num' }, String(r.verdicts?.pass ?? 0)),
                h('td', { class: 'num' }, String(r.verdicts?.fail ?? 0)),
                GRADES.map((g) => h('td', { class: 'num' }, String(r.grades?.[g] ?? 0))),
              ),
            ),
          ),
        ),
      ),
    );
  }

  let stopped = false;
  async function load() {
    try {
      const res = await get(`/api/v1/stats${query({ by })}`);
      if (!stopped) render(res.rows ?? []);
    } catch (err) {
      if (!stopped) errors.show(err, 'The statistics cannot be read');
    }
  }
  load();
  return () => {
    stopped = true;
  };
}
