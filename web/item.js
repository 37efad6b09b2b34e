// An item's page: its details (and copies by branch when the server has them), "More like
// this", the lists it is on, its reviews; the patron may add it to a list, rate it or say
// "Not interested". Opening it is a view event.
import { get, post, put, enc, hasRoute, session, sendEvent, status, ApiError } from './api.js';
import { row, creatorOf, availability, itemRecord } from './cards.js';
import { cover } from './covers.js';
import { h, clear, section, when } from './dom.js';
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

// The patron's own review of the item (rating, text, public), as the reviews panel last read
// it: a rating from the stars keeps the text, and the text keeps the rating.
const mine = { item: '', rating: null, body: null, public: true };

async function putReview(id, change) {
  const next = { rating: mine.rating, body: mine.body, public: mine.public, ...change };
  const body = { public: next.public };
  if (next.rating) body.rating = next.rating;
  if (next.body) body.body = next.body;
  await put(`/v1/users/${enc(session.user)}/reviews/${enc(id)}`, body);
  Object.assign(mine, next);
}

// Stars are a review's rating (a `rate` event, written by the server with it) where the server
// has reviews, else a `rate` event; "Not interested" is a `skip` event: the item leaves the
// patron's rows and recommendations at once.
function actions(id) {
  const said = h('p', { class: 'said', role: 'status' });
  const rate = async (n) => {
    try {
      if (await hasRoute('PUT', '/v1/users/{id}/reviews/{item}')) await putReview(id, { rating: n });
      else if (!(await sendEvent('rate', id, n))) return;
      said.textContent = t('itemRated', { n });
    } catch (err) {
      said.textContent = t('error', { message: err.message });
    }
  };
  const stars = h('div', { class: 'stars', role: 'group', 'aria-label': t('itemRate') },
    [1, 2, 3, 4, 5].map((n) => h('button', { type: 'button', class: 'star',
      'aria-label': t('itemRateLabel', { n }), onclick: () => rate(n) }, '★')));
  const dismiss = h('button', { type: 'button', class: 'secondary',
    onclick: async () => {
      if (await sendEvent('skip', id)) said.textContent = t('itemDismissed');
    } }, t('itemNotInterested'));
  return section(t('itemRate'), stars, dismiss, said);
}

export function listTitle(l) {
  return t('listEntry', { title: l.title || l.id, n: l.n_items ?? (l.items || []).length });
}

async function listsOn(body, id) {
  const lists = (await get(`/v1/items/${enc(id)}/lists`)).lists || [];
  clear(body, lists.length ? h('ul', { class: 'lists-on' }, lists.map((l) => h('li', {},
    listTitle(l), l.description ? h('span', { class: 'muted' }, ` — ${l.description}`) : null)))
    : h('p', { class: 'muted' }, t('itemOnNoList')));
}

// The patron's lists (GET /v1/users/{id}/lists), a new one by name (POST /v1/lists), and the
// item added at the end of the chosen one (POST /v1/lists/{id}/items/{item}: the server
// records the `list_add` event).
async function addToList(body, id, onAdded) {
  const lists = (await get(`/v1/users/${enc(session.user)}/lists`)).lists || [];
  const select = h('select', { id: 'list-pick' },
    lists.map((l) => h('option', { value: l.id }, listTitle(l))));
  const name = h('input', { id: 'list-new', type: 'text', autocomplete: 'off' });
  const pub = h('input', { id: 'list-public', type: 'checkbox' });
  const said = h('p', { role: 'status', class: 'list-said' });
  clear(body, h('form', { class: 'inline-form add-to-list', onsubmit: async (e) => {
    e.preventDefault();
    try {
      let list = select.value;
      if (name.value.trim()) {
        const made = await post('/v1/lists', { user: session.user, title: name.value.trim(),
          public: pub.checked });
        list = made.id;
      }
      if (!list) {
        said.textContent = t('itemNoLists');
        return;
      }
      const done = await post(`/v1/lists/${enc(list)}/items/${enc(id)}`, {});
      said.textContent = t('itemAdded', { list: done.title || list });
      onAdded();
    } catch (err) {
      said.textContent = t('error', { message: err.message });
    }
  } },
  lists.length ? [h('label', { for: 'list-pick' }, t('itemListName')), select]
    : h('p', { class: 'muted' }, t('itemNoLists')),
  h('label', { for: 'list-new' }, t('itemNewList')), name,
  h('span', { class: 'check' }, pub, ' ', h('label', { for: 'list-public' }, t('itemListPublic'))),
  h('button', { type: 'submit' }, t('itemAddToList'))), said);
}

function stars(n) {
  return h('span', { class: 'rating', 'aria-label': t('itemRateLabel', { n }) },
    '★'.repeat(Math.round(n)), '☆'.repeat(5 - Math.round(n)));
}

// GET /v1/items/{id}/reviews, and the patron's own review with PUT
// /v1/users/{id}/reviews/{item} (a rating and a text, public or not).
async function reviews(body, id) {
  const res = await get(`/v1/items/${enc(id)}/reviews`);
  const list = res.reviews || [];
  const own = list.find((r) => r.user && r.user === session.user);
  Object.assign(mine, { item: id, rating: own ? own.rating : null, body: own ? own.body : null,
    public: own ? own.public !== false : true });
  const text = h('textarea', { id: 'review-text', rows: '3' });
  text.value = mine.body || '';
  const pub = h('input', { id: 'review-public', type: 'checkbox', checked: mine.public });
  const said = h('p', { role: 'status', class: 'review-said' });
  clear(body,
    res.ratings ? h('p', { class: 'mean' }, t('itemMeanRating', {
      mean: Number(res.mean_rating).toFixed(1), n: res.ratings })) : null,
    list.length ? h('ul', { class: 'reviews' }, list.map((r) => h('li', {},
      r.rating ? [stars(r.rating), ' '] : null,
      h('span', { class: 'who' }, r.user === session.user ? t('itemYou') : (r.user || t('itemReader'))),
      r.timestamp ? h('span', { class: 'muted' }, ` · ${when(r.timestamp).slice(0, 10)}`) : null,
      r.body ? h('p', {}, r.body) : null)))
      : h('p', { class: 'muted' }, t('itemNoReviews')),
    session.user ? h('form', { class: 'review-form', onsubmit: async (e) => {
      e.preventDefault();
      try {
        await putReview(id, { body: text.value.trim() || null, public: pub.checked });
        await reviews(body, id);
        body.querySelector('.review-said').textContent = t('itemReviewSent');
      } catch (err) {
        said.textContent = t('error', { message: err.message });
      }
    } }, h('label', { for: 'review-text' }, t('itemReviewWrite')), text,
    h('span', { class: 'check' }, pub, ' ', h('label', { for: 'review-public' }, t('itemReviewPublic'))),
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
  const onLists = optionalPanel(t('itemLists'), 'GET', '/v1/items/{id}/lists',
    (b) => listsOn(b, id));
  clear(main,
    h('div', { class: 'item-head' }, h('div', { class: 'cover-box big' }, cover(title, creator, rec)),
      h('div', {}, h('h1', {}, title), creator ? h('p', { class: 'byline' },
        t('byline', { creator })) : null, h('p', { class: 'avail' }, availability(rec)),
      section(t('itemDetails'), details(rec)))),
    holdings(rec), actions(id), similar,
    onLists,
    session.user ? optionalPanel(t('itemAddToList'), 'GET', '/v1/users/{id}/lists',
      (b) => addToList(b, id, () => listsOn(onLists.querySelector('.panel-body'), id)
        .catch(() => {}))) : null,
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
