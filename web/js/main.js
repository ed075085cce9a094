// The console's frame: language, session, navigation and hash routing
// (#/applications, #/applications/<id>, #/new, ... — static serving needs
// no rewrites).
import { h, clear, button, fmtTs } from './dom.js';
import { t, getLang, setLang, applyI18n, LANGS } from './i18n.js';
import { get, getToken, setToken, setUnauthorizedHandler } from './api.js';
import { announce, announceError, clearStatus } from './status.js';
import * as signin from './pages/signin.js';
import * as newapp from './pages/newapp.js';
import * as apps from './pages/applications.js';
import * as appPage from './pages/application.js';
import * as worklist from './pages/worklist.js';
import * as queue from './pages/queue.js';
import * as complaints from './pages/complaints.js';
import * as complaintNew from './pages/complaint_new.js';
import * as indicators from './pages/indicators.js';

// What each principal kind may open (the API decides; the console only
// offers what the kind may do).
const NAV = [
  { hash: '#/applications', key: 'nav.applications', kinds: ['office', 'centre', 'ops'] },
  { hash: '#/new', key: 'nav.new', kinds: ['office', 'centre'] },
  { hash: '#/worklist', key: 'nav.worklist', kinds: ['office', 'ops', 'supervisor'] },
  { hash: '#/queue', key: 'nav.queue', kinds: ['office', 'ops', 'supervisor'] },
  { hash: '#/complaints', key: 'nav.complaints', kinds: ['office', 'centre', 'ops', 'appeal', 'head'] },
  { hash: '#/complaints/new', key: 'nav.complaint_new', kinds: ['office', 'centre'] },
  { hash: '#/indicators', key: 'nav.indicators', kinds: ['ops', 'supervisor'] },
];

