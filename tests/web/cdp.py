"""A small driver of headless Chromium through the DevTools protocol over a pipe
(--remote-debugging-pipe: the browser reads commands from fd 3 and writes answers and events to
fd 4, each message JSON ended by a NUL byte). Python's standard library only.

    with Browser() as b:
        page = b.new_page()
        page.goto('http://127.0.0.1:8080/')
        page.wait_for("document.querySelectorAll('.card').length > 0")
        assert not page.errors          # console errors and uncaught exceptions

Every page records the JavaScript errors it meets (Runtime.exceptionThrown, console.error,
Log.entryAdded at level error) in page.errors.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


def find_chromium():
    """The browser: $TL_CHROMIUM, else chromium (or chrome) on PATH, else None."""
    env = os.environ.get('TL_CHROMIUM')
    if env:
        return env if os.access(env, os.X_OK) else None
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(name)
        if path:
            return path
    return None


class CdpError(RuntimeError):
    pass


class Browser:
    def __init__(self, path=None, timeout=30.0):
        self.path = path or find_chromium()
        if not self.path:
            raise CdpError('no Chromium found (chromium on PATH, or $TL_CHROMIUM)')
        self.timeout = timeout
        self.next_id = 0
        self.buf = b''
        self.pending = []  # messages read while waiting for another
        self.pages = []
        self.profile = tempfile.mkdtemp(prefix='tailor-cdp-')
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # The browser's ends away from 3 and 4, so that moving them there overwrites nothing.
        ends = []
        for fd in (to_chrome_r, from_chrome_w):
            ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
            os.close(fd)
        to_chrome_r, from_chrome_w = ends

        # bash (dash takes one-digit fds only) moves the pipe's ends to the browser's fds 3 and 4.
        move = (f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w} '
                f'{to_chrome_r}<&- {from_chrome_w}>&-')
        self.proc = subprocess.Popen(
            ['/bin/bash', '-c', move, self.path, '--headless=new', '--remote-debugging-pipe',
             '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
             '--disable-extensions', '--disable-background-networking', '--disable-sync',
             '--disable-component-update', '--disable-default-apps', '--mute-audio',
             '--hide-scrollbars', '--font-render-hinting=none',
             f'--user-data-dir={self.profile}', 'about:blank'],
            pass_fds=(to_chrome_r, from_chrome_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=None if os.environ.get("TL_CDP_DEBUG") else subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send('Browser.close', timeout=5)
            except (CdpError, OSError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for fd in (self.to_chrome, self.from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def _read(self, deadline):
        """The next message from the browser, or CdpError at the deadline."""
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CdpError('timed out waiting for the browser')
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_chrome, 1 << 20)
            if not chunk:
                raise CdpError('the browser closed its pipe')
            self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, timeout=None):
        self.next_id += 1
        mid = self.next_id
        msg = {'id': mid, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        data = json.dumps(msg).encode() + b'\0'
        while data:
            data = data[os.write(self.to_chrome, data):]
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._read(deadline)
            if m.get('id') == mid:
                if 'error' in m:
                    raise CdpError(f"{method}: {m['error'].get('message')}")
                return m.get('result', {})
            self.pending.append(m)

    def pump(self, seconds=0.0):
        """Reads the events that arrived (waiting up to seconds for the first)."""
        deadline = time.monotonic() + seconds
        while True:
            ready, _, _ = select.select([self.from_chrome], [], [],
                                        max(0.0, deadline - time.monotonic()))
            if not ready and b'\0' not in self.buf:
                return
            try:
                self.pending.append(self._read(time.monotonic() + 1))
            except CdpError:
                return
            if time.monotonic() >= deadline and b'\0' not in self.buf:
                return

    def dispatch(self):
        by_session = {p.session: p for p in self.pages}
        events, self.pending = self.pending, []  # a handler may send (and read) more
        for m in events:
            p = by_session.get(m.get('sessionId'))
            if p:
                p.on_event(m.get('method', ''), m.get('params', {}))

    def new_page(self, width=1280, height=800, mobile=False, ignore_network=()):
        target = self.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = self.send('Target.attachToTarget',
                            {'targetId': target, 'flatten': True})['sessionId']
        page = Page(self, target, session, ignore_network)
        self.pages.append(page)
        for domain in ('Runtime', 'Log', 'Page'):
            page.send(f'{domain}.enable')
        page.viewport(width, height, mobile)
        return page


class Page:
    def __init__(self, browser, target, session, ignore_network):
        self.b = browser
        self.target = target
        self.session = session
        self.errors = []
        self.ignore_network = ignore_network  # URL parts whose failed loads are expected
        self.loaded = False

    def send(self, method, params=None, timeout=None):
        res = self.b.send(method, params, self.session, timeout)
        self.b.dispatch()
        return res

    def on_event(self, method, p):
        if method == 'Runtime.exceptionThrown':
            d = p.get('exceptionDetails', {})
            ex = d.get('exception', {})
            self.errors.append(f"exception: {ex.get('description') or d.get('text')}")
        elif method == 'Runtime.consoleAPICalled' and p.get('type') == 'error':
            args = ' '.join(str(a.get('value', a.get('description', ''))) for a in p.get('args', []))
            self.errors.append(f'console.error: {args}')
        elif method == 'Log.entryAdded':
            e = p.get('entry', {})
            if e.get('level') != 'error':
                return
            url = e.get('url', '')
            if e.get('source') == 'network' and any(x in url for x in self.ignore_network):
                return
            self.errors.append(f"log ({e.get('source')}): {e.get('text')} {url}")
        elif method == 'Page.loadEventFired':
            self.loaded = True
        elif method == 'Fetch.requestPaused':
            self.requests.append(p['request']['url'])
            status, ctype, body = self.intercept(p['request']['url'])
            self.send('Fetch.fulfillRequest', {
                'requestId': p['requestId'], 'responseCode': status,
                'responseHeaders': [{'name': 'Content-Type', 'value': ctype}],
                'body': base64.b64encode(body).decode()})

    def route(self, patterns, answer):
        """Answers the page's requests to URLs matching patterns ('*/v1/search*') with
        answer(url) -> (status, content type, body bytes) instead of the network; the URLs
        asked are kept in self.requests."""
        self.intercept = answer
        self.requests = []
        self.send('Fetch.enable', {'patterns': [{'urlPattern': x} for x in patterns]})

    def viewport(self, width, height, mobile=False):
        self.send('Emulation.setDeviceMetricsOverride',
                  {'width': width, 'height': height, 'deviceScaleFactor': 1, 'mobile': mobile})

    def goto(self, url, timeout=30):
        self.loaded = False
        res = self.send('Page.navigate', {'url': url})
        if res.get('errorText'):
            raise CdpError(f"navigating to {url}: {res['errorText']}")
        deadline = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() > deadline:
                raise CdpError(f'{url} did not load')
            self.b.pump(0.1)
            self.b.dispatch()

    def hash(self, fragment):
        """Moves the page shown to another #fragment (no load: the page's own routing)."""
        self.eval(f'location.hash = {json.dumps(fragment)}; true')

    def reload(self, timeout=30):
        self.loaded = False
        self.send('Page.reload', {'ignoreCache': True})
        deadline = time.monotonic() + timeout
        while not self.loaded:
            if time.monotonic() > deadline:
                raise CdpError('the page did not reload')
            self.b.pump(0.1)
            self.b.dispatch()

    def eval(self, expr, timeout=None):
        """The value of a JavaScript expression (awaited when it is a promise)."""
        res = self.send('Runtime.evaluate', {'expression': expr, 'returnByValue': True,
                                             'awaitPromise': True}, timeout)
        if res.get('exceptionDetails'):
            d = res['exceptionDetails']
            raise CdpError(f"{expr[:80]}: {d.get('exception', {}).get('description') or d.get('text')}")
        return res.get('result', {}).get('value')

    def wait_for(self, expr, timeout=20, what=None):
        """Waits until expr is truthy; its value, or CdpError naming what was awaited."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.eval(expr)
            if v:
                return v
            if time.monotonic() > deadline:
                raise CdpError(f'timed out waiting for {what or expr}')
            self.b.pump(0.1)
            self.b.dispatch()

    def settle(self, seconds=0.3):
        """Lets pending events (late console errors) arrive."""
        self.b.pump(seconds)
        self.b.dispatch()

    def click(self, selector):
        self.eval(f'document.querySelector({json.dumps(selector)}).click()')

    def screenshot(self, path):
        data = self.send('Page.captureScreenshot', {'format': 'png'})['data']
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))
