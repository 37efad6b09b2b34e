// Catalogue search (GET /v1/search?q=&user=&n=, with weight=0 for the plain order):
// results with facets, in the patron's order or the plain one, with a switch to compare.
import { get, hasRoute, session } from './api.js';
import { card } from './cards.js';
import { h, clear, section } from './dom.js';
import { notAvailable } from './panels.js';
import { t } from './strings.js';

function params(hash) {
  const q = hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : hash.slice(q + 1));
}

function go(p) {
  window.location.hash = `#/search?${p.toString()}`;
}

function facetList(facets, p) {
  const chosen = new Set(p.getAll('filter'));
  return Object.entries(facets || {}).map(([name, values]) => h('fieldset', { class: 'facet' },
    h('legend', {}, name),
    Object.entries(values).slice(0, 12).map(([value, count]) => {
      const f = `${name}=${value}`;
      const input = h('input', { type: 'checkbox', checked: chosen.has(f),
        onchange: () => {
          const next = new URLSearchParams(p);
          next.delete('filter');
          const keep = [...chosen].filter((x) => x !== f);
          if (input.checked) keep.push(f);
          keep.forEach((x) => next.append('filter', x));
          go(next);
        } });
      return h('label', { class: 'facet-value' }, input, ` ${value} (${count})`);
    })));
}

export async function searchView(main, hash) {
  const p = params(hash);
  const q = p.get('q') || '';
  const plain = p.get('order') === 'plain';
  const input = h('input', { type: 'search', id: 'q', name: 'q', value: q, autocomplete: 'off' });
  const form = h('form', { role: 'search', class: 'search-form',
    onsubmit: (e) => {
      e.preventDefault();
      const next = new URLSearchParams();
      next.set('q', input.value.trim());
      if (plain) next.set('order', 'plain');
      go(next);
    } },
  h('label', { for: 'q' }, t('searchLabel')), input,
  h('button', { type: 'submit' }, t('searchButton')));
  const order = h('div', { class: 'toggle', role: 'group', 'aria-label': t('searchCompare') },
    ['personal', 'plain'].map((o) => h('button', {
      type: 'button', 'aria-pressed': String((o === 'plain') === plain),
      onclick: () => {
        const next = new URLSearchParams(p);
        if (o === 'plain') next.set('order', 'plain'); else next.delete('order');
        go(next);
      } }, t(o === 'plain' ? 'searchPlain' : 'searchPersonal'))));
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  clear(main, h('h1', {}, t('searchTitle')), form, order, results);
  if (!(await hasRoute('GET', '/v1/search'))) {
    clear(results, notAvailable(t('searchWhat')));
    return;
  }
  if (!q) return;
  const query = new URLSearchParams({ q, n: '20' });
  if (session.user) query.set('user', session.user);
  if (plain) query.set('weight', '0');
  p.getAll('filter').forEach((f) => query.append('filter', f));
  clear(results, h('p', { class: 'muted' }, t('loading')));
  let res;
  try {
    res = await get(`/v1/search?${query.toString()}`);
  } catch (e) {
    clear(results, e.missingRoute ? notAvailable(t('searchWhat'))
      : h('p', { class: 'error' }, t('error', { message: e.message })));
    return;
  }
  const items = res.items || [];
  clear(results,
    h('p', {}, items.length ? t('searchTotal', { n: res.total ?? items.length })
      : t('searchNone', { q })),
    h('div', { class: 'search-layout' },
      section(t('facets'), facetList(res.facets, p)),
      h('ol', { class: 'cards search-results' }, items.map((it) => h('li', {},
        card({ ...it, evidence: it.evidence || [] }, { why: Boolean(it.reason) }))))));
}
