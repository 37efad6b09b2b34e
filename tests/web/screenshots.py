#!/usr/bin/env python3
"""`make screenshots`: the web page over a small demo library, captured in headless Chromium
at desktop (1280x800) and phone (390x844) width: the homepage, search, an item page and the
librarian's console, into docs/screenshots/NAME-desktop.png and NAME-phone.png.
Usage: screenshots.py TAILOR_BIN OUT_DIR."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cdp import Browser, find_chromium  # noqa: E402
from harness import Library  # noqa: E402

SIZES = {'desktop': (1280, 800, False), 'phone': (390, 844, True)}


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    tailor, out = sys.argv[1], sys.argv[2]
    if not find_chromium():
        print('screenshots: no Chromium (chromium on PATH, or $TL_CHROMIUM)', file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    lib = Library(tailor, os.path.dirname(os.path.dirname(HERE)))
    try:
        # learning paths, as `make demo` proposes them (the homepage's "Next step" rows)
        for topic in ('history', 'science-fiction', 'classics'):
            lib.cli('--db', lib.db, 'path', 'propose', topic, '-n', '6')
        user = lib.api('GET', '/v1/users?limit=1')[1]['users'][0]['id']
        item = lib.api('GET', f'/v1/users/{user}/recommendations?n=1')[1]['items'][0]['item']
        views = [
            ('homepage', '#/', "document.querySelectorAll('.card .byline:not(:empty)').length > 3"),
            ('search', '#/search?q=harry', "document.querySelector('.results').textContent.length > 0"),
            ('item', f'#/item/{item}', "document.querySelector('[data-row=similar] .card') !== null"
             " && document.getElementById('review-text') !== null"),
            ('console', '#/console', "document.querySelectorAll('main table').length >= 2 && "
             "document.querySelectorAll('main figure.chart svg rect').length > 0"),
        ]
        # two trainings, for the console's quality over time
        for _ in range(2):
            runs = lib.api('GET', '/v1/models')[1]['training']['runs']
            lib.api('POST', '/v1/models/train', {})
            while lib.api('GET', '/v1/models')[1]['training']['runs'] <= runs:
                time.sleep(0.3)
        with Browser() as b:
            for size, (w, h, mobile) in SIZES.items():
                page = b.new_page(w, h, mobile)
                page.goto(lib.url + '/')
                page.eval(f"sessionStorage.setItem('tailor.user', {user!r}); true")
                for name, frag, ready in views:
                    page.hash(frag)
                    page.wait_for(ready, 30, f'{name} at {size} width')
                    page.settle(0.5)
                    path = os.path.join(out, f'{name}-{size}.png')
                    page.screenshot(path)
                    print(f'screenshots: {path}')
                if page.errors:
                    print(f'screenshots: JavaScript errors: {page.errors}', file=sys.stderr)
                    return 1
    finally:
        lib.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
