// Charts drawn as SVG by hand. Each axis is scaled to the data it shows, with labelled ticks, so
// that 97.1 % and 96.7 % do not look the same: a share axis starts at zero only when the data
// comes near it, and says where it starts. Each chart names itself for screen readers, each bar
// carries its number as text (not colour alone), and a table beside it holds the same figures.
import { s } from './dom.js';
import { GRADES, pct } from './format.js';

const WIDTH = 460;
const LABEL = 140;
const VALUE = 58;
const BAR = WIDTH - LABEL - VALUE - 10;
const ROW = 30;
const TOP = 22;

let chartCount = 0;

function shortLabel(text, max = 18) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The smallest of 1, 2, 2.5, 5 × 10^n at least `rough`. */
function niceStep(rough) {
  const pow = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * pow >= rough - 1e-12) return m * pow;
  return 10 * pow;
}

function decimalsOf(step) {
  return Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
}

/**
 * The axis of a chart: its ends and ticks, from the data. Shares (0..1) keep within 0..1 and
 * start at zero when the data comes within two steps of it; counts always start at zero.
 * @param {number[]} values
 * @param {'share' | 'count'} kind
 * @returns {{ lo: number, hi: number, ticks: number[], label: (v: number) => string }}
 */
export function axisFor(values, kind) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (kind === 'count') {
    const max = Math.max(0, ...finite);
    const step = max === 0 ? 1 : niceStep(Math.max(1, max / 4));
    const hi = Math.max(step, Math.ceil(max / step) * step);
    const ticks = [];
    for (let t = 0; t <= hi + step / 2; t += step) ticks.push(t);
    return { lo: 0, hi, ticks, label: (v) => String(Math.round(v)) };
  }
  const clamp = (v) => Math.max(0, Math.min(1, v));
  const min = finite.length ? clamp(Math.min(...finite)) : 0;
  const max = finite.length ? clamp(Math.max(...finite)) : 1;
  const span = max - min;
  // One value alone (or all alike) has no range to show: it stands on a whole axis.
  if (finite.length === 0 || span === 0) {
    return { lo: 0, hi: 1, ticks: [0, 0.25, 0.5, 0.75, 1], label: (v) => `${v * 100}%` };
  }
  const step = niceStep(Math.max(span / 4, 0.0005));
  let lo = Math.max(0, (Math.floor(min / step + 1e-9) - 1) * step);
  let hi = Math.min(1, Math.ceil(max / step - 1e-9) * step);
  if (hi <= max && hi < 1) hi = Math.min(1, hi + step);
  if (lo <= 2 * step) lo = 0;
  if (hi - lo < step) lo = Math.max(0, hi - step);
  const count = Math.round((hi - lo) / step);
  const every = Math.ceil((count + 1) / 6);
  const ticks = [];
  for (let i = 0; i <= count; i += every) ticks.push(lo + i * step);
  if (Math.abs(ticks.at(-1) - hi) > step / 2) ticks.push(hi);
  const d = Math.max(0, decimalsOf(step * every) - 2);
  return { lo, hi, ticks, label: (v) => `${(v * 100).toFixed(d)}%` };
}

function frame(title, rows, test, axis) {
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
    'data-axis-from': String(axis.lo),
    'data-axis-to': String(axis.hi),
    preserveAspectRatio: 'xMinYMin meet',
  });
  svg.append(s('title', { id }, `${title} (axis ${axis.label(axis.lo)} to ${axis.label(axis.hi)})`));
  for (const tick of axis.ticks) {
    const x = LABEL + ((tick - axis.lo) / (axis.hi - axis.lo)) * BAR;
    svg.append(
      s('line', { x1: x, x2: x, y1: TOP - 6, y2: height - 6, class: 'gridline' }),
      s(
        'text',
        { x, y: TOP - 10, class: 'tick', 'text-anchor': 'middle', 'data-test': 'chart-tick' },
        axis.label(tick),
      ),
    );
  }
  return svg;
}

/**
 * One bar per group for a share (0..1), on an axis scaled to the shares shown.
 * @param {string} title
 * @param {Array<{ label: string, value: number, note?: string }>} rows value is a share 0..1
 */
