// Pieces several pages share: the print button, the receipt, IIN fields,
// reference look-ups, keyset paging.
import { h, clear, dl, fmtDate, fmtTs, setFieldError, button, field } from './dom.js';
import { openPdf, reference } from './api.js';
import { errorKey } from './i18n.js';
import { announce, announceError } from './status.js';
import { iinMessage } from './iin.js';
import { checkIin } from './iin.js';

// A button that fetches a PDF with the token and opens it in a new tab
// (or in the page when pop-ups are blocked). The outcome is announced
// and written on the button's data-pdf-* attributes.
export function printButton(key, path, opts) {
  opts = opts || {};
  const holder = h('div.pdf-holder');
  const note = h('span.print-note', { attrs: { 'aria-live': 'polite' } });
  const b = button(key, null, { cls: 'btn-secondary', props: { id: opts.id } });
  b.addEventListener('click', async () => {
    if (b.disabled) return;
    b.disabled = true;
    // opened now, inside the click, so that no pop-up blocker stops it
    const win = opts.inPage ? null : window.open('', '_blank');
    if (win) {
      try { win.document.title = '…'; win.document.body.textContent = '…'; } catch (e) { /* ignore */ }
    }
    clear(note);
    note.appendChild(h('span', { t: 'c.print_wait' }));
    let tries = 0;
    for (;;) {
      try {
        const r = await openPdf(path, win, holder);
        b.dataset.pdfType = r.type;
        b.dataset.pdfSize = String(r.size);
        clear(note);
        const args = { type: r.type, kb: Math.max(1, Math.round(r.size / 1024)) };
        note.appendChild(h('span', { t: 'c.print_opened', targs: args }));
        announce('c.print_opened', args, 'ok');
        break;
      } catch (err) {
        // a document is made within a second of acceptance: 404 first
        if (err.status === 404 && tries < 5 && opts.retry404 !== false) {
          tries++;
          await new Promise((res) => setTimeout(res, 700));
          continue;
        }
        b.dataset.pdfError = err.code || String(err.status);
        clear(note);
        const k = errorKey(err);
        note.appendChild(h('span.error-text', { t: k.key, targs: k.args, tfallback: k.fallback }));
        announceError(err);
        break;
      }
    }
    b.disabled = false;
  });
  return h('div.print', null, b, note, holder);
}

// The receipt of p.14 as a definition list.
export function receiptView(r) {
  if (!r) return null;
  const docs = r.documents || [];
  return dl([
    ['rc.number', h('strong.receipt-number', { id: 'receipt-number' }, r.number)],
    ['rc.accepted_at', fmtTs(r.accepted_at)],
    ['rc.service', r.service],
    ['rc.documents', h('ol.docs', null, docs.map((d) => h('li', null, d.name || d.code))), { n: docs.length }],
    ['rc.result_due', h('strong', null, fmtDate(r.result_due))],
    ['rc.result_place', r.result_place],
    ['rc.accepted_by', r.accepted_by],
    ['rc.applicant', r.applicant_name],
    ['rc.representative', r.representative_name],
    ['rc.phones', (r.phones || []).join(', ')],
  ]);
}

export function receiptCard(r, extra) {
  return h('section.card.receipt', { id: 'receipt', attrs: { 'aria-labelledby': 'receipt-title' } },
    h('h2', { id: 'receipt-title', t: 'rc.title' }),
    receiptView(r), extra || null);
}

