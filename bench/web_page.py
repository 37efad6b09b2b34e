#!/usr/bin/env python3
"""The web page's cost in a browser: headless Chromium (tests/web/cdp.py) opens a patron's
homepage on a demo library served by `tailor serve`, cold (a new tab, nothing cached) and warm
(a reload: the files revalidated by ETag), REPS times each, and reports the median time to the
first row and to every card filled in (each card's record read: GET /v1/items/{id}), with the
requests and bytes of one cold load. Usage: bench/web_page.py TAILOR_BIN [PATRONS] [REPS]."""
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'web'))
from cdp import Browser  # noqa: E402
from harness import Library  # noqa: E402

FIRST = "document.querySelectorAll('section.row .card').length > 0"
FILLED = ("document.querySelectorAll('section.row .card').length > 0 && [...document."
          "querySelectorAll('section.row .card .avail')].every(a => a.textContent)")


def main():
    tailor = sys.argv[1]
    patrons = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    lib = Library(tailor, os.path.join(HERE, '..'), patrons=patrons)
    try:
        user = lib.api('GET', '/v1/users?limit=1')[1]['users'][0]['id']
        cold, warm = {'first': [], 'filled': []}, {'first': [], 'filled': []}
        with Browser() as b:
            for _ in range(reps):
                page = b.new_page()
                page.goto(lib.url + '/web/style.css')  # the origin, for its sessionStorage
                page.eval(f"sessionStorage.setItem('tailor.user', {user!r}); true")
                for runs in (cold, warm):
                    t0 = time.monotonic()
                    if runs is cold:
                        page.goto(lib.url + '/#/')
                    else:
                        page.reload()
                    page.wait_for(FIRST, 30)
                    runs['first'].append(time.monotonic() - t0)
                    page.wait_for(FILLED, 60)
                    runs['filled'].append(time.monotonic() - t0)
                    if runs is cold:
                        stats = page.eval("""(() => {
                          const e = performance.getEntriesByType('resource')
                            .concat(performance.getEntriesByType('navigation'));
                          return [e.length, e.reduce((s, x) => s + x.encodedBodySize, 0),
                            document.querySelectorAll('section.row .card').length]; })()""")
                page.send('Page.close')
        print(f'patrons {patrons}, {reps} runs; one cold load: {stats[0]} requests, '
              f'{stats[1]} bytes of bodies, {stats[2]} cards')
        for name, runs in (('cold', cold), ('warm', warm)):
            print(f"{name}: first row {statistics.median(runs['first']) * 1000:.0f} ms, "
                  f"every card filled {statistics.median(runs['filled']) * 1000:.0f} ms (median)")
    finally:
        lib.close()


if __name__ == '__main__':
    main()
