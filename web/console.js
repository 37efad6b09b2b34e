// The librarian's console (an admin key, or a server without authentication): model status,
// a retrain button with its progress, the trainings so far, the audit log, API keys, and the
// panels of newer servers (collection analytics, a patron's newsletter, learning paths).
import { get, post, del, enc } from './api.js';
import { h, clear, section, when } from './dom.js';
import { optionalPanel } from './panels.js';
import { t } from './strings.js';

let poll = null;

function table(head, rows) {
  return h('table', {}, h('thead', {}, h('tr', {}, head.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}

// Horizontal bars as a table: each value a bar scaled to the largest (a chart that a screen
// reader reads as numbers).
export function bars(title, rows) {
  const max = Math.max(1, ...rows.flatMap((r) => r.slice(1).map(Number)));
  return h('figure', { class: 'chart' }, h('figcaption', {}, title),
    table(['', ...rows.headers || []], rows.map(([label, ...vals]) => [label,
      ...vals.map((v, i) => {
        const bar = h('span', { class: `bar bar${i}` });
        bar.style.width = `${Math.round((100 * Number(v)) / max)}%`;
        return h('span', { class: 'bar-cell' }, bar, ` ${v}`);
      })])));
}

const trainings = [];

function modelPanel(body) {
  const refresh = async () => {
    const m = await get('/v1/models');
    const tr = m.training || {};
    if (tr.finished && !trainings.some((x) => x.finished === tr.finished)) {
      trainings.push({ finished: tr.finished, started: tr.started, model: tr.model,
        error: tr.error || '', fit: m.fit_seconds });
    }
    const progress = h('progress', { max: '1', value: String(tr.progress || 0),
      'aria-label': t('consoleRetrain') });
    const button = h('button', { type: 'button', disabled: tr.running ? true : undefined,
      onclick: async () => {
        button.disabled = true;
        try { await post('/v1/models/train', {}); } catch (e) { said.textContent = e.message; }
        start();
      } }, t('consoleRetrain'));
    const said = h('p', { role: 'status' }, tr.running
      ? t('consoleTraining', { stage: tr.stage || '', pct: Math.round(100 * (tr.progress || 0)) })
      : tr.error ? t('consoleTrainError', { error: tr.error })
        : t('consoleTrainIdle', { runs: tr.runs || 0, failures: tr.failures || 0 }));
    clear(body, h('dl', { class: 'details' },
      [['consoleModelKind', m.model], ['consoleUsers', m.users], ['consoleItems', m.items],
        ['consoleTrainedThrough', when(m.trained_through)],
        ['consoleEventsSince', m.events_since_training]]
        .map(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, String(v ?? ''))])),
    button, tr.running ? progress : null, said,
    trainings.length ? h('div', {}, h('h3', {}, t('consoleQuality')),
      table(['#', t('consoleModelKind'), t('consoleAuditWhen'), t('consoleSeconds')], trainings.map((x, i) =>
        [String(i + 1), x.model || '', when(x.finished), String(x.finished - x.started)])))
      : null);
    return tr.running;
  };
  const start = () => {
    clearInterval(poll);
    poll = setInterval(async () => {
      const running = await refresh().catch(() => false);
      if (!running) clearInterval(poll);
    }, 1000);
  };
  return refresh().then((running) => { if (running) start(); });
}

async function auditPanel(body) {
  const a = await get('/v1/audit');
  const entries = (a.log || []).slice(-30).reverse();
  clear(body, h('p', {}, a.intact === false ? t('consoleAuditBroken', { at: a.broken_at })
    : t('consoleAuditIntact', { n: a.entries ?? (a.log || []).length })),
  table([t('consoleAuditWhen'), t('consoleAuditWho'), t('consoleAuditAction'),
    t('consoleAuditTarget')], entries.map((e) => [when(e.ts), e.actor || '', e.action || '',
    e.target || ''])));
}

async function keysPanel(body) {
  const k = await get('/v1/keys');
  const role = h('select', { id: 'key-role' }, ['app', 'patron', 'admin'].map((r) =>
    h('option', { value: r }, r)));
  const user = h('input', { id: 'key-user', type: 'text' });
  const label = h('input', { id: 'key-label', type: 'text' });
  const said = h('p', { role: 'status' });
  clear(body, table([t('consoleKeyId'), t('consoleKeyRole'), t('consoleKeyUser'),
    t('consoleKeyLabel'), t('consoleKeyCreated'), t('consoleKeyRevoked'), ''],
  (k.keys || []).map((x) => [x.id, x.role, x.user || '', x.label || '', when(x.created),
    when(x.revoked), x.revoked ? '' : h('button', { type: 'button', class: 'secondary',
      onclick: async () => { await del(`/v1/keys/${enc(x.id)}`); keysPanel(body); } },
    t('consoleKeyRevoke'))])),
  h('form', { class: 'inline-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const made = await post('/v1/keys', { role: role.value, user: user.value || undefined,
        label: label.value || undefined });
      await keysPanel(body);
      body.append(h('p', { role: 'status', class: 'notice' }, t('consoleKeyShown', { key: made.key })));
    } catch (err) {
      said.textContent = t('error', { message: err.message });
    }
  } }, h('label', { for: 'key-role' }, t('consoleKeyRole')), role,
  h('label', { for: 'key-user' }, t('consoleKeyUser')), user,
  h('label', { for: 'key-label' }, t('consoleKeyLabel')), label,
  h('button', { type: 'submit' }, t('consoleKeyCreate'))), said);
}

