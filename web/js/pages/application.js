// One application: status, decision (reasons in Kazakh and Russian),
// queue number and position, the position's history, printed documents
// (p.14, p.15) and the hand-over of the result against the receipt (p.15).
import { h, clear, field, option, fmtTs, table, dl, setFieldError } from '../dom.js';
import { get, post } from '../api.js';
import { errorKey } from '../i18n.js';
import { announce, announceError } from '../status.js';
import { receiptCard, printButton, errorBox } from '../common.js';
import { known, remember } from '../cache.js';

const FINAL = new Set(['registered', 'refused']);

export function render(main, params, ctx) {
  const id = decodeURIComponent(params[0]);
  const root = h('div', { id: 'application', dataset: { applicationId: id } });
  main.appendChild(root);
  let timer = null, polls = 0, stopped = false, last = '';

  async function load() {
    let st;
    try {
      st = (await get('/v1/applications/' + encodeURIComponent(id), null, { purpose: 'consultation' })).data;
    } catch (err) {
      clear(root);
      root.appendChild(h('h1', { t: 'ap.title', targs: { n: '' } }));
      root.appendChild(errorBox(err));
      announceError(err);
      return;
    }
    if (stopped) return;
    if (st.applicant && st.applicant.iin) remember(id, { iin: st.applicant.iin });
    const json = JSON.stringify(st);
    if (json !== last) paint(st); // repaint only on a change: keeps focus
    last = json;
    // until decided and numbered, look again (decisions take a second or two)
    const waiting = !FINAL.has(st.status) && st.status !== 'review';
    if (waiting && polls < 20) {
      polls++;
      timer = setTimeout(load, 1500);
    }
  }

  function paint(st) {
    clear(root);
    const rc = st.receipt || {};
    root.dataset.status = st.status;
    root.appendChild(h('h1', { t: 'ap.title', targs: { n: rc.number || id } }));
    const waiting = !FINAL.has(st.status) && st.status !== 'review';
    root.appendChild(h('div.summary-line', null,
      h('span', null, h('span', { t: 'ap.status' }), ':'),
      h('span.badge.badge-status-' + st.status, { id: 'app-status', t: 'status.' + st.status, tfallback: st.status }),
      st.queue ? [' ', h('span.queue-pill', { id: 'app-queue' },
        h('span', { t: 'list.' + st.queue.list }), ' — №', h('strong', null, String(st.queue.number)))] : null,
      waiting ? h('span.note', { t: 'ap.poll' }) : null));

    const cols = h('div.cols');
    root.appendChild(cols);
    const left = h('div');
    const right = h('div');
    cols.appendChild(left);
    cols.appendChild(right);

    // decision
    const d = st.decision;
    const dec = h('section.card', { id: 'decision', attrs: { 'aria-labelledby': 'dec-title' } }, h('h2', { id: 'dec-title', t: 'ap.decision' }));
    if (!d) dec.appendChild(h('p', { t: 'ap.no_decision' }));
    else {
      dec.appendChild(dl([
        ['ap.outcome', h('span', { t: 'status.' + d.outcome, tfallback: d.outcome })],
        ['ap.decided_at', fmtTs(d.decided_at)],
        d.review_reason ? ['ap.review_reason', h('span', { t: 'rr.' + d.review_reason, tfallback: d.review_reason })] : null,
        ['ap.delivered', h('span', { t: st.delivered ? 'c.yes' : 'c.no' })],
      ]));
      if (d.reasons && d.reasons.length) {
        dec.appendChild(table('ap.reasons', ['ap.reason_code', 'ap.reason_par', 'ap.reason_kk', 'ap.reason_ru'],
          d.reasons.map((x) => [{ th: h('code', null, x.code) }, x.paragraph,
            h('span', { attrs: { lang: 'kk' } }, x.text_kk || ''), h('span', { attrs: { lang: 'ru' } }, x.text_ru || '')]),
          { className: 'reasons' }));
      }
    }
    left.appendChild(dec);

    // queue
    if (st.queue) left.appendChild(queueCard(st));

    // receipt
    if (st.receipt) left.appendChild(receiptCard(st.receipt));

    // documents
    const docs = h('section.card', { attrs: { 'aria-labelledby': 'docs-title' } }, h('h2', { id: 'docs-title', t: 'ap.docs' }));
    const canPrint = ctx.can(['office', 'centre']);
    if (canPrint) {
      docs.appendChild(printButton('ap.print_receipt', '/v1/applications/' + encodeURIComponent(id) + '/receipt.pdf', { id: 'print-receipt' }));
      if (FINAL.has(st.status)) {
        docs.appendChild(printButton('ap.print_notice', '/v1/applications/' + encodeURIComponent(id) + '/notice.pdf', { id: 'print-notice' }));
      }
      right.appendChild(docs);
      right.appendChild(issuanceCard(st));
    }
  }

  function queueCard(st) {
    const q = st.queue;
    const info = known.get(id) || {};
    const current = h('span', { id: 'q-current' }, '…');
    const wait = h('span', { id: 'q-wait' }, '…');
    const card = h('section.card', { id: 'queue-card', attrs: { 'aria-labelledby': 'q-title' } },
      h('h2', { id: 'q-title', t: 'ap.queue' }),
      dl([
        ['ap.list', h('span', { t: 'list.' + q.list })],
        ['c.authority', q.authority_id],
        ['ap.q_number', h('strong', { id: 'q-number' }, String(q.number))],
        ['ap.q_position', String(q.position)],
        ['ap.q_current', current],
        ['ap.q_wait', wait],
      ]));
    const hist = h('div', { id: 'q-history' });
    card.appendChild(h('h3', { t: 'ap.history' }));
    card.appendChild(hist);
    if (!info.iin) {
      // opened directly (a link, a reload): find the applicant's IIN through
      // the list, by the surname the receipt names
      const surname = ((st.receipt && st.receipt.applicant_name) || '').split(' ')[0];
      const give_up = () => { current.textContent = '—'; wait.textContent = '—'; hist.appendChild(h('p.note', { t: 'ap.history_no_iin' })); };
      if (!surname) { give_up(); return card; }
      get('/v1/applications', { q: surname, limit: 200 }, { purpose: 'consultation' }).then((r) => {
        const rows = r.data.items || [];
        const row = rows.find((x) => x.application_id === id);
        if (row && row.applicant && row.applicant.iin) {
          remember(id, { iin: row.applicant.iin });
          fillHistory(q, row.applicant.iin, current, wait, hist);
        } else give_up();
      }).catch(give_up);
      return card;
    }
    fillHistory(q, info.iin, current, wait, hist);
    return card;
  }

  // the expected wait (issue 24): a 10th–90th percentile range in months
  // from the list's recent history, with its note in both languages —
  // never a promise, and "unknown" on a short history
  function showWait(el, w) {
    clear(el);
    if (!w) { el.textContent = '—'; return; }
    if (w.status === 'estimated') {
      el.appendChild(h('strong', { id: 'q-wait-range' }, String(w.months_from) + '–' + String(w.months_to) + ' '));
      el.appendChild(h('span', { t: 'ap.months' }));
    } else {
      el.appendChild(h('span', { id: 'q-wait-unknown', t: 'ap.wait_unknown' }));
    }
    el.appendChild(h('p.note', null, h('span', { attrs: { lang: 'kk' } }, w.note_kk || ''), ' / ',
      h('span', { attrs: { lang: 'ru' } }, w.note_ru || '')));
  }

  function fillHistory(q, iin, current, wait, hist) {
    const info = { iin };
    const base = '/v1/queue/' + encodeURIComponent(q.authority_id) + '/' + encodeURIComponent(q.list) + '/entries/' + encodeURIComponent(info.iin);
    get(base, null, { purpose: 'consultation' }).then((r) => {
      current.textContent = String(r.data.position);
      showWait(wait, r.data.expected_wait);
    }).catch((err) => {
      current.textContent = err.status === 404 ? '—' : '';
      wait.textContent = '—';
      if (err.status !== 404) current.appendChild(errorBox(err));
    });
    get(base + '/history', null, { purpose: 'consultation' }).then((r) => {
      const rows = (r.data.history || []).map((x) => [fmtTs(x.at), x.from === null ? '—' : String(x.from),
        x.to === null ? '—' : String(x.to),
        h('span', null, h('span', { t: 'cause.' + x.cause, tfallback: x.cause }),
          x.reason ? [' (', h('span', { t: 'rm.' + x.reason, tfallback: x.reason }), ')'] : null)]);
      hist.appendChild(table(null, ['ap.h_at', 'ap.h_from', 'ap.h_to', 'ap.h_cause'], rows, { className: 'history' }));
    }).catch((err) => hist.appendChild(errorBox(err)));
  }

  function issuanceCard(st) {
    const card = h('section.card', { id: 'issuance', attrs: { 'aria-labelledby': 'iss-title' } },
      h('h2', { id: 'iss-title', t: 'ap.issuance' }));
    if (!FINAL.has(st.status)) {
      card.appendChild(h('p.note', { t: 'ap.issuance_not_ready' }));
      return card;
    }
    const rb = field({ id: 'iss-by', label: 'ap.received_by', type: 'select', required: true, fieldPath: 'received_by',
      options: [option('applicant', 'ap.rb_applicant'), option('representative', 'ap.rb_representative')] });
    const name = field({ id: 'iss-name', label: 'ap.rec_name', required: true, fieldPath: 'name', attrs: { maxlength: 200, autocomplete: 'off' } });
    const poa = field({ id: 'iss-poa', label: 'ap.rec_poa', required: true, fieldPath: 'power_of_attorney', attrs: { maxlength: 200, autocomplete: 'off' } });
    const at = field({ id: 'iss-at', label: 'ap.rec_at', type: 'datetime-local', fieldPath: 'at' });
    if (st.receipt && st.receipt.applicant_name) name.input.value = st.receipt.applicant_name;
    poa.wrap.hidden = true;
    rb.input.addEventListener('change', () => {
      const rep = rb.input.value === 'representative';
      poa.wrap.hidden = !rep;
      if (rep && st.receipt && name.input.value === st.receipt.applicant_name) name.input.value = st.receipt.representative_name || '';
    });
    const out = h('div', { id: 'iss-result' });
    const submit = h('button.btn-primary', { type: 'submit', id: 'iss-submit', t: 'ap.issue' });
    const form = h('form', { id: 'iss-form', attrs: { novalidate: true } }, rb.wrap, name.wrap, poa.wrap, at.wrap,
      h('div.actions', null, submit));
    let busy = false;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (busy) return;
      for (const f of [rb, name, poa, at]) setFieldError(f.err);
      clear(out);
      const body = { received_by: rb.input.value, name: name.input.value.trim() };
      if (!body.name) { setFieldError(name.err, 'v.required'); name.input.focus(); return; }
      if (body.received_by === 'representative') {
        body.power_of_attorney = poa.input.value.trim();
        if (!body.power_of_attorney) { setFieldError(poa.err, 'v.required'); poa.input.focus(); return; }
      }
      if (at.input.value) body.at = at.input.value.length === 16 ? at.input.value + ':00+05:00' : at.input.value + '+05:00';
      busy = true;
      submit.disabled = true;
      try {
        const r = (await post('/v1/applications/' + encodeURIComponent(id) + '/issuance', body)).data;
        announce('ap.issued', null, 'ok');
        form.hidden = true;
        out.appendChild(h('div.alert.alert-ok', { attrs: { role: 'status' } }, h('span', { t: 'ap.issued' })));
        out.appendChild(await journalEntry(r, st));
      } catch (err) {
        const k = errorKey(err);
        const f = { received_by: rb, name, power_of_attorney: poa, at }[err.details && err.details.field];
        if (f) setFieldError(f.err, k.key, k.args, k.fallback);
        out.appendChild(errorBox(err));
        announceError(err);
      } finally {
        busy = false;
        submit.disabled = false;
      }
    });
    card.appendChild(form);
    card.appendChild(out);
    return card;
  }

  // The journal row of this hand-over (the office reads its journal; a
  // centre sees what the service answered).
  async function journalEntry(r, st) {
    let row = null;
    const authority = (st.queue && st.queue.authority_id) || (known.get(id) || {}).authority_id ||
      (ctx.session.kind === 'office' ? ctx.session.id : null);
    if (ctx.session.kind === 'office' && authority && r.issued_at) {
      try {
        const day = String(r.issued_at).slice(0, 10);
        const j = (await get('/v1/journal/' + encodeURIComponent(authority) + '/' + day)).data;
        row = (j.issued || []).find((x) => x.application_id === id && x.notice_id === r.notice_id) || null;
      } catch (e) { row = null; }
    }
    const x = row || { notice_id: r.notice_id, received_by: r.received_by, receiver_name: '', power_of_attorney: '', issued_at: r.issued_at, recorded_by: ctx.session.principal };
    return h('div.journal', { dataset: { journal: row ? 'journal' : 'reply' } },
      h('h3', { t: 'ap.journal' }),
      dl([
        ['ap.j_notice', h('code.break', null, x.notice_id)],
        ['ap.j_received_by', h('span', { t: 'ap.rb_' + x.received_by, tfallback: x.received_by })],
        ['ap.j_name', x.receiver_name],
        ['ap.j_poa', x.power_of_attorney],
        ['ap.j_at', fmtTs(x.issued_at)],
        ['ap.j_by', x.recorded_by],
      ]));
  }

  load();
  return () => { stopped = true; if (timer) clearTimeout(timer); };
}
