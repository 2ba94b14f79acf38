"""A strict local stand-in for Twilio's Programmable Messaging API, for the
e2e tests. It refuses any request that breaks the documented format, and
plays Twilio's side of the conversation: it fetches each MediaUrl of an
MMS (as Twilio does), posts signed status callbacks, posts signed inbound
messages whose media it serves behind Basic auth, and records DELETEs of
that media.

Documented facts used: /work/shared/reference/providers.md section 3 (the
send form, the Message resource, callbacks, MediaUrlN, Basic-auth media,
Media DELETE, X-Twilio-Signature). Standard library only.
"""
import base64
import hashlib
import hmac
import http.server
import json
import re
import threading
import urllib.parse
import urllib.request
import uuid

E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def signature(token, url, params):
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by each
    parameter name and value, names sorted, each name's distinct values
    sorted."""
    s = url
    for name in sorted(params):
        values = params[name] if isinstance(params[name], list) else [params[name]]
        for v in sorted(set(values)):
            s += name + v
    mac = hmac.new(token.encode(), s.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class FakeTwilio:
    def __init__(self, account_sid, auth_token, clinic="+61488868772"):
        self.sid = account_sid
        self.token = auth_token
        self.clinic = clinic
        self.sent = []          # accepted sends: dict(form, media=[bytes])
        self.rejected = []      # (path, reason)
        self.deleted = []       # media paths deleted
        self.redacted = []      # message sids whose Body was set to ""
        self.media = {}         # path -> (content_type, bytes)
        self.next_error = None  # (http status, twilio code, message)
        self.callbacks = []     # (url, params, status code)
        self.lock = threading.Lock()
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _auth_ok(self):
                want = "Basic " + base64.b64encode(
                    ("%s:%s" % (fake.sid, fake.token)).encode()).decode()
                return self.headers.get("Authorization") == want

            def _reply(self, status, obj=None, body=None, ctype="application/json"):
                data = body if body is not None else json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status, code, message):
                with fake.lock:
                    fake.rejected.append((self.path, message))
                self._reply(status, {"code": code, "message": message,
                                     "more_info": "https://www.twilio.com/docs/errors/%d" % code,
                                     "status": status})

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                if not self._auth_ok():
                    return self._error(401, 20003, "Authenticate")
                if path == "/2010-04-01/Accounts/%s.json" % fake.sid:
                    return self._reply(200, {"sid": fake.sid, "friendly_name": "WalkEasy test",
                                             "status": "active"})
                with fake.lock:
                    item = fake.media.get(path)
                if item:
                    return self._reply(200, body=item[1], ctype=item[0])
                return self._error(404, 20404, "The requested resource was not found")

            def do_DELETE(self):
                path = urllib.parse.urlsplit(self.path).path
                if not self._auth_ok():
                    return self._error(401, 20003, "Authenticate")
                m = re.match(r"^(/2010-04-01/Accounts/%s/Messages/MM[0-9a-f]{32}/Media/ME[0-9a-f]{32})\.json$"
                             % fake.sid, path)
                if not m or m.group(1) not in fake.media:
                    return self._error(404, 20404, "The requested resource was not found")
                with fake.lock:
                    fake.deleted.append(m.group(1))
                    del fake.media[m.group(1)]
                self.send_response(204)
                self.end_headers()

            def do_POST(self):
                path = urllib.parse.urlsplit(self.path).path
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                m = re.match(r"^/2010-04-01/Accounts/%s/Messages/((SM|MM)[0-9a-f]{32})\.json$"
                             % re.escape(fake.sid), path)
                if m:
                    # Redaction: updating a Message with an empty Body.
                    if not self._auth_ok():
                        return self._error(401, 20003, "Authenticate")
                    form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True)
                    if set(form) != {"Body"} or form["Body"] != [""]:
                        return self._error(400, 21000, "only Body=\"\" redacts a message")
                    with fake.lock:
                        fake.redacted.append(m.group(1))
                    return self._reply(200, {"sid": m.group(1), "body": ""})
                if path != "/2010-04-01/Accounts/%s/Messages.json" % fake.sid:
                    return self._error(404, 20404, "The requested resource was not found")
                if not self._auth_ok():
                    return self._error(401, 20003, "Authenticate")
                if not (self.headers.get("Content-Type") or "").startswith(
                        "application/x-www-form-urlencoded"):
                    return self._error(400, 21000, "form-encoded body required")
                form = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True,
                                             strict_parsing=True)
                allowed = {"To", "From", "Body", "MediaUrl", "StatusCallback"}
                extra = set(form) - allowed
                if extra:
                    return self._error(400, 21000, "unexpected parameters %s" % sorted(extra))
                for k in ("To", "From", "Body", "StatusCallback"):
                    if k in form and len(form[k]) != 1:
                        return self._error(400, 21000, "%s given twice" % k)
                to = form.get("To", [""])[0]
                frm = form.get("From", [""])[0]
                if not E164.match(to):
                    return self._error(400, 21211, "The 'To' number %s is not a valid phone number." % to)
                if frm != fake.clinic:
                    return self._error(400, 21606, "The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account." % frm)
                media_urls = form.get("MediaUrl", [])
                if not form.get("Body", [""])[0] and not media_urls:
                    return self._error(400, 21602, "Message body is required.")
                if len(media_urls) > 10:
                    return self._error(400, 21623, "Too many media URLs")
                if fake.next_error:
                    status, code, msg = fake.next_error
                    fake.next_error = None
                    return self._error(status, code, msg)
                media = []
                for u in media_urls:
                    try:  # Twilio fetches each MediaUrl itself
                        with urllib.request.urlopen(u, timeout=10) as resp:
                            ctype = resp.headers.get("Content-Type", "")
                            data = resp.read()
                    except Exception as e:  # noqa: BLE001
                        return self._error(400, 11200, "could not fetch MediaUrl: %s" % e)
                    if ctype.split(";")[0] not in ("image/jpeg", "image/png", "image/gif"):
                        return self._error(400, 12300, "Invalid Content-Type %s" % ctype)
                    if len(data) > 5_000_000:
                        return self._error(400, 11751, "Media exceeds messaging provider size limit")
                    media.append((ctype, data))
                msid = ("MM" if media else "SM") + uuid.uuid4().hex
                with fake.lock:
                    fake.sent.append({"sid": msid, "form": form, "media": media})
                self._reply(201, {"sid": msid, "account_sid": fake.sid, "to": to, "from": frm,
                                  "body": form.get("Body", [""])[0], "status": "queued",
                                  "num_media": str(len(media)), "direction": "outbound-api",
                                  "error_code": None, "error_message": None,
                                  "uri": "/2010-04-01/Accounts/%s/Messages/%s.json" % (fake.sid, msid)})
                cb = form.get("StatusCallback", [None])[0]
                if cb:
                    threading.Thread(target=fake._callbacks, args=(cb, msid, to),
                                     daemon=True).start()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()

    # -- Twilio's side of webhooks ----------------------------------------
    def post_signed(self, url, params, token=None):
        """POSTs form params to url with X-Twilio-Signature; returns
        (status, body, content type)."""
        pairs = []
        for k, v in params.items():
            for x in (v if isinstance(v, list) else [v]):
                pairs.append((k, x))
        body = urllib.parse.urlencode(pairs).encode()
        sig = signature(token or self.token, url, params)
        req = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": sig})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type", "")

    def _callbacks(self, url, msid, to):
        for status in ("sent", "delivered"):
            params = {"MessageSid": msid, "SmsSid": msid, "AccountSid": self.sid,
                      "MessageStatus": status, "SmsStatus": status, "To": to,
                      "From": self.clinic, "ApiVersion": "2010-04-01"}
            code, _, _ = self.post_signed(url, params)
            with self.lock:
                self.callbacks.append((url, params, code))

    def add_media(self, message_sid, data, ctype):
        msid = "ME" + uuid.uuid4().hex
        path = "/2010-04-01/Accounts/%s/Messages/%s/Media/%s" % (self.sid, message_sid, msid)
        with self.lock:
            self.media[path] = (ctype, data)
        return self.base + path

    def inbound(self, gateway_url, frm, text, media=(), token=None):
        """Posts an inbound message as Twilio would; media: [(bytes, ctype)]
        served here behind Basic auth."""
        msg_sid = ("MM" if media else "SM") + uuid.uuid4().hex
        params = {"MessageSid": msg_sid, "SmsSid": msg_sid, "SmsMessageSid": msg_sid,
                  "AccountSid": self.sid, "From": frm, "To": self.clinic, "Body": text,
                  "NumMedia": str(len(media)), "NumSegments": "1", "FromCountry": "AU",
                  "ToCountry": "AU", "ApiVersion": "2010-04-01"}
        for i, (data, ctype) in enumerate(media):
            params["MediaUrl%d" % i] = self.add_media(msg_sid, data, ctype)
            params["MediaContentType%d" % i] = ctype
        status, body, ctype = self.post_signed(gateway_url, params, token)
        return msg_sid, status, body, ctype
