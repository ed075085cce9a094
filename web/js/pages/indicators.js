// Appendix 4 indicators (p.18, p.19) for a period and scope, a 12-month
// chart with its table, a breakdown by region or authority, and the sizes
// of an authority's queue lists. Read-only for every principal.
import { h, clear, field, option, fmtDate, fmtTs, table, button } from '../dom.js';
import { get } from '../api.js';
import { announceError } from '../status.js';
import { authorities, authorityName, errorBox, hashQuery, todayIso } from '../common.js';
import { barLineChart } from '../chart.js';

const IND = ['1.1', '2.1', '3.1', '3.2', '4.1', '5.1'];
const LISTS = ['wwii', 'vulnerable', 'public_sector', 'emergency_dwelling'];

export function render(main, params, ctx, query) {
  const s = ctx.session;
  const sup = s.kind === 'supervisor';
  const today = todayIso();
  const p = {
    from: query.get('from') || today.slice(0, 4) + '-01-01',
    to: query.get('to') || today,
    region_id: sup ? s.region_id : (query.get('region_id') || ''),
    authority_id: query.get('authority_id') || '',
  };
  main.appendChild(h('h1', { t: 'in.title' }));
  main.appendChild(h('p.note', { t: 'app.readonly' }));
  const formBox = h('div');
  main.appendChild(formBox);
  const summary = h('section.card', { id: 'ind-summary', attrs: { 'aria-busy': 'true' } });
  const trend = h('section.card', { id: 'ind-trend', attrs: { 'aria-labelledby': 'trend-title' } });
  const breakdown = h('section.card', { id: 'ind-breakdown' });
  const sizes = h('section.card', { id: 'ind-sizes' });
  const pipe = h('section.card', { id: 'ind-pipeline', hidden: true });
  main.appendChild(summary);
  main.appendChild(trend);
  main.appendChild(breakdown);
  main.appendChild(sizes);
  main.appendChild(pipe);
  let stopped = false;

  authorities().then((map) => {
    if (stopped) return;
    buildForm(map);
    loadSummary(map);
    loadTrend();
    buildBreakdown(map);
    loadSizes(map);
    loadPipeline(map);
  }).catch((err) => { formBox.appendChild(errorBox(err)); announceError(err); });

  function buildForm(map) {
    const from = field({ id: 'in-from', label: 'in.from', type: 'date', value: p.from, required: true });
    const to = field({ id: 'in-to', label: 'in.to', type: 'date', value: p.to, required: true });
    const region = field({ id: 'in-region', label: 'c.region', type: 'select',
      options: [option('', 'in.all_regions')].concat(map.regions.map((r) => h('option', { value: r.id }, r.id + ' — ' + (r.short_name || r.name)))) });
    region.input.value = p.region_id;
    if (sup) region.input.disabled = true;
    const auth = field({ id: 'in-authority', label: 'c.authority', type: 'select' });
    const fillAuth = () => {
      clear(auth.input);
      auth.input.appendChild(option('', 'in.all_authorities'));
      const reg = map.regions.find((r) => r.id === region.input.value);
      for (const a of reg ? reg.authorities : []) auth.input.appendChild(h('option', { value: a.id }, a.id + ' — ' + a.name));
      auth.input.disabled = !reg;
    };
    fillAuth();
    auth.input.value = p.authority_id;
    region.input.addEventListener('change', fillAuth);
    const form = h('form.filters.card', { attrs: { 'aria-labelledby': 'in-scope' } },
      h('h2', { id: 'in-scope', t: 'in.scope' }),
      h('div.grid.grid-filters', null, from.wrap, to.wrap, region.wrap, auth.wrap),
      h('div.actions', null, h('button.btn-primary', { type: 'submit', id: 'in-show', t: 'in.show' })));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      ctx.go(hashQuery('#/indicators', { from: from.input.value, to: to.input.value,
        region_id: sup ? '' : region.input.value, authority_id: auth.input.value }));
    });
    formBox.appendChild(form);
  }

  function scopeArgs() {
    if (p.authority_id) return { key: 'in.scope_authority', id: p.authority_id };
    if (p.region_id) return { key: 'in.scope_region', id: p.region_id };
    return { key: 'in.scope_national' };
  }

  async function fetchInd(q) {
    return (await get('/v1/ops/indicators', q)).data;
  }

  async function loadSummary() {
    summary.appendChild(h('p', { t: 'c.loading' }));
    try {
      const d = await fetchInd({ from: p.from, to: p.to, region_id: p.region_id, authority_id: p.authority_id });
      clear(summary);
      const sc = scopeArgs();
      const rows = IND.map((k) => {
        const v = (d.indicators || {})[k] || {};
        let ok;
        if (v.value === null || v.value === undefined) ok = h('span.badge.badge-muted', { t: 'in.no_data' });
        else if (v.normative === null || v.normative === undefined || v.value >= v.normative) ok = h('span.badge.badge-ok', { t: 'in.ok' });
        else ok = h('span.badge.badge-warn', { t: 'in.below' });
        return { cells: [{ th: h('span', { t: 'ind.' + k }) }, h('strong', null, pct(v.value)), pct(v.normative), pct(v.target), ok],
          dataset: { indicator: k } };
      });
      summary.appendChild(table('in.caption', ['in.h_ind', 'in.h_value', 'in.h_norm', 'in.h_target', 'in.h_ok'], rows,
        { className: 'indicators', captionArgs: { from: fmtDate(d.from || p.from), to: fmtDate(d.to || p.to),
          scope: { key: sc.key, args: { id: sc.id } } } }));
      summary.appendChild(h('p', { id: 'ind-apps', t: 'in.apps', targs: { n: d.indicators ? d.indicators.applications : 0 } }));
    } catch (err) {
      clear(summary);
      summary.appendChild(errorBox(err));
      announceError(err);
    } finally {
      summary.setAttribute('aria-busy', 'false');
    }
  }

  async function loadTrend() {
    trend.appendChild(h('h2', { id: 'trend-title', t: 'in.trend' }));
    trend.appendChild(h('p.small', { t: 'in.trend_desc' }));
    const progress = h('p.small', { attrs: { 'aria-live': 'polite' } });
    trend.appendChild(progress);
    const months = lastMonths(today, 12);
    const results = new Array(months.length).fill(null);
    let done = 0, failed = null;
    await pool(months.map((m, i) => async () => {
      try {
        const d = await fetchInd({ from: m.from, to: m.to, region_id: p.region_id, authority_id: p.authority_id });
        results[i] = d.indicators || {};
      } catch (err) { failed = failed || err; }
      done++;
      if (stopped) return;
      clear(progress);
      progress.appendChild(h('span', { t: 'in.loading_months', targs: { n: done } }));
    }), 3);
    if (stopped) return;
    clear(progress);
    if (failed) { trend.appendChild(errorBox(failed)); return; }
    const points = months.map((m, i) => ({
      label: m.label,
      bar: results[i] ? results[i].applications || 0 : null,
      line: results[i] && results[i]['1.1'] ? results[i]['1.1'].value : null,
    }));
    const wrap = h('div.chart-wrap');
    wrap.appendChild(barLineChart(points, { id: 'trend-chart', titleKey: 'in.trend_caption', descKey: 'in.trend_desc',
      barKey: 'in.legend_apps', lineKey: 'in.legend_11' }));
    trend.appendChild(h('div.trend', null, wrap,
      table('in.trend_caption', ['in.h_month', 'in.h_apps', 'in.h_11'],
        points.map((pt) => [{ th: pt.label }, pt.bar === null ? '—' : String(pt.bar), pct(pt.line)]),
        { className: 'trend-table compact' })));
  }

  function buildBreakdown(map) {
    if (p.authority_id) { breakdown.hidden = true; return; }
    const byRegion = !p.region_id;
    const units = byRegion
      ? map.regions.map((r) => ({ id: r.id, name: r.short_name || r.name, q: { region_id: r.id } }))
      : ((map.regions.find((r) => r.id === p.region_id) || {}).authorities || []).map((a) => ({ id: a.id, name: a.name, q: { region_id: p.region_id, authority_id: a.id } }));
    const titleKey = byRegion ? 'in.breakdown_regions' : 'in.breakdown_authorities';
    breakdown.appendChild(h('h2', { t: titleKey }));
    const out = h('div', { attrs: { 'aria-live': 'polite' } });
    const load = async () => {
      b.disabled = true;
      clear(out);
      out.appendChild(h('p', { t: 'c.loading' }));
      const rows = new Array(units.length);
      await pool(units.map((u, i) => async () => {
        try {
          const d = await fetchInd(Object.assign({ from: p.from, to: p.to }, u.q));
          const ind = d.indicators || {};
          const href = hashQuery('#/indicators', Object.assign({ from: p.from, to: p.to }, sup ? { authority_id: u.q.authority_id } : u.q));
          rows[i] = { cells: [{ th: h('a', { href }, u.id + ' — ' + u.name) }, String(ind.applications || 0)]
            .concat(IND.map((k) => pct(ind[k] && ind[k].value))), dataset: { unit: u.id } };
        } catch (err) {
          rows[i] = { cells: [{ th: u.id + ' — ' + u.name }, errorBox(err)].concat(IND.map(() => '')) };
        }
      }), 3);
      if (stopped) return;
      clear(out);
      out.appendChild(table(titleKey, ['in.h_unit', 'in.h_apps'].concat(IND.map((k) => 'in.h_' + k.replace('.', ''))), rows,
        { className: 'breakdown compact' }));
      b.disabled = false;
    };
    const b = button('c.refresh', load, { cls: 'btn-quiet', props: { id: 'in-breakdown' } });
    breakdown.appendChild(out);
    breakdown.appendChild(b);
    load();
  }

  async function loadSizes(map) {
    if (!p.authority_id) { sizes.hidden = true; return; } // the pipeline's table has every list
    sizes.appendChild(h('h2', { t: 'in.sizes' }));
    const rows = await Promise.all(LISTS.map(async (l) => {
      try {
        const d = (await get('/v1/queue/' + encodeURIComponent(p.authority_id) + '/' + l + '/entries', { limit: 1 })).data;
        return { cells: [{ th: h('span', { t: 'list.' + l }) }, h('strong', null, String(d.total))], dataset: { list: l, total: String(d.total) } };
      } catch (err) {
        return { cells: [{ th: h('span', { t: 'list.' + l }) }, errorBox(err)] };
      }
    }));
    if (stopped) return;
    sizes.appendChild(table('in.sizes_caption', ['q.list', 'in.h_apps'], rows,
      { className: 'sizes compact', captionArgs: { a: authorityName(map, p.authority_id) } }));
  }

  // GET /v1/ops/pipeline: the consumers' lag and dead letters (operators)
  // and every list's size in scope; left out when the service has none.
  async function loadPipeline(map) {
    let d;
    try {
      d = (await get('/v1/ops/pipeline')).data;
    } catch (err) {
      if (err.status === 404 || err.status === 403) return;
      pipe.hidden = false;
      pipe.appendChild(errorBox(err));
      return;
    }
    if (stopped) return;
    pipe.hidden = false;
    pipe.appendChild(h('h2', { t: 'in.pipeline' }));
    if (d.consumers) {
      pipe.appendChild(table('in.pipe_caption', ['in.h_consumer', 'in.h_offset', 'in.h_lag', 'in.h_dead', 'in.h_updated'],
        d.consumers.map((x) => ({
          cells: [{ th: h('code', null, x.consumer) }, String(x.offset), x.lag > 0 ? h('strong.error-text', null, String(x.lag)) : '0',
            x.dead_letters > 0 ? h('span.badge.badge-urg-overdue', null, String(x.dead_letters)) : '0', fmtTs(x.updated_at)],
          dataset: { consumer: x.consumer, lag: String(x.lag), dead: String(x.dead_letters) } })),
        { className: 'pipeline compact' }));
    }
    const regionOf = (a) => (map.byId[a] || {}).region_id;
    const lists = (d.lists || []).filter((l) => (!p.authority_id || l.authority_id === p.authority_id) &&
      (!p.region_id || regionOf(l.authority_id) === p.region_id));
    pipe.appendChild(table('in.lists_caption', ['c.authority', 'q.list', 'in.h_active', 'in.h_last'],
      lists.map((l) => ({ cells: [{ th: h('span', null, l.authority_id + ' — ' + authorityName(map, l.authority_id)) },
        h('span', { t: 'list.' + l.list, tfallback: l.list }), String(l.active), String(l.last_number)],
      dataset: { authority: l.authority_id, list: l.list, active: String(l.active) } })),
      { className: 'pipeline-lists compact' }));
  }

  return () => { stopped = true; };
}

function pct(v) {
  if (v === null || v === undefined || v === '') return '—';
  return (Math.round(Number(v) * 10) / 10).toFixed(1);
}

// [{from, to, label}] for the n months ending with this one.
function lastMonths(today, n) {
  let y = +today.slice(0, 4), m = +today.slice(5, 7);
  const out = [];
  for (let i = 0; i < n; i++) {
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const mm = String(m).padStart(2, '0');
    const to = i === 0 ? today : `${y}-${mm}-${last}`;
    out.unshift({ from: `${y}-${mm}-01`, to, label: mm + '.' + String(y).slice(2) });
    m -= 1;
    if (m === 0) { m = 12; y -= 1; }
  }
  return out;
}

// Runs the tasks with at most `size` at a time (an old office PC and the
// server both prefer a few requests to a burst).
async function pool(tasks, size) {
  let i = 0;
  const worker = async () => { while (i < tasks.length) { const k = i++; await tasks[k](); } };
  await Promise.all(Array.from({ length: Math.min(size, tasks.length) }, worker));
}
