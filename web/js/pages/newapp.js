// New application (p.13) at an office or a centre, and its receipt (p.14).
// One Idempotency-Key per form fill, reused on every retry, so that a
// double click or a retry after a network failure never makes two
// applications.
import { h, clear, field, option, setFieldError, button, fmtNum } from '../dom.js';
import { t, errorKey } from '../i18n.js';
import { post, reference, newKey } from '../api.js';
import { announce } from '../status.js';
import { iinField, receiptCard, printButton, authorities, authorityName, todayIso } from '../common.js';
import { iinValid, iinMessage } from '../iin.js';
import { remember } from '../cache.js';

const CATEGORIES = ['wwii', 'vulnerable', 'public_sector', 'emergency_dwelling'];
const FUNDS = ['communal', 'state_enterprise', 'state_institution', 'leb_rented'];
const SECTOR = ['civil_servant', 'budget_employee', 'military', 'cosmonaut', 'elected'];
const RELATIONS = ['spouse', 'child', 'parent', 'other'];
// p.11 items 1–12 in order; items 2–6 come from the state systems
const DOCS = ['application_form', 'identity_documents', 'civil_status_certificates',
  'property_certificate', 'no_communal_dwelling_certificate', 'residence_confirmation',
  'court_decision_family', 'vulnerable_status_document', 'income_certificate',
  'workplace_certificate', 'emergency_dwelling_certificate', 'competent_body_certificate'];
const FETCHED = new Set(DOCS.slice(1, 6));
const NO_INCOME_TEST = new Set([1, 4, 7]); // p.6: groups outside the 3.1 test

let saved = null; // the form being filled, kept across page changes

export function forget() { saved = null; }

export function render(main, params, ctx) {
  if (!saved || saved.principal !== ctx.session.principal) saved = build(ctx);
  main.appendChild(saved.root);
}

