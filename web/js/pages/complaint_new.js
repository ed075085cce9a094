// Filing a complaint for a citizen (p.20–p.24) and its ticket (p.25).
import { h, clear, field, fmtDate, fmtTs, dl, button, setFieldError } from '../dom.js';
import { post, newKey } from '../api.js';
import { t, errorKey } from '../i18n.js';
import { announce, announceError } from '../status.js';
import { iinField, printButton, authorities, authoritySelect } from '../common.js';
import { iinValid, iinMessage } from '../iin.js';

let saved = null;
export function forget() { saved = null; }

export function render(main, params, ctx) {
  if (!saved || saved.principal !== ctx.session.principal) saved = build(ctx);
  main.appendChild(saved.root);
}

function build(ctx) {
  const s = ctx.session;
  const st = { key: newKey(), sending: false, atts: [] };
  const iin = iinField({ id: 'cp-iin', label: 'cp.iin', required: true, fieldPath: 'complainant_iin' });
  const appId = field({ id: 'cp-app', label: 'cp.app_id', hint: 'cp.app_hint', fieldPath: 'application_id',
    attrs: { maxlength: 64, autocomplete: 'off', spellcheck: 'false' } });
  const about = field({ id: 'cp-about', label: 'cp.about', fieldPath: 'about_employee', attrs: { maxlength: 300, autocomplete: 'off' } });
  // p.20: about the head of the authority → the appeal instance;
  // about another employee → the head
  const aboutHead = h('input', { type: 'checkbox', id: 'cp-about-head' });
  const aboutHeadWrap = h('div', null, h('div.check', null, aboutHead, h('label', { htmlFor: 'cp-about-head', t: 'cp.about_head' })),
    h('div.hint', { t: 'cp.about_head_hint' }));
  const text = field({ id: 'cp-text', label: 'cp.text', type: 'textarea', rows: 6, required: true, fieldPath: 'text', wide: true,
    attrs: { maxlength: 20000 } });
  const authBox = h('div');
  let authF = null;
  if (s.kind !== 'office') {
    authorities().then((m) => {
      authF = authoritySelect(m, { id: 'cp-authority', label: 'cp.authority', allowEmpty: true });
      authF.err.dataset.errFor = 'authority_id';
      const hint = h('div.hint', { t: 'cp.authority_hint' });
      authF.input.parentNode.insertBefore(hint, authF.input);
      authBox.appendChild(authF.wrap);
    }).catch(announceError);
  }
  const attBox = h('div', { id: 'cp-atts' });
  const addAtt = button('cp.att_add', () => addAttachment(), { cls: 'btn-secondary', props: { id: 'cp-att-add' } });
  function addAttachment() {
    const f = field({ id: 'cp-att-' + newKey().slice(0, 8), label: 'cp.att_name', attrs: { maxlength: 200, autocomplete: 'off' } });
    const rm = button('cp.att_remove', () => {
      st.atts.splice(st.atts.indexOf(row), 1);
      row.el.remove();
      renumber();
      addAtt.focus();
    }, { cls: 'btn-quiet' });
    const row = { f, rm, el: h('div.att-row', null, f.wrap, rm) };
    st.atts.push(row);
    attBox.appendChild(row.el);
    renumber();
    f.input.focus();
  }
  function renumber() {
    st.atts.forEach((row, i) => {
      for (const el of [row.f.wrap.querySelector('label span'), row.rm]) {
        el.dataset.i18nArgs = JSON.stringify({ n: i + 1 });
        el.textContent = t(el.dataset.i18n, { n: i + 1 });
      }
    });
  }
  const summary = h('div', { id: 'cp-errors' });
  const submit = h('button.btn-primary.btn-big', { type: 'submit', id: 'cp-submit', t: 'cp.submit' });
  const form = h('form#cp-form', { attrs: { novalidate: true } },
    h('fieldset', null, h('legend', { t: 'nav.complaint_new' }),
      h('div.grid', null, iin.wrap, appId.wrap, authBox, about.wrap, aboutHeadWrap), text.wrap),
    h('fieldset', null, h('legend', { t: 'cp.attachments' }), attBox, addAtt),
    summary,
    h('div.actions', null, submit));
  const result = h('div', { id: 'cp-result' });
  const root = h('section', { attrs: { 'aria-labelledby': 'cp-title' } },
    h('h1', { id: 'cp-title', t: 'cp.new_title' }), h('p', { t: 'cp.new_intro' }),
    h('p.small', { t: 'c.required_note' }), form, result);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (st.sending) return;
    for (const x of root.querySelectorAll('.field-err')) setFieldError(x);
    clear(summary);
    const body = { complainant_iin: iin.input.value.trim(), text: text.input.value.trim() };
    let first = null;
    if (!iinValid(body.complainant_iin)) {
      const m = body.complainant_iin ? iinMessage(body.complainant_iin) : { key: 'v.required' };
      setFieldError(iin.err, m.key, m.args);
      first = first || iin.input;
    }
    if (!body.text) { setFieldError(text.err, 'v.required'); first = first || text.input; }
    const a = appId.input.value.trim();
    if (a) body.application_id = a;
    if (authF && authF.input.value && !a) body.authority_id = authF.input.value;
    if (s.kind !== 'office' && !a && !body.authority_id && authF) {
      setFieldError(authF.err, 'v.required');
      first = first || authF.input;
    }
    const emp = about.input.value.trim();
    if (emp) body.about_employee = emp;
    if (emp && aboutHead.checked) body.about_head = true;
    const atts = st.atts.map((r) => r.f.input.value.trim()).filter(Boolean);
    if (atts.length) body.attachments = atts.map((name) => ({ name }));
    if (first) { first.focus(); announce('na.fix', null, 'error'); return; }
    st.sending = true;
    submit.disabled = true;
    announce('c.sending');
    try {
      const r = await post('/v1/complaints', body, { idempotencyKey: st.key });
      showTicket(r.data);
    } catch (err) {
      const k = errorKey(err);
      const map = { complainant_iin: iin, application_id: appId, about_employee: about, text };
      let f = map[err.details && err.details.field];
      if (!f && err.code === 'invalid_iin') f = iin;
      if (!f && err.status === 404) f = appId;
      if (f) setFieldError(f.err, k.key, k.args, k.fallback);
      summary.appendChild(h('div.alert.alert-error', { attrs: { role: 'alert' } }, h('span', { t: k.key, targs: k.args, tfallback: k.fallback })));
      announceError(err);
    } finally {
      st.sending = false;
      submit.disabled = false;
    }
  });

  function showTicket(d) {
    saved = null;
    form.hidden = true;
    const tk = d.ticket || {};
    clear(result);
    result.appendChild(h('div.alert.alert-ok', { attrs: { role: 'status' }, id: 'cp-accepted' },
      h('span', { t: 'cp.accepted', targs: { n: tk.number } })));
    result.appendChild(ticketCard(d.complaint_id, tk, h('div.actions', null,
      printButton('t.print', '/v1/complaints/' + encodeURIComponent(d.complaint_id) + '/ticket.pdf', { id: 'print-ticket' }),
      button('nav.complaint_new', () => ctx.go('#/complaints/new'), { cls: 'btn-secondary', props: { id: 'cp-another' } }))));
    announce('cp.accepted', { n: tk.number }, 'ok');
    document.getElementById('print-ticket').focus();
  }

  return { principal: s.principal, root };
}

