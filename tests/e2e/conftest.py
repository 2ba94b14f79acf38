"""Fixtures: a real `lyrebird demo` process per test (or per module).

    def test_x(server): server.api("GET", "/api/v1/conversations")

Extra environment for the server:
    @pytest.mark.lyrebird_env(LYREBIRD_SIM_SEND_FAILURE_RATE="1")
or indirect parametrization of `server` with a dict.
"""
import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse

import pytest
import requests

import openapi_check
from e2e_helpers import (API_KEY, BIN, SANITIZER_MARKERS, SIM_SECRET, sign,
                         wait_for)

# The store under test: LYREBIRD_TEST_STORE=postgresql runs every server
# on a fresh, empty database of the cluster at LYREBIRD_TEST_PG_URL
# (tests/pg/cluster; scripts/run-tests starts one), as a SQLite run starts
# from no file. Making one and migrating it takes about 0.3 s.
STORE = os.environ.get("LYREBIRD_TEST_STORE", "sqlite")
PG_URL = os.environ.get("LYREBIRD_TEST_PG_URL", "")
_pg_dbs = {}  # data directory -> its database's URL
_pg_state = {"n": 0}


def pg_url(dbname):
    """The test cluster's URL for database dbname."""
    parts = urllib.parse.urlsplit(PG_URL)
    # (urlunsplit would drop the empty host of a socket URL, "///db")
    return "%s://%s/%s%s" % (parts.scheme, parts.netloc, dbname,
                             "?" + parts.query if parts.query else "")


def pg_sql(sql, db="postgres"):
    """Runs sql on the test cluster with psql; its output (tuples only)."""
    p = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                        "-d", pg_url(db), "-c", sql],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, "psql %r: %s" % (sql, p.stderr)
    return p.stdout


def store_url_for(data_dir):
    """PostgreSQL runs: the database of a data directory (made on first
    use); None on SQLite runs."""
    if STORE != "postgresql":
        return None
    data_dir = os.path.realpath(data_dir)
    if data_dir not in _pg_dbs:
        assert PG_URL, "LYREBIRD_TEST_STORE=postgresql needs LYREBIRD_TEST_PG_URL"
        _pg_state["n"] += 1
        name = "lb_%d_%d" % (os.getpid(), _pg_state["n"])
        pg_sql("CREATE DATABASE %s" % name)
        _pg_dbs[data_dir] = pg_url(name)
    return _pg_dbs[data_dir]


@pytest.fixture(autouse=True)
def _pg_drop_test_databases():
    """PostgreSQL runs: drops the databases a test made once it is over
    (its servers are stopped by then), so a run's disk stays small."""
    before = set(_pg_dbs)
    yield
    for d in [d for d in _pg_dbs if d not in before]:
        name = urllib.parse.urlsplit(_pg_dbs.pop(d)).path.lstrip("/")
        pg_sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


sqlite_only = pytest.mark.skipif(
    STORE != "sqlite",
    reason="reads or writes the SQLite file itself")

# Every answer from a lyrebird under test is checked against
# docs/openapi.json (openapi_check.py).
openapi_check.install()

STARTUP_TIMEOUT = 20
STOP_TIMEOUT = 15
HTTP_TIMEOUT = 10

# Defaults every server gets (tests override with lyrebird_env).
BASE_ENV = {
    "LYREBIRD_API_KEY": API_KEY,
    "LYREBIRD_SIM_SECRET": SIM_SECRET,
    "LYREBIRD_SIM_DR_DELAY_MS": "50",
}


