"""`lyrebird serve` with a real provider as the host, for the e2e tests that
drive the adapters against the local fake providers in tests/fakes/.

    with Gateway(tmp_path, "twilio", '''[twilio]\naccount_sid = AC...''') as gw:
        gw.api("POST", "/api/v1/messages", json={...})
"""
import os
import signal
import subprocess
import time

import requests

from conftest import BIN, check_sanitizers, clean_env, free_port, store_url_for
from e2e_helpers import wait_for

KEY = "gateway-api-key-0123456789abcdefghij"
LINK_SECRET = "gateway-link-secret-0123456789abcdefghij"


class Gateway:
    def __init__(self, tmp_path, host, provider_ini, extra_ini=""):
        self.tmp = tmp_path
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.cfg = tmp_path / "lyrebird.ini"
        # PostgreSQL runs: the database of this directory instead.
        url = store_url_for(str(tmp_path))
        store_url = "url = " + url if url else ""
        self.cfg.write_text(f"""
[server]
listen = 127.0.0.1
port = {self.port}
public_url = {self.base}

[api]
key = {KEY}

[store]
path = {tmp_path / 'db.sqlite'}
{store_url}

[media]
dir = {tmp_path / 'media'}
# The fake provider's media lives on this machine.
fetch_private = true

[clinic]
name = WalkEasy Nexus Clinic
number = +61488868772
host = {host}
phone = (02) 5550 1234

[links]
secret = {LINK_SECRET}

[outbox]
backoff_base_ms = 100
backoff_max_ms = 500

{provider_ini}
{extra_ini}
""")
        self.log_path = tmp_path / "lyrebird.log"
        self.proc = None

    def __enter__(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN, "serve", "--config", str(self.cfg)],
                                     stdout=self.log, stderr=self.log,
                                     env=clean_env())

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("lyrebird serve exited %s:\n%s" % (
                    self.proc.returncode, self.stderr()[-3000:]))
            try:
                return requests.get(self.base + "/healthz", timeout=1).ok
            except requests.RequestException:
                return False
        wait_for(up, timeout=20, desc="lyrebird serve to listen")
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=15)
        self.log.close()
        log = self.stderr()
        check_sanitizers(log, "lyrebird serve")
        if exc[0] is None:
            assert rc == 0, log[-3000:]
        return False

    def stderr(self):
        return self.log_path.read_text(errors="replace")

    def url(self, path):
        return self.base + path

    def api(self, method, path, **kw):
        headers = kw.pop("headers", {})
        headers["Authorization"] = "Bearer " + KEY
        return requests.request(method, self.base + path, headers=headers,
                                timeout=15, **kw)

    def upload(self, data):
        r = self.api("POST", "/api/v1/media", data=data)
        assert r.status_code == 201, r.text
        return r.json()

    def send(self, to, text, media=None, **extra):
        body = {"to": to, "text": text}
        if media:
            body["media"] = media
        body.update(extra)
        r = self.api("POST", "/api/v1/messages", json=body)
        assert r.status_code == 202, r.text
        return r.json()

    def message(self, mid):
        r = self.api("GET", "/api/v1/messages/" + mid)
        assert r.status_code == 200, r.text
        return r.json()

    def wait_status(self, mid, want, timeout=15):
        want = (want,) if isinstance(want, str) else tuple(want)

        def probe():
            m = self.message(mid)
            return m if m["status"] in want else None
        return wait_for(probe, timeout=timeout,
                        desc="message %s to reach %s" % (mid, "/".join(want)))

    def conversation(self, patient):
        r = self.api("GET", "/api/v1/conversations/%s/messages" % patient)
        if r.status_code == 404:
            return []  # no conversation yet
        assert r.status_code == 200, r.text
        return r.json()["messages"]
