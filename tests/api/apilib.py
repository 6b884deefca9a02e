"""apilib.py -- shared plumbing of the admin API tests (tests/api).

Starts one real scepd per test file ("scepd init" on a fresh data
directory, "scepd serve" on a free loopback port), talks HTTP to it with
urllib, and prints TAP.  Everything this file starts is stopped at exit
(by its own pid), and the work directory is removed unless API_KEEP=1.

Environment (set by tests/api/meson.build):
  SCEPD    the scepd binary
  SCEPCTL  the scepctl binary
  API_STORE_DSN  a PostgreSQL DSN for "scepd init --store" (optional;
           set from STORE_TEST_DSN by tests/pg/with-cluster.sh)
  SCEPD_SERVE_ARGS  extra arguments for "scepd serve" (optional; e.g.
           "--key-isolation off" under a sanitizer, whose runtime makes
           system calls the key processes' seccomp filter refuses)
"""

import atexit
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

_n = 0
_failed = 0


def ok(cond, desc, *diag):
    """One TAP assertion; diagnostics are printed when it fails."""
    global _n, _failed
    _n += 1
    if cond:
        print("ok %d - %s" % (_n, desc))
    else:
        _failed += 1
        print("not ok %d - %s" % (_n, desc))
        for d in diag:
            for line in str(d).splitlines()[:40]:
                print("# " + line)
    sys.stdout.flush()
    return bool(cond)


def is_(got, want, desc, *diag):
    return ok(got == want, desc, "got:      %r" % (got,),
              "expected: %r" % (want,), *diag)


def done():
    print("1..%d" % _n)
    sys.stdout.flush()
    return 1 if _failed else 0


def bail(msg):
    print("Bail out! " + msg)
    sys.stdout.flush()
    sys.exit(1)


def free_port(host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.json = None
        ctype = headers.get("content-type", "")
        if ctype.startswith("application/json") and body:
            try:
                self.json = json.loads(body)
            except ValueError:
                self.json = None

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


class Scepd:
    """One scepd instance with its data directory."""

    def __init__(self, legacy=False, listen_host="127.0.0.1"):
        self.bin = os.environ.get("SCEPD")
        self.ctl = os.environ.get("SCEPCTL")
        if not self.bin:
            bail("SCEPD is not set")
        self.work = tempfile.mkdtemp(prefix="scepd-api-")
        self.proc = None
        atexit.register(self.stop)
        for _ in range(3):
            self.port = free_port()
            self.host = "127.0.0.1"
            self.url = "http://127.0.0.1:%d" % self.port
            self.data = os.path.join(self.work, "data-%d" % self.port)
            args = [self.bin, "init", "--data-dir", self.data, "--json",
                    "--url", self.url]
            if legacy:
                args.append("--legacy")
            self.dsn = os.environ.get("API_STORE_DSN")
            if self.dsn:
                args += ["--store", self.dsn]
            r = subprocess.run(args, capture_output=True, text=True)
            if r.returncode != 0:
                bail("scepd init failed: " + r.stderr)
            self.init = json.loads(r.stdout)
            self.token = self.init["admin_token"]
            self.password = self.init["admin_password"]
            self.log = open(os.path.join(self.work, "scepd.log"), "w")
            listen = "%s:%d" % (listen_host, self.port)
            extra = os.environ.get("SCEPD_SERVE_ARGS", "").split()
            self.proc = subprocess.Popen(
                [self.bin, "serve", "--data-dir", self.data, "--listen",
                 listen] + extra, stdout=self.log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                return
            self.stop()
        bail("scepd serve never became ready")

    def _wait_ready(self):
        for _ in range(100):
            if self.proc.poll() is not None:
                return False
            try:
                if self.request("GET", "/healthz").status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if _failed and os.path.exists(os.path.join(self.work, "scepd.log")):
            with open(os.path.join(self.work, "scepd.log")) as f:
                lines = f.read().splitlines()[-30:]
            for line in lines:
                print("# scepd: " + line)
        if os.environ.get("API_KEEP") != "1":
            shutil.rmtree(self.work, ignore_errors=True)

    def request(self, method, path, token=None, body=None, raw=None,
                headers=None, host=None, ctype="application/json"):
        """One request.  body: a JSON value; raw: bytes sent as they
        are.  token: a bearer token (None: no Authorization)."""
        conn = http.client.HTTPConnection(host or self.host, self.port,
                                          timeout=30)
        h = dict(headers or {})
        data = None
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            data = json.dumps(body).encode()
        elif raw is not None:
            data = raw
        if data is not None and ctype is not None:
            h.setdefault("Content-Type", ctype)
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        # Set-Cookie may repeat; keep them all.
        hdrs["set-cookie"] = "\n".join(
            v for k, v in r.getheaders() if k.lower() == "set-cookie")
        out = Resp(r.status, hdrs, r.read().decode("utf-8", "replace"))
        conn.close()
        return out

    # Shorthands with the bootstrap MRAO token by default.
    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token or self.token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, token=token or self.token,
                            body=body if body is not None else {}, **kw)

    def patch(self, path, body, token=None, **kw):
        return self.request("PATCH", path, token=token or self.token,
                            body=body, **kw)

    def put(self, path, body, token=None, **kw):
        return self.request("PUT", path, token=token or self.token,
                            body=body, **kw)

    def delete(self, path, token=None, **kw):
        return self.request("DELETE", path, token=token or self.token, **kw)

    def scepctl(self, *args, token=None, check=False):
        """Run scepctl against this instance: (exit status, stdout,
        stderr)."""
        env = dict(os.environ)
        env["SCEPD_URL"] = self.url
        env["SCEPD_TOKEN"] = token or self.token
        r = subprocess.run([self.ctl] + list(args), capture_output=True,
                           text=True, env=env, timeout=60)
        return r.returncode, r.stdout, r.stderr

    def db(self):
        return os.path.join(self.data, "scepd.db")


def q(s):
    return urllib.parse.quote(str(s), safe="")