export function ticketCard(id, tk, extra) {
  const c = tk.contact_official || {};
  const docs = tk.documents || [];
  return h('section.card.receipt', { id: 'ticket', dataset: { complaintId: id }, attrs: { 'aria-labelledby': 'ticket-title' } },
    h('h2', { id: 'ticket-title', t: 'cp.ticket' }),
    dl([
      ['t.number', h('strong', { id: 'ticket-number' }, tk.number)],
      ['t.accepted_at', fmtTs(tk.accepted_at)],
      ['t.documents', docs.length ? h('ol.docs', null, docs.map((x) => h('li', null, x.name))) : '—', { n: tk.documents_count !== undefined ? tk.documents_count : docs.length }],
      ['t.answer_due', h('strong', null, fmtDate(tk.answer_due))],
      ['t.answer_place', tk.answer_place],
      tk.answer_address ? ['t.answer_address', tk.answer_address] : null,
      ['t.accepted_by', tk.accepted_by],
      ['t.contact', [c.name, c.phone, c.email].filter(Boolean).join(', ')],
      ['t.routed', tk.routed_to ? h('span', null, h('span', { t: 'routed.' + tk.routed_to.kind, tfallback: tk.routed_to.kind }), ' ' + tk.routed_to.id) : ''],
    ]),
    extra || null);
}
