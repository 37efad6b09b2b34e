#!/usr/bin/env python3
"""The web page in headless Chromium, driven through the DevTools protocol (tests/web/cdp.py)
against `tailor serve` over a small demo library (tests/web/harness.py):

- the server answers the page's files with their types, ETags (304) and a strict CSP, and lists
  the demo's patrons;
- a demo patron's homepage renders rows with items;
- a click on an item is recorded as an event and changes that patron's rows after a reload;
  rating and "Not interested" are events too; a record's cover link is shown (a loopback
  image), other cards keep their generated placeholders;
- catalogue search returns results (skipped, saying so, while GET /v1/search answers 404: the
  page then shows "not available on this server");
- "My data" shows the history, saves consent, and erasing removes the patron;
- the librarian's console shows the model, retrains with progress, the audit log and keys, and
  lists experiments with their reports;
- the widget renders rows inside a plain host page served from another origin (CORS);
- on a server that asks for keys, the page signs in with a patron key and the widget sends one;
- axe-core (vendored) finds no serious or critical violation on any page;
- any JavaScript error (an exception, console.error, a log entry at level error) fails.

Exit status 0 passed, 1 failed, 77 skipped (no Chromium). Environment: TL_BIN (the tailor
binary), TL_SOURCE_DIR (the source tree), TL_CHROMIUM (the browser)."""
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cdp import Browser, CdpError, find_chromium  # noqa: E402
from harness import HostSite, Library  # noqa: E402

SOURCE = os.environ.get('TL_SOURCE_DIR') or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get('TL_BIN') or os.path.join(SOURCE, 'build', 'tailor')
AXE = os.path.join(HERE, 'vendor', 'axe-core', 'axe.min.js')