const ROUTES = [
  { re: /^#\/applications\/([0-9a-zA-Z._:-]+)$/, page: appPage, kinds: ['office', 'centre', 'ops'], nav: '#/applications' },
  { re: /^#\/applications(\?.*)?$/, page: apps, kinds: ['office', 'centre', 'ops'], nav: '#/applications' },
  { re: /^#\/new$/, page: newapp, kinds: ['office', 'centre'], nav: '#/new' },
  { re: /^#\/worklist(\?.*)?$/, page: worklist, kinds: ['office', 'ops', 'supervisor'], nav: '#/worklist' },
  { re: /^#\/queue(?:\/([a-z_]+))?(\?.*)?$/, page: queue, kinds: ['office', 'ops', 'supervisor'], nav: '#/queue' },
  { re: /^#\/complaints\/new$/, page: complaintNew, kinds: ['office', 'centre'], nav: '#/complaints/new' },
  { re: /^#\/complaints(\?.*)?$/, page: complaints, kinds: ['office', 'centre', 'ops', 'appeal', 'head'], nav: '#/complaints' },
  { re: /^#\/indicators(\?.*)?$/, page: indicators, kinds: ['ops', 'supervisor'], nav: '#/indicators' },
];

const HOME = { office: '#/applications', centre: '#/new', ops: '#/applications',
  appeal: '#/complaints', head: '#/complaints', supervisor: '#/indicators', portal: '#/portal' };

const state = { session: null, cleanup: null, pending: null };
const main = document.getElementById('main');

export const ctx = {
  get session() { return state.session; },
  go(hash) { if (location.hash === hash) route(); else location.hash = hash; },
  can(kinds) { return !!state.session && kinds.indexOf(state.session.kind) >= 0; },
  readOnly() { return state.session && (state.session.kind === 'supervisor' || state.session.kind === 'ops'); },
  signedIn: (s) => signedIn(s),
};

function renderLang() {
  const box = document.getElementById('lang');
  clear(box);
  box.setAttribute('aria-label', t('app.lang'));
  box.dataset.i18nAttr = 'aria-label:app.lang';
  for (const l of LANGS) {
    const b = h('button.lang-btn', {
      type: 'button', t: 'lang.' + l, id: 'lang-' + l,
      attrs: { lang: l, 'aria-pressed': String(getLang() === l) },
      on: { click: () => {
        setLang(l);
        for (const x of box.querySelectorAll('button')) {
          x.setAttribute('aria-pressed', String(x.id === 'lang-' + l));
        }
      } },
    });
    box.appendChild(b);
  }
}

function renderWho() {
  const who = document.getElementById('who');
  clear(who);
  const s = state.session;
  if (!s) { who.hidden = true; return; }
  who.hidden = false;
  const scope = s.scope_name || s.expires_at ? h('div.who-scope', { attrs: { title: s.scope_name || '' } },
    s.scope_name || '', s.scope_name && s.expires_at ? ' · ' : '',
    s.expires_at ? h('span', { t: 'app.expires', targs: { date: fmtTs(s.expires_at) } }) : null) : null;
  who.appendChild(h('div.who-text', null,
    h('div.who-name', null, s.employee ? [h('span', { id: 'who-employee' }, s.employee), ' · '] : null,
      h('span', { t: 'kind.' + s.kind, tfallback: s.kind }), ' · ', h('code', { id: 'who-principal' }, s.principal)),
    scope));
  who.appendChild(button('app.signout', signOut, { cls: 'btn-quiet', props: { id: 'signout' } }));
}

function renderNav(active) {
  const nav = document.getElementById('nav');
  clear(nav);
  const s = state.session;
  if (!s) { nav.hidden = true; return; }
  nav.hidden = false;
  nav.setAttribute('aria-label', t('app.nav'));
  nav.dataset.i18nAttr = 'aria-label:app.nav';
  const ul = h('ul');
  for (const item of NAV) {
    if (item.kinds.indexOf(s.kind) < 0) continue;
    const a = h('a', { href: item.hash, t: item.key, dataset: { nav: item.hash } });
    if (item.hash === active) a.setAttribute('aria-current', 'page');
    ul.appendChild(h('li', null, a));
  }
  nav.appendChild(ul);
}

function signOut() {
  setToken(null);
  state.session = null;
  renderWho();
  renderNav();
  newapp.forget();
  complaintNew.forget();
  state.pending = ['si.signed_out', null, 'info'];
  location.hash = '#/signin';
}

// Called by the sign-in page once GET /v1/session answered.
export function signedIn(session) {
  state.session = session;
  renderWho();
  state.pending = ['si.welcome', { who: session.employee || session.principal }, 'ok'];
  ctx.go(HOME[session.kind] || '#/applications');
}

function route() {
  const hash = location.hash || '';
  if (!hash.startsWith('#/')) {
    if (!hash) location.replace('#/' + (state.session ? '' : 'signin'));
    return;
  }
  if (state.cleanup) { try { state.cleanup(); } catch (e) { /* ignore */ } state.cleanup = null; }
  clearStatus();
  if (state.pending) { announce(...state.pending); state.pending = null; } // said across the page change
  window.scrollTo(0, 0);
  if (!state.session || hash === '#/signin') {
    if (state.session && hash === '#/signin') { ctx.go(HOME[state.session.kind]); return; }
    renderNav();
    clear(main);
    state.cleanup = signin.render(main, [], ctx);
    return;
  }
  if (hash === '#/' || hash === '#/portal') {
    if (state.session.kind !== 'portal') { ctx.go(HOME[state.session.kind]); return; }
    renderNav();
    clear(main);
    main.appendChild(h('h1', { t: 'app.title' }));
    main.appendChild(h('p.note', { t: 'app.portal_note' }));
    return;
  }
  for (const r of ROUTES) {
    const m = r.re.exec(hash);
    if (!m) continue;
    renderNav(r.nav);
    clear(main);
    if (!ctx.can(r.kinds)) {
      main.appendChild(h('h1', { t: 'app.not_allowed' }));
      return;
    }
    const qi = hash.indexOf('?');
    const query = new URLSearchParams(qi >= 0 ? hash.slice(qi + 1) : '');
    state.cleanup = r.page.render(main, m.slice(1), ctx, query) || null;
    // a new page: focus goes to its content unless the page put it somewhere
    if (!main.contains(document.activeElement)) main.focus({ preventScroll: true });
    return;
  }
  renderNav();
  clear(main);
  main.appendChild(h('h1', { t: 'app.not_found' }));
}

async function start() {
  document.documentElement.lang = getLang();
  document.title = t('app.title');
  const skip = document.getElementById('skip-link');
  skip.dataset.i18n = 'app.skip';
  skip.addEventListener('click', (e) => { e.preventDefault(); main.focus(); });
  const sub = document.getElementById('brand-sub');
  sub.dataset.i18n = 'app.sub';
  renderLang();
  applyI18n(document);
  setUnauthorizedHandler(() => {
    if (!state.session) return;
    setToken(null);
    state.session = null;
    renderWho();
    state.pending = ['err.session_ended', null, 'error'];
    location.hash = '#/signin';
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('kezek:lang', () => { document.title = t('app.title'); });
  if (getToken()) {
    main.appendChild(h('p', { t: 'app.loading' }));
    try {
      const r = await get('/v1/session', null, { signIn: true });
      state.session = r.data;
      renderWho();
    } catch (e) {
      if (e.status === 401) setToken(null);
      else announceError(e);
    }
  }
  let target = location.hash;
  if (state.session && (!target || target === '#/signin' || target === '#/')) {
    target = HOME[state.session.kind] || '#/applications';
  } else if (!state.session && !target.startsWith('#/')) {
    target = '#/signin';
  }
  if (target !== location.hash) location.replace(target); // hashchange routes
  else route();
}

start();
