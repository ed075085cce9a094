// Complaints inbox: the appeal instance's (routed to it), an office's
// (about its authority) or all (operators), with the answer term of p.21
// and overdue flags; the appeal instance (and operators) take a complaint
// into review and answer it (p.20).
import { h, clear, field, option, fmtDate, fmtTs, table, button, setFieldError } from '../dom.js';
import { get, post } from '../api.js';
import { errorKey } from '../i18n.js';
import { announce, announceError } from '../status.js';
import { errorBox, hashQuery, pager, printButton } from '../common.js';

const STATES = ['received', 'in_review', 'answered'];

export function render(main, params, ctx, query) {
  const s = ctx.session;
  const canAnswer = s.kind === 'appeal' || s.kind === 'head' || s.kind === 'ops';
  const canPrint = s.kind === 'office';
  const state = STATES.indexOf(query.get('state')) >= 0 ? query.get('state') : '';
  main.appendChild(h('h1', { t: 'cp.title' }));
  const sf = field({ id: 'cp-state', label: 'cp.state', type: 'select',
    options: [option('', 'c.all')].concat(STATES.map((x) => option(x, 'cs.' + x))) });
  sf.input.value = state;
  const form = h('form.inline-form', { attrs: { role: 'search' } }, sf.wrap,
    h('button.btn-primary', { type: 'submit', t: 'c.search' }));
  form.addEventListener('submit', (e) => { e.preventDefault(); ctx.go(hashQuery('#/complaints', { state: sf.input.value })); });
  main.appendChild(form);
  const out = h('div', { id: 'complaints', attrs: { 'aria-busy': 'false' } });
  main.appendChild(out);

  const pg = pager(async (cursor) => {
    out.setAttribute('aria-busy', 'true');
    try {
      const r = (await get('/v1/complaints', { state, limit: 25, cursor }, { purpose: 'appeal' })).data;
      const list = r.items || [];
      clear(out);
      if (!list.length) { out.appendChild(h('p.empty', { t: 'cp.empty' })); return r.next_cursor || null; }
      const heads = ['cp.h_number', 'cp.h_state', 'cp.h_accepted', 'cp.h_due', 'cp.h_about', 'cp.h_text'];
      if (canAnswer || canPrint) heads.push('cp.h_action');
      const rows = list.map((c) => {
        const shortId = c.application_id ? c.application_id.slice(0, 8) + '…' : '';
        const about = h('div.small', null,
          c.complainant_iin ? h('div', null, h('span', { t: 'cp.complainant' }), ': ', h('span.mono', null, c.complainant_iin)) : null,
          h('div', null, h('span', { t: 'c.authority' }), ': ', c.authority_id || '—'),
          c.application_id ? h('div', { attrs: { title: c.application_id } }, ctx.can(['office', 'ops'])
            ? h('a', { href: '#/applications/' + encodeURIComponent(c.application_id), t: 'cp.app_link', targs: { id: shortId } })
            : h('span', { t: 'cp.app_link', targs: { id: shortId } })) : null,
          c.about_employee ? h('div', { t: 'cp.about_emp', targs: { name: c.about_employee } }) : null,
          c.routed && s.kind !== 'appeal' ? h('div', null, h('span', { t: 'routed.' + c.routed.kind, tfallback: c.routed.kind }), ' ' + c.routed.id) : null);
        const txt = String(c.text || '');
        const textCell = h('div', null, txt.length > 160
          ? h('details', null, h('summary', null, txt.slice(0, 150) + '…'), h('p.pre', null, txt))
          : h('p.pre', null, txt),
          c.answer_text ? h('div.answer-text', null, h('strong', { t: 'cp.answer_given' }), ' ', h('span.pre', null, c.answer_text)) : null);
        const due = h('span', null, h('strong', null, fmtDate(c.answer_due)),
          c.overdue ? [' ', h('span.badge.badge-urg-overdue', { t: 'cp.overdue' })] : null);
        const cells = [{ th: h('span.nowrap', null, c.number) }, h('span.badge.badge-cs-' + c.state, { t: 'cs.' + c.state, tfallback: c.state }),
          fmtTs(c.accepted_at), due, about, textCell];
        if (canAnswer || canPrint) {
          const acts = h('div.row-actions');
          if (canAnswer && c.state === 'received') {
            acts.appendChild(button('cp.take', (e) => take(e.currentTarget, c), { cls: 'btn-secondary', props: { id: 'take-' + c.complaint_id } }));
          }
          if (canAnswer && c.state !== 'answered') {
            acts.appendChild(button('cp.answer', (e) => openAnswer(e.currentTarget, c), { cls: 'btn-primary', props: { id: 'answer-' + c.complaint_id } }));
          }
          if (canPrint) {
            acts.appendChild(printButton('t.print', '/v1/complaints/' + encodeURIComponent(c.complaint_id) + '/ticket.pdf', { id: 'ticket-' + c.complaint_id }));
          }
          cells.push(acts);
        }
        return { cells, className: c.overdue ? 'row-overdue' : '', dataset: { complaintId: c.complaint_id, state: c.state, number: c.number } };
      });
      out.appendChild(table('cp.caption', heads, rows, { className: 'complaints' }));
      return r.next_cursor || null;
    } catch (err) {
      clear(out);
      out.appendChild(errorBox(err));
      announceError(err);
      throw err;
    } finally {
      out.setAttribute('aria-busy', 'false');
    }
  }, { id: 'cp-pager' });
  main.appendChild(pg.el);
  pg.reset();

  async function take(btn, c) {
    btn.disabled = true;
    try {
      await post('/v1/complaints/' + encodeURIComponent(c.complaint_id) + '/review');
      announce('cp.taken', { n: c.number }, 'ok');
      await pg.reload();
    } catch (err) {
      announceError(err);
      btn.disabled = false;
    }
  }

  function openAnswer(btn, c) {
    const tr = btn.closest('tr');
    const old = tr.nextElementSibling;
    if (old && old.classList.contains('answer-row')) { old.remove(); btn.focus(); return; }
    const pfx = 'ans-' + c.complaint_id;
    const text = field({ id: pfx + '-text', label: 'cp.answer_text', type: 'textarea', rows: 5, required: true,
      fieldPath: 'text', attrs: { maxlength: 20000 } });
    const send = h('button.btn-primary', { type: 'submit', id: pfx + '-send', t: 'cp.send_answer' });
    const errOut = h('div');
    const form = h('form.answer', { attrs: { novalidate: true, 'aria-labelledby': pfx + '-title' } },
      h('h3', { id: pfx + '-title', t: 'cp.answer_for', targs: { n: c.number } }), text.wrap, errOut,
      h('div.actions', null, send, button('c.cancel', () => { row.remove(); btn.focus(); }, { cls: 'btn-quiet' })));
    let busy = false;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (busy) return;
      setFieldError(text.err);
      clear(errOut);
      const body = { text: text.input.value.trim() };
      if (!body.text) { setFieldError(text.err, 'v.required'); text.input.focus(); return; }
      busy = true;
      send.disabled = true;
      try {
        await post('/v1/complaints/' + encodeURIComponent(c.complaint_id) + '/answer', body);
        announce('cp.answered', { n: c.number }, 'ok');
        await pg.reload();
      } catch (err) {
        const k = errorKey(err);
        if (err.details && err.details.field === 'text') setFieldError(text.err, k.key, k.args, k.fallback);
        errOut.appendChild(errorBox(err));
        announceError(err);
      } finally {
        busy = false;
        send.disabled = false;
      }
    });
    const row = h('tr.answer-row', null, h('td', { colSpan: tr.children.length }, form));
    tr.after(row);
    text.input.focus();
  }
}
