// Bar charts drawn as SVG by hand: one bar per group for a share (0..1), and stacked bars for the
// grades. Each chart names itself for screen readers, each bar carries its number as text (not
// colour alone), and the table beside it holds the same figures.
import { s } from './dom.js';
import { GRADES, pct } from './format.js';

const WIDTH = 460;
const LABEL = 140;
const VALUE = 52;
const BAR = WIDTH - LABEL - VALUE - 10;
const ROW = 30;
const TOP = 22;

let chartCount = 0;

function shortLabel(text, max = 18) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function frame(title, rows, test) {
  chartCount += 1;
  const id = `chart-${chartCount}`;
  const height = TOP + rows * ROW + 8;
  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${height}`,
    width: '100%',
    role: 'img',
    'aria-labelledby': id,
    class: 'chart',
    'data-test': test,
    preserveAspectRatio: 'xMinYMin meet',
  });
  svg.append(s('title', { id }, title));
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const x = LABEL + tick * BAR;
    svg.append(
      s('line', { x1: x, x2: x, y1: TOP - 6, y2: height - 6, class: 'gridline' }),
      s('text', { x, y: TOP - 10, class: 'tick', 'text-anchor': 'middle' }, `${tick * 100}%`),
    );
  }
  return svg;
}

/**
 * @param {string} title
 * @param {Array<{ label: string, value: number, note?: string }>} rows value is a share 0..1
 */
export function shareChart(title, rows, test) {
  const svg = frame(title, rows.length, test);
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    const share = Math.max(0, Math.min(1, Number.isFinite(row.value) ? row.value : 0));
    svg.append(
      s(
        'text',
        { x: LABEL - 8, y: y + ROW / 2 + 5, class: 'label', 'text-anchor': 'end' },
        s('title', null, row.label),
        shortLabel(row.label),
      ),
      s(
        'rect',
        { x: LABEL, y: y + 5, width: Math.max(1, share * BAR), height: ROW - 10, class: 'bar' },
        s('title', null, `${row.label}: ${pct(row.value)}${row.note ? ` (${row.note})` : ''}`),
      ),
      s('text', { x: LABEL + BAR + 8, y: y + ROW / 2 + 5, class: 'value' }, pct(row.value)),
    );
  });
  return svg;
}

/**
 * @param {string} title
 * @param {Array<{ label: string, grades: Record<string, number> }>} rows
 */
export function gradeChart(title, rows, test) {
  const svg = frame(title, rows.length, test);
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    const total = GRADES.reduce((n, g) => n + (row.grades?.[g] ?? 0), 0);
    svg.append(
      s(
        'text',
        { x: LABEL - 8, y: y + ROW / 2 + 5, class: 'label', 'text-anchor': 'end' },
        s('title', null, row.label),
        shortLabel(row.label),
      ),
    );
    let x = LABEL;
    for (const g of GRADES) {
      const n = row.grades?.[g] ?? 0;
      if (n === 0 || total === 0) continue;
      const w = (n / total) * BAR;
      svg.append(
        s(
          'rect',
          { x, y: y + 5, width: w, height: ROW - 10, class: `seg grade-${g}` },
          s('title', null, `${row.label}: ${n} read(s) of grade ${g} (${pct(n / total)})`),
        ),
      );
      if (w >= 18)
        svg.append(
          s(
            'text',
            { x: x + w / 2, y: y + ROW / 2 + 5, class: `seg-label grade-${g}`, 'text-anchor': 'middle' },
            g,
          ),
        );
      x += w;
    }
    svg.append(s('text', { x: LABEL + BAR + 8, y: y + ROW / 2 + 5, class: 'value' }, `${total}`));
  });
  return svg;
}
