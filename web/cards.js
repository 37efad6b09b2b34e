// Cards and rows of items: the cover, title, creator, availability at the patron's branch and
// a "Why?" that shows the evidence behind the suggestion. A click on a card is an event.
import { get, enc, sendEvent } from './api.js';
import { cover } from './covers.js';
import { h, clear } from './dom.js';
import { t } from './strings.js';

// Item records, read once per page load, at most a few at a time.
const records = new Map();
let running = 0;
const waiting = [];
function slot() {
  if (running < 6) { running++; return Promise.resolve(); }
  return new Promise((resolve) => waiting.push(resolve));
}
function release() {
  const next = waiting.shift();
  if (next) next(); else running--;
}
export function itemRecord(id) {
  if (!records.has(id)) {
    records.set(id, slot().then(() => get(`/v1/items/${enc(id)}`))
      .catch(() => null).finally(release));
  }
  return records.get(id);
}

// The patron's home branch (their record's attrs.branch), set by the app at sign-in.
export const patron = { branch: '' };

export function creatorOf(rec) {
  const a = rec && rec.authors;
  return Array.isArray(a) && a.length ? a.join(', ') : '';
}

// "On the shelf at main", "2 of 3 on the shelf", "All copies out", or '' when unknown. it: a
// suggestion whose `availability` the server counted at the patron's branch, which wins.
export function availability(rec, it) {
  const at = it && it.availability;
  if (at && at.branch) {
    if (at.on_shelf_here > 0) return t('availableHere', { branch: at.branch });
    return at.on_shelf_elsewhere > 0 ? t('availableElsewhere', { branch: at.branch })
      : t('notOnShelf');
  }
  if (!rec) return '';
  const hold = Array.isArray(rec.holdings) ? rec.holdings : [];
  if (hold.length && patron.branch) {
    const here = hold.find((x) => x.branch === patron.branch);
    if (here) {
      return (here.available ?? 0) > 0 ? t('availableHere', { branch: patron.branch })
        : t('notOnShelf');
    }
  }
  if (rec.available === null || rec.available === undefined) return '';
  if (rec.available <= 0) return t('notOnShelf');
  if (patron.branch && rec.copies) {
    return t('availableAny', { n: rec.available, copies: rec.copies });
  }
  return t('availableAny', { n: rec.available, copies: rec.copies ?? rec.available });
}

// "Not interested" on a card: a `skip` event; the card leaves the row at once, and the
// server keeps the item out of the patron's rows and recommendations from then on.
function dismissButton(id) {
  return h('button', { type: 'button', class: 'secondary dismiss', onclick: async (e) => {
    const el = e.currentTarget.closest('li') || e.currentTarget.closest('.card');
    if (await sendEvent('skip', id) && el) el.remove();
  } }, t('itemNotInterested'));
}

function why(it, dismiss) {
  const ev = Array.isArray(it.evidence) ? it.evidence : [];
  const list = ev.length
    ? h('ul', {}, ev.map((e) => h('li', {}, t('evidenceBecause', {
      title: e.title || e.item, weight: Number(e.weight || 0).toFixed(3) }))))
    : h('p', {}, t('evidenceNone', { reason: it.reason || '' }));
  return h('details', { class: 'why' }, h('summary', {}, t('why')),
    it.reason ? h('p', {}, it.reason) : null, list,
    dismiss ? dismissButton(String(it.item ?? it.id)) : null);
}

// One card: it is filled in with the record (creator, cover, availability) when that arrives.
export function card(it, opts = {}) {
  const id = String(it.item ?? it.id);
  const title = it.title || id;
  const href = `#/item/${enc(id)}`;
  const coverBox = h('div', { class: 'cover-box' }, cover(title, '', null));
  const by = h('p', { class: 'byline' });
  const avail = h('p', { class: 'avail' }, availability(null, it));
  const link = h('a', { href, class: 'card-title',
    onclick: () => { sendEvent('click', id); } }, title);
  const el = h('article', { class: 'card', 'data-item': id },
    h('a', { href, tabindex: '-1', 'aria-hidden': 'true', class: 'cover-link',
      onclick: () => { sendEvent('click', id); } }, coverBox),
    h('h3', {}, link), by, avail, opts.why === false ? null : why(it, opts.dismiss));
  itemRecord(id).then((rec) => {
    if (!rec) return;
    const creator = creatorOf(rec);
    by.textContent = creator ? t('byline', { creator }) : '';
    avail.textContent = availability(rec, it);
    clear(coverBox, cover(title, creator, rec));
  });
  return el;
}

// A row: its title (the reason) and its cards, in a list that scrolls sideways.
export function row(title, items, opts = {}) {
  const id = `r-${Math.random().toString(36).slice(2, 9)}`;
  return h('section', { class: 'row', 'aria-labelledby': id, 'data-row': opts.id || '' },
    h('h2', { id }, title),
    h('ul', { class: 'cards' }, items.map((it) => h('li', {}, card(it, opts)))));
}