// Live IIN check on an input made by field(); shows the birth date the
// IIN encodes, so the clerk can compare it with the identity card.
export function wireIin(f, opts) {
  opts = opts || {};
  f.input.setAttribute('inputmode', 'numeric');
  f.input.setAttribute('maxlength', '12');
  f.input.setAttribute('autocomplete', 'off');
  const okNote = h('div.field-ok', { id: f.input.id + '-ok', attrs: { 'aria-live': 'polite' } });
  f.err.parentNode.insertBefore(okNote, f.err.nextSibling);
  const check = (final) => {
    const v = f.input.value.replace(/\s+/g, '');
    if (v !== f.input.value) f.input.value = v;
    clear(okNote);
    if (!v) { setFieldError(f.err); f.input.removeAttribute('aria-invalid'); return null; }
    const m = iinMessage(v);
    if (m.ok) {
      setFieldError(f.err);
      const r = checkIin(v);
      okNote.appendChild(h('span', { t: 'v.iin_ok', targs: { date: fmtDate(r.birth), sex: { key: 'v.sex_' + r.sex } } }));
      return true;
    }
    // while typing, only say something once 12 digits are there
    if (m.key === 'v.iin_len' && !final) { setFieldError(f.err); return false; }
    setFieldError(f.err, m.key, m.args);
    return false;
  };
  f.input.addEventListener('input', () => check(false));
  f.input.addEventListener('blur', () => check(true));
  f.checkIin = () => check(true);
  if (opts.onValid) f.input.addEventListener('input', () => { if (check(false)) opts.onValid(f.input.value); });
  return f;
}

export function iinField(opts) {
  return wireIin(field(Object.assign({ label: 'na.iin' }, opts)));
}

// id → record maps of the reference data.
let authMap = null;
export async function authorities() {
  if (authMap) return authMap;
  const d = await reference('authorities');
  const map = { byId: {}, regions: d.regions || [] };
  for (const reg of map.regions) {
    for (const a of reg.authorities || []) map.byId[a.id] = a;
  }
  authMap = map;
  return map;
}

export function authorityName(map, id) {
  const a = map && map.byId[id];
  return a ? a.name : id;
}

// A select of authorities: all regions (ops) or one region (supervisor).
export function authoritySelect(map, opts) {
  const f = field({ id: opts.id || 'authority', label: opts.label || 'c.authority', type: 'select',
    required: opts.required });
  if (opts.allowEmpty) f.input.appendChild(h('option', { value: '', t: opts.emptyKey || 'c.choose' }));
  for (const reg of map.regions) {
    if (opts.region && reg.id !== opts.region) continue;
    const g = h('optgroup', { label: reg.short_name || reg.id });
    for (const a of reg.authorities || []) g.appendChild(h('option', { value: a.id }, a.id + ' — ' + a.name));
    f.input.appendChild(g);
  }
  if (opts.value) f.input.value = opts.value;
  return f;
}

// Keyset pager: keeps the cursors of the pages seen so that "previous"
// works; load(cursor) must resolve to next_cursor (or null).
export function pager(load, opts) {
  opts = opts || {};
  const stack = [];
  let cur = null, next = null, busy = false;
  const label = h('span.pager-label', { attrs: { 'aria-live': 'polite' } });
  const prevB = button('c.prev', async () => go(stack.pop() || null, true), { cls: 'btn-secondary', props: { id: (opts.id || 'pager') + '-prev' } });
  const nextB = button('c.next', async () => { stack.push(cur); go(next, false); }, { cls: 'btn-secondary', props: { id: (opts.id || 'pager') + '-next' } });
  const el = h('div.pager', null, prevB, label, nextB);
  const paint = () => {
    prevB.disabled = busy || stack.length === 0;
    nextB.disabled = busy || !next;
    clear(label);
    label.appendChild(h('span', { t: 'c.page', targs: { n: stack.length + 1 } }));
  };
  async function go(cursor, back) {
    if (busy) return;
    busy = true;
    paint();
    try {
      next = await load(cursor);
      cur = cursor;
    } catch (e) {
      if (!back && stack.length) stack.pop();
    } finally {
      busy = false;
      paint();
    }
  }
  paint();
  return {
    el,
    reset() { stack.length = 0; return go(null, false); },
    reload() { return go(cur, false); },
  };
}

export function todayIso() {
  // the date in Almaty (UTC+5) — the service's calendar
  const d = new Date(Date.now() + 5 * 3600 * 1000);
  return d.toISOString().slice(0, 10);
}

export function hashQuery(base, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? base + '?' + s : base;
}

// Shows an API error in a box (role=alert) with its field, if any.
export function errorBox(err) {
  const k = errorKey(err);
  return h('div.alert.alert-error', { attrs: { role: 'alert' } },
    h('span', { t: k.key, targs: k.args, tfallback: k.fallback }));
}