function build(ctx) {
  const s = ctx.session;
  const office = s.kind === 'office';
  const st = { principal: s.principal, key: newKey(), sending: false, family: [] };

  // ---- applicant ----
  const a = {
    iin: iinField({ id: 'a-iin', fieldPath: 'applicant.iin', required: true }),
    surname: field({ id: 'a-surname', label: 'na.surname', fieldPath: 'applicant.surname', required: true, attrs: { autocomplete: 'off', maxlength: 100 } }),
    given: field({ id: 'a-given', label: 'na.given_name', fieldPath: 'applicant.given_name', required: true, attrs: { autocomplete: 'off', maxlength: 100 } }),
    patronymic: field({ id: 'a-patronymic', label: 'na.patronymic', fieldPath: 'applicant.patronymic', attrs: { autocomplete: 'off', maxlength: 100 } }),
    phone: field({ id: 'a-phone', label: 'na.phone', hint: 'na.phone_hint', type: 'tel', fieldPath: 'applicant.phone', attrs: { autocomplete: 'off', maxlength: 24 } }),
    email: field({ id: 'a-email', label: 'na.email', hint: 'na.email_hint', type: 'email', fieldPath: 'applicant.email', attrs: { autocomplete: 'off', maxlength: 254 } }),
    lang: field({ id: 'a-lang', label: 'na.sms_lang', hint: 'na.sms_lang_hint', type: 'select', fieldPath: 'applicant.language',
      options: [option('', 'na.sms_lang_both'), option('kk', 'lang.kk'), option('ru', 'lang.ru')] }),
  };
  const fsApplicant = h('fieldset', null, h('legend', { t: 'na.applicant' }),
    h('div.grid', null, a.iin.wrap, a.surname.wrap, a.given.wrap, a.patronymic.wrap, a.phone.wrap, a.email.wrap, a.lang.wrap));

  // ---- representative ----
  const hasRep = h('input', { type: 'checkbox', id: 'has-rep' });
  const r = {
    iin: iinField({ id: 'r-iin', fieldPath: 'representative.iin', required: true }),
    surname: field({ id: 'r-surname', label: 'na.surname', fieldPath: 'representative.surname', required: true, attrs: { autocomplete: 'off', maxlength: 100 } }),
    given: field({ id: 'r-given', label: 'na.given_name', fieldPath: 'representative.given_name', required: true, attrs: { autocomplete: 'off', maxlength: 100 } }),
    patronymic: field({ id: 'r-patronymic', label: 'na.patronymic', fieldPath: 'representative.patronymic', attrs: { autocomplete: 'off', maxlength: 100 } }),
    poa: field({ id: 'r-poa', label: 'na.poa', fieldPath: 'representative.power_of_attorney', required: true, attrs: { autocomplete: 'off', maxlength: 200 } }),
    phone: field({ id: 'r-phone', label: 'na.phone', type: 'tel', fieldPath: 'representative.phone', attrs: { autocomplete: 'off', maxlength: 24 } }),
  };
  const repBox = h('div.grid', { hidden: true, id: 'rep-fields' }, r.iin.wrap, r.surname.wrap, r.given.wrap, r.patronymic.wrap, r.poa.wrap, r.phone.wrap);
  hasRep.addEventListener('change', () => { repBox.hidden = !hasRep.checked; });
  const fsRep = h('fieldset', null, h('legend', { t: 'na.rep' }),
    h('div.check', null, hasRep, h('label', { htmlFor: 'has-rep', t: 'na.has_rep' })), repBox);

  // ---- settlement, fund ----
  const settlement = field({ id: 'settlement', label: 'na.settlement', type: 'select', required: true,
    fieldPath: 'settlement_id', hint: office ? 'na.settlement_hint_office' : 'na.settlement_hint_centre',
    options: [option('', 'c.loading')] });
  const fund = field({ id: 'fund', label: 'na.fund', type: 'select', required: true, fieldPath: 'fund',
    options: FUNDS.map((f) => option(f, 'fund.' + f)) });
  const authNote = h('p.note', { id: 'authority-note', attrs: { 'data-err-for': 'authority_id' } });
  const fsPlace = h('fieldset', null, h('legend', { t: 'na.place' }),
    h('div.grid', null, settlement.wrap, fund.wrap), authNote);
  loadSettlements(settlement.input, office ? s.id : null, authNote);

  // ---- category ----
  const category = field({ id: 'category', label: 'na.category', type: 'select', required: true, fieldPath: 'category', wide: true,
    options: [option('', 'c.choose')].concat(CATEGORIES.map((c) => option(c, 'cat.' + c))) });
  const group = field({ id: 'vgroup', label: 'na.group', type: 'select', required: true, fieldPath: 'vulnerable_group', wide: true,
    options: [option('', 'c.choose')].concat(Array.from({ length: 12 }, (_, i) => option(String(i + 1), 'grp.' + (i + 1)))) });
  const sector = field({ id: 'sector', label: 'na.sector_kind', type: 'select', required: true, fieldPath: 'public_sector_kind',
    options: [option('', 'c.choose')].concat(SECTOR.map((k) => option(k, 'psk.' + k))) });
  const conscript = field({ id: 'conscript', label: 'na.conscript', hint: 'na.conscript_hint', type: 'number',
    fieldPath: 'conscript_service_months', attrs: { min: 0, max: 120, step: 1, inputmode: 'numeric' } });
  const members = field({ id: 'inc-members', label: 'na.members', type: 'number', required: true, fieldPath: 'income.members',
    attrs: { min: 1, max: 50, step: 1, inputmode: 'numeric' } });
  const months = monthLabels().map((m, i) => field({ id: 'inc-m' + i, label: 'na.month', type: 'number',
    fieldPath: 'income.monthly_family_totals_tenge[' + i + ']', attrs: { min: 0, step: 1, inputmode: 'numeric' } }));
  months.forEach((f, i) => {
    const lab = f.wrap.querySelector('label span');
    lab.dataset.i18nArgs = JSON.stringify({ m: monthLabels()[i] });
    lab.textContent = t('na.month', { m: monthLabels()[i] });
  });
  const avg = h('p.note', { attrs: { 'aria-live': 'polite' }, id: 'income-avg' });
  const incomeErr = h('div.field-err', { dataset: { errFor: 'income' }, attrs: { 'aria-live': 'polite' } });
  const incomeBox = h('fieldset.sub', { hidden: true, id: 'income-box', dataset: { field: 'income' } },
    h('legend', { t: 'na.income' }), h('p.hint', { t: 'na.income_note' }), incomeErr,
    h('div.grid.grid-months', null, members.wrap, months.map((f) => f.wrap)), avg);
  const incomeNa = h('p.note', { hidden: true, t: 'na.income_na', id: 'income-na' });
  const fsCat = h('fieldset', null, h('legend', { t: 'na.category_legend' }),
    h('div.grid', null, category.wrap, group.wrap, sector.wrap, conscript.wrap), incomeNa, incomeBox);

  // ---- need grounds ----
  const grounds = [1, 2, 3, 4, 5, 6].map((n) => h('input', { type: 'checkbox', id: 'need-' + n, value: String(n) }));
  const groundsErr = h('div.field-err', { id: 'need-err', dataset: { errFor: 'need_grounds' }, attrs: { 'aria-live': 'polite' } });
  const fsNeed = h('fieldset', { dataset: { field: 'need_grounds' }, attrs: { 'aria-describedby': 'need-err' } },
    h('legend', null, h('span', { t: 'na.need' }), h('span.req', { attrs: { 'aria-hidden': 'true' } }, ' *')),
    groundsErr,
    h('ul.checks', null, grounds.map((g, i) => h('li.check', null, g, h('label', { htmlFor: g.id, t: 'need.' + (i + 1) })))));

  // ---- family ----
  const famBody = h('div.family', { id: 'family-rows' });
  const famEmpty = h('p.note', { t: 'na.family_none' });
  const famErr = h('div.field-err', { dataset: { errFor: 'family' }, attrs: { 'aria-live': 'polite' } });
  const addFam = button('na.family_add', () => addMember(), { cls: 'btn-secondary', props: { id: 'family-add' } });
  const fsFam = h('fieldset', { dataset: { field: 'family' } }, h('legend', { t: 'na.family' }), famErr, famEmpty, famBody, addFam);

  function addMember() {
    const row = { iin: null };
    row.iin = iinField({ id: 'fam-iin-' + newKey().slice(0, 8), label: 'na.family_iin', required: true });
    row.rel = field({ id: 'fam-rel-' + newKey().slice(0, 8), label: 'na.relation', type: 'select', required: true,
      options: RELATIONS.map((x) => option(x, 'rel.' + x)) });
    row.dis = h('input', { type: 'checkbox', id: 'fam-dis-' + newKey().slice(0, 8) });
    row.disLabel = h('label', { htmlFor: row.dis.id, t: 'na.disabled' });
    row.remove = button('na.family_remove', () => {
      st.family.splice(st.family.indexOf(row), 1);
      row.el.remove();
      renumber();
      (st.family.length ? st.family[st.family.length - 1].iin.input : addFam).focus();
    }, { cls: 'btn-quiet' });
    row.el = h('div.family-row', null, row.iin.wrap, row.rel.wrap, h('div.check.check-inline', null, row.dis, row.disLabel), row.remove);
    st.family.push(row);
    famBody.appendChild(row.el);
    renumber();
    row.iin.input.focus();
  }
  function renumber() {
    famEmpty.hidden = st.family.length > 0;
    st.family.forEach((row, i) => {
      const args = { n: i + 1 };
      for (const el of [row.iin.wrap.querySelector('label span'), row.rel.wrap.querySelector('label span'), row.disLabel, row.remove]) {
        el.dataset.i18nArgs = JSON.stringify(args);
        el.textContent = t(el.dataset.i18n, args);
      }
      row.iin.err.dataset.errFor = 'family[' + i + '].iin';
      row.rel.err.dataset.errFor = 'family[' + i + '].relation';
    });
  }

  // ---- documents (p.11) ----
  const docInputs = {};
  const docErr = h('div.field-err', { id: 'docs-err', dataset: { errFor: 'documents' }, attrs: { 'aria-live': 'polite' } });
  const givenList = h('ul.docs-given');
  const fetchedList = h('ul.docs-fetched');
  for (const code of DOCS) {
    if (FETCHED.has(code)) {
      fetchedList.appendChild(h('li', null, h('span.badge.badge-info', { t: 'na.doc_fetched_badge' }), ' ', h('span', { t: 'doc.' + code })));
      continue;
    }
    const cb = h('input', { type: 'checkbox', id: 'doc-' + code, value: code });
    const pages = h('input.pages', { type: 'number', id: 'doc-pages-' + code, value: '1',
      attrs: { min: 1, max: 1000, step: 1, inputmode: 'numeric' } });
    const tag = h('span.badge', { id: 'doc-req-' + code });
    const pagesLabel = h('label.pages-label', { htmlFor: pages.id }, h('span', { t: 'na.pages' }));
    pagesLabel.appendChild(h('span.visually-hidden', null, ' — ', h('span', { t: 'doc.' + code })));
    docInputs[code] = { cb, pages, tag };
    const pagesWrap = h('div.pages-wrap', null, pagesLabel, pages);
    const syncPages = () => { pagesWrap.style.visibility = cb.checked ? 'visible' : 'hidden'; };
    cb.addEventListener('change', syncPages);
    givenList.appendChild(h('li.doc-row', null,
      h('div.check', null, cb, h('label', { htmlFor: cb.id }, h('span', { t: 'doc.' + code }), ' ', tag)),
      pagesWrap));
    syncPages();
  }
  docInputs.application_form.cb.checked = true;
  docInputs.application_form.cb.dispatchEvent(new Event('change'));
  const fsDocs = h('fieldset', { dataset: { field: 'documents' }, attrs: { 'aria-describedby': 'docs-err' } },
    h('legend', { t: 'na.docs' }), h('p.hint', { t: 'na.docs_intro' }), docErr,
    h('div.docs-cols', null,
      h('div', null, h('h3', { t: 'na.doc_given' }), givenList),
      h('div', null, h('h3', { t: 'na.doc_fetched' }), fetchedList)));

  // ---- form ----
  const summary = h('div.alert.alert-error', { id: 'form-errors', hidden: true, tabIndex: -1, attrs: { role: 'alert' } });
  const submitB = h('button.btn-primary.btn-big', { type: 'submit', id: 'submit-app', t: 'na.submit' });
  const sendingNote = h('span.sending-note', { attrs: { 'aria-live': 'polite' } });
  const form = h('form#app-form', { attrs: { novalidate: true }, dataset: { idempotencyKey: st.key } },
    fsApplicant, fsRep, fsPlace, fsCat, fsNeed, fsFam, fsDocs,
    h('div.actions.form-actions', null, submitB, sendingNote));
  const result = h('div', { id: 'result' });
  const root = h('section', { attrs: { 'aria-labelledby': 'na-title' } },
    h('h1', { id: 'na-title', t: 'na.title' }),
    h('p', { t: 'na.intro' }),
    h('p.small', { t: 'c.required_note' }),
    summary, form, result);

  // ---- dependent parts ----
  function groupNo() { return parseInt(group.input.value, 10) || 0; }
  function incomeNeeded() {
    return category.input.value === 'vulnerable' && groupNo() > 0 && !NO_INCOME_TEST.has(groupNo());
  }
  function requiredDocs() {
    const need = new Set(['application_form']);
    const cat = category.input.value;
    if (cat === 'vulnerable') {
      need.add('vulnerable_status_document');
      if (groupNo() > 0 && !NO_INCOME_TEST.has(groupNo())) need.add('income_certificate');
    }
    if (cat === 'public_sector') need.add('workplace_certificate');
    if (cat === 'emergency_dwelling') need.add('emergency_dwelling_certificate');
    if (grounds.some((g) => g.checked && +g.value >= 4)) need.add('competent_body_certificate');
    return need;
  }
  function refresh() {
    const cat = category.input.value;
    group.wrap.hidden = cat !== 'vulnerable';
    sector.wrap.hidden = cat !== 'public_sector';
    conscript.wrap.hidden = !(cat === 'vulnerable' && groupNo() === 7);
    incomeBox.hidden = !incomeNeeded();
    incomeNa.hidden = !(cat === 'vulnerable' && NO_INCOME_TEST.has(groupNo()));
    const need = requiredDocs();
    for (const [code, d] of Object.entries(docInputs)) {
      const req = need.has(code);
      d.tag.className = 'badge badge-warn';
      d.tag.hidden = !req;
      d.tag.dataset.i18n = 'na.doc_required';
      d.tag.textContent = t(d.tag.dataset.i18n);
      d.cb.closest('li').classList.toggle('doc-required', req);
    }
    updateAvg();
  }
  function updateAvg() {
    clear(avg);
    const m = parseInt(members.input.value, 10);
    const vals = months.map((f) => f.input.value.trim());
    if (!(m >= 1) || vals.some((v) => v === '' || !/^\d+$/.test(v))) return;
    const sum = vals.reduce((acc, v) => acc + parseInt(v, 10), 0);
    avg.appendChild(h('span', { t: 'na.avg', targs: { v: fmtNum(Math.round(sum / 12 / m)) } }));
  }
  category.input.addEventListener('change', refresh);
  group.input.addEventListener('change', refresh);
  grounds.forEach((g) => g.addEventListener('change', refresh));
  members.input.addEventListener('input', updateAvg);
  months.forEach((f) => f.input.addEventListener('input', updateAvg));
  refresh();

  // ---- validation ----
  function clearErrors() {
    for (const e of root.querySelectorAll('.field-err')) setFieldError(e);
    for (const e of root.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
    clear(summary);
    summary.hidden = true;
  }
  function req(f, list) {
    if (!f.input.value.trim()) list.push({ f, key: 'v.required' });
  }
  function validate() {
    const errs = [];
    if (!iinValid(a.iin.input.value)) errs.push({ f: a.iin, ...iinErr(a.iin.input.value) });
    req(a.surname, errs);
    req(a.given, errs);
    const phone = normPhone(a.phone.input.value);
    if (phone && !/^\+\d{7,19}$/.test(phone)) errs.push({ f: a.phone, key: 'v.phone' });
    const email = a.email.input.value.trim();
    if (email && (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))) errs.push({ f: a.email, key: 'v.email' });
    if (hasRep.checked) {
      if (!iinValid(r.iin.input.value)) errs.push({ f: r.iin, ...iinErr(r.iin.input.value) });
      req(r.surname, errs); req(r.given, errs); req(r.poa, errs);
      const rph = normPhone(r.phone.input.value);
      if (rph && !/^\+\d{7,19}$/.test(rph)) errs.push({ f: r.phone, key: 'v.phone' });
    }
    req(settlement, errs);
    req(fund, errs);
    req(category, errs);
    const cat = category.input.value;
    if (cat === 'vulnerable') req(group, errs);
    if (cat === 'public_sector') req(sector, errs);
    if (!conscript.wrap.hidden && conscript.input.value.trim() !== '' && !intIn(conscript.input.value, 0, 120)) {
      errs.push({ f: conscript, key: 'v.int_range', args: { min: 0, max: 120 } });
    }
    if (incomeNeeded()) {
      if (!intIn(members.input.value, 1, 50)) errs.push({ f: members, key: 'v.int_range', args: { min: 1, max: 50 } });
      for (const f of months) if (!intIn(f.input.value, 0, 100000000000)) errs.push({ f, key: 'v.required' });
    }
    if (!grounds.some((g) => g.checked)) errs.push({ err: groundsErr, focus: grounds[0], key: 'v.grounds' });
    st.family.forEach((row) => {
      if (!iinValid(row.iin.input.value)) errs.push({ f: row.iin, ...iinErr(row.iin.input.value) });
    });
    const missing = [...requiredDocs()].filter((c) => !docInputs[c].cb.checked);
    if (missing.length) {
      errs.push({ err: docErr, focus: docInputs[missing[0]].cb, key: 'v.docs_missing',
        args: { list: { keys: missing.map((c) => 'doc.' + c), sep: '; ' } } });
    }
    for (const d of Object.values(docInputs)) {
      if (d.cb.checked && d.pages.value.trim() !== '' && !intIn(d.pages.value, 1, 1000)) {
        errs.push({ err: docErr, focus: d.pages, key: 'v.int_range', args: { min: 1, max: 1000 } });
      }
    }
    return errs;
  }
  function showErrors(errs) {
    clear(summary);
    summary.appendChild(h('h2', { t: 'c.errors_title' }));
    const ul = h('ul');
    for (const e of errs) {
      const holder = e.err || (e.f && e.f.err);
      const target = e.focus || (e.f && e.f.input);
      if (holder) setFieldError(holder, e.key, e.args, e.fallback);
      if (target) target.setAttribute('aria-invalid', 'true');
      let labelEl = e.f ? e.f.wrap.querySelector('label') : null;
      if (!labelEl && holder && holder.parentNode.classList.contains('field')) labelEl = holder.parentNode.querySelector('label');
      if (!labelEl && holder && holder.closest('fieldset')) labelEl = holder.closest('fieldset').querySelector('legend');
      const link = h('a', { href: '#' + (target ? target.id : ''), on: { click: (ev) => { ev.preventDefault(); if (target) target.focus(); } } });
      if (labelEl) link.appendChild(document.createTextNode(labelEl.textContent.replace(/\s*\*$/, '') + ': '));
      link.appendChild(h('span', { t: e.key, targs: e.args, tfallback: e.fallback }));
      ul.appendChild(h('li', null, link));
    }
    summary.appendChild(ul);
    summary.hidden = false;
    summary.focus();
    announce('na.fix', null, 'error');
  }

  // An API error next to the field it concerns (details.field, or the
  // document checklist for missing_documents).
  function showApiError(err) {
    const k = errorKey(err);
    const path = err.details && err.details.field;
    let holder = null;
    if (err.code === 'missing_documents') holder = docErr;
    else if (path) holder = findErrHolder(root, path);
    const focus = holder && (holder.parentNode.querySelector('input,select,textarea') ||
      (holder.closest('fieldset') && holder.closest('fieldset').querySelector('input,select,textarea')));
    showErrors([{ err: holder || undefined, focus, key: k.key, args: k.args, fallback: k.fallback }]);
    announce(k.key, k.args, 'error', k.fallback);
    if (err.code === 'idempotency_conflict') {
      summary.appendChild(button('na.new', () => { forget(); ctx.go('#/new'); }, { cls: 'btn-secondary' }));
    }
  }

  function body() {
    const b = {
      applicant: {
        iin: a.iin.input.value.trim(),
        surname: a.surname.input.value.trim(),
        given_name: a.given.input.value.trim(),
      },
      settlement_id: settlement.input.value,
      fund: fund.input.value,
      category: category.input.value,
      need_grounds: grounds.filter((g) => g.checked).map((g) => +g.value),
      documents: Object.entries(docInputs).filter(([, d]) => d.cb.checked).map(([code, d]) => {
        const doc = { code };
        if (d.pages.value.trim() !== '') doc.pages = parseInt(d.pages.value, 10);
        return doc;
      }),
    };
    const pat = a.patronymic.input.value.trim();
    if (pat) b.applicant.patronymic = pat;
    const phone = normPhone(a.phone.input.value);
    if (phone) b.applicant.phone = phone;
    const email = a.email.input.value.trim();
    if (email) b.applicant.email = email;
    if (a.lang.input.value) b.applicant.language = a.lang.input.value;
    if (hasRep.checked) {
      b.representative = {
        iin: r.iin.input.value.trim(), surname: r.surname.input.value.trim(),
        given_name: r.given.input.value.trim(), power_of_attorney: r.poa.input.value.trim(),
      };
      const rp = r.patronymic.input.value.trim();
      if (rp) b.representative.patronymic = rp;
      const rph = normPhone(r.phone.input.value);
      if (rph) b.representative.phone = rph;
    }
    if (office) b.authority_id = s.id;
    if (b.category === 'vulnerable') b.vulnerable_group = groupNo();
    if (b.category === 'public_sector') b.public_sector_kind = sector.input.value;
    if (!conscript.wrap.hidden && conscript.input.value.trim() !== '') {
      b.conscript_service_months = parseInt(conscript.input.value, 10);
    }
    if (incomeNeeded()) {
      b.income = {
        monthly_family_totals_tenge: months.map((f) => parseInt(f.input.value, 10)),
        members: parseInt(members.input.value, 10),
      };
    }
    if (st.family.length) {
      b.family = st.family.map((row) => ({ iin: row.iin.input.value.trim(), relation: row.rel.input.value, disabled: row.dis.checked }));
    }
    return b;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (st.sending) return; // a second click while the first is on its way
    clearErrors();
    const errs = validate();
    if (errs.length) { showErrors(errs); return; }
    const payload = body();
    st.sending = true;
    submitB.disabled = true;
    submitB.setAttribute('aria-busy', 'true');
    clear(sendingNote);
    sendingNote.appendChild(h('span', { t: 'na.sending' }));
    announce('na.sending');
    try {
      const res = await post('/v1/applications', payload, { idempotencyKey: st.key });
      showReceipt(res.data, res.status === 200, payload);
    } catch (err) {
      showApiError(err);
    } finally {
      st.sending = false;
      submitB.disabled = false;
      submitB.removeAttribute('aria-busy');
      clear(sendingNote);
    }
  });

  function showReceipt(data, replay, payload) {
    const id = data.application_id;
    remember(id, { iin: payload.applicant.iin, category: payload.category,
      authority_id: office ? s.id : null, surname: payload.applicant.surname });
    form.hidden = true;
    clearErrors();
    saved = null; // the next "New application" starts a new fill
    clear(result);
    const rc = data.receipt || {};
    const actions = h('div.actions', null,
      printButton('rc.print', '/v1/applications/' + encodeURIComponent(id) + '/receipt.pdf', { id: 'print-receipt' }),
      h('a.btn.btn-secondary', { href: '#/applications/' + encodeURIComponent(id), id: 'open-app', t: 'rc.open_app' }),
      button('na.new', () => ctx.go('#/new'), { cls: 'btn-secondary', props: { id: 'new-app' } }));
    result.appendChild(h('div.alert.alert-ok', { attrs: { role: 'status' }, id: 'accepted-msg' },
      h('span', { t: replay ? 'na.replayed' : 'na.accepted', targs: { n: rc.number } })));
    const card = receiptCard(rc, actions);
    card.dataset.applicationId = id;
    result.appendChild(card);
    announce(replay ? 'na.replayed' : 'na.accepted', { n: rc.number }, 'ok');
    root.querySelector('h1').scrollIntoView();
    document.getElementById('print-receipt').focus();
  }

  return { principal: st.principal, root };
}

