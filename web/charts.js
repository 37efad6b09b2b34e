// Charts drawn as inline SVG (no library): grouped horizontal bars and a line of points. Each
// chart is a figure with a caption, an SVG that screen readers read by its label, and the same
// numbers in a table under "Numbers".
import { h } from './dom.js';
import { t } from './strings.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined) el.append(c);
  return el;
}

const fmt = (v) => (v === null || v === undefined ? '–'
  : Number.isInteger(v) ? String(v) : Number(v).toFixed(3));

function numbers(labels, series) {
  return h('details', { class: 'chart-numbers' }, h('summary', {}, t('chartNumbers')),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, ''),
      series.map((x) => h('th', { scope: 'col' }, x.name)))),
    h('tbody', {}, labels.map((l, i) => h('tr', {}, h('th', { scope: 'row' }, l),
      series.map((x) => h('td', {}, fmt(x.values[i]))))))));
}

function legend(series) {
  return h('ul', { class: 'legend' }, series.map((x, k) => h('li', {},
    h('span', { class: `swatch c${k}`, 'aria-hidden': 'true' }), x.name)));
}

// Horizontal bars: one group per label, one bar per series, each series scaled to its own
// largest value when scale is 'each' (counts of different units), else to the largest of all.
export function barChart(title, labels, series, scale = 'all') {
  const rowH = 6 + 12 * series.length;
  const width = 640, left = 170, right = 60;
  const max = (vals) => Math.max(1e-9, ...vals.map((v) => Number(v) || 0));
  const all = max(series.flatMap((x) => x.values));
  const svg = s('svg', { viewBox: `0 0 ${width} ${labels.length * rowH + 4}`, role: 'img',
    'aria-label': title, class: 'chart-svg' },
  labels.map((l, i) => s('g', { transform: `translate(0 ${i * rowH + 2})` },
    s('text', { x: left - 6, y: rowH / 2 + 4, 'text-anchor': 'end', class: 'chart-label' },
      l.length > 24 ? `${l.slice(0, 23)}…` : l),
    series.map((x, k) => {
      const v = Number(x.values[i]) || 0;
      const w = ((width - left - right) * v) / (scale === 'each' ? max(x.values) : all);
      return [s('rect', { x: left, y: 3 + k * 12, width: Math.max(w, v > 0 ? 1 : 0), height: 10,
        class: `c${k}` }),
      s('text', { x: left + w + 4, y: 12 + k * 12, class: 'chart-value' }, fmt(x.values[i]))];
    }))));
  return h('figure', { class: 'chart' }, h('figcaption', {}, title), legend(series), svg,
    numbers(labels, series));
}

// Points joined by a line, left to right in the order given (values may be null: a gap).
export function lineChart(title, labels, name, values) {
  const width = 640, height = 160, pad = 36;
  const known = values.filter((v) => v !== null && v !== undefined);
  const top = Math.max(1e-9, ...known) * 1.1;
  const x = (i) => pad + (labels.length > 1 ? ((width - 2 * pad) * i) / (labels.length - 1) : 0);
  const y = (v) => height - pad + 10 - ((height - pad) * v) / top;
  const pts = values.map((v, i) => (v === null || v === undefined ? null : [x(i), y(v)]));
  const path = pts.filter(Boolean).map(([a, b], k) => `${k ? 'L' : 'M'}${a.toFixed(1)} ${b.toFixed(1)}`)
    .join(' ');
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title,
    class: 'chart-svg' },
  s('line', { x1: pad, y1: height - pad + 10, x2: width - pad, y2: height - pad + 10,
    class: 'axis' }),
  path ? s('path', { d: path, class: 'line c0' }) : null,
  pts.map((p, i) => (p ? [s('circle', { cx: p[0], cy: p[1], r: 4, class: 'c0' }),
    s('text', { x: p[0], y: p[1] - 8, 'text-anchor': 'middle', class: 'chart-value' },
      fmt(values[i]))] : null)),
  labels.map((l, i) => s('text', { x: x(i), y: height - 6, 'text-anchor': 'middle',
    class: 'chart-label' }, l)));
  return h('figure', { class: 'chart' }, h('figcaption', {}, title), svg,
    numbers(labels, [{ name, values }]));
}
