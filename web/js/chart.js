// A small SVG chart drawn by hand: bars (a count) and a line (a percent,
// 0–100) per month. It is an image with a title and a description; the
// same numbers are always given as a table beside it.
import { t } from './i18n.js';

const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// points: [{label, bar: number|null, line: number|null}]
// opts: {titleKey, descKey, barKey, lineKey, id}
export function barLineChart(points, opts) {
  const W = 760, H = 280, L = 48, R = 48, T = 20, B = 44;
  const pw = W - L - R, ph = H - T - B;
  const maxBar = Math.max(1, ...points.map((p) => p.bar || 0));
  const niceMax = nice(maxBar);
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', class: 'chart',
    'aria-labelledby': opts.id + '-t ' + opts.id + '-d', id: opts.id, preserveAspectRatio: 'xMidYMid meet' });
  const title = el('title', { id: opts.id + '-t' }, t(opts.titleKey));
  title.dataset.i18n = opts.titleKey;
  const desc = el('desc', { id: opts.id + '-d' }, t(opts.descKey));
  desc.dataset.i18n = opts.descKey;
  svg.appendChild(title);
  svg.appendChild(desc);

  // grid and axes
  for (let i = 0; i <= 4; i++) {
    const y = T + ph - (ph * i) / 4;
    svg.appendChild(el('line', { x1: L, x2: L + pw, y1: y, y2: y, class: 'grid' }));
    svg.appendChild(el('text', { x: L - 6, y: y + 4, 'text-anchor': 'end', class: 'tick' }, String(Math.round((niceMax * i) / 4))));
    svg.appendChild(el('text', { x: L + pw + 6, y: y + 4, 'text-anchor': 'start', class: 'tick tick-line' }, (25 * i) + '%'));
  }
  svg.appendChild(el('line', { x1: L, x2: L + pw, y1: T + ph, y2: T + ph, class: 'axis' }));

  const n = points.length || 1;
  const step = pw / n;
  const bw = Math.max(6, step * 0.55);
  const linePts = [];
  points.forEach((p, i) => {
    const cx = L + step * i + step / 2;
    if (p.bar !== null && p.bar !== undefined) {
      const hgt = (ph * p.bar) / niceMax;
      svg.appendChild(el('rect', { x: cx - bw / 2, y: T + ph - hgt, width: bw, height: Math.max(0, hgt), class: 'bar' }));
    }
    svg.appendChild(el('text', { x: cx, y: T + ph + 16, 'text-anchor': 'middle', class: 'tick' }, p.label));
    if (p.line !== null && p.line !== undefined) linePts.push([cx, T + ph - (ph * Math.min(100, Math.max(0, p.line))) / 100]);
    else linePts.push(null);
  });
  // the line, broken where a month has no value
  let d = '';
  let pen = false;
  for (const pt of linePts) {
    if (!pt) { pen = false; continue; }
    d += (pen ? 'L' : 'M') + pt[0].toFixed(1) + ' ' + pt[1].toFixed(1) + ' ';
    pen = true;
  }
  if (d) svg.appendChild(el('path', { d, class: 'line' }));
  for (const pt of linePts) if (pt) svg.appendChild(el('circle', { cx: pt[0], cy: pt[1], r: 3.5, class: 'dot' }));

  // legend
  const ly = H - 10;
  svg.appendChild(el('rect', { x: L, y: ly - 9, width: 12, height: 10, class: 'bar' }));
  const lb = el('text', { x: L + 18, y: ly, class: 'legend' }, t(opts.barKey));
  lb.dataset.i18n = opts.barKey;
  svg.appendChild(lb);
  svg.appendChild(el('line', { x1: L + 260, x2: L + 280, y1: ly - 4, y2: ly - 4, class: 'line' }));
  const ll = el('text', { x: L + 286, y: ly, class: 'legend' }, t(opts.lineKey));
  ll.dataset.i18n = opts.lineKey;
  svg.appendChild(ll);
  return svg;
}

// The smallest 4 × (1, 2 or 5 × 10^k) that is at least v: whole ticks.
function nice(v) {
  const raw = Math.max(1, v / 4);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return 4 * m * p;
  return 4 * raw;
}