class Failed(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Failed(msg)


def no_errors(page, where):
    page.settle(0.3)
    check(not page.errors, f'JavaScript errors on {where}: {page.errors}')


def raw_get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, dict(res.headers), res.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def rows_of(page):
    """{row id: [item ids]} of the homepage shown."""
    return page.eval("""Object.fromEntries([...document.querySelectorAll('section.row')].map(
        r => [r.dataset.row, [...r.querySelectorAll('.card')].map(c => c.dataset.item)]))""")


def wait_home(page):
    try:
        page.wait_for("document.querySelectorAll('section.row .card').length > 0", 30,
                      'the homepage rows')
    except CdpError as e:
        shown = page.eval("document.querySelector('main').innerText.slice(0, 300)")
        raise Failed(f'{e}; the page shows: {shown!r}; errors: {page.errors}') from None
    # the cards' records (creators, availability) arrive after the rows
    page.wait_for("[...document.querySelectorAll('.card .byline')].some(b => b.textContent)", 30,
                  'the cards filled in')


def axe(page, where):
    """Fails on serious or critical accessibility violations of the page shown."""
    if not page.eval('typeof window.axe === "object"'):
        with open(AXE, encoding='utf-8') as f:
            page.eval(f.read() + '\n;true')
    found = page.eval("""axe.run(document, {resultTypes: ['violations']}).then(r =>
        r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
          v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
          v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))""", timeout=60)
    check(not found, f'accessibility violations on {where}: {json.dumps(found, indent=1)}')


def test_serving(lib, ctx):
    st, h, body = raw_get(lib.url + '/')
    check(st == 200 and h['Content-Type'].startswith('text/html'), f'GET /: {st} {h}')
    csp = h.get('Content-Security-Policy', '')
    check("script-src 'self'" in csp and 'unsafe-inline' not in csp, f'CSP: {csp!r}')
    check(b'<script type="module" src="/web/app.js">' in body, 'index.html loads app.js')
    st2, h2, _ = raw_get(lib.url + '/', {'If-None-Match': h['ETag']})
    check(st2 == 304, f'a conditional GET with the ETag answers 304, not {st2}')
    st, h, _ = raw_get(lib.url + '/web/app.js')
    check(st == 200 and h['Content-Type'].startswith('text/javascript'), f'app.js: {st} {h}')
    st, h, _ = raw_get(lib.url + '/web/widget.js')
    check(st == 200 and h.get('Access-Control-Allow-Origin') == ctx['host'].origin,
          f'widget.js with CORS for the host: {st} {h}')
    st, _, body = raw_get(lib.url + '/web/no-such-file.js')
    check(st == 404 and json.loads(body)['error']['field'] == 'file', f'a missing file: {st}')
    st, users = lib.api('GET', '/v1/users?limit=3')
    check(st == 200 and len(users['users']) == 3 and not users['pseudonymized'], f'{users}')
    ev = [u['events'] for u in users['users']]
    check(ev == sorted(ev, reverse=True), f'most events first: {ev}')
    st, err = lib.api('GET', '/v1/users?limit=0')
    check(st == 400 and err['error']['field'] == 'limit', f'limit=0: {st} {err}')


def test_homepage(lib, ctx):
    page = ctx['page']
    page.goto(lib.url + '/')
    page.wait_for("document.querySelectorAll('button.patron').length > 0", 20, 'the demo patrons')
    axe(page, 'the sign-in page')
    user = page.eval("document.querySelector('button.patron').dataset.user")
    ctx['user'] = user
    page.click('button.patron')
    wait_home(page)
    rows = rows_of(page)
    check(len(rows) >= 2 and all(rows.values()), f'rows with items: {rows}')
    titles = page.eval("[...document.querySelectorAll('section.row h2')].map(h => h.textContent)")
    check(all(titles), f'each row titled with its reason: {titles}')
    # "Why?" opens on the keyboard and shows the evidence
    page.eval("document.querySelector('.card .why summary').focus()")
    page.send('Input.dispatchKeyEvent', {'type': 'keyDown', 'key': 'Enter', 'code': 'Enter',
                                         'windowsVirtualKeyCode': 13, 'text': '\r'})
    page.send('Input.dispatchKeyEvent', {'type': 'keyUp', 'key': 'Enter', 'code': 'Enter',
                                         'windowsVirtualKeyCode': 13})
    page.wait_for("document.querySelector('.card .why').open", 5, '"Why?" opened by Enter')
    ctx['rows'] = rows
    no_errors(page, 'the homepage')
    axe(page, 'the homepage')
    page.viewport(390, 844, True)
    check(page.eval('document.documentElement.scrollWidth') <= 390,
          'nothing wider than a phone\'s screen')
    axe(page, 'the homepage at phone width')
    page.viewport(1280, 800)


def test_click_changes_rows(lib, ctx):
    page, user, before = ctx['page'], ctx['user'], ctx['rows']
    row_id = next(iter(before))
    item = before[row_id][0]
    page.click(f'section.row[data-row="{row_id}"] .card[data-item="{item}"] a.card-title')
    page.wait_for("document.querySelector('.item-head h1') !== null", 20, 'the item page')
    page.wait_for("document.querySelector('section.row[data-row=\"similar\"] .card') !== null",
                  20, '"More like this"')
    no_errors(page, 'the item page')
    axe(page, 'the item page')
    ctx['item'] = item
    # the click and the view are in the store, with the page's context
    deadline = time.monotonic() + 10
    while True:
        _, exp = lib.api('GET', f'/v1/users/{user}/export')
        mine = [e for e in exp['events'] if e['item'] == item and e.get('channel') == 'web']
        if {'click', 'view'} <= {e['type'] for e in mine} or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check({'click', 'view'} <= {e['type'] for e in mine}, f'click and view of {item}: {mine}')
    check(all(e.get('device') == 'web' for e in mine), f'device from the viewport: {mine}')
    page.hash('#/')
    page.reload()
    wait_home(page)
    after = rows_of(page)
    check(after != before, 'the rows changed after the click')
    check(all(item not in items for items in after.values()),
          f'{item}, clicked, is no longer suggested: {after}')
    no_errors(page, 'the homepage after a click')


def test_cover_link(lib, ctx):
    """An item whose record has a cover link shows that image (here one of the server's own
    files: tests never reach out), allowed by the page's CSP; others keep the placeholder."""
    page, item = ctx['page'], ctx['rows'][next(iter(ctx['rows']))][1]
    cover = lib.url + '/web/logo.svg'
    st, _ = lib.api('PATCH', f'/v1/items/{item}', {'extra': {'cover': cover}})
    check(st == 200, f'the cover link set: {st}')
    page.hash(f'#/item/{item}')
    page.wait_for(f"document.querySelector('.item-head img.cover')?.src === {json.dumps(cover)}"
                  " && document.querySelector('.item-head img.cover').naturalWidth > 0", 10,
                  'the cover image')
    page.wait_for("document.querySelector('[data-row=similar] .card svg.cover') !== null", 10,
                  'placeholders for the others')
    no_errors(page, 'an item with a cover')


def test_rate_and_dismiss(lib, ctx):
    page, user, item = ctx['page'], ctx['user'], ctx['item']
    page.hash(f'#/item/{item}')
    page.wait_for("document.querySelector('.stars button') !== null", 20, 'the stars')
    page.click('.stars button:nth-child(4)')
    page.wait_for("document.querySelector('.said').textContent.includes('4')", 10, 'rated')
    page.click('.stars + button')
    page.wait_for("document.querySelector('.said').textContent.length > 0 && "
                  "!document.querySelector('.said').textContent.includes('4')", 10, 'dismissed')
    _, exp = lib.api('GET', f'/v1/users/{user}/export')
    types = {(e['type'], e.get('value')) for e in exp['events'] if e['item'] == item}
    check(('rate', 4) in types or ('rate', 4.0) in types, f'the rating: {types}')
    check(any(t == 'skip' for t, _ in types), f'"Not interested": {types}')
    no_errors(page, 'rating')


def test_search(lib, ctx):
    page = ctx['page']
    page.hash('#/search?q=harry')
    page.wait_for("document.querySelector('.results') !== null", 10, 'the search view')
    st, _ = lib.api('GET', '/v1/search?q=harry&n=5')
    if st == 404:
        page.wait_for("document.querySelector('.not-available') !== null", 10,
                      'the "not available" note')
        no_errors(page, 'the search page')
        axe(page, 'the search page')
        print('test_web: SKIP search results: GET /v1/search answers 404 on this server '
              '(catalogue search is not merged yet); the page shows "not available"')
        return
    page.wait_for("document.querySelectorAll('.search-results .card').length > 0", 20,
                  'search results')
    page.click('.toggle button[aria-pressed="false"]')
    page.wait_for("location.hash.includes('order=plain') && "
                  "document.querySelectorAll('.search-results .card').length > 0", 20,
                  'the plain ordering')
    no_errors(page, 'the search page')
    axe(page, 'the search page')


def test_search_contract(lib, ctx):
    """The search module against the search route's contract, answered by the test itself (the
    route is another feature's): results, facets, and the switch to the plain order."""
    page = ctx['browser'].new_page()
    _, doc = lib.api('GET', '/v1/openapi.json')
    doc['paths'].setdefault('/v1/search', {})['get'] = {}
    _, recs = lib.api('GET', '/v1/users?limit=1')
    items = lib.api('GET', f"/v1/users/{recs['users'][0]['id']}/recommendations?n=3")[1]['items']

    def answer(url):
        if '/v1/openapi.json' in url:
            return 200, 'application/json', json.dumps(doc).encode()
        plain = 'weight=0' in url
        found = [{'item': it['item'], 'title': it['title'], 'score': 1.0 / (k + 1),
                  **({} if plain else {'reason': 'Because you borrowed a book like it'})}
                 for k, it in enumerate(items[::-1] if plain else items)]
        return 200, 'application/json', json.dumps(
            {'total': 42, 'items': found,
             'facets': {'subject': {'fantasy': 30, 'poetry': 12}, 'year': {'1997': 3}}}).encode()

    page.route(['*/v1/openapi.json', '*/v1/search*'], answer)
    page.goto(lib.url + '/')
    page.eval(f"sessionStorage.setItem('tailor.user', {json.dumps(ctx['user'])}); true")
    page.hash('#/search')
    page.wait_for("document.getElementById('q') !== null", 10, 'the search form')
    page.eval("document.getElementById('q').value = 'narnia'; "
              "document.querySelector('form[role=search] button').click(); true")
    page.wait_for("document.querySelectorAll('.search-results .card').length === 3", 10,
                  'the results')
    check('42' in page.eval("document.querySelector('.results > p').textContent"), 'the total')
    check(page.eval("document.querySelectorAll('.facet input').length") == 3, 'the facets')
    asked = [u for u in page.requests if '/v1/search' in u]
    check('q=narnia' in asked[-1] and 'user=' in asked[-1] and 'weight=0' not in asked[-1],
          f'a personal search: {asked}')
    first = page.eval("document.querySelector('.search-results .card').dataset.item")
    page.click('.toggle button[aria-pressed="false"]')
    page.wait_for("location.hash.includes('order=plain') && document.querySelector("
                  "'.search-results .card') && document.querySelector('.search-results .card')"
                  f".dataset.item !== {json.dumps(first)}", 10, 'the plain order')
    check('weight=0' in page.requests[-1], f'the plain search: {page.requests[-1]}')
    page.click('.facet input')
    page.wait_for("location.hash.includes('filter=subject%3Dfantasy')", 10, 'a facet chosen')
    page.wait_for("document.querySelector('.facet input')?.checked", 10, 'the facet checked')
    check('filter=subject%3Dfantasy' in page.requests[-1], f'the facet: {page.requests[-1]}')
    no_errors(page, 'the search page (contract)')
    axe(page, 'the search page with results')


def test_not_interested(lib, ctx):
    """"Not interested" on a homepage card (inside its "Why?"): a skip event, the card leaves at
    once, and after a reload the item is on none of the patron's rows (it was never opened,
    so only the skip keeps it out)."""
    page, user = ctx['page'], ctx['user']
    page.hash('#/')
    page.reload()
    wait_home(page)
    rows = rows_of(page)
    row_id = list(rows)[-1]
    item = rows[row_id][-1]
    card = f'section.row[data-row="{row_id}"] .card[data-item="{item}"]'
    page.eval(f"document.querySelector('{card} .why').open = true; true")
    page.click(f'{card} button.dismiss')
    page.wait_for(f"document.querySelector('{card}') === null", 10, 'the card dismissed')
    _, exp = lib.api('GET', f'/v1/users/{user}/export')
    types = {e['type'] for e in exp['events'] if e['item'] == item}
    check(types == {'skip'}, f'only a skip of {item}: {types}')
    page.reload()
    wait_home(page)
    after = rows_of(page)
    check(all(item not in items for items in after.values()), f'{item} is gone: {after}')
    _, recs = lib.api('GET', f'/v1/users/{user}/recommendations?n=100')
    check(all(r['item'] != item for r in recs['items']), f'{item} is not recommended')
    no_errors(page, 'the homepage after "Not interested"')


def test_item_panels(lib, ctx):
    """The item page's panels against the real routes: a new public list with the item (POST
    /v1/lists, POST /v1/lists/{id}/items/{item}), shown on the item's lists; a review with a
    rating (PUT /v1/users/{id}/reviews/{item}), shown under Reviews; both in My data."""
    page, user, item = ctx['page'], ctx['user'], ctx['item']
    page.hash(f'#/item/{item}')
    page.wait_for("document.getElementById('list-new') !== null", 20, 'the add-to-list form')
    page.eval("document.getElementById('list-new').value = 'Summer reading';"
              "document.getElementById('list-public').checked = true; true")
    page.click('form.add-to-list button[type=submit]')
    page.wait_for("document.querySelector('.list-said').textContent.includes('Summer reading')",
                  10, 'added to the list')
    page.wait_for("document.querySelector('.lists-on')?.textContent.includes('Summer reading')",
                  10, 'the item on the new list')
    _, mine = lib.api('GET', f'/v1/users/{user}/lists')
    made = [x for x in mine['lists'] if x['title'] == 'Summer reading']
    check(len(made) == 1, f'the list stored: {mine}')
    _, full = lib.api('GET', f"/v1/lists/{made[0]['id']}")
    check([x['item'] for x in full['items']] == [item], f'the item on it: {full}')
    page.click('.stars button:nth-child(5)')
    page.wait_for("document.querySelector('.said').textContent.includes('5')", 10, 'rated 5')
    page.eval("document.getElementById('review-text').value = 'A fine read.'; true")
    page.click('form.review-form button[type=submit]')
    page.wait_for("document.querySelector('.reviews')?.textContent.includes('A fine read.')", 10,
                  'the review shown')
    _, rev = lib.api('GET', f'/v1/items/{item}/reviews')
    own = [r for r in rev['reviews'] if r['user'] == user]
    check(own and own[0]['body'] == 'A fine read.' and own[0]['rating'] == 5,
          f'the review kept the stars\' rating: {rev}')
    no_errors(page, 'the item panels')
    axe(page, 'the item page with its panels')
    page.hash('#/me')
    page.wait_for("document.querySelector('.my-lists')?.textContent.includes('Summer reading')"
                  " && document.querySelector('.my-reviews')?.textContent.includes('A fine read')",
                  20, 'lists and reviews in My data')
    no_errors(page, 'my lists and reviews')


def test_console_panels(lib, ctx):
    """The console's analytics charts (inline SVG from GET /v1/analytics), a patron's newsletter
    preview, the learning-path editor (a new path, then edited) and quality over time."""
    page, user = ctx['page'], ctx['user']
    page.hash('#/console')
    page.wait_for("document.querySelectorAll('main figure.chart svg rect').length > 0", 30,
                  'the demand chart')
    page.wait_for("document.querySelector('.quality figure.chart svg circle') !== null", 20,
                  'quality over time (after the retraining)')
    page.eval(f"document.getElementById('digest-user').value = {json.dumps(user)}; true")
    page.click('form.digest-form button[type=submit]')
    page.wait_for("document.querySelector('iframe.digest').srcdoc.includes('<')", 20,
                  'the newsletter preview')
    _, recs = lib.api('GET', f'/v1/users/{user}/recommendations?n=3')
    steps = [r['item'] for r in recs['items']]
    page.eval(f"""document.getElementById('path-id').value = 'web-path';
        document.getElementById('path-title').value = 'Getting started';
        document.getElementById('path-steps').value = {json.dumps(steps[0] + ', ' + steps[1]
        + chr(10) + steps[2] + ' (level 2)')}; true""")
    page.click('form.path-form button[type=submit]')
    page.wait_for("document.querySelector('ul.paths')?.textContent.includes('Getting started')",
                  10, 'the path saved')
    page.eval("[...document.querySelectorAll('ul.paths button')].find(b => b.textContent === "
              "'Edit').click(); true")
    page.wait_for("document.getElementById('path-id').value === 'web-path'", 10, 'loaded')
    page.eval("document.getElementById('path-title').value = 'First steps'; true")
    page.click('form.path-form button[type=submit]')
    page.wait_for("document.querySelector('ul.paths')?.textContent.includes('First steps')", 10,
                  'the path edited')
    _, path = lib.api('GET', '/v1/paths/web-path')
    check(path['title'] == 'First steps' and
          sorted((s['item'], s['pos'], s['level'] or 0) for s in path['steps']) ==
          sorted([(steps[0], 1, 0), (steps[1], 1, 0), (steps[2], 2, 2)]), f'the path: {path}')
    no_errors(page, 'the console panels')
    axe(page, 'the console with its panels')
    page.hash('#/')
    page.wait_for("document.querySelector('section.row[data-row=\"path:web-path\"] .card')"
                  " !== null", 20, 'the path\'s "Next step" row on the homepage')
    title = page.eval("document.querySelector('section.row[data-row=\"path:web-path\"] h2')"
                      ".textContent")
    check(title.startswith('Next step in First steps'), f'the row titled: {title!r}')
    no_errors(page, 'the homepage with a learning path')


def test_console_experiments(lib, ctx):
    """The console lists an experiment made through the API and shows its report when opened."""
    page = ctx['page']
    st, made = lib.api('POST', '/v1/experiments', {
        'name': 'web-exp', 'arms': [{'name': 'control'},
                                    {'name': 'bandit', 'params': {'rows': 'bandit'}}]})
    check(st == 200, f'the experiment made: {st} {made}')
    page.hash('#/')
    page.hash('#/console')
    page.wait_for("document.querySelector('details.experiment[data-name=\"web-exp\"] summary')"
                  " !== null", 20, 'the experiment listed')
    page.click('details.experiment[data-name="web-exp"] summary')
    page.wait_for("document.querySelector('details.experiment[data-name=\"web-exp\"] .report "
                  "table') !== null", 20, 'its report')
    arms = page.eval("[...document.querySelectorAll('details.experiment[data-name=\"web-exp\"]"
                     " .report table')[0].querySelectorAll('tbody tr')].map(r => "
                     "r.cells[0].textContent)")
    check(arms == ['control', 'bandit'], f'the report\'s arms: {arms}')
    no_errors(page, 'the console\'s experiments')
    axe(page, 'the console with an experiment\'s report')


def test_console(lib, ctx):
    page = ctx['page']
    page.hash('#/console')
    page.wait_for("document.querySelectorAll('main dl.details dd').length > 0", 20, 'the model')
    page.wait_for("document.querySelectorAll('main table').length >= 2", 20, 'audit and keys')
    runs = lib.api('GET', '/v1/models')[1]['training']['runs']
    page.eval("[...document.querySelectorAll('main button')].find(b => b.textContent === "
              "'Train again').click()")
    deadline = time.monotonic() + 60
    while lib.api('GET', '/v1/models')[1]['training']['runs'] <= runs:
        check(time.monotonic() < deadline, 'the retraining ended')
        time.sleep(0.3)
    page.wait_for("[...document.querySelectorAll('main [role=status]')].some(s => "
                  f"s.textContent.includes('{runs + 1} done'))", 20, 'the training shown done')
    no_errors(page, 'the console')
    axe(page, 'the console')


def test_my_data_and_erase(lib, ctx):
    page, user = ctx['page'], ctx['user']
    page.hash('#/me')
    page.wait_for("document.querySelectorAll('table.history tbody tr').length > 0", 20,
                  'the history')
    check(page.eval("document.getElementById('export').href.startsWith('blob:')"),
          'the export is a download')
    axe(page, 'my data')
    page.click('#c-personalize')
    page.click('form.consent button[type=submit]')
    page.wait_for("document.querySelector('form.consent [role=status]').textContent === 'Saved.'",
                  10, 'consent saved')
    check(lib.api('GET', f'/v1/users/{user}')[1]['personalize'] is False, 'opted out')
    page.eval("document.getElementById('erase-word').value = 'ERASE'")
    page.click('form.danger button[type=submit]')
    page.wait_for("document.getElementById('erased') !== null", 20, 'the erasure')
    st, _ = lib.api('GET', f'/v1/users/{user}')
    check(st == 404, f'the erased patron is gone: {st}')
    no_errors(page, 'my data')


def test_widget(lib, ctx):
    host = ctx['host']
    page = ctx['browser'].new_page()
    page.goto(f'{host.origin}/host.html')
    page.wait_for("document.querySelectorAll('#recs .tailor-card').length > 0", 20,
                  'the widget\'s recommendations')
    page.wait_for("document.querySelectorAll('#similar .tailor-card').length > 0", 20,
                  'the widget\'s "More like this"')
    check(page.eval("document.getElementById('recs').dataset.tailorState") == 'ready', 'ready')
    no_errors(page, 'the widget\'s host page')
    axe(page, 'the widget\'s host page')


def test_with_keys(lib, ctx):
    """A server that asks for keys: the page signs in with a patron's key (kept in the tab's
    sessionStorage only), the console asks for an admin key, and the widget sends its key across
    origins (a CORS preflight)."""
    host = HostSite({})
    keyed = Library(BIN, SOURCE, cors_origin=host.origin, auth=True)
    try:
        user = keyed.api('GET', '/v1/users?limit=1')[1]['users'][0]['id']
        # made through the server (one made by another process counts after a minute)
        st, made = keyed.api('POST', '/v1/keys', {'role': 'patron', 'user': user})
        check(st == 201, f'a patron key: {st} {made}')
        key = made['key']
        # the refusals the page meets are expected: only the browser's own log lines of them
        page = ctx['browser'].new_page(ignore_network=('/v1/users?limit=', '/v1/models',
                                                       '/v1/audit', '/v1/keys', '/v1/analytics',
                                                       '/v1/experiments'))
        page.goto(keyed.url + '/')
        page.wait_for("document.querySelector('.patron-list p:not(.muted)') !== null", 10,
                      'the sign-in form')
        check('key' in page.eval("document.querySelector('.patron-list').textContent"),
              'the page asks for a key')
        page.eval(f"document.getElementById('sign-user').value = {json.dumps(user)};"
                  f"document.getElementById('sign-key').value = {json.dumps(key)}; true")
        page.click('form.sign-in button[type=submit]')
        wait_home(page)
        check(page.eval("sessionStorage.getItem('tailor.key')") == key, 'the key in the tab')
        check(page.eval('localStorage.length') == 0, 'nothing in localStorage')
        page.hash('#/console')
        page.wait_for("document.querySelector('main .error') !== null && document.querySelector("
                      "'main .error').textContent.includes('admin key')", 10, 'admin key asked')
        no_errors(page, 'the page with keys')
        host.files['/host.html'] = HOST_PAGE.replace(
            '<script src="{tailor}/web/widget.js"',
            f'<script src="{{tailor}}/web/widget.js" data-tailor-key="{key}"').format(
                user=user, item=ctx['item'], tailor=keyed.url)
        page = ctx['browser'].new_page()
        page.goto(f'{host.origin}/host.html')
        page.wait_for("document.querySelectorAll('#recs .tailor-card').length > 0", 20,
                      'the widget with a key')
        page.eval("document.querySelector('#recs .tailor-link').addEventListener('click', "
                  "e => e.preventDefault()); document.querySelector('#recs .tailor-link')"
                  ".click(); true")
        deadline = time.monotonic() + 10
        while not any(e['type'] == 'click' and e.get('channel') == 'opac' for e in
                      keyed.api('GET', f'/v1/users/{user}/export')[1]['events']):
            check(time.monotonic() < deadline, 'the widget\'s click stored')
            time.sleep(0.2)
        no_errors(page, 'the widget with a key')
    finally:
        keyed.close()
        host.close()


TESTS = [test_serving, test_homepage, test_click_changes_rows, test_cover_link,
         test_rate_and_dismiss, test_not_interested, test_item_panels, test_search,
         test_search_contract, test_console, test_console_panels, test_console_experiments,
         test_widget, test_with_keys,
         test_my_data_and_erase]

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A library's catalogue</title>
<link rel="icon" href="data:,"></head>
<body><main><h1>Our catalogue</h1>
<div id="recs" data-tailor-recommend="{user}" data-tailor-n="4"></div>
<div id="similar" data-tailor-similar="{item}" data-tailor-n="4"
     data-tailor-link="/cgi-bin/koha/opac-detail.pl?biblionumber={{item}}"></div>
</main>
<script src="{tailor}/web/widget.js" async></script>
</body></html>
"""


def main():
    if not find_chromium():
        print('test_web: no Chromium (chromium on PATH, or $TL_CHROMIUM; scripts/deps.sh '
              'installs it): skipping the web page tests')
        return 77
    host = HostSite({})
    lib = None
    failed = 0
    try:
        lib = Library(BIN, SOURCE, cors_origin=host.origin)
        users = lib.api('GET', '/v1/users?limit=2')[1]['users']
        item = lib.api('GET', f"/v1/users/{users[1]['id']}/recommendations?n=1")[1]['items'][0]
        host.files['/host.html'] = HOST_PAGE.format(user=users[1]['id'], item=item['item'],
                                                    tailor=lib.url)
        with Browser() as b:
            ctx = {'browser': b, 'page': b.new_page(), 'host': host}
            for t in TESTS:
                t0 = time.monotonic()
                try:
                    t(lib, ctx)
                    print(f'test_web: {t.__name__}: ok ({time.monotonic() - t0:.1f} s)')
                except (Failed, CdpError, KeyError, TypeError, ValueError) as e:
                    failed += 1
                    print(f'test_web: {t.__name__}: FAILED: {e}')
                    traceback.print_exc()
                    if t in (test_homepage,):
                        break  # what follows needs the patron
    finally:
        if lib:
            lib.close()
        host.close()
    print(f'test_web: {len(TESTS)} tests, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
