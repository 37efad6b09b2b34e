// The patron's homepage: rows titled with their reasons ("Because you borrowed X", "New in
// your subjects", "Trending this week", "Next in the series", "Popular in your department"),
// then a learning path's next step when the server has paths.
import { get, enc, hasRoute, session } from './api.js';
import { row } from './cards.js';
import { rememberShown } from './api.js';
import { h, clear } from './dom.js';
import { t } from './strings.js';

async function nextStepRows(user) {
  if (!(await hasRoute('GET', '/v1/paths/{id}/next'))) return [];
  const list = await get(`/v1/paths`).catch(() => null);
  const paths = (list && (list.paths || list.items)) || [];
  const rows = [];
  for (const p of paths.slice(0, 2)) {
    const id = p.id ?? p.path;
    const next = await get(`/v1/paths/${enc(id)}/next?user=${enc(user)}`).catch(() => null);
    const step = next && next.next; // {pos, level, item, alternatives}
    const items = step ? [step.item, ...(step.alternatives || [])].filter(Boolean) : [];
    if (items.length) {
      rows.push(row(t('rowNextStep', { path: p.title || id }), items, { id: `path:${id}` }));
    }
  }
  return rows;
}

export async function homeView(main) {
  const user = session.user;
  clear(main, h('h1', {}, t('homeTitle', { user })), h('p', { class: 'muted' }, t('loading')));
  const home = await get(`/v1/users/${enc(user)}/homepage?rows=8&n=10`);
  rememberShown(home);
  const rows = (home.rows || []).filter((r) => r.items && r.items.length)
    .map((r) => row(r.title, r.items, { id: r.id }));
  clear(main, h('h1', {}, t('homeTitle', { user })),
    home.fallback ? h('p', { class: 'notice' }, t('homeFallback', { why: home.fallback })) : null,
    rows.length ? rows : h('p', {}, t('empty')));
  const steps = await nextStepRows(user).catch(() => []);
  for (const r of steps) main.append(r);
}
