/* Tailor's widget: "Recommended for you" or "More like this" rows in another site's pages (a
 * library's OPAC), from a Tailor server. One tag and one element:
 *
 *   <div data-tailor-recommend="PATRON" data-tailor-n="6"></div>
 *   <div data-tailor-similar="ITEM"></div>
 *   <script src="https://tailor.example.org/web/widget.js" data-tailor-key="tl_..." async></script>
 *
 * The server must allow the site's origin (tailor serve --cors-origin https://opac.example.org).
 * Optional on the element: data-tailor-title (the row's heading), data-tailor-link (the address
 * of an item, {item} replaced by its id: "/cgi-bin/koha/opac-detail.pl?biblionumber={item}").
 * A click is sent to Tailor as a "click" event of the patron (channel "opac"). docs/WIDGET.md
 * has a Koha and a VuFind example. No cookies, no tracking beyond that event. */
(function () {
  'use strict';
  // The widget's text, in one place for translation (data-tailor-title overrides the headings).
  var TEXT = {
    recommend: 'Recommended for you',
    similar: 'More like this',
    by: 'Suggestions by Tailor',
  };
  var script = document.currentScript;
  if (!script) return;
  var base = new URL(script.src, document.baseURI).origin;
  var key = script.getAttribute('data-tailor-key') || '';

  function headers(json) {
    var h = {};
    if (key) h.Authorization = 'Bearer ' + key;
    if (json) h['Content-Type'] = 'application/json';
    return h;
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function hue(s) {
    var x = 0;
    for (var i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) >>> 0;
    return x % 360;
  }

  function sendClick(user, item) {
    if (!user) return;
    fetch(base + '/v1/events', {
      method: 'POST', headers: headers(true), keepalive: true,
      body: JSON.stringify({ user: user, item: item, type: 'click',
        context: { channel: 'opac', device: window.innerWidth < 700 ? 'mobile' : 'web' } }),
    }).catch(function () {});
  }

  function render(box, title, items, user) {
    var link = box.getAttribute('data-tailor-link') || (base + '/#/item/{item}');
    var section = el('section', 'tailor-widget');
    var id = 'tailor-h-' + Math.random().toString(36).slice(2, 9);
    section.setAttribute('aria-labelledby', id);
    var h = el('h2', 'tailor-title', title);
    h.id = id;
    var list = el('ul', 'tailor-cards');
    items.forEach(function (it) {
      var li = el('li', 'tailor-card');
      var a = el('a', 'tailor-link');
      a.href = link.split('{item}').join(encodeURIComponent(it.item));
      var cover = el('span', 'tailor-cover', it.title || it.item);
      cover.setAttribute('aria-hidden', 'true');
      cover.style.backgroundColor = 'hsl(' + hue(it.title || it.item) + ' 45% 28%)';
      a.appendChild(cover);
      a.appendChild(el('span', 'tailor-name', it.title || it.item));
      a.addEventListener('click', function () { sendClick(user, String(it.item)); });
      li.appendChild(a);
      if (it.reason) li.appendChild(el('span', 'tailor-reason', it.reason));
      list.appendChild(li);
    });
    section.appendChild(h);
    section.appendChild(list);
    section.appendChild(el('p', 'tailor-by', TEXT.by));
    box.replaceChildren(section);
    box.setAttribute('data-tailor-state', 'ready');
  }

  function fill(box) {
    var user = box.getAttribute('data-tailor-recommend');
    var item = box.getAttribute('data-tailor-similar');
    var n = Math.min(Math.max(parseInt(box.getAttribute('data-tailor-n') || '6', 10) || 6, 1), 24);
    var path = user !== null
      ? '/v1/users/' + encodeURIComponent(user) + '/recommendations?n=' + n
      : '/v1/items/' + encodeURIComponent(item) + '/similar?n=' + n;
    var title = box.getAttribute('data-tailor-title') ||
      (user !== null ? TEXT.recommend : TEXT.similar);
    fetch(base + path, { headers: headers(false), credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) {
        if (res && res.items && res.items.length) render(box, title, res.items, user);
        else box.setAttribute('data-tailor-state', 'empty'); // nothing to show: stay empty
      })
      .catch(function () { box.setAttribute('data-tailor-state', 'failed'); });
  }

  function start() {
    var boxes = document.querySelectorAll('[data-tailor-recommend],[data-tailor-similar]');
    if (!boxes.length) return;
    if (!document.querySelector('link[data-tailor-style]')) {
      var css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = base + '/web/widget.css';
      css.setAttribute('data-tailor-style', '');
      document.head.appendChild(css);
    }
    Array.prototype.forEach.call(boxes, fill);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
