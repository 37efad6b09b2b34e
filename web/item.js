// An item's page: its details (and copies by branch when the server has them), "More like
// this", the lists it is on, its reviews; the patron may add it to a list, rate it or say
// "Not interested". Opening it is a view event.
import { get, post, enc, session, sendEvent, status, ApiError } from './api.js';
import { row, creatorOf, availability, itemRecord } from './cards.js';
import { cover } from './covers.js';
import { h, clear, section } from './dom.js';
import { optionalPanel } from './panels.js';
import { t } from './strings.js';

function details(rec) {
  const rows = [
    ['fieldAuthors', creatorOf(rec)],
    ['fieldSubjects', (rec.subjects || []).join(', ')],
    ['fieldYear', rec.year], ['fieldType', rec.type], ['fieldLanguage', rec.language],
    ['fieldFormat', rec.format], ['fieldCopies', rec.copies], ['fieldAvailable', rec.available],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  const extra = rec.details && typeof rec.details === 'object' ? Object.entries(rec.details)
    .filter(([, v]) => typeof v === 'string' || typeof v === 'number') : [];
  return h('dl', { class: 'details' },
    rows.map(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, String(v))]),
    extra.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
}

function holdings(rec) {
  const hs = Array.isArray(rec.holdings) ? rec.holdings : [];
  if (!hs.length) return null;
  return section(t('itemHoldings'), h('table', {},
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('branch')),
      h('th', { scope: 'col' }, t('fieldCopies')), h('th', { scope: 'col' }, t('fieldAvailable')))),
    h('tbody', {}, hs.map((x) => h('tr', {}, h('td', {}, x.branch ?? ''),
      h('td', {}, String(x.copies ?? '')), h('td', {}, String(x.available ?? '')))))));
}

function actions(id) {
  const said = h('p', { class: 'said', role: 'status' });
  const stars = h('div', { class: 'stars', role: 'group', 'aria-label': t('itemRate') },
    [1, 2, 3, 4, 5].map((n) => h('button', { type: 'button', class: 'star',
      'aria-label': t('itemRateLabel', { n }),
      onclick: async () => {
        if (await sendEvent('rate', id, n)) said.textContent = t('itemRated', { n });
      } }, '★')));
  const dismiss = h('button', { type: 'button', class: 'secondary',
    onclick: async () => {
      if (await sendEvent('skip', id)) said.textContent = t('itemDismissed');
    } }, t('itemNotInterested'));
  return section(t('itemRate'), stars, dismiss, said);
}

async function listsOn(body, id) {
  const res = await get(`/v1/items/${enc(id)}/lists`);
  const lists = res.lists || res.items || [];
  clear(body, lists.length ? h('ul', {}, lists.map((l) => h('li', {}, l.title || l.name || l.id)))
    : h('p', { class: 'muted' }, t('empty')));
}

async function addToList(body, id) {
  const mine = await get(`/v1/lists?user=${enc(session.user)}`);
  const lists = mine.lists || mine.items || [];
  const select = h('select', { id: 'list-pick' },
    lists.map((l) => h('option', { value: l.id }, l.title || l.name || l.id)));
  const name = h('input', { id: 'list-new', type: 'text' });
  const said = h('p', { role: 'status' });
  clear(body, h('form', { class: 'inline-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      let list = select.value;
      let title = select.selectedOptions[0] ? select.selectedOptions[0].textContent : '';
      if (name.value.trim()) {
        const made = await post('/v1/lists', { user: session.user, title: name.value.trim() });
        list = made.id;
        title = made.title || name.value.trim();
      }
      await post(`/v1/lists/${enc(list)}/items`, { item: id });
      await sendEvent('list_add', id);
      said.textContent = t('itemAdded', { list: title });
    } catch (err) {
      said.textContent = t('error', { message: err.message });
    }
  } },
  lists.length ? [h('label', { for: 'list-pick' }, t('itemListName')), select]
    : h('p', { class: 'muted' }, t('itemNoLists')),
  h('label', { for: 'list-new' }, t('itemNewList')), name,
  h('button', { type: 'submit' }, t('itemAddToList'))), said);
}

async function reviews(body, id) {
  const res = await get(`/v1/items/${enc(id)}/reviews`);
  const list = res.reviews || res.items || [];
  const text = h('textarea', { id: 'review-text', rows: '3' });
  const said = h('p', { role: 'status' });
  clear(body,
    list.length ? h('ul', { class: 'reviews' }, list.map((r) => h('li', {},
      r.rating ? h('span', { class: 'rating' }, '★'.repeat(Math.round(r.rating)), ' ') : null,
      r.text || r.body || ''))) : h('p', { class: 'muted' }, t('empty')),
    session.user ? h('form', { class: 'inline-form', onsubmit: async (e) => {
      e.preventDefault();
      try {
        await post(`/v1/users/${enc(session.user)}/reviews/${enc(id)}`, { text: text.value });
        said.textContent = t('itemReviewSent');
        await sendEvent('review', id);
      } catch (err) {
        said.textContent = t('error', { message: err.message });
      }
    } }, h('label', { for: 'review-text' }, t('itemReviewWrite')), text,
    h('button', { type: 'submit' }, t('itemReviewSend')), said) : null);
}

export async function itemView(main, id) {
  clear(main, h('p', { class: 'muted' }, t('loading')));
  let rec;
  try {
    rec = await get(`/v1/items/${enc(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      clear(main, h('h1', {}, id), h('p', {}, t('itemNotFound')));
      return;
    }
    throw e;
  }
  itemRecord(id); // the cards below read the same record
  const title = rec.title || id;
  const creator = creatorOf(rec);
  sendEvent('view', id);
  const similar = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  clear(main,
    h('div', { class: 'item-head' }, h('div', { class: 'cover-box big' }, cover(title, creator, rec)),
      h('div', {}, h('h1', {}, title), creator ? h('p', { class: 'byline' },
        t('byline', { creator })) : null, h('p', { class: 'avail' }, availability(rec)),
      section(t('itemDetails'), details(rec)))),
    holdings(rec), actions(id), similar,
    optionalPanel(t('itemLists'), 'GET', '/v1/items/{id}/lists', (b) => listsOn(b, id)),
    session.user ? optionalPanel(t('itemAddToList'), 'GET', '/v1/lists',
      (b) => addToList(b, id)) : null,
    optionalPanel(t('itemReviews'), 'GET', '/v1/items/{id}/reviews', (b) => reviews(b, id)));
  try {
    const sim = await get(`/v1/items/${enc(id)}/similar?n=10`);
    clear(similar, (sim.items || []).length ? row(t('itemMoreLike'), sim.items, { id: 'similar' })
      : section(t('itemMoreLike'), h('p', { class: 'muted' }, t('empty'))));
  } catch (e) {
    clear(similar, section(t('itemMoreLike'), h('p', { class: 'muted' }, e.message)));
  }
  status('');
}
