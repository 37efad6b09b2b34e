// The page's shell: who is reading (a demo patron from the list, or an id and a key), the
// navigation, and the views by the address's hash (#/, #/search?q=, #/item/ID, #/me,
// #/console). Every view is its own module.
import { get, enc, session, status, ApiError } from './api.js';
import { patron } from './cards.js';
import { consoleView } from './console.js';
import { h, clear } from './dom.js';
import { homeView } from './home.js';
import { itemView } from './item.js';
import { meView } from './mydata.js';
import { searchView } from './search.js';
import { STRINGS, t } from './strings.js';

const main = document.getElementById('main');

// Static text of index.html: every element with data-t="key" shows STRINGS[key].
function translateStatic() {
  document.querySelectorAll('[data-t]').forEach((el) => {
    el.textContent = t(el.dataset.t);
  });
  document.querySelectorAll('[data-t-label]').forEach((el) => {
    el.setAttribute('aria-label', t(el.dataset.tLabel));
  });
  document.title = t('appName');
  document.documentElement.lang = STRINGS.lang || 'en';
}

async function signInView() {
  const id = h('input', { id: 'sign-user', type: 'text', autocomplete: 'username',
    value: session.user });
  const key = h('input', { id: 'sign-key', type: 'password', autocomplete: 'off',
    value: session.key });
  const list = h('div', { class: 'patron-list' }, h('p', { class: 'muted' }, t('loading')));
  clear(main, h('h1', {}, t('signInTitle')), h('p', {}, t('signInIntro')),
    h('section', { class: 'panel', 'aria-labelledby': 'demo-h' },
      h('h2', { id: 'demo-h' }, t('demoPatrons')), list),
    h('form', { class: 'panel sign-in', onsubmit: (e) => {
      e.preventDefault();
      session.key = key.value.trim();
      choose(id.value.trim());
    } },
    h('label', { for: 'sign-user' }, t('patronId')), id,
    h('label', { for: 'sign-key' }, t('apiKey')), key,
    h('button', { type: 'submit' }, t('signIn'))));
  try {
    const res = await get('/v1/users?limit=12');
    if (res.pseudonymized || !(res.users || []).length) {
      clear(list, h('p', {}, t('noPatronList')));
      return;
    }
    clear(list, h('ul', { class: 'patrons' }, res.users.map((u) => h('li', {},
      h('button', { type: 'button', class: 'patron', 'data-user': u.id,
        onclick: () => choose(u.id) }, h('strong', {}, u.id), h('br'),
      h('span', { class: 'muted' }, t('patronEvents', { n: u.events })))))));
  } catch (e) {
    clear(list, h('p', {}, e.status === 401 ? t('needKey') : t('noPatronList')));
  }
}

function choose(user) {
  if (!user) return;
  session.user = user;
  patron.branch = '';
  if (window.location.hash === '#/' || !window.location.hash) route();
  else window.location.hash = '#/';
}

async function loadPatron() {
  patron.branch = '';
  try {
    const rec = await get(`/v1/users/${enc(session.user)}`);
    patron.branch = (rec.attrs && rec.attrs.branch) || '';
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) throw e;
  }
}

function nav() {
  const who = document.getElementById('who');
  clear(who, session.user ? [t('signedInAs', { user: session.user }), ' ',
    h('button', { type: 'button', class: 'link', onclick: () => {
      session.user = '';
      route();
    } }, t('navSignOut'))] : []);
  const here = window.location.hash.split('?')[0] || '#/';
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.getAttribute('href') === here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

async function route() {
  const hash = window.location.hash || '#/';
  nav();
  status('');
  try {
    if (hash.startsWith('#/console')) return consoleView(main);
    if (hash.startsWith('#/search')) return await searchView(main, hash);
    if (!session.user) return await signInView();
    if (!patron.branch) await loadPatron();
    if (hash.startsWith('#/item/')) return await itemView(main, decodeURIComponent(hash.slice(7)));
    if (hash.startsWith('#/me')) {
      const erased = session.user;
      return await meView(main, () => {
        session.user = '';
        nav();
        clear(main, h('h1', {}, t('meTitle')), h('p', { id: 'erased' },
          t('meErased', { user: erased })));
      });
    }
    return await homeView(main);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.field === 'user') {
      session.user = '';
      return signInView();
    }
    clear(main, h('p', { class: 'error' }, t('error', { message: e.message })));
  } finally {
    main.focus({ preventScroll: true });
  }
  return undefined;
}

translateStatic();
window.addEventListener('hashchange', route);
route();