async function analyticsPanel(body) {
  const a = await get('/v1/analytics');
  const parts = [];
  for (const [name, value] of Object.entries(a)) {
    if (Array.isArray(value) && value.length && typeof value[0] === 'object') {
      const keys = Object.keys(value[0]);
      const label = keys.find((x) => typeof value[0][x] === 'string') || keys[0];
      const nums = keys.filter((x) => typeof value[0][x] === 'number').slice(0, 2);
      const rows = value.slice(0, 15).map((r) => [String(r[label]), ...nums.map((x) => r[x])]);
      rows.headers = nums;
      parts.push(bars(name.replace(/_/g, ' '), rows));
    }
  }
  clear(body, parts.length ? parts : h('p', { class: 'muted' }, t('empty')));
}

function digestPanel(body) {
  const user = h('input', { id: 'digest-user', type: 'text' });
  const frame = h('iframe', { title: t('consoleDigest'), sandbox: '', class: 'digest' });
  clear(body, h('form', { class: 'inline-form', onsubmit: async (e) => {
    e.preventDefault();
    const html = await get(`/v1/users/${enc(user.value)}/digest?since=7d&format=html`)
      .catch((err) => `<p>${String(err.message).replace(/</g, '&lt;')}</p>`);
    frame.srcdoc = typeof html === 'string' ? html : JSON.stringify(html);
  } }, h('label', { for: 'digest-user' }, t('consoleDigestFor')), user,
  h('button', { type: 'submit' }, t('consoleDigestShow'))), frame);
}

async function pathsPanel(body) {
  const res = await get('/v1/paths');
  const paths = res.paths || res.items || [];
  const title = h('input', { id: 'path-title', type: 'text' });
  const steps = h('textarea', { id: 'path-steps', rows: '4' });
  const said = h('p', { role: 'status' });
  clear(body, h('ul', {}, paths.map((p) => h('li', {}, p.title || p.id))),
    h('form', { onsubmit: async (e) => {
      e.preventDefault();
      try {
        await post('/v1/paths', { title: title.value,
          steps: steps.value.split('\n').map((s) => s.trim()).filter(Boolean) });
        said.textContent = t('consolePathSaved');
      } catch (err) {
        said.textContent = t('error', { message: err.message });
      }
    } }, h('label', { for: 'path-title' }, t('consolePathTitle')), title,
    h('label', { for: 'path-steps' }, t('consolePathSteps')), steps,
    h('button', { type: 'submit' }, t('consolePathSave')), said));
}

function panel(title, fill) {
  const body = h('div', {}, h('p', { class: 'muted' }, t('loading')));
  Promise.resolve().then(() => fill(body)).catch((e) => clear(body, h('p', { class: 'error' },
    e.status === 401 || e.status === 403 ? t('consoleKeyNeeded') : t('error', { message: e.message }))));
  return section(title, body);
}

export function consoleView(main) {
  clearInterval(poll);
  clear(main, h('h1', {}, t('consoleTitle')),
    panel(t('consoleModel'), modelPanel),
    optionalPanel(t('consoleAnalytics'), 'GET', '/v1/analytics', analyticsPanel),
    optionalPanel(t('consoleDigest'), 'GET', '/v1/users/{id}/digest', digestPanel),
    optionalPanel(t('consolePaths'), 'GET', '/v1/paths', pathsPanel),
    panel(t('consoleAudit'), auditPanel),
    panel(t('consoleKeys'), keysPanel));
}
