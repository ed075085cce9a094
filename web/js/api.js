// The HTTP API, same origin, relative URLs (/v1/...). The bearer token
// lives only in sessionStorage (p.17): never in a URL, never in
// localStorage; documents are fetched with the header and shown as blobs.

import { getLang } from './i18n.js';

const TOKEN_KEY = 'kezek.token';

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
}
export function setToken(tok) {
  try {
    if (tok) sessionStorage.setItem(TOKEN_KEY, tok);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch (e) { /* storage disabled: the session lasts this page only */ }
  memToken = tok || null;
}
let memToken = null;
const token = () => getToken() || memToken;

export class ApiError extends Error {
  constructor(status, code, message, details, retryAfter) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details || {};
    this.retryAfter = retryAfter;
  }
}

let onUnauthorized = null;
// Called on a 401 to any request but the sign-in check: the token was
// revoked or expired while the console was open.
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

function url(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? path + '?' + s : path;
}

async function send(method, path, opts) {
  opts = opts || {};
  // the API's error messages in the console's language (issue 23)
  const headers = { Accept: opts.accept || 'application/json', 'Accept-Language': getLang() };
  const tok = opts.token !== undefined ? opts.token : token();
  if (tok) headers.Authorization = 'Bearer ' + tok;
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  if (opts.purpose) headers['X-Purpose'] = opts.purpose;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let resp;
  try {
    resp = await fetch(url(path, opts.query), {
      method, headers, body, credentials: 'omit', cache: 'no-store',
      referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    throw new ApiError(0, 'network', String(e && e.message || e));
  }
  if (!resp.ok) {
    let code = 'http_' + resp.status, message = resp.statusText, details;
    try {
      const j = await resp.json();
      if (j && j.error) {
        code = j.error.code || code;
        message = j.error.message || message;
        details = j.error.details;
      }
    } catch (e) { /* not JSON: keep the status */ }
    const err = new ApiError(resp.status, code, message, details,
      resp.headers.get('Retry-After'));
    if (resp.status === 401 && !opts.signIn && onUnauthorized) onUnauthorized(err);
    throw err;
  }
  return resp;
}

// JSON request. Returns {status, data}.
export async function api(method, path, opts) {
  const resp = await send(method, path, opts);
  let data = null;
  const ct = resp.headers.get('Content-Type') || '';
  if (resp.status !== 204 && ct.indexOf('json') >= 0) data = await resp.json();
  return { status: resp.status, data };
}

export const get = (path, query, opts) => api('GET', path, Object.assign({ query }, opts || {}));
export const post = (path, body, opts) => api('POST', path, Object.assign({ body }, opts || {}));

// A document (PDF, CSV) fetched with the Authorization header.
export async function getBlob(path, opts) {
  const resp = await send('GET', path, Object.assign({ accept: '*/*' }, opts || {}));
  const blob = await resp.blob();
  return { status: resp.status, blob, type: (resp.headers.get('Content-Type') || blob.type || '').split(';')[0] };
}

// Memoised public reference data (appendices 1, 2, 5; settlements).
const refCache = {};
export function reference(name) {
  if (!refCache[name]) {
    refCache[name] = get('/v1/reference/' + name).then((r) => r.data)
      .catch((e) => { delete refCache[name]; throw e; });
  }
  return refCache[name];
}

// An Idempotency-Key: crypto.randomUUID where the context allows it
// (secure contexts only), else a v4 UUID from getRandomValues.
export function newKey() {
  if (window.crypto && typeof crypto.randomUUID === 'function') {
    try { return crypto.randomUUID(); } catch (e) { /* fall through */ }
  }
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// Opens a PDF fetched with the token. win is a window opened synchronously
// in the click handler (so no pop-up blocker stops it); when it could not
// be opened the document is shown in the page (fallback element).
// Resolves to {type, size}.
export async function openPdf(path, win, fallback, opts) {
  let res;
  try {
    res = await getBlob(path, Object.assign({ purpose: 'print' }, opts || {}));
  } catch (e) {
    if (win) win.close();
    throw e;
  }
  const blob = res.type === 'application/pdf' ? res.blob
    : new Blob([res.blob], { type: 'application/pdf' });
  const u = URL.createObjectURL(blob);
  if (win && !win.closed) {
    win.location.href = u;
  } else if (fallback) {
    while (fallback.firstChild) fallback.removeChild(fallback.firstChild);
    const fr = document.createElement('iframe');
    fr.src = u;
    fr.className = 'pdf-frame';
    fr.title = 'PDF';
    fallback.appendChild(fr);
  }
  setTimeout(() => URL.revokeObjectURL(u), 10 * 60 * 1000);
  return { type: res.type, size: res.blob.size };
}

export function saveBlob(blob, filename) {
  const u = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = u;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  document.body.removeChild(a);
  setTimeout(() => URL.revokeObjectURL(u), 60 * 1000);
}
