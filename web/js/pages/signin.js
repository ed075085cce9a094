// Sign-in: the employee pastes their token; it is checked with
// GET /v1/session and kept in sessionStorage only (p.17).
import { h, field, setFieldError } from '../dom.js';
import { get, setToken } from '../api.js';
import { errorKey } from '../i18n.js';
import { announce, clearStatus } from '../status.js';

const TOKEN_RE = /^kz_[A-Za-z0-9]+_[A-Za-z0-9]+$/;

export function render(main, params, ctx) {
  const tok = field({ id: 'token', label: 'si.token', hint: 'si.token_hint', type: 'password', required: true,
    attrs: { autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' } });
  const submit = h('button.btn-primary', { type: 'submit', id: 'signin-submit', t: 'si.submit' });
  const form = h('form.card.signin', { id: 'signin-form', attrs: { novalidate: true, 'aria-labelledby': 'signin-title' } },
    h('h1', { id: 'signin-title', t: 'si.title' }),
    h('p', { t: 'si.intro' }),
    tok.wrap,
    h('div.actions', null, submit),
    h('p.note.small', { t: 'si.p17' }));
  let busy = false;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    const value = tok.input.value.trim().replace(/^Bearer\s+/i, '');
    setFieldError(tok.err);
    if (!value) { setFieldError(tok.err, 'v.required'); tok.input.focus(); return; }
    if (!TOKEN_RE.test(value)) { setFieldError(tok.err, 'si.format'); tok.input.focus(); return; }
    busy = true;
    submit.disabled = true;
    announce('si.checking');
    try {
      const r = await get('/v1/session', null, { token: value, signIn: true });
      setToken(value);
      tok.input.value = '';
      clearStatus();
      ctx.signedIn(r.data);
    } catch (err) {
      const k = errorKey(err);
      setFieldError(tok.err, k.key, k.args, k.fallback);
      announce(k.key, k.args, 'error', k.fallback);
      tok.input.focus();
      tok.input.select();
    } finally {
      busy = false;
      submit.disabled = false;
    }
  });
  main.appendChild(form);
  tok.input.focus();
}
