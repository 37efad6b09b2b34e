// The librarian's console (an admin key, or a server without authentication): model status,
// a retrain button with its progress, the trainings so far, the audit log, API keys, and the
// panels of newer servers (collection analytics, a patron's newsletter, learning paths,
// experiments with their reports).
import { get, post, put, del, enc } from './api.js';
import { barChart, lineChart } from './charts.js';
import { h, clear, section, when } from './dom.js';
import { optionalPanel } from './panels.js';
import { t } from './strings.js';

let poll = null;

function table(head, rows) {
  return h('table', {}, h('thead', {}, h('tr', {}, head.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}

// Quality over time: each training's validation nDCG@10 (GET /v1/models "trainings", kept by
// the server since it started), with when it finished and how long it took.
function quality(m) {
  const runs = Array.isArray(m.trainings) ? m.trainings : [];
  if (!runs.length) return h('p', { class: 'muted' }, t('consoleNoTrainings'));
  const labels = runs.map((x, i) => `#${i + 1}`);
  return h('div', { class: 'quality' },
    runs.some((x) => x.validation_ndcg10 !== null)
      ? lineChart(t('consoleQualityChart'), labels, t('consoleNdcg'),
        runs.map((x) => x.validation_ndcg10)) : null,
    table(['#', t('consoleModelKind'), t('consoleAuditWhen'), t('consoleSeconds'), t('consoleNdcg')],
      runs.map((x, i) => [labels[i], x.model || '', when(x.finished),
        String(Math.round(x.finished - x.started)), x.ok ? (x.validation_ndcg10 === null
          ? t('consoleNoValidation') : x.validation_ndcg10.toFixed(4)) : t('consoleFailed')])));
}

function modelPanel(body) {
  const refresh = async () => {
    const m = await get('/v1/models');
    const tr = m.training || {};
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
    h('h3', {}, t('consoleQuality')), quality(m));
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

// The rows of an analytics table (GET /v1/analytics: {columns, rows, suppressed}) as a table
// of the given columns, or a note when it has none.
function rowsTable(sec, cols, none) {
  const rows = (sec && sec.rows) || [];
  if (!rows.length) {
    return h('p', { class: 'muted' }, sec && sec.suppressed
      ? t('consoleSuppressed', { n: sec.suppressed }) : none);
  }
  return table(cols, rows.map((r) => cols.map((c) => String(r[c] ?? ''))));
}

// Subjects with the most of a measure first, at most n.
function topBy(chart, key, n) {
  return chart.subjects.map((sub, i) => i).sort((x, y) => (chart[key][y] || 0) - (chart[key][x] || 0))
    .slice(0, n);
}

// The period: the year up to the model's newest training event and on to the store's newest
// (GET /v1/models trained_through), so that a page's own clicks today do not empty a demo
// library whose loans ended months ago; the server's last 12 months when it has no watermark.
async function analyticsPanel(body) {
  const m = await get('/v1/models').catch(() => ({}));
  const since = m.trained_through ? `&since=${m.trained_through - 365 * 86400}` : '';
  const a = await get(`/v1/analytics?limit=10${since}`);
  const sec = a.sections || {};
  const parts = [h('p', { class: 'muted' }, t('consolePeriod', { from: a.period?.from ?? '',
    to: a.period?.to ?? '', events: a.events ?? 0, min: a.min_group ?? '' }))];
  const demand = sec.demand && sec.demand.chart;
  if (demand && demand.subjects && demand.subjects.length) {
    const top = topBy(demand, 'loans', 12);
    parts.push(h('h3', {}, t('consoleDemand')), barChart(t('consoleDemandChart'),
      top.map((i) => demand.subjects[i]), [
        { name: t('consoleCopies'), values: top.map((i) => demand.copies[i]) },
        { name: t('consoleLoans'), values: top.map((i) => demand.loans[i]) },
        { name: t('consoleHolds'), values: top.map((i) => demand.holds[i]) }]),
    h('p', { class: 'muted' }, t('consoleDemandNote', { n: sec.demand.collection_per_copy ?? '' })));
  }
  parts.push(h('h3', {}, t('consoleHolds')), rowsTable(sec.holds, ['item', 'title', 'queue',
    'copies', 'queue_per_copy'], t('consoleNoHolds')));
  const idle = sec.idle;
  if (idle) {
    parts.push(h('h3', {}, t('consoleIdle')), h('p', {}, t('consoleIdleShare', { idle: idle.idle ?? 0,
      items: idle.items ?? 0, pct: Math.round(100 * (idle.idle_share || 0)) })));
    const c = idle.chart;
    if (c && c.subjects && c.subjects.length) {
      const top = topBy(c, 'idle_share', 10);
      parts.push(barChart(t('consoleIdleChart'), top.map((i) => c.subjects[i]),
        [{ name: t('consoleIdleShareName'), values: top.map((i) => c.idle_share[i]) }]));
    }
    if (idle.sample) parts.push(rowsTable(idle.sample, ['item', 'title', 'added', 'copies'], ''));
  }
  parts.push(h('h3', {}, t('consoleSearches')), rowsTable(sec.searches, ['query', 'searches',
    'patrons', 'zero_results', 'max_results'], t('consoleNoSearches')));
  clear(body, parts);
}

// A patron's newsletter as it would be sent (GET /v1/users/{id}/digest?format=html), in a
// sandboxed frame; "now" defaults to the model's newest event, so that a demo library whose
// events ended months ago shows what its patrons would have received.
function digestPanel(body) {
  const user = h('input', { id: 'digest-user', type: 'text', required: true });
  const since = h('input', { id: 'digest-since', type: 'text', value: '30d' });
  const frame = h('iframe', { title: t('consoleDigest'), sandbox: '', class: 'digest' });
  const said = h('p', { role: 'status', class: 'digest-said' });
  get('/v1/models').then((m) => { frame.dataset.now = m.trained_through || ''; }).catch(() => {});
  clear(body, h('form', { class: 'inline-form digest-form', onsubmit: async (e) => {
    e.preventDefault();
    said.textContent = '';
    const now = frame.dataset.now ? `&now=${enc(frame.dataset.now)}` : '';
    try {
      const html = await get(`/v1/users/${enc(user.value.trim())}/digest?format=html` +
        `&since=${enc(since.value.trim() || '7d')}${now}`);
      frame.srcdoc = typeof html === 'string' ? html : '';
    } catch (err) {
      said.textContent = t('error', { message: err.message });
    }
  } }, h('label', { for: 'digest-user' }, t('consoleDigestFor')), user,
  h('label', { for: 'digest-since' }, t('consoleDigestSince')), since,
  h('button', { type: 'submit' }, t('consoleDigestShow'))), said, frame);
}

// Steps as the editor writes them: one position a line, its items (alternatives) separated by
// commas, and "(level N)" at the end when the step has a level.
function stepsText(steps) {
  const byPos = new Map();
  for (const st of steps || []) {
    if (!byPos.has(st.pos)) byPos.set(st.pos, { items: [], level: st.level });
    byPos.get(st.pos).items.push(st.item);
  }
  return [...byPos.keys()].sort((x, y) => x - y).map((p) => {
    const x = byPos.get(p);
    return x.items.join(', ') + (x.level !== null && x.level !== undefined ? ` (level ${x.level})` : '');
  }).join('\n');
}

function parseSteps(text) {
  const steps = [];
  text.split('\n').map((l) => l.trim()).filter(Boolean).forEach((line, k) => {
    const m = line.match(/\(level\s*(\d+)\)\s*$/i);
    const items = (m ? line.slice(0, m.index) : line).split(',').map((x) => x.trim())
      .filter(Boolean);
    for (const item of items) {
      steps.push(m ? { item, pos: k + 1, level: Number(m[1]) } : { item, pos: k + 1 });
    }
  });
  return steps;
}

// The learning-path editor: the paths (GET /v1/paths), one loaded into the form (GET
// /v1/paths/{id}), saved whole (PUT /v1/paths/{id}, or POST /v1/paths for a new id), deleted.
async function pathsPanel(body) {
  const paths = (await get('/v1/paths')).paths || [];
  const id = h('input', { id: 'path-id', type: 'text', required: true });
  const title = h('input', { id: 'path-title', type: 'text', required: true });
  const topic = h('input', { id: 'path-topic', type: 'text' });
  const steps = h('textarea', { id: 'path-steps', rows: '5', required: true });
  const said = h('p', { role: 'status', class: 'path-said' });
  let editing = '';
  const load = async (pid) => {
    const p = await get(`/v1/paths/${enc(pid)}`);
    editing = p.id;
    id.value = p.id;
    title.value = p.title || '';
    topic.value = p.topic || '';
    steps.value = stepsText(p.steps);
    said.textContent = t('consolePathEditing', { id: p.id });
  };
  clear(body, paths.length ? h('ul', { class: 'paths' }, paths.map((p) => h('li', {},
    h('strong', {}, p.title || p.id), ` (${p.id}, ${t('consolePathSteps', { n: p.n_steps ?? '' })}) `,
    h('button', { type: 'button', class: 'link', onclick: () => load(p.id)
      .catch((e) => { said.textContent = t('error', { message: e.message }); }) }, t('consolePathEdit')),
    ' ', h('button', { type: 'button', class: 'link', onclick: async () => {
      await del(`/v1/paths/${enc(p.id)}`).catch((e) => { said.textContent = e.message; });
      pathsPanel(body);
    } }, t('consolePathDelete')))))
    : h('p', { class: 'muted' }, t('consoleNoPaths')),
  h('form', { class: 'path-form', onsubmit: async (e) => {
    e.preventDefault();
    const path = { id: id.value.trim(), title: title.value.trim(), steps: parseSteps(steps.value) };
    if (topic.value.trim()) path.topic = topic.value.trim();
    try {
      if (editing && editing === path.id) await put(`/v1/paths/${enc(path.id)}`, path);
      else await post('/v1/paths', path);
      await pathsPanel(body);
      body.querySelector('.path-said').textContent = t('consolePathSaved', { id: path.id });
    } catch (err) {
      said.textContent = t('error', { message: err.field ? `${err.message} (${err.field})`
        : err.message });
    }
  } }, h('label', { for: 'path-id' }, t('consolePathId')), id,
  h('label', { for: 'path-title' }, t('consolePathTitle')), title,
  h('label', { for: 'path-topic' }, t('consolePathTopic')), topic,
  h('label', { for: 'path-steps' }, t('consolePathStepsHelp')), steps,
  h('button', { type: 'submit' }, t('consolePathSave')), said));
}

// Experiments (GET /v1/experiments), each a disclosure whose report (GET /v1/experiments/NAME)
// is read when it is opened: the arms with their metrics and guardrails, the comparisons with
// the control, the sample-ratio check and the report's notes.
const num = (v, digits = 3) => (typeof v === 'number' ? v.toFixed(digits) : '');
const pct = (v) => (typeof v === 'number' ? `${(100 * v).toFixed(1)}%` : '');

function reportView(r) {
  const g = r.guardrails || {};
  const per = (key, arm, f) => (g[key] && typeof g[key] === 'object' ? f(g[key][arm]) : '');
  const arms = r.arms || [];
  const patrons = arms.reduce((n, a) => n + (a.patrons || 0), 0);
  const srm = r.srm || {};
  return h('div', { class: 'report' },
    h('p', {}, t('consoleExpDays', { days: num(r.days, 1), patrons })),
    table([t('consoleExpArm'), t('consoleExpSettings'), t('consoleExpShare'), t('consoleExpPatrons'),
      t('consoleExpLoans'), t('consoleExpClicks'), t('consoleExpImpressions'),
      t('consoleExpCoverage'), t('consoleExpLongTail'), t('consoleExpLatency')],
    arms.map((a) => [a.name, Object.entries(a.params || {}).map(([k, v]) => `${k}=${v}`).join(', '),
      pct(a.share), String(a.patrons ?? ''), num(a.loans_per_patron), num(a.clicks_per_patron),
      per('impressions', a.name, (v) => String(v ?? '')), per('coverage', a.name, pct),
      per('long_tail_share', a.name, pct),
      per('latency_ms', a.name, (v) => (v ? t('consoleExpLatencyValue',
        { p50: num(v.p50, 2), p95: num(v.p95, 2) }) : ''))])),
    (r.comparisons || []).length ? table([t('consoleExpArm'), t('consoleExpDifference'),
      t('consoleExpRelative'), t('consoleExpInterval'), t('consoleExpPValue'),
      t('consoleExpSignificant')], r.comparisons.map((c) => [
      `${c.arm} (${t('consoleExpVersus', { control: c.control })})`, num(c.difference, 4),
      pct(c.relative), Array.isArray(c.ci95) ? `${num(c.ci95[0], 4)} … ${num(c.ci95[1], 4)}` : '',
      num(c.always_valid_p_value), c.significant ? t('consoleExpYes') : t('consoleExpNo')]))
      : null,
    h('p', { class: srm.mismatch ? 'error' : '' }, t(srm.mismatch ? 'consoleExpSrmBad'
      : 'consoleExpSrmOk', { p: num(srm.p_value) })),
    h('ul', { class: 'notes' }, (r.notes || []).map((n) => h('li', {}, n))));
}

async function experimentsPanel(body) {
  const list = (await get('/v1/experiments')).experiments || [];
  if (!list.length) {
    clear(body, h('p', { class: 'muted' }, t('consoleNoExperiments')));
    return;
  }
  clear(body, h('ul', { class: 'experiments' }, list.map((x) => {
    const inner = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, t('loading')));
    let read = false;
    const details = h('details', { class: 'experiment', 'data-name': x.name, ontoggle: () => {
      if (!details.open || read) return;
      read = true;
      get(`/v1/experiments/${enc(x.name)}`)
        .then((r) => clear(inner, h('h3', {}, t('consoleExpReport', { name: x.name })), reportView(r)))
        .catch((e) => clear(inner, h('p', { class: 'error' }, t('error', { message: e.message }))));
    } }, h('summary', {}, t('consoleExpSummary', { name: x.name,
      status: t(x.status === 'stopped' ? 'consoleExpStopped' : 'consoleExpRunning'),
      metric: x.metric, arms: (x.arms || []).length, created: when(x.created) })), inner);
    return h('li', {}, details);
  })));
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
    optionalPanel(t('consoleExperiments'), 'GET', '/v1/experiments', experimentsPanel),
    panel(t('consoleAudit'), auditPanel),
    panel(t('consoleKeys'), keysPanel));
}
