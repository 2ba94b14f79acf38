"""A webhook receiver for the end-to-end tests: a small HTTP server on
loopback that records every delivery and answers as a test tells it to,
and a Standard Webhooks v1 verifier written from the specification
(standardwebhooks.com, "Verifying webhooks"), not from lyrebird's code:

    signed content  = webhook-id + "." + webhook-timestamp + "." + raw body
    signature       = base64(HMAC-SHA256(base64decode(secret minus "whsec_"),
                                         signed content))
    webhook-signature: space-separated "v1,<signature>" entries; any one
    matching passes; a timestamp more than 5 minutes off fails.
"""
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

import openapi_check

TOLERANCE_S = 5 * 60


class BadSignature(Exception):
    pass


def verify(secret, headers, body, now=None):
    """Returns the parsed envelope, or raises BadSignature."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id = h.get("webhook-id")
    ts = h.get("webhook-timestamp")
    sig_header = h.get("webhook-signature")
    if not (msg_id and ts and sig_header):
        raise BadSignature("missing webhook-* headers")
    now = time.time() if now is None else now
    if abs(now - int(ts)) > TOLERANCE_S:
        raise BadSignature("timestamp outside the tolerance")
    if not secret.startswith("whsec_"):
        raise BadSignature("not a whsec_ secret")
    key = base64.b64decode(secret[len("whsec_"):] + "==")
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    for entry in sig_header.split(" "):
        version, _, sig = entry.partition(",")
        if version == "v1" and hmac.compare_digest(want, sig.encode()):
            return json.loads(body)
    raise BadSignature("no v1 signature matches")


class Delivery:
    def __init__(self, path, headers, body):
        self.path = path
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.at = time.time()
        self.envelope = json.loads(body) if body else None

    @property
    def id(self):
        return self.headers.get("webhook-id")

    @property
    def type(self):
        return self.envelope and self.envelope.get("type")

    @property
    def data(self):
        return self.envelope and self.envelope.get("data")

    def __repr__(self):
        return "<%s %s %s>" % (self.path, self.id, self.type)


class Receiver:
    """Records POSTs per path. answer(path, fn): fn(delivery) -> status (or
    (status, headers)); the default answers 200. delay(path, seconds)
    holds each answer that long."""

    def __init__(self):
        self.lock = threading.Lock()
        self.got = []
        self.answers = {}
        self.delays = {}
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                d = Delivery(self.path, dict(self.headers), body)
                # Every delivery must match the OpenAPI document's webhooks;
                # a mismatch is recorded and fails the test.
                try:
                    openapi_check.check_webhook(dict(self.headers), body)
                except AssertionError:
                    pass
                with rec.lock:
                    rec.got.append(d)
                    fn = rec.answers.get(self.path)
                    delay = rec.delays.get(self.path, 0)
                if delay:
                    time.sleep(delay)
                out = fn(d) if fn else 200
                status, extra = out if isinstance(out, tuple) else (out, {})
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def answer(self, path, fn):
        with self.lock:
            self.answers[path] = fn

    def delay(self, path, seconds):
        with self.lock:
            self.delays[path] = seconds

    def at(self, path="/hook", type=None):
        with self.lock:
            return [d for d in self.got if d.path == path
                    and (type is None or d.type == type)]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
