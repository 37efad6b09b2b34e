// The page's one way to the server: the session (patron and key, in this tab's sessionStorage
// only), JSON requests with the key, the routes this server has (from its OpenAPI document),
// and the events the page sends about what the patron does.
const store = window.sessionStorage;

export const session = {
  get user() { return store.getItem('tailor.user') || ''; },
  set user(v) { v ? store.setItem('tailor.user', v) : store.removeItem('tailor.user'); },
  get key() { return store.getItem('tailor.key') || ''; },
  set key(v) { v ? store.setItem('tailor.key', v) : store.removeItem('tailor.key'); },
};

// An answer that is not 2xx: status, the error's code and field, and whether the route itself
// is missing (a 404 without a field: "no such resource"), which the optional panels show as
// "not available on this server".
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
    this.missingRoute = status === 404 && !e.field;
  }
}

export async function request(method, path, body, accept) {
  const headers = {};
  if (session.key) headers.Authorization = `Bearer ${session.key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const type = res.headers.get('Content-Type') || '';
  const data = type.startsWith('application/json') ? await res.json().catch(() => null)
    : await res.text();
  if (!res.ok) throw new ApiError(res.status, typeof data === 'object' ? data : null);
  return accept === 'text' && typeof data !== 'string' ? JSON.stringify(data) : data;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const put = (path, body) => request('PUT', path, body);
export const del = (path) => request('DELETE', path);
export const enc = encodeURIComponent;

// The routes the server has, from GET /v1/openapi.json (read once): a panel whose route is
// not there shows "not available" without asking the route itself.
// Paths are compared with their {parameters} unnamed: /v1/users/{id} is /v1/users/{user}.
const shape = (path) => path.replace(/\{[^}]*\}/g, '{}');
let routes = null;
export async function hasRoute(method, path) {
  if (!routes) {
    routes = get('/v1/openapi.json').then((doc) => new Set(Object.entries(doc.paths || {})
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${shape(p)}`))))
      .catch(() => null);
  }
  const known = await routes;
  if (!known) return true; // cannot tell: ask the route, and handle its 404
  return known.has(`${method.toLowerCase()} ${shape(path)}`);
}

// The device, from the viewport, as the events' context records it.
export function device() {
  return window.matchMedia('(max-width: 700px)').matches ? 'mobile' : 'web';
}

// Where the homepage showed each item: its impression_id, row and position, sent with the
// clicks on it (and the view of its page) so that the server joins them to what it showed
// (docs/IMPRESSIONS.md).
const shown = new Map();
export function rememberShown(answer) {
  (answer.rows || []).forEach((r, row) => (r.items || []).forEach((it, position) => {
    if (answer.impression_id) {
      shown.set(String(it.item), { impression_id: answer.impression_id, row, position });
    }
  }));
}

// Sends one event of the signed-in patron (click, view, rate, skip...). Failures are shown in
// the page's status line, never thrown: a lost click must not break the page.
export async function sendEvent(type, item, value) {
  if (!session.user) return false;
  const ev = { user: session.user, item: String(item), type,
    context: { channel: 'web', device: device() } };
  if (value !== undefined) ev.value = value;
  if ((type === 'click' || type === 'view') && shown.has(String(item))) {
    Object.assign(ev, shown.get(String(item)));
  }
  try {
    await post('/v1/events', ev);
    return true;
  } catch (e) {
    status(e.message);
    return false;
  }
}

// One line at the top of the page for what happened last (a live region for screen readers).
export function status(text) {
  const el = document.getElementById('status');
  if (el) el.textContent = text;
}
