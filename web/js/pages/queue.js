// Queue lists (p.5) of one authority, in position order, paged; removal
// of an entry (office only) with confirmation; CSV export.
import { h, clear, field, option, fmtTs, table, button, setFieldError } from '../dom.js';
import { get, post, getBlob, saveBlob } from '../api.js';
import { errorKey, getLang } from '../i18n.js';
import { announce, announceError } from '../status.js';
import { authorities, authoritySelect, authorityName, errorBox, hashQuery, pager, todayIso } from '../common.js';
import { remember } from '../cache.js';

const LISTS = ['wwii', 'vulnerable', 'public_sector', 'emergency_dwelling'];
const REMOVAL = ['housing_provided', 'moved_away', 'false_documents', 'died', 'own_request'];

export function render(main, params, ctx, query) {
  const s = ctx.session;
  const canRemove = s.kind === 'office';
  const canOpen = s.kind === 'office' || s.kind === 'ops';
  const list = LISTS.indexOf(params[0]) >= 0 ? params[0] : 'wwii';
  const authority = s.kind === 'office' ? s.id : (query.get('authority_id') || '');
  let limit = parseInt(query.get('limit') || '25', 10);
  if (!(limit >= 1 && limit <= 500)) limit = 25;
  const qs = (extra) => hashQuery('#/queue/' + (extra.list || list), {
    authority_id: s.kind === 'office' ? '' : (extra.authority_id !== undefined ? extra.authority_id : authority),
    limit: (extra.limit || limit) === 25 ? '' : (extra.limit || limit),
  });

  main.appendChild(h('h1', { t: 'q.title' }));
  if (!canRemove) main.appendChild(h('p.note', { t: 'app.readonly' }));
  const picker = h('div');
  main.appendChild(picker);
  if (s.kind !== 'office') {
    authorities().then((m) => {
      const f = authoritySelect(m, { id: 'q-authority', region: s.kind === 'supervisor' ? s.region_id : null,
        allowEmpty: true, value: authority });
      const form = h('form.inline-form', null, f.wrap, h('button.btn-primary', { type: 'submit', t: 'c.open' }));
      form.addEventListener('submit', (e) => { e.preventDefault(); ctx.go(qs({ authority_id: f.input.value })); });
      picker.appendChild(form);
    }).catch(announceError);
  }
  if (!authority) return;

  // list tabs
  const tabs = h('ul.tabs', { attrs: { 'aria-label': '' }, ta: { 'aria-label': 'q.list' } }, LISTS.map((l) => {
    const a = h('a', { href: qs({ list: l }), t: 'tab.' + l, id: 'tab-' + l });
    if (l === list) a.setAttribute('aria-current', 'page');
    return h('li', null, a);
  }));
  main.appendChild(h('nav', { ta: { 'aria-label': 'q.list' } }, tabs));

  const lim = field({ id: 'q-limit', label: 'c.per_page', type: 'select',
    options: [5, 10, 25, 50, 100, 500].concat([5, 10, 25, 50, 100, 500].indexOf(limit) < 0 ? [limit] : [])
      .sort((a, b) => a - b).map((n) => option(String(n))) });
  lim.input.value = String(limit);
  lim.input.addEventListener('change', () => ctx.go(qs({ limit: parseInt(lim.input.value, 10) })));
  const csvB = button('q.csv', exportCsv, { cls: 'btn-secondary', props: { id: 'q-csv' } });
  const csvNote = h('span.small', { id: 'q-csv-note', attrs: { 'aria-live': 'polite' } });
  main.appendChild(h('div.toolbar', null, lim.wrap, h('div.toolbar-right', null, csvB, csvNote)));

  const out = h('div', { id: 'queue-list', dataset: { list, authority }, attrs: { 'aria-busy': 'false' } });
  main.appendChild(out);
  let map = null;
  authorities().then((m) => { map = m; }).catch(() => {});
  const base = '/v1/queue/' + encodeURIComponent(authority) + '/' + list + '/entries';

  const pg = pager(async (cursor) => {
    out.setAttribute('aria-busy', 'true');
    try {
      const r = (await get(base, { limit, cursor }, { purpose: 'consultation' })).data;
      clear(out);
      const entries = r.items || [];
      out.dataset.total = String(r.total);
      if (!entries.length) { out.appendChild(h('p.empty', { t: 'q.empty' })); return r.next_cursor || null; }
      const heads = ['q.h_pos', 'q.h_num', 'q.h_iin', 'q.h_name', 'q.h_acc'];
      if (canOpen) heads.push('q.h_app');
      if (canRemove) heads.push('q.h_act');
      const rows = entries.map((e) => {
        remember(e.application_id, { iin: e.iin, authority_id: authority });
        const cells = [{ th: String(e.position) }, String(e.number), h('span.mono', null, e.iin), e.name || '',
          h('span.nowrap', null, fmtTs(e.accepted_at))];
        if (canOpen) cells.push(h('a', { href: '#/applications/' + encodeURIComponent(e.application_id) }, h('span', { t: 'c.open' })));
        if (canRemove) cells.push(button('q.remove', (ev) => openRemove(ev.currentTarget, e), { cls: 'btn-danger-quiet', props: { id: 'remove-' + e.iin } }));
        return { cells, dataset: { iin: e.iin, number: String(e.number), position: String(e.position) } };
      });
      out.appendChild(table('q.caption', heads, rows, { className: 'queue',
        captionArgs: { list: { key: 'list.' + list }, a: map ? authorityName(map, authority) : authority, n: r.total } }));
      return r.next_cursor || null;
    } catch (err) {
      clear(out);
      out.appendChild(errorBox(err));
      announceError(err);
      throw err;
    } finally {
      out.setAttribute('aria-busy', 'false');
    }
  }, { id: 'q-pager' });
  main.appendChild(pg.el);
  pg.reset();

  async function exportCsv() {
    csvB.disabled = true;
    clear(csvNote);
    try {
      const r = await getBlob(base + '.csv', { purpose: 'export', query: { lang: getLang() } });
      const name = 'kezek-' + authority + '-' + list + '-' + todayIso() + '.csv';
      saveBlob(r.blob, name);
      csvB.dataset.csvType = r.type;
      csvB.dataset.csvSize = String(r.blob.size);
      csvNote.appendChild(h('span', { t: 'q.csv_done', targs: { f: name, n: r.blob.size } }));
      announce('q.csv_done', { f: name, n: r.blob.size }, 'ok');
    } catch (err) {
      const k = errorKey(err);
      csvNote.appendChild(h('span.error-text', { t: k.key, targs: k.args, tfallback: k.fallback }));
      announceError(err);
    } finally {
      csvB.disabled = false;
    }
  }

  function openRemove(btn, e) {
    const tr = btn.closest('tr');
    const old = tr.nextElementSibling;
    if (old && old.classList.contains('remove-row')) { old.remove(); btn.focus(); return; }
    const pfx = 'rm-' + e.iin;
    const reason = field({ id: pfx + '-reason', label: 'q.reason', type: 'select', required: true, fieldPath: 'reason',
      options: [option('', 'c.choose')].concat(REMOVAL.map((x) => option(x, 'rm.' + x))) });
    const date = field({ id: pfx + '-date', label: 'q.date', type: 'date', required: true, fieldPath: 'date',
      value: todayIso(), attrs: { max: todayIso() } });
    const errOut = h('div');
    const confirmB = h('button.btn-danger', { type: 'submit', id: pfx + '-confirm', t: 'q.confirm' });
    const form = h('form.remove', { attrs: { novalidate: true, 'aria-labelledby': pfx + '-title' } },
      h('h3', { id: pfx + '-title', t: 'q.remove_for', targs: { name: e.name || '', iin: e.iin, num: e.number } }),
      h('p.warn', { t: 'q.remove_warn' }),
      h('div.grid', null, reason.wrap, date.wrap), errOut,
      h('div.actions', null, confirmB, button('c.cancel', () => { row.remove(); btn.focus(); }, { cls: 'btn-quiet' })));
    let busy = false;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (busy) return;
      setFieldError(reason.err);
      setFieldError(date.err);
      clear(errOut);
      if (!reason.input.value) { setFieldError(reason.err, 'v.required'); reason.input.focus(); return; }
      if (!date.input.value) { setFieldError(date.err, 'v.required'); date.input.focus(); return; }
      if (date.input.value > todayIso()) { setFieldError(date.err, 'v.date_future'); date.input.focus(); return; }
      busy = true;
      confirmB.disabled = true;
      try {
        const r = (await post(base + '/' + encodeURIComponent(e.iin) + '/removal',
          { reason: reason.input.value, date: date.input.value })).data;
        announce('q.removed', { num: r.number, pos: r.last_position }, 'ok');
        await pg.reload();
      } catch (err) {
        const k = errorKey(err);
        const f = { reason, date }[err.details && err.details.field];
        if (f) setFieldError(f.err, k.key, k.args, k.fallback);
        errOut.appendChild(errorBox(err));
        announceError(err);
      } finally {
        busy = false;
        confirmB.disabled = false;
      }
    });
    const row = h('tr.remove-row', null, h('td', { colSpan: tr.children.length }, form));
    tr.after(row);
    reason.input.focus();
  }
}
