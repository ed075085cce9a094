// Applications list: filters, keyset pages (newest first), a row opens
// the application.
import { h, clear, field, option, fmtTs, table, setFieldError } from '../dom.js';
import { get } from '../api.js';
import { errorKey } from '../i18n.js';
import { announceError } from '../status.js';
import { pager, hashQuery, authorities, authoritySelect } from '../common.js';
import { remember } from '../cache.js';

const STATUSES = ['accepted', 'review', 'registered', 'refused'];
const CATEGORIES = ['wwii', 'vulnerable', 'public_sector', 'emergency_dwelling'];

export function render(main, params, ctx, query) {
  // operators and centres choose the authority; an office sees its own
  const pickAuthority = ctx.session.kind === 'ops' || ctx.session.kind === 'centre';
  const q = (k) => query.get(k) || '';
  const f = {
    status: field({ id: 'f-status', label: 'al.status', type: 'select', fieldPath: 'status',
      options: [option('', 'c.any')].concat(STATUSES.map((s) => option(s, 'status.' + s))) }),
    category: field({ id: 'f-category', label: 'al.category', type: 'select', fieldPath: 'category',
      options: [option('', 'c.any')].concat(CATEGORIES.map((c) => option(c, 'list.' + c))) }),
    from: field({ id: 'f-from', label: 'al.from', type: 'date', fieldPath: 'accepted_from' }),
    to: field({ id: 'f-to', label: 'al.to', type: 'date', fieldPath: 'accepted_to' }),
    q: field({ id: 'f-q', label: 'al.q', hint: 'al.q_hint', type: 'search', fieldPath: 'q', attrs: { autocomplete: 'off', maxlength: 100 } }),
    limit: field({ id: 'f-limit', label: 'c.per_page', type: 'select', fieldPath: 'limit',
      options: ['25', '50', '100', '200'].map((n) => option(n)) }),
  };
  f.status.input.value = q('status');
  f.category.input.value = q('category');
  f.from.input.value = q('accepted_from');
  f.to.input.value = q('accepted_to');
  f.q.input.value = q('q');
  f.limit.input.value = q('limit') || '50';
  const authBox = h('div');
  let authF = null;
  if (pickAuthority) {
    authorities().then((map) => {
      authF = authoritySelect(map, { id: 'f-authority', allowEmpty: true, emptyKey: 'c.any' });
      authF.input.value = q('authority_id');
      authF.err.dataset.errFor = 'authority_id';
      authBox.appendChild(authF.wrap);
    }).catch(announceError);
  }
  const form = h('form.filters.card', { id: 'filters', attrs: { role: 'search', 'aria-labelledby': 'filters-title' } },
    h('h2.visually-hidden', { id: 'filters-title', t: 'al.filters' }),
    h('div.grid.grid-filters', null, f.q.wrap, f.status.wrap, f.category.wrap, f.from.wrap, f.to.wrap, f.limit.wrap, authBox),
    h('div.actions', null,
      h('button.btn-primary', { type: 'submit', id: 'f-search', t: 'c.search' }),
      h('button.btn-secondary', { type: 'button', id: 'f-reset', t: 'c.reset', on: { click: () => ctx.go('#/applications') } })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = {
      q: f.q.input.value.trim(), status: f.status.input.value, category: f.category.input.value,
      accepted_from: f.from.input.value, accepted_to: f.to.input.value,
      limit: f.limit.input.value === '50' ? '' : f.limit.input.value,
      authority_id: authF ? authF.input.value : '',
    };
    ctx.go(hashQuery('#/applications', p));
  });

  const results = h('div.results', { id: 'app-results', attrs: { 'aria-live': 'polite', 'aria-busy': 'false' } });
  const count = h('p.small', { id: 'app-count' });
  const filters = {
    status: q('status'), category: q('category'), accepted_from: q('accepted_from'),
    accepted_to: q('accepted_to'), q: q('q'), limit: q('limit') || 50,
    authority_id: pickAuthority ? q('authority_id') : '',
  };
  const pg = pager(async (cursor) => {
    results.setAttribute('aria-busy', 'true');
    for (const x of Object.values(f)) setFieldError(x.err);
    try {
      const r = await get('/v1/applications', Object.assign({}, filters, { cursor }), { purpose: 'consultation' });
      const list = r.data.items || [];
      clear(results);
      clear(count);
      count.appendChild(h('span', { t: 'al.found', targs: { n: list.length } }));
      if (!list.length) results.appendChild(h('p.empty', { t: 'c.empty' }));
      else results.appendChild(rowsTable(list));
      return r.data.next_cursor || null;
    } catch (err) {
      clear(results);
      const k = errorKey(err);
      const path = err.details && err.details.field;
      const which = Object.values(f).find((x) => x.err.dataset.errFor === path) ||
        (path === 'authority_id' && authF) || null;
      if (which) setFieldError(which.err, k.key, k.args, k.fallback);
      results.appendChild(h('div.alert.alert-error', { attrs: { role: 'alert' } },
        h('span', { t: k.key, targs: k.args, tfallback: k.fallback })));
      announceError(err);
      throw err;
    } finally {
      results.setAttribute('aria-busy', 'false');
    }
  }, { id: 'app-pager' });

  main.appendChild(h('h1', { t: 'al.title' }));
  main.appendChild(form);
  main.appendChild(count);
  main.appendChild(results);
  main.appendChild(pg.el);
  pg.reset();
}

function rowsTable(list) {
  const rows = list.map((a) => {
    remember(a.application_id, { iin: a.applicant && a.applicant.iin, category: a.category, authority_id: a.authority_id });
    const ap = a.applicant || {};
    const name = [ap.surname, ap.given_name, ap.patronymic].filter(Boolean).join(' ');
    const link = h('a.nowrap', { href: '#/applications/' + encodeURIComponent(a.application_id) }, a.receipt_number || a.application_id);
    const qd = a.queue ? h('span', { t: 'al.queue_val', targs: { n: a.queue.number, p: a.queue.position } }) : '—';
    return {
      cells: [{ th: link }, h('span.nowrap', null, fmtTs(a.accepted_at)), name, h('span.mono', null, ap.iin || ''),
        h('span', { t: 'list.' + a.category, tfallback: a.category }),
        h('span', { t: 'channel.' + a.channel, tfallback: a.channel || '' }),
        h('span.badge.badge-status-' + a.status, { t: 'status.' + a.status, tfallback: a.status }), qd],
      dataset: { applicationId: a.application_id, status: a.status },
    };
  });
  return table('al.caption', ['al.h_number', 'al.h_accepted', 'al.h_applicant', 'al.h_iin', 'al.h_category',
    'al.h_channel', 'al.h_status', 'al.h_queue'], rows, { className: 'apps' });
}