def clean_env(extra=None):
    """The caller's environment without any LYREBIRD_* variable, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYREBIRD_")}
    env.update(extra or {})
    return env


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, n=6000):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "<no %s>" % path
    return data[-n:].decode("utf-8", "replace")


def check_sanitizers(text, what):
    hits = [m for m in SANITIZER_MARKERS if m in text]
    assert not hits, "%s: sanitizer report (%s):\n%s" % (
        what, ", ".join(hits), text[-8000:])


class Lyrebird:
    def __init__(self, workdir, env=None):
        self.workdir = str(workdir)
        self.data = os.path.join(self.workdir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.key = API_KEY
        self.secret = SIM_SECRET
        self.env = dict(BASE_ENV)
        url = store_url_for(self.data)
        if url:
            self.env["LYREBIRD_STORE_URL"] = url
        self.env.update(env or {})
        self.proc = None
        self.runs = 0
        self.stderr_path = None
        self.session = requests.Session()

    # -- process -----------------------------------------------------------
    def start(self):
        assert self.proc is None, "already running"
        assert os.access(BIN, os.X_OK), "no lyrebird binary at %s" % BIN
        self.runs += 1
        self.stdout_path = os.path.join(self.workdir, "stdout.%d.log" % self.runs)
        self.stderr_path = os.path.join(self.workdir, "stderr.%d.log" % self.runs)
        cmd = [BIN, "demo", "--port", str(self.port), "--data", self.data]
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL,
                                         env=clean_env(self.env))
        deadline = time.monotonic() + STARTUP_TIMEOUT
        last = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                pytest.fail("lyrebird exited with %s during startup (%s)\n"
                            "stderr:\n%s" % (rc, " ".join(cmd),
                                             tail(self.stderr_path)))
            try:
                r = requests.get(self.base + "/healthz", timeout=1)
                last = "%s %r" % (r.status_code, r.text[:200])
                if r.status_code == 200 and r.json().get("status") == "ok":
                    return self
            except (requests.RequestException, ValueError) as e:
                last = repr(e)
            time.sleep(0.05)
        self._kill()
        pytest.fail("lyrebird not ready within %ss (last /healthz: %s)\n"
                    "stderr:\n%s" % (STARTUP_TIMEOUT, last, tail(self.stderr_path)))

    def _kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def stop(self):
        """SIGTERM; asserts a clean exit (0) and no sanitizer report."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(
                "lyrebird did not exit within %ss of SIGTERM\nstderr:\n%s"
                % (STOP_TIMEOUT, tail(self.stderr_path)))
        with open(self.stderr_path, "rb") as f:
            err = f.read().decode("utf-8", "replace")
        check_sanitizers(err, "lyrebird run %d" % self.runs)
        assert rc == 0, "lyrebird exited %s after SIGTERM (want 0)\nstderr:\n%s" % (
            rc, err[-6000:])

    def restart(self, env=None, **kw):
        """Stops (checked) and starts again on the same port and data dir,
        with env overrides merged into the current environment."""
        self.stop()
        self.env.update(env or {})
        self.env.update(kw)
        return self.start()

    def stderr(self):
        return tail(self.stderr_path, 10 ** 7) if self.stderr_path else ""

    def access_log(self):
        """The demo's access log (DATA/access.log): one JSON line per
        request, every run so far."""
        return tail(os.path.join(self.data, "access.log"), 10 ** 7)

    # -- HTTP ----------------------------------------------------------------
    def url(self, path):
        return urllib.parse.urljoin(self.base + "/", path)

    def raw(self, method, path, **kw):
        """A request without the API key."""
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return self.session.request(method, self.url(path), **kw)

    def api(self, method, path, **kw):
        """A request with Authorization: Bearer <key>."""
        headers = dict(kw.pop("headers", None) or {})
        headers.setdefault("Authorization", "Bearer " + self.key)
        return self.raw(method, path, headers=headers, **kw)

    # -- API shortcuts ---------------------------------------------------------
    def send(self, to, text=None, media=None, idempotency_key=None, **extra):
        body = {"to": to}
        if text is not None:
            body["text"] = text
        if media is not None:
            body["media"] = media
        body.update(extra)
        headers = {}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self.api("POST", "/api/v1/messages", json=body, headers=headers)

    def send_ok(self, to, text=None, media=None, **kw):
        r = self.send(to, text, media, **kw)
        assert r.status_code == 202, "POST /api/v1/messages -> %s %s" % (
            r.status_code, r.text)
        return r.json()

    def message(self, mid):
        r = self.api("GET", "/api/v1/messages/" + mid)
        assert r.status_code == 200, "GET message %s -> %s %s" % (
            mid, r.status_code, r.text)
        return r.json()

    def wait_status(self, mid, want, timeout=10):
        """Waits until message `mid` has status `want` (str or tuple). Fails
        at once if it reaches a different final status."""
        want = (want,) if isinstance(want, str) else tuple(want)
        final = {"delivered", "undelivered", "failed", "received"}

        def probe():
            m = self.message(mid)
            if m["status"] in want:
                return m
            assert m["status"] not in final, (
                "message %s reached %r, waiting for %r: %s"
                % (mid, m["status"], want, json.dumps(m)))
            return None
        probe.__name__ = "message %s status in %r" % (mid, want)
        return wait_for(probe, timeout=timeout)

    def upload(self, data, content_type="image/png"):
        return self.api("POST", "/api/v1/media", data=data,
                        headers={"Content-Type": content_type})

    def conversations(self):
        r = self.api("GET", "/api/v1/conversations")
        assert r.status_code == 200, "GET conversations -> %s %s" % (
            r.status_code, r.text)
        return r.json()["conversations"]

    def conversation(self, patient):
        for c in self.conversations():
            if c["patient"] == patient:
                return c
        return None

    def conv_messages(self, patient, **params):
        r = self.api("GET", "/api/v1/conversations/%s/messages" % patient,
                     params=params)
        assert r.status_code == 200, "GET conversation messages -> %s %s" % (
            r.status_code, r.text)
        return r.json()["messages"]

    # -- simulated carrier -------------------------------------------------------
    def handset(self, e164):
        """What the handset has received. A 404 for a handset the carrier has
        never heard of counts as nothing received."""
        r = self.raw("GET", "/sim/handsets/%s/messages" % e164)
        if r.status_code == 404:
            return []
        assert r.status_code == 200, "GET handset %s -> %s %s" % (
            e164, r.status_code, r.text)
        return r.json()["messages"]

    def handset_with_text(self, e164, text):
        return [m for m in self.handset(e164) if m.get("text") == text]

    def handset_send(self, e164, text, media=None, id=None):
        body = {"text": text}
        if media is not None:
            body["media"] = [{"content_type": ct,
                              "data": base64.b64encode(data).decode()}
                             for ct, data in media]
        if id is not None:
            body["id"] = id
        r = self.raw("POST", "/sim/handsets/%s/send" % e164, json=body)
        assert r.status_code == 202, "handset send -> %s %s" % (
            r.status_code, r.text)
        return r.json()

    def hook(self, kind, body, signature="sign", t=None, secret=None):
        """POSTs raw bytes to /hooks/sim/<kind>. signature: "sign" (valid),
        None (no header) or a literal header value."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "sign":
            headers["X-Sim-Signature"] = sign(body, secret or self.secret, t)
        elif signature is not None:
            headers["X-Sim-Signature"] = signature
        return self.raw("POST", "/hooks/sim/" + kind, data=body, headers=headers)


def _env_for(request):
    env = {}
    marker = request.node.get_closest_marker("lyrebird_env")
    if marker:
        for a in marker.args:
            env.update(a)
        env.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        env.update(param)
    return {k: str(v) for k, v in env.items()}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    openapi_check.reset()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and openapi_check.violations:
        text = "\n\n".join(openapi_check.violations)
        if rep.passed:
            # A mismatch the test caught (or one met on another thread)
            # still fails it.
            rep.outcome = "failed"
            rep.longrepr = text
        else:
            rep.sections.append(("OpenAPI mismatches", text))
    setattr(item, "rep_" + rep.when, rep)


def pytest_terminal_summary(terminalreporter):
    got, every, missing = openapi_check.coverage()
    terminalreporter.write_line(
        "openapi: %d answers checked against docs/openapi.json; %d of its %d "
        "(route, status) pairs seen" % (openapi_check.checked[0], got, every))
    out = os.environ.get("LYREBIRD_OPENAPI_UNSEEN")
    if out:  # a file to list the pairs no test met
        with open(out, "w") as f:
            f.writelines("%s %s %s\n" % (m.upper(), p, s)
                         for p, m, s in missing)


def _finish(srv, request):
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and srv.stderr_path:
        print("---- lyrebird stderr (run %d, tail) ----\n%s"
              % (srv.runs, tail(srv.stderr_path, 4000)))
    srv.stop()


@pytest.fixture
def server(request, tmp_path):
    """A fresh lyrebird demo for one test."""
    srv = Lyrebird(tmp_path, _env_for(request))
    srv.start()
    try:
        yield srv
    finally:
        _finish(srv, request)


@pytest.fixture(scope="module")
def shared_server(request, tmp_path_factory):
    """One lyrebird demo for a whole module (tests that store nothing)."""
    srv = Lyrebird(tmp_path_factory.mktemp("lyrebird"), _env_for(request))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def run_cli():
    """Runs the lyrebird binary with args; returns CompletedProcess (text).
    Checks its stderr for sanitizer reports."""
    def run(args, env=None, timeout=30):
        args = list(args)
        env = dict(env or {})
        # A demo's data directory: on PostgreSQL runs, its database too.
        for i, a in enumerate(args[:-1]):
            if a == "--data" and "LYREBIRD_STORE_URL" not in env:
                url = store_url_for(args[i + 1])
                if url:
                    env["LYREBIRD_STORE_URL"] = url
        p = subprocess.run([BIN] + args, capture_output=True, text=True,
                           env=clean_env(env), timeout=timeout,
                           stdin=subprocess.DEVNULL)
        check_sanitizers(p.stderr, "lyrebird %s" % " ".join(args))
        return p
    return run
