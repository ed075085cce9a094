// The work list (p.7 terms): parked applications by due date, overdue
// marked; an office decides one with a note. Operators and supervisors
// only read.
import { h, clear, field, fmtDate, fmtTs, table, button, setFieldError } from '../dom.js';
import { get, post } from '../api.js';
import { errorKey } from '../i18n.js';
import { announce, announceError } from '../status.js';
import { authorities, authoritySelect, authorityName, errorBox, hashQuery } from '../common.js';

const REASONS = ['p6.citizenship', 'p6.residence', 'p6.category', 'p6.income', 'p6.orphan_age',
  'p6.need.1', 'p6.need.2', 'p6.need.3', 'p6.need.4', 'p6.need.5', 'p6.need.6',
  'p16.1', 'p16.2', 'p16.3', 'p16.4', 'p16.5'];

export function render(main, params, ctx, query) {
  const s = ctx.session;
  const canDecide = s.kind === 'office';
  const canOpen = s.kind === 'office' || s.kind === 'ops';
  let authority = s.kind === 'office' ? s.id : (query.get('authority_id') || '');
  main.appendChild(h('h1', { t: 'wl.title' }));
  main.appendChild(h('p', { t: 'wl.intro' }));
  if (!canDecide) main.appendChild(h('p.note', { t: 'app.readonly' }));
  const picker = h('div');
  const out = h('div', { id: 'worklist', attrs: { 'aria-busy': 'false' } });
  main.appendChild(picker);
  main.appendChild(out);
  let map = null;

  if (s.kind !== 'office') {
    authorities().then((m) => {
      map = m;
      const f = authoritySelect(m, { id: 'wl-authority', region: s.kind === 'supervisor' ? s.region_id : null,
        allowEmpty: true, value: authority });
      const form = h('form.inline-form', null, f.wrap, h('button.btn-primary', { type: 'submit', t: 'c.open' }));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        ctx.go(hashQuery('#/worklist', { authority_id: f.input.value }));
      });
      picker.appendChild(form);
      if (authority) load();
    }).catch(announceError);
  } else {
    authorities().then((m) => { map = m; }).catch(() => {});
    load();
  }

  async function load() {
    out.setAttribute('aria-busy', 'true');
    clear(out);
    out.appendChild(h('p', { t: 'c.loading' }));
    try {
      const r = (await get('/v1/review/' + encodeURIComponent(authority))).data;
      const items = (r.items || []).slice().sort((a, b) =>
        (a.due_date < b.due_date ? -1 : a.due_date > b.due_date ? 1 : (a.parked_at < b.parked_at ? -1 : 1)));
      clear(out);
      if (map) out.appendChild(h('p.small', null, authorityName(map, authority)));
      if (!items.length) { out.appendChild(h('p.empty', { t: 'wl.empty' })); return; }
      const heads = ['wl.h_app', 'wl.h_reason', 'wl.h_due', 'wl.h_left', 'wl.h_urgency', 'wl.h_parked'];
      if (canDecide) heads.push('wl.h_action');
      const rows = items.map((it) => {
        const app = canOpen ? h('a.mono', { href: '#/applications/' + encodeURIComponent(it.application_id) }, it.application_id)
          : h('span.mono', null, it.application_id);
        const cells = [{ th: app }, h('span', { t: 'rr.' + it.reason, tfallback: it.reason }),
          h('strong', null, fmtDate(it.due_date)), String(it.days_left),
          h('span.badge.badge-urg-' + it.urgency, { t: 'urg.' + it.urgency, tfallback: it.urgency }), fmtTs(it.parked_at)];
        if (canDecide) cells.push(button('wl.decide', (e) => openDecide(e.currentTarget, it), { cls: 'btn-secondary', props: { id: 'decide-' + it.application_id } }));
        return { cells, className: it.urgency === 'overdue' ? 'row-overdue' : '', dataset: { applicationId: it.application_id, urgency: it.urgency } };
      });
      out.appendChild(table('wl.caption', heads, rows, { className: 'worklist', captionArgs: { n: items.length } }));
    } catch (err) {
      clear(out);
      out.appendChild(errorBox(err));
      announceError(err);
    } finally {
      out.setAttribute('aria-busy', 'false');
    }
  }

  // The decision form, in a row under the item.
  function openDecide(btn, it) {
    const tr = btn.closest('tr');
    const old = tr.nextElementSibling;
    if (old && old.classList.contains('decide-row')) { old.remove(); btn.focus(); return; }
    const pfx = 'dec-' + it.application_id;
    const reg = h('input', { type: 'radio', name: pfx + '-outcome', id: pfx + '-reg', value: 'registered', checked: true });
    const ref = h('input', { type: 'radio', name: pfx + '-outcome', id: pfx + '-ref', value: 'refused' });
    const reasonBoxes = REASONS.map((c) => h('input', { type: 'checkbox', id: pfx + '-' + c.replace(/\./g, '_'), value: c }));
    const reasonsErr = h('div.field-err', { attrs: { 'aria-live': 'polite' } });
    const reasonsFs = h('fieldset.sub', { hidden: true }, h('legend', { t: 'wl.reasons' }), reasonsErr,
      h('ul.checks.checks-2', null, reasonBoxes.map((b) => h('li.check', null, b,
        h('label', { htmlFor: b.id }, h('code', null, b.value), ' ', h('span', { t: 'rsn.' + b.value }))))));
    const note = field({ id: pfx + '-note', label: 'wl.note', type: 'textarea', required: true, rows: 3, attrs: { maxlength: 2000 } });
    const toggle = () => { reasonsFs.hidden = !ref.checked; };
    reg.addEventListener('change', toggle);
    ref.addEventListener('change', toggle);
    const submit = h('button.btn-primary', { type: 'submit', id: pfx + '-send', t: 'wl.send' });
    const errOut = h('div');
    const form = h('form.decide', { attrs: { novalidate: true, 'aria-labelledby': pfx + '-title' } },
      h('h3', { id: pfx + '-title', t: 'wl.decide_for', targs: { id: it.application_id } }),
      h('fieldset.sub', null, h('legend', { t: 'wl.outcome' }),
        h('div.check.check-inline', null, reg, h('label', { htmlFor: reg.id, t: 'wl.reg' })),
        h('div.check.check-inline', null, ref, h('label', { htmlFor: ref.id, t: 'wl.ref' }))),
      reasonsFs, note.wrap, errOut,
      h('div.actions', null, submit, button('c.cancel', () => { row.remove(); btn.focus(); }, { cls: 'btn-quiet' })));
    let busy = false;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (busy) return;
      setFieldError(note.err);
      setFieldError(reasonsErr);
      clear(errOut);
      const outcome = ref.checked ? 'refused' : 'registered';
      const body = { outcome, note: note.input.value.trim() };
      if (outcome === 'refused') body.reasons = reasonBoxes.filter((b) => b.checked).map((b) => b.value);
      let bad = false;
      if (outcome === 'refused' && !body.reasons.length) { setFieldError(reasonsErr, 'v.reasons'); reasonBoxes[0].focus(); bad = true; }
      if (!body.note) { setFieldError(note.err, 'v.note'); if (!bad) note.input.focus(); bad = true; }
      if (bad) return;
      busy = true;
      submit.disabled = true;
      try {
        await post('/v1/review/' + encodeURIComponent(it.application_id) + '/decision', body);
        announce('wl.done', { id: it.application_id, o: { key: outcome === 'refused' ? 'wl.ref' : 'wl.reg' } }, 'ok');
        await load();
      } catch (err) {
        const k = errorKey(err);
        errOut.appendChild(h('div.alert.alert-error', { attrs: { role: 'alert' } }, h('span', { t: k.key, targs: k.args, tfallback: k.fallback })));
        announceError(err);
      } finally {
        busy = false;
        submit.disabled = false;
      }
    });
    const row = h('tr.decide-row', null, h('td', { colSpan: tr.children.length }, form));
    tr.after(row);
    reg.focus();
  }
}
