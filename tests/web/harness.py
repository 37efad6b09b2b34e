"""What the web tests and `make screenshots` share: a small demo library in a temporary store
(`tailor synth --library` over the demo catalogue, imported and trained as `make demo` does,
with fewer patrons), `tailor serve` on a loopback port over it, and a plain HTTP server on
another loopback port for the widget's host page."""
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request


class Library:
    def __init__(self, tailor, source, patrons=150, cors_origin=None, auth=False):
        self.tailor = tailor
        self.dir = tempfile.mkdtemp(prefix='tailor-web-')
        self.db = os.path.join(self.dir, 'library.db')
        self.model = os.path.join(self.dir, 'library.tlm')
        data = os.path.join(self.dir, 'data')
        self.cli('synth', '--library', '--books', os.path.join(source, 'demo/books.csv'),
                 '--subjects', os.path.join(source, 'demo/subjects.tsv'), '--seed', '42',
                 '--patrons', str(patrons), '--out', data)
        for kind in ('items', 'users', 'events'):
            self.cli('--db', self.db, 'import', kind, os.path.join(data, f'{kind}.tsv'))
        self.cli('--db', self.db, 'train', '--model', 'itemknn', '--out', self.model, '--quiet')
        args = [tailor, '--db', self.db, 'serve', '--bind', '127.0.0.1',
                '--port', '0', '--model', self.model, '--quiet']
        if not auth:
            args.append('--no-auth')
        self.admin = self.key('admin') if auth else ''
        if cors_origin:
            args += ['--cors-origin', cors_origin]
        self.log = open(os.path.join(self.dir, 'serve.log'), 'w')
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith('listening on '):
            raise RuntimeError(f'tailor serve did not start: {line!r}')
        self.url = line[len('listening on '):]

    def cli(self, *args):
        subprocess.run([self.tailor, *args], check=True, stdout=subprocess.DEVNULL)

    def key(self, role, user=None):
        """A new API key of role (for the patron user)."""
        args = [self.tailor, '--db', self.db, 'key', 'create', '--role', role]
        if user:
            args += ['--user', user]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        return out.split()[-1]

    def api(self, method, path, body=None):
        """(status, JSON answer) of a request to the server (with the admin key, if any)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {'Content-Type': 'application/json'} if data else {}
        if self.admin:
            headers['Authorization'] = f'Bearer {self.admin}'
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                return res.status, json.loads(res.read() or b'null')
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b'null')

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class HostSite:
    """Another origin: serves the files given as {path: text} on a loopback port."""

    def __init__(self, files):
        self.files = site = files  # may be filled in later (the page names the server)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = site.get(self.path.split('?')[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header('Content-Type', 'text/html; charset=utf-8')
                self.send_header('Content-Length', str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.origin = f'http://127.0.0.1:{self.server.server_address[1]}'
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
