// The patron's homepage: rows titled with their reasons ("Because you borrowed X", "New in
// your subjects", "Trending this week", "Next in the series", "Popular in your department"),
// then a learning path's next step when the server has paths.
import { get, enc, hasRoute, session } from './api.js';
import { row } from './cards.js';
import { rememberShown } from './api.js';
import { h, clear } from './dom.js';
import { t } from './strings.js';

// A learning path's "Next step" rows: the paths the patron has started first (furthest along
// first), else the first path as a place to start; at most two.
async function nextStepRows(user) {
  if (!(await hasRoute('GET', '/v1/paths/{id}/next'))) return [];
  const list = await get('/v1/paths').catch(() => null);
  const paths = ((list && list.paths) || []).slice(0, 8);
  const found = await Promise.all(paths.map((p) => get(`/v1/paths/${enc(p.id)}/next?user=${enc(user)}`)
    .then((next) => ({ p, next })).catch(() => null)));
  const open = found.filter((x) => x && x.next && x.next.next && !x.next.complete);
  const started = open.filter((x) => x.next.position > 0)
    .sort((x, y) => y.next.position / y.next.positions - x.next.position / x.next.positions);
  return (started.length ? started.slice(0, 2) : open.slice(0, 1)).map(({ p, next }) => {
    const step = next.next; // {pos, level, item, alternatives}
    const items = [step.item, ...(step.alternatives || [])].filter(Boolean);
    const name = p.origin === 'proposed' && p.topic ? p.topic : (p.title || p.id);
    return row(t('rowNextStep', { path: name, pos: step.pos, n: next.positions }), items,
      { id: `path:${p.id}` });
  });
}

// "Trending this week" when the page's eight rows left it out: the same route with the
// popular model gives it, without the items already shown.
async function trendingRow(user, home) {
  const shown = new Set((home.rows || []).flatMap((r) => (r.items || []).map((it) => it.item)));
  const pop = await get(`/v1/users/${enc(user)}/homepage?rows=3&n=20&model=popular`);
  const tr = (pop.rows || []).find((r) => r.id === 'trending');
  const items = tr ? tr.items.filter((it) => !shown.has(it.item)).slice(0, 10) : [];
  return items.length ? row(tr.title, items, { id: 'trending', dismiss: true }) : null;
}

export async function homeView(main) {
  const user = session.user;
  clear(main, h('h1', {}, t('homeTitle', { user })), h('p', { class: 'muted' }, t('loading')));
  const home = await get(`/v1/users/${enc(user)}/homepage?rows=8&n=10`);
  rememberShown(home);
  const rows = (home.rows || []).filter((r) => r.items && r.items.length)
    .map((r) => row(r.title, r.items, { id: r.id, dismiss: true }));
  clear(main, h('h1', {}, t('homeTitle', { user })),
    home.fallback ? h('p', { class: 'notice' }, t('homeFallback', { why: home.fallback })) : null,
    rows.length ? rows : h('p', {}, t('empty')));
  if (!(home.rows || []).some((r) => r.id === 'trending')) {
    const extra = await trendingRow(user, home).catch(() => null);
    if (extra) main.append(extra);
  }
  const steps = await nextStepRows(user).catch(() => []);
  for (const r of steps) main.append(r);
}
