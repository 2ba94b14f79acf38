"""A strict local stand-in for SMS Broadcast's Advanced HTTP API
(api-adv.php), for the e2e tests. It refuses any request that breaks the
documented format (providers.md section 1: form fields username, password,
to, from, message, ref up to 20 characters, maxsplit 1 to 5; answers
OK:/BAD:/ERROR: lines; action=balance), and helps the tests play the
portal's webhooks. Standard library only.
"""
import http.server
import json
import re
import threading
import time
import urllib.parse
import urllib.request

FIELDS = {"username", "password", "to", "from", "message", "ref", "maxsplit"}


class FakeSmsBroadcast:
    def __init__(self, username, password, balance="1234"):
        self.username = username
        self.password = password
        self.balance = balance
        self.sent = []         # accepted sends: the form, one value per field
        self.requests = 0
        self.rejected = []     # reasons
        self.delay_s = 0       # answer this late (to test timeouts)
        self.next_line = None  # answer this line instead, once
        self.lock = threading.Lock()
        self._ref = 971221653
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _reply(self, text):
                data = text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _bad(self, reason):
                with fake.lock:
                    fake.rejected.append(reason)
                self._reply("ERROR:%s\n" % reason)

            def do_POST(self):
                with fake.lock:
                    fake.requests += 1
                if urllib.parse.urlsplit(self.path).path != "/api-adv.php":
                    self.send_response(404)
                    self.end_headers()
                    return
                if not (self.headers.get("Content-Type") or "").startswith(
                        "application/x-www-form-urlencoded"):
                    return self._bad("form-encoded body required")
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True,
                                                 strict_parsing=True)
                except ValueError as e:
                    return self._bad("cannot read the form: %s" % e)
                if any(len(v) != 1 for v in form.values()):
                    return self._bad("a field was given twice")
                f = {k: v[0] for k, v in form.items()}
                if f.get("username") != fake.username or f.get("password") != fake.password:
                    return self._bad("Username or password is incorrect")
                if f.get("action") == "balance":
                    if set(f) != {"action", "username", "password"}:
                        return self._bad("unexpected fields with action=balance")
                    return self._reply("OK:%s" % fake.balance)
                extra = set(f) - FIELDS
                if extra:
                    return self._bad("unknown fields %s" % sorted(extra))
                to, frm, msg = f.get("to", ""), f.get("from", ""), f.get("message", "")
                if not re.fullmatch(r"614\d{8}", to):
                    return self._reply("BAD:%s:Invalid Number\n" % to)
                if not re.fullmatch(r"[A-Za-z0-9]{1,11}", frm):
                    return self._bad("from must be up to 11 letters or digits")
                if len(f.get("ref", "")) > 20:
                    return self._bad("ref longer than 20 characters")
                try:
                    maxsplit = int(f.get("maxsplit", "1"))
                except ValueError:
                    return self._bad("maxsplit is not a number")
                if not 1 <= maxsplit <= 5:
                    return self._bad("maxsplit must be 1 to 5")
                if not msg:
                    return self._bad("message is empty")
                if len(msg) > 160 and maxsplit == 1:
                    return self._bad("message longer than 160 characters without maxsplit")
                if len(msg) > 153 * maxsplit and maxsplit > 1:
                    return self._bad("message longer than maxsplit allows")
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                with fake.lock:
                    line, fake.next_line = fake.next_line, None
                    if line is None:
                        fake._ref += 1
                        f["smsref"] = str(fake._ref)
                        fake.sent.append(f)
                        line = "OK:%s:%s\n" % (to, fake._ref)
                try:
                    self._reply(line)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def webhook(url, secret=None, params=None, body=None, method="GET",
            secret_in_path=False):
    """The portal's side: a GET with URL-encoded params, or a POST (form or
    JSON). The secret goes as the X-Lyrebird-Secret header, or as the
    URL's last segment. Returns (status, body)."""
    headers = {}
    if secret and secret_in_path:
        url = url.rstrip("/") + "/" + urllib.parse.quote(secret, safe="")
    elif secret:
        headers["X-Lyrebird-Secret"] = secret
    data = None
    if method == "GET" and params is not None:
        url += "?" + urllib.parse.urlencode(params)
    elif params is not None:
        data = urllib.parse.urlencode(params).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
