// Panels that need a route this server may not have (the lists, reviews, learning paths,
// analytics and newsletter of a newer Tailor): each shows a polite "not available on this
// server" when the route is missing, and its content otherwise.
import { hasRoute } from './api.js';
import { h, clear, section } from './dom.js';
import { t } from './strings.js';

export function notAvailable(what) {
  return h('p', { class: 'muted not-available' }, t('notAvailable', { what }));
}

// A section titled title whose body render(body) fills once the route method path is known to
// exist; render may throw an ApiError (a 404 of the route itself reads as not available).
export function optionalPanel(title, method, path, render) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted' }, t('loading')));
  const el = section(title, body);
  (async () => {
    if (!(await hasRoute(method, path))) {
      clear(body, notAvailable(title));
      return;
    }
    try {
      await render(body);
    } catch (e) {
      clear(body, e.missingRoute ? notAvailable(title)
        : e.status === 401 || e.status === 403
          ? h('p', { class: 'error' }, t('needPermission', { what: title }))
          : h('p', { class: 'error' }, t('error', { message: e.message })));
    }
  })();
  return el;
}
