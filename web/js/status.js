// The page's aria-live status line: what just happened, or what failed,
// in the user's language (it follows a language switch).
import { h, clear } from './dom.js';
import { errorKey } from './i18n.js';

const box = () => document.getElementById('status');

// kind: 'info' | 'ok' | 'error'
export function announce(key, args, kind, fallback) {
  const el = box();
  clear(el);
  el.className = 'status status-' + (kind || 'info');
  if (!key && !fallback) return;
  el.appendChild(h('span', { t: key || 'err.__none__', targs: args, tfallback: fallback }));
}

export function announceError(err) {
  const e = errorKey(err);
  announce(e.key, e.args, 'error', e.fallback);
}

export function clearStatus() {
  const el = box();
  clear(el);
  el.className = 'status';
}