export function shareChart(title, rows, test) {
  const axis = axisFor(
    rows.map((r) => r.value),
    'share',
  );
  const svg = frame(title, rows.length, test, axis);
  rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    const share = Math.max(axis.lo, Math.min(axis.hi, Number.isFinite(row.value) ? row.value : 0));
    svg.append(
      s(
        'text',
        { x: LABEL - 8, y: y + ROW / 2 + 5, class: 'label', 'text-anchor': 'end' },
        s('title', null, row.label),
        shortLabel(row.label),
      ),
      s(
        'rect',
        {
          x: LABEL,
          y: y + 5,
          width: Math.max(1, ((share - axis.lo) / (axis.hi - axis.lo)) * BAR),
          height: ROW - 10,
          class: 'bar',
          'data-test': 'chart-bar',
          'data-value': String(row.value),
        },
        s('title', null, `${row.label}: ${pct(row.value)}${row.note ? ` (${row.note})` : ''}`),
      ),
      s('text', { x: LABEL + BAR + 8, y: y + ROW / 2 + 5, class: 'value' }, pct(row.value)),
    );
  });
  return svg;
}

/**
 * Stacked bars of the grades: each bar is the whole of a group's reads, so this axis is 0..100 %.
 * @param {string} title
 * @param {Array<{ label: string, grades: Record<string, number> }>} rows
 */
export function gradeChart(title, rows, test) {
  const axis = { lo: 0, hi: 1, ticks: [0, 0.25, 0.5, 0.75, 1], label: (v) => `${v * 100}%` };
  const svg = frame(title, rows.length, test, axis);
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

const T_WIDTH = 480;
const T_HEIGHT = 190;
const T_LEFT = 52;
const T_RIGHT = 10;
const T_TOP = 14;
const T_BOTTOM = 38;

/**
 * A series over time (days or shifts): one column per period on an axis scaled to the values,
 * counts from zero, shares from where the data is. A period without a value (no QA decision)
 * has no column and says so in its title.
 * @param {string} title
 * @param {Array<{ label: string, short?: string, value: number | null, text: string }>} points
 * @param {'share' | 'count'} kind
 */
export function seriesChart(title, points, kind, test) {
  chartCount += 1;
  const id = `chart-${chartCount}`;
  const axis = axisFor(
    points.map((p) => p.value).filter((v) => v !== null),
    kind,
  );
  const svg = s('svg', {
    viewBox: `0 0 ${T_WIDTH} ${T_HEIGHT}`,
    width: '100%',
    role: 'img',
    'aria-labelledby': id,
    class: 'chart series',
    'data-test': test,
    'data-axis-from': String(axis.lo),
    'data-axis-to': String(axis.hi),
    preserveAspectRatio: 'xMinYMin meet',
  });
  svg.append(s('title', { id }, `${title} (axis ${axis.label(axis.lo)} to ${axis.label(axis.hi)})`));
  const plotW = T_WIDTH - T_LEFT - T_RIGHT;
  const plotH = T_HEIGHT - T_TOP - T_BOTTOM;
  const yOf = (v) => T_TOP + plotH - ((v - axis.lo) / (axis.hi - axis.lo)) * plotH;
  for (const tick of axis.ticks) {
    const y = yOf(tick);
    svg.append(
      s('line', { x1: T_LEFT, x2: T_WIDTH - T_RIGHT, y1: y, y2: y, class: 'gridline' }),
      s(
        'text',
        { x: T_LEFT - 6, y: y + 4, class: 'tick', 'text-anchor': 'end', 'data-test': 'chart-tick' },
        axis.label(tick),
      ),
    );
  }
  const n = Math.max(1, points.length);
  const col = plotW / n;
  const every = Math.ceil(n / 8);
  points.forEach((p, i) => {
    const x = T_LEFT + i * col;
    if (p.value !== null && Number.isFinite(p.value)) {
      const v = Math.max(axis.lo, Math.min(axis.hi, p.value));
      const y = yOf(v);
      svg.append(
        s(
          'rect',
          {
            x: x + col * 0.15,
            y,
            width: Math.max(1, col * 0.7),
            height: Math.max(1, T_TOP + plotH - y),
            class: 'bar',
            'data-test': 'chart-bar',
            'data-value': String(p.value),
          },
          s('title', null, `${p.label}: ${p.text}`),
        ),
      );
    } else {
      svg.append(
        s(
          'rect',
          { x, y: T_TOP, width: col, height: plotH, class: 'none' },
          s('title', null, `${p.label}: ${p.text}`),
        ),
      );
    }
    if (i % every === 0)
      svg.append(
        s(
          'text',
          { x: x + col / 2, y: T_HEIGHT - T_BOTTOM + 16, class: 'tick', 'text-anchor': 'middle' },
          p.short ?? p.label,
        ),
      );
  });
  return svg;
}