async function loadSettlements(select, authorityId, note) {
  try {
    const [d, auth] = await Promise.all([reference('settlements'), authorities()]);
    const list = (d.settlements || []).filter((x) => !authorityId || x.authority_id === authorityId);
    clear(select);
    if (list.length !== 1) select.appendChild(option('', 'c.choose'));
    if (authorityId) {
      for (const x of list) select.appendChild(h('option', { value: x.id }, x.name + ' (' + x.id + ')'));
      clear(note);
      note.appendChild(h('span', { t: 'na.authority_is', targs: { name: authorityName(auth, authorityId) } }));
    } else {
      for (const reg of auth.regions) {
        const items = list.filter((x) => x.region_id === reg.id);
        if (!items.length) continue;
        const g = h('optgroup', { label: reg.short_name || reg.id });
        for (const x of items) g.appendChild(h('option', { value: x.id }, x.name + ' (' + x.id + ')'));
        select.appendChild(g);
      }
      const showAuth = () => {
        clear(note);
        const x = list.find((y) => y.id === select.value);
        if (x) note.appendChild(h('span', { t: 'na.authority_is', targs: { name: authorityName(auth, x.authority_id) } }));
      };
      select.addEventListener('change', showAuth);
    }
  } catch (err) {
    clear(select);
    select.appendChild(option('', 'c.choose'));
    const k = errorKey(err);
    note.appendChild(h('span.error-text', { t: k.key, targs: k.args, tfallback: k.fallback }));
  }
}

