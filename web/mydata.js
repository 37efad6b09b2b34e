// "My data": the patron's history, lists and reviews, consent switches (personalization,
// retention), the export as a JSON file and the erasure, with a confirmation.
import { get, put, del, enc, session, status } from './api.js';
import { itemRecord } from './cards.js';
import { listTitle } from './item.js';
import { h, clear, section, when } from './dom.js';
import { optionalPanel } from './panels.js';
import { t } from './strings.js';

function history(events) {
  const last = events.slice(-50).reverse();
  if (!last.length) return h('p', { class: 'muted' }, t('empty'));
  return h('table', { class: 'history' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('historyWhen')),
      h('th', { scope: 'col' }, t('historyWhat')), h('th', { scope: 'col' }, t('historyItem')))),
    h('tbody', {}, last.map((e) => h('tr', {}, h('td', {}, when(e.timestamp)),
      h('td', {}, e.type), h('td', {}, titled(e.item))))));
}

// A link to the item, its id shown until its record's title arrives.
function titled(item) {
  const a = h('a', { href: `#/item/${enc(item)}` }, item);
  itemRecord(item).then((rec) => { if (rec && rec.title) a.textContent = rec.title; });
  return a;
}

function consentForm(user, exp) {
  const profile = exp.profile || {};
  const personalize = h('input', { type: 'checkbox', id: 'c-personalize',
    checked: profile.personalize !== false });
  const days = h('input', { type: 'number', id: 'c-retention', min: '0', inputmode: 'numeric',
    value: exp.retention_days ?? '' });
  const said = h('p', { role: 'status' });
  return h('form', { class: 'consent', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await put(`/v1/users/${enc(user)}/consent`, { personalize: personalize.checked,
        retention_days: days.value === '' ? null : Number(days.value) });
      said.textContent = t('meSaved');
    } catch (err) {
      said.textContent = t('error', { message: err.message });
    }
  } },
  h('p', { class: 'check' }, personalize, ' ', h('label', { for: 'c-personalize' }, t('mePersonalize'))),
  h('p', {}, h('label', { for: 'c-retention' }, t('meRetention')), ' ', days),
  h('button', { type: 'submit' }, t('meSaveConsent')), said);
}

function exportLink(user, exp) {
  const blob = new Blob([JSON.stringify(exp, null, 2)], { type: 'application/json' });
  return h('a', { class: 'button', id: 'export', href: URL.createObjectURL(blob),
    download: `tailor-${user}.json` }, t('meExport'));
}

function eraseForm(user, onErased) {
  const word = h('input', { type: 'text', id: 'erase-word', autocomplete: 'off' });
  const said = h('p', { role: 'status' });
  return h('form', { class: 'danger', onsubmit: async (e) => {
    e.preventDefault();
    if (word.value !== t('meEraseWord')) {
      said.textContent = t('meEraseMismatch');
      return;
    }
    try {
      await del(`/v1/users/${enc(user)}`);
      onErased();
      status(t('meErased', { user }));
    } catch (err) {
      said.textContent = t('error', { message: err.message });
    }
  } },
  h('label', { for: 'erase-word' }, t('meEraseConfirm')), ' ', word, ' ',
  h('button', { type: 'submit', class: 'danger-button' }, t('meEraseButton')), said);
}

// The patron's lists with their items (GET /v1/users/{id}/lists, then each list), an item
// taken off with DELETE /v1/lists/{id}/items/{item}, a list deleted with DELETE /v1/lists/{id}.
async function myLists(body, user) {
  const lists = (await get(`/v1/users/${enc(user)}/lists`)).lists || [];
  if (!lists.length) {
    clear(body, h('p', { class: 'muted' }, t('meNoLists')));
    return;
  }
  const full = await Promise.all(lists.map((l) => get(`/v1/lists/${enc(l.id)}`).catch(() => l)));
  const again = () => myLists(body, user).catch((e) => status(e.message));
  clear(body, h('ul', { class: 'my-lists' }, full.map((l) => h('li', { 'data-list': l.id },
    h('strong', {}, listTitle(l)), ' ', h('span', { class: 'muted' },
      l.public ? t('meListPublic') : t('meListPrivate')), ' ',
    h('button', { type: 'button', class: 'link', onclick: async () => {
      await del(`/v1/lists/${enc(l.id)}`).catch((e) => status(e.message));
      again();
    } }, t('meListDelete', { title: l.title || l.id })),
    (l.items || []).length ? h('ul', {}, l.items.map((it) => h('li', {}, titled(it.item), ' ',
      h('button', { type: 'button', class: 'link', onclick: async () => {
        await del(`/v1/lists/${enc(l.id)}/items/${enc(it.item)}`).catch((e) => status(e.message));
        again();
      } }, t('meListRemove'))))) : null))));
}

// The patron's reviews as their export has them; one is taken back with DELETE
// /v1/users/{id}/reviews/{item}.
function myReviews(user, list) {
  if (!list.length) return h('p', { class: 'muted' }, t('empty'));
  return h('ul', { class: 'my-reviews' }, list.map((r) => {
    const li = h('li', {}, titled(r.item), ' ',
      r.rating ? `${'★'.repeat(Math.round(r.rating))} ` : '', r.body || '', ' ',
      h('button', { type: 'button', class: 'link', onclick: async () => {
        try {
          await del(`/v1/users/${enc(user)}/reviews/${enc(r.item)}`);
          li.remove();
        } catch (e) {
          status(e.message);
        }
      } }, t('meReviewDelete')));
    return li;
  }));
}

export async function meView(main, onErased) {
  const user = session.user;
  clear(main, h('h1', {}, t('meTitle')), h('p', { class: 'muted' }, t('loading')));
  const exp = await get(`/v1/users/${enc(user)}/export`);
  clear(main, h('h1', {}, t('meTitle')),
    section(t('meConsent'), consentForm(user, exp), h('p', {}, exportLink(user, exp))),
    section(t('meHistory'), history(exp.events || [])),
    optionalPanel(t('meLists'), 'GET', '/v1/users/{id}/lists', (body) => myLists(body, user)),
    section(t('meReviews'), myReviews(user, exp.reviews || [])),
    section(t('meErase'), eraseForm(user, onErased)));
}
