// A small element builder: h('a', {href: '#/'}, 'text', child...). Text is always text (never
// parsed as HTML), so that titles from the catalogue cannot inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// A section with a heading, for the panels of a view.
export function section(title, ...children) {
  const id = `s-${Math.random().toString(36).slice(2, 9)}`;
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('h2', { id }, title), ...children);
}

export function when(ts) {
  if (ts === null || ts === undefined) return '';
  return new Date(ts * 1000).toISOString().slice(0, 16).replace('T', ' ');
}