// Finds the error holder for an API field path: "family[0].iin" exactly,
// else its parents ("income.monthly_family_totals_tenge" → "income").
export function findErrHolder(root, path) {
  const alias = { relation: 'family', 'documents.pages': 'documents', 'documents.sha256': 'documents', applicant: 'applicant.iin', representative: 'representative.iin' };
  let p = alias[path] || path;
  for (;;) {
    const el = root.querySelector('[data-err-for="' + cssEscape(p) + '"]');
    if (el) return el;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    if (cut <= 0) return null;
    p = p.slice(0, cut);
  }
}

function cssEscape(s) { return String(s).replace(/["\\]/g, '\\$&'); }

function iinErr(v) {
  v = String(v || '').trim();
  if (!v) return { key: 'v.required' };
  const m = iinMessage(v);
  return m.ok ? {} : { key: m.key, args: m.args };
}

function intIn(v, min, max) {
  v = String(v).trim();
  if (!/^\d+$/.test(v)) return false;
  const n = parseInt(v, 10);
  return n >= min && n <= max;
}

// "8 701 123 45 67" → "+77011234567"; spaces, dashes and brackets dropped.
function normPhone(v) {
  let p = String(v || '').replace(/[\s\-()]/g, '');
  if (/^8\d{10}$/.test(p)) p = '+7' + p.slice(1);
  return p;
}

// The 12 months before this one, oldest first, as "MM.YYYY".
function monthLabels() {
  const today = todayIso();
  let y = +today.slice(0, 4), m = +today.slice(5, 7);
  const out = [];
  for (let i = 0; i < 12; i++) {
    m -= 1;
    if (m === 0) { m = 12; y -= 1; }
    out.unshift(String(m).padStart(2, '0') + '.' + y);
  }
  return out;
}


