// Small DOM helpers. Text from the API is only ever set as textContent,
// never parsed as HTML (names and complaint texts are citizens' input).
import { t, tr } from './i18n.js';

// h('tag.class#id', {props}, ...children)
//   props.t = i18n key (element text follows the language), props.targs
//   props.attrs = {name: value}; props.ta = {attr: i18nKey} (translated)
//   props.on = {event: handler}; other props are set as properties
//   (class, id, htmlFor, type, value, checked, disabled, hidden, ...).
export function h(spec, props, ...children) {
  let tag = spec, cls = [], id = null;
  const m = spec.match(/^([a-z0-9]+)((?:[.#][\w-]+)*)$/i);
  if (m) {
    tag = m[1];
    for (const part of m[2].match(/[.#][\w-]+/g) || []) {
      if (part[0] === '.') cls.push(part.slice(1)); else id = part.slice(1);
    }
  }
  const el = document.createElement(tag);
  if (cls.length) el.className = cls.join(' ');
  if (id) el.id = id;
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null) continue;
      if (k === 't') {
        el.dataset.i18n = v;
        if (props.targs) el.dataset.i18nArgs = JSON.stringify(props.targs);
        if (props.tfallback) el.dataset.i18nFallback = props.tfallback;
        el.textContent = t(v, props.targs, props.tfallback);
      } else if (k === 'targs' || k === 'tfallback') {
        continue;
      } else if (k === 'ta') {
        el.dataset.i18nAttr = Object.entries(v).map(([a, key]) => a + ':' + key).join(';');
        for (const [a, key] of Object.entries(v)) el.setAttribute(a, t(key));
      } else if (k === 'attrs') {
        for (const [a, av] of Object.entries(v)) {
          if (av === false || av === null || av === undefined) continue;
          el.setAttribute(a, av === true ? '' : String(av));
        }
      } else if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === 'class') {
        el.className = (el.className ? el.className + ' ' : '') + v;
      } else if (k === 'dataset') {
        Object.assign(el.dataset, v);
      } else {
        el[k] = v;
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

// A translated text node wrapper (span) for use inside mixed content.
export const T = (key, args, fallback) => h('span', { t: key, targs: args, tfallback: fallback });

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let uid = 0;
export const nextId = (p) => (p || 'f') + '-' + (++uid);

// A labelled control: returns {wrap, input, err}. The error holder is
// referenced by aria-describedby so screen readers read it with the field.
export function field(opts) {
  const id = opts.id || nextId('f');
  const errId = id + '-err';
  const hintId = opts.hint ? id + '-hint' : null;
  let input;
  const common = {
    id, name: opts.name || id,
    attrs: Object.assign({ 'aria-describedby': [hintId, errId].filter(Boolean).join(' ') },
      opts.attrs || {}),
    dataset: opts.fieldPath ? { field: opts.fieldPath } : undefined,
    on: opts.on,
  };
  if (opts.type === 'select') {
    input = h('select', common, opts.options || []);
  } else if (opts.type === 'textarea') {
    input = h('textarea', Object.assign(common, { rows: opts.rows || 4 }));
  } else {
    input = h('input', Object.assign(common, { type: opts.type || 'text' }));
  }
  if (opts.value !== undefined && opts.value !== null) input.value = opts.value;
  if (opts.required) { input.required = true; input.setAttribute('aria-required', 'true'); }
  const label = h('label', { htmlFor: id },
    h('span', { t: opts.label }),
    opts.required ? h('span.req', { attrs: { 'aria-hidden': 'true' } }, ' *') : null);
  const err = h('div.field-err', { id: errId, attrs: { 'aria-live': 'polite' },
    dataset: opts.fieldPath ? { errFor: opts.fieldPath } : undefined });
  const wrap = h('div.field' + (opts.wide ? '.wide' : ''), null, label,
    opts.hint ? h('div.hint', { id: hintId, t: opts.hint }) : null,
    input, err);
  if (opts.fieldPath) wrap.dataset.fieldWrap = opts.fieldPath;
  return { wrap, input, err };
}

export function option(value, key, args) {
  const o = h('option', key ? { value, t: key, targs: args } : { value });
  if (!key) o.textContent = value;
  return o;
}

// Sets or clears a field's error; text is an i18n key with fallback.
export function setFieldError(err, key, args, fallback) {
  clear(err);
  const input = err.parentNode && err.parentNode.querySelector('input,select,textarea');
  if (!key && !fallback) {
    if (input) input.removeAttribute('aria-invalid');
    return;
  }
  err.appendChild(h('span', { t: key || 'err.generic', targs: args, tfallback: fallback }));
  if (input) input.setAttribute('aria-invalid', 'true');
}

// "2026-12-25" → "25.12.2026"; keeps anything it cannot read as it is.
export function fmtDate(s) {
  if (!s) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  return m ? `${m[3]}.${m[2]}.${m[1]}` : String(s);
}

// "2026-11-25T10:15:00+05:00" → "25.11.2026 10:15" (the Almaty time as
// the server gave it; no conversion to the browser's zone).
export function fmtTs(s) {
  if (!s) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(s);
  return m ? `${m[3]}.${m[2]}.${m[1]} ${m[4]}:${m[5]}` : String(s);
}

export function fmtNum(n) {
  if (n === null || n === undefined || n === '') return '';
  return Number(n).toLocaleString('ru-RU').replace(/\u00a0/g, ' ');
}

// A table with <caption>, <th scope="col">; rows is an array of arrays of
// cells (Node or text); a cell may be {th: content} for a row header.
export function table(captionKey, headKeys, rows, opts) {
  opts = opts || {};
  const cap = captionKey ? h('caption', { t: captionKey, targs: opts.captionArgs }) : null;
  const thead = h('thead', null, h('tr', null, headKeys.map((k) =>
    h('th', { attrs: { scope: 'col' }, t: k }))));
  const tbody = h('tbody', null, rows.map((r) => {
    const tr = h('tr', r.attrs ? { attrs: r.attrs } : null);
    const cells = Array.isArray(r) ? r : r.cells;
    if (r.className) tr.className = r.className;
    if (r.dataset) Object.assign(tr.dataset, r.dataset);
    for (const c of cells) {
      if (c && c.th !== undefined) tr.appendChild(h('th', { attrs: { scope: 'row' } }, c.th));
      else tr.appendChild(h('td', null, c));
    }
    return tr;
  }));
  return h('table.data' + (opts.className ? '.' + opts.className.split(' ').join('.') : ''), null, cap, thead, tbody);
}

// Definition list from [[key, value], ...] (value Node or text).
export function dl(pairs) {
  return h('dl.kv', null, pairs.filter((p) => p).map(([k, v, args]) => [
    h('dt', { t: k, targs: args }), h('dd', null, v === null || v === undefined || v === '' ? '—' : v),
  ]));
}

export function button(key, onClick, opts) {
  opts = opts || {};
  return h('button' + (opts.cls ? '.' + opts.cls.split(' ').join('.') : ''),
    Object.assign({ type: opts.type || 'button', t: key, targs: opts.targs,
      on: onClick ? { click: onClick } : undefined }, opts.props || {}));
}

export function badge(kind, key) {
  return h('span.badge.badge-' + kind, { t: key });
}

export { t, tr };
