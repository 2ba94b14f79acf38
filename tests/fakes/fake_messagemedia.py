"""A strict local stand-in for Sinch MessageMedia's REST API, for the e2e
tests. It refuses any request that breaks the documented format and plays
MessageMedia's side of the conversation:

- POST /v1/messages: Basic or HMAC auth; exactly one message with the
  documented fields and limits; MMS media URLs are fetched as the provider
  would (png, jpeg, gif only); answers 202 with message_id and status.
- Delivery reports: for each registered webhook subscribed to a *_DR event,
  the webhook's own Velocity template is rendered (a small subset of
  Velocity: quiet references, $esc.json, .get('key'), #set, #foreach) and
  posted with the webhook's headers. A message with a callback_url gets its
  reports there instead, in the documented default shape and without custom
  headers, as the API documents the precedence.
- POST/GET /v1/webhooks/messages: validates and records registrations;
  409 for a repeated URL and method.
- inbound()/opt_out(): post RECEIVED_SMS / RECEIVED_MMS (attachments inline
  as base64) / OPT_OUT_SMS through the registered webhook's template.

Documented facts used: /work/shared/reference/providers.md section 2 (send
request and limits, responses, delivery reports, the Webhooks API, its
template variables, inline MMS attachments, the HMAC test vectors).
Standard library only.
"""
import base64
import email.utils
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
EVENTS = {"RECEIVED_SMS", "OPT_OUT_SMS", "RECEIVED_MMS", "ENROUTE_DR", "EXPIRED_DR",
          "REJECTED_DR", "FAILED_DR", "DELIVERED_DR", "SUBMITTED_DR"}
MESSAGE_FIELDS = {"content", "destination_number", "format", "source_number",
                  "source_number_type", "media", "subject", "callback_url",
                  "delivery_report", "metadata", "scheduled",
                  "message_expiry_timestamp"}
WEBHOOK_FIELDS = {"url", "method", "encoding", "events", "headers", "template",
                  "read_timeout", "retries", "retry_delay"}


# ---- a small Velocity subset ------------------------------------------------

def _lookup(expr, ctx):
    """Evaluates a reference body such as "moContent", "entry.base64" or
    "metadata.get('lyrebird_id')"; None when absent."""
    m = re.match(r"^(\w+)((?:\.\w+(?:\('[^']*'\))?)*)$", expr)
    if not m:
        raise ValueError("unsupported reference $%s" % expr)
    val = ctx.get(m.group(1))
    for part in re.findall(r"\.(\w+)(?:\('([^']*)'\))?", m.group(2)):
        name, arg = part
        if val is None:
            return None
        if name == "get" and arg:
            val = val.get(arg) if isinstance(val, dict) else None
        elif isinstance(val, dict):
            val = val.get(name)
        else:
            val = getattr(val, name, None)
    return val


def _reference(tpl, i, ctx):
    """Renders the reference at tpl[i] ('$'); returns (text, length)."""
    m = re.compile(r"\$(!?)(\{)?").match(tpl, i)
    quiet, braced = m.group(1) == "!", bool(m.group(2))
    j = m.end()
    if tpl.startswith("esc.json(", j):
        depth, k = 1, j + len("esc.json(")
        while depth:
            if tpl[k] == "(":
                depth += 1
            elif tpl[k] == ")":
                depth -= 1
            k += 1
        inner = tpl[j + len("esc.json("):k - 1]
        raw = _value(inner, ctx)
        val = None if raw is None else json.dumps(str(raw))[1:-1]
        end = k
    else:
        m2 = re.compile(r"\w+(?:\.\w+(?:\('[^']*'\))?)*").match(tpl, j)
        if not m2:
            return "$", 1
        val = _lookup(m2.group(0), ctx)
        end = m2.end()
    if braced:
        if not tpl.startswith("}", end):
            raise ValueError("unclosed ${ at %d" % i)
        end += 1
    if val is None:
        return ("" if quiet else tpl[i:end]), end - i
    return str(val), end - i


def _value(ref, ctx):
    m = re.match(r"^\$!?\{?([\w.()']+?)\}?$", ref)
    if not m:
        raise ValueError("unsupported argument %s" % ref)
    return _lookup(m.group(1), ctx)


def render(tpl, ctx):
    """Renders a Velocity template with ctx (mutated by #set)."""
    out, i = [], 0
    while i < len(tpl):
        if tpl.startswith("#foreach(", i):
            m = re.compile(r"#foreach\(\$(\w+) in \$(\w+)\)").match(tpl, i)
            end = tpl.index("#end", m.end())
            body = tpl[m.end():end]
            for item in ctx.get(m.group(2)) or []:
                ctx[m.group(1)] = item
                out.append(render(body, ctx))
            ctx.pop(m.group(1), None)
            i = end + len("#end")
        elif tpl.startswith("#set(", i):
            m = re.compile(r'#set\(\$(\w+) = "([^"]*)"\)').match(tpl, i)
            if not m:
                raise ValueError("unsupported #set at %d" % i)
            ctx[m.group(1)] = m.group(2)
            i = m.end()
        elif tpl[i] == "#":
            raise ValueError("unsupported directive at %d: %r" % (i, tpl[i:i + 20]))
        elif tpl[i] == "$":
            text, n = _reference(tpl, i, ctx)
            out.append(text)
            i += n
        else:
            out.append(tpl[i])
            i += 1
    return "".join(out)


# ---- HMAC (the variant the published vectors verify) ------------------------

def hmac_authorization(key, secret, date, method, path, body):
    md5 = hashlib.md5(body).hexdigest() if body else ""
    s = "Date: %s\n" % date
    if body:
        s += "x-Content-MD5: %s\n" % md5
    s += "%s %s HTTP/1.1" % (method, path)
    sig = base64.b64encode(hmac.new(secret.encode(), s.encode(), hashlib.sha1).digest()).decode()
    return md5, ('hmac username="%s", algorithm="hmac-sha1", headers="Date %srequest-line", '
                 'signature="%s"' % (key, "x-Content-MD5 " if body else "", sig))


class FakeMessageMedia:
    def __init__(self, api_key, api_secret, clinic="+61488868772"):
        self.key = api_key
        self.secret = api_secret
        self.clinic = clinic        # the registered source number
        self.sent = []              # accepted messages: dict(message, media, id, auth)
        self.rejected = []          # (path, status, reason)
        self.webhooks = []          # registrations, as posted (plus id)
        self.deliveries = []        # (event, url, status code, body)
        self.next_error = None      # (http status, body dict)
        self.auth_seen = []         # "basic" / "hmac" per accepted request
        self.lock = threading.Lock()
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _reply(self, status, obj=None):
                data = json.dumps(obj).encode() if obj is not None else b""
                self.send_response(status)
                if obj is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status, message, details=None):
                with fake.lock:
                    fake.rejected.append((self.path, status, message, details))
                body = {"message": message}
                if details is not None:
                    body["details"] = details
                self._reply(status, body)

            def _auth(self, body):
                """'basic' or 'hmac' when the credentials are right, else None."""
                a = self.headers.get("Authorization") or ""
                want = "Basic " + base64.b64encode(
                    ("%s:%s" % (fake.key, fake.secret)).encode()).decode()
                if a == want:
                    return "basic"
                if a.startswith("hmac "):
                    date = self.headers.get("Date") or ""
                    try:
                        t = email.utils.parsedate_to_datetime(date).timestamp()
                    except (TypeError, ValueError):
                        return None
                    if abs(time.time() - t) > 300:
                        return None
                    md5, auth = hmac_authorization(fake.key, fake.secret, date,
                                                   self.command, self.path, body)
                    if body and self.headers.get("x-Content-MD5") != md5:
                        return None
                    return "hmac" if hmac.compare_digest(a, auth) else None
                return None

            def _json_body(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                return raw

            def do_GET(self):
                if urllib.parse.urlsplit(self.path).path != "/v1/webhooks/messages":
                    return self._error(404, "Not Found")
                if not self._auth(b""):
                    return self._error(401, "Invalid authentication credentials")
                with fake.lock:
                    data = list(fake.webhooks)
                self._reply(200, {"page": 0, "pageSize": 100, "pageData": data})

            def do_POST(self):
                path = urllib.parse.urlsplit(self.path).path
                raw = self._json_body()
                if path not in ("/v1/messages", "/v1/webhooks/messages"):
                    return self._error(404, "Not Found")
                how = self._auth(raw)
                if not how:
                    return self._error(401, "Invalid authentication credentials")
                if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                    return self._error(400, "Bad Request", ["Content-Type must be application/json"])
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._error(400, "Bad Request", ["Failed to parse message body."])
                with fake.lock:
                    fake.auth_seen.append(how)
                if path == "/v1/webhooks/messages":
                    return self._webhook(body)
                return self._send(body)

            def _webhook(self, w):
                errs = []
                if not isinstance(w, dict) or set(w) - WEBHOOK_FIELDS:
                    return self._error(400, "Bad Request", ["unexpected fields"])
                url = w.get("url")
                if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+(/\S*)?$", url) \
                        or len(url) > 1000:
                    errs.append("/url: Not a valid http url")
                if w.get("method") not in ("GET", "POST", "PATCH", "PUT", "DELETE"):
                    errs.append("/method: invalid")
                if w.get("encoding") not in ("JSON", "FORM_ENCODED", "XML"):
                    errs.append("/encoding: invalid")
                ev = w.get("events")
                if not isinstance(ev, list) or not ev:
                    errs.append("/events: at least one event")
                else:
                    errs += ["/events/%d: [%s] is invalid" % (i, e)
                             for i, e in enumerate(ev) if e not in EVENTS]
                hdrs = w.get("headers", {})
                if not isinstance(hdrs, dict) or any(
                        k.lower() == "content-type" or len(k) > 200 or not isinstance(v, str)
                        or len(v) > 1000 for k, v in hdrs.items()):
                    errs.append("/headers: invalid")
                if "template" in w and not isinstance(w["template"], str):
                    errs.append("/template: must be a string")
                for k, lo, hi in (("read_timeout", 1, 60000), ("retries", 0, 5),
                                  ("retry_delay", 5, 60)):
                    if k in w and not (isinstance(w[k], int) and lo <= w[k] <= hi):
                        errs.append("/%s: out of range" % k)
                if isinstance(w.get("template"), str):
                    try:  # a template this fake cannot render is refused
                        render(w["template"], {})
                    except (ValueError, IndexError) as e:
                        errs.append("/template: %s" % e)
                if errs:
                    return self._error(400, "Bad Request", errs)
                with fake.lock:
                    if any(x["url"] == url and x["method"] == w["method"] for x in fake.webhooks):
                        conflict = True
                    else:
                        conflict = False
                        w = dict(w, id=str(uuid.uuid4()))
                        fake.webhooks.append(w)
                if conflict:
                    return self._error(409, "A webhook with the given url and method already exists.", [])
                self._reply(201, w)

            def _send(self, body):
                if not isinstance(body, dict) or set(body) != {"messages"} \
                        or not isinstance(body["messages"], list):
                    return self._error(400, "Request failed to parse correctly.", ["/messages: required"])
                msgs = body["messages"]
                if len(msgs) != 1:  # lyrebird sends one message per request
                    return self._error(400, "Request failed to parse correctly.",
                                       ["/messages: exactly one message expected by this fake, got %d" % len(msgs)])
                m = msgs[0]
                errs = []
                if not isinstance(m, dict):
                    return self._error(400, "Request failed to parse correctly.", ["/messages/0: object"])
                extra = set(m) - MESSAGE_FIELDS
                if extra:
                    errs.append("/messages/0: unexpected %s" % sorted(extra))
                c = m.get("content")
                if not isinstance(c, str) or not 1 <= len(c) <= 5000:
                    errs.append("/messages/0/content: must be 1..5000 characters")
                to = m.get("destination_number")
                if not isinstance(to, str) or not E164.match(to):
                    errs.append("/messages/0/destination_number: International address must be "
                                "between 8 and 15 characters excluding the first '+'")
                fmt = m.get("format", "SMS")
                if fmt not in ("SMS", "MMS"):
                    errs.append("/messages/0/format: SMS or MMS")
                if m.get("source_number") != fake.clinic:
                    errs.append("/messages/0/source_number: not registered to the account")
                if m.get("source_number_type") != "INTERNATIONAL":
                    errs.append("/messages/0/source_number_type: INTERNATIONAL expected")
                if m.get("delivery_report") is not True:
                    errs.append("/messages/0/delivery_report: lyrebird asks for reports")
                md = m.get("metadata", {})
                if not isinstance(md, dict) or len(md) > 10 or any(
                        len(k) > 100 or not isinstance(v, str) or len(v) > 256 for k, v in md.items()):
                    errs.append("/messages/0/metadata: up to 10 string pairs")
                media = m.get("media")
                if fmt == "MMS":
                    if not isinstance(media, list) or not media or not all(
                            isinstance(u, str) and u.startswith(("http://", "https://")) for u in media):
                        errs.append("/messages/0/media: URLs required for MMS")
                    s = m.get("subject")
                    if s is not None and (not isinstance(s, str) or len(s) > 64):
                        errs.append("/messages/0/subject: at most 64 characters")
                elif media is not None or "subject" in m:
                    errs.append("/messages/0/media: format must be MMS")
                if "callback_url" in m and not (isinstance(m["callback_url"], str)
                                                and m["callback_url"].startswith(("http://", "https://"))):
                    errs.append("/messages/0/callback_url: not a URL")
                if errs:
                    return self._error(400, "Request failed to parse correctly. Please ensure "
                                       "input is valid and try again.", errs)
                if fake.next_error:
                    status, obj = fake.next_error
                    fake.next_error = None
                    with fake.lock:
                        fake.rejected.append((self.path, status, obj, None))
                    return self._reply(status, obj)
                fetched = []
                for i, u in enumerate(media or []):
                    try:  # the provider fetches each media URL itself
                        with urllib.request.urlopen(u, timeout=10) as r:
                            ctype = r.headers.get("Content-Type", "")
                            data = r.read()
                    except Exception as e:  # noqa: BLE001
                        return self._error(400, "Request failed", ["/messages/0/media/%d: %s" % (i, e)])
                    if ctype.split(";")[0].strip() not in ("image/png", "image/jpeg", "image/gif"):
                        return self._error(400, "Request failed",
                                           ["/messages/0/media/%d: unsupported type %s" % (i, ctype)])
                    fetched.append((ctype, data))
                mid = str(uuid.uuid4())
                with fake.lock:
                    fake.sent.append({"id": mid, "message": m, "media": fetched})
                self._reply(202, {"messages": [dict(m, message_id=mid, status="queued")]})
                threading.Thread(target=fake._reports, args=(mid, m), daemon=True).start()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- MessageMedia's side of webhooks ------------------------------------
    @staticmethod
    def _post(url, body, headers, method="POST"):
        req = urllib.request.Request(url, data=body, method=method, headers=dict(
            headers, **{"Content-Type": "application/json"}))
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _fire(self, event, ctx, headers=None):
        """Renders and posts every registered webhook subscribed to event;
        returns [(status, body)]."""
        out = []
        with self.lock:
            hooks = [w for w in self.webhooks if event in w["events"]]
        for w in hooks:
            body = render(w.get("template", ""), dict(ctx)).encode()
            json.loads(body)  # the template must render to JSON
            hdrs = dict(w.get("headers") or {})
            hdrs.update(headers or {})
            status, resp = self._post(w["url"], body, hdrs, w["method"])
            with self.lock:
                self.deliveries.append((event, w["url"], status, body))
            out.append((status, resp))
        return out

    def _reports(self, mid, m):
        time.sleep(0.05)
        for event, status, code in (("SUBMITTED_DR", "submitted", "200"),
                                    ("DELIVERED_DR", "delivered", "220")):
            now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
            if m.get("callback_url"):  # the documented precedence
                body = json.dumps({"callback_url": m["callback_url"], "delivery_report_id": str(uuid.uuid4()),
                                   "source_number": m["destination_number"], "date_received": now,
                                   "status": status, "delay": 0, "submitted_date": now,
                                   "original_text": m["content"], "message_id": mid,
                                   "error_code": code, "metadata": m.get("metadata", {})}).encode()
                st, _ = self._post(m["callback_url"], body, {})
                with self.lock:
                    self.deliveries.append((event, m["callback_url"], st, body))
                continue
            self._fire(event, {
                "format": m.get("format", "SMS"), "type": m.get("format", "SMS"),
                "mtId": mid, "messageId": mid, "drId": str(uuid.uuid4()),
                "reportId": str(uuid.uuid4()), "accountId": "LyrebirdTest",
                "submittedTimestamp": now, "receivedTimestamp": now, "status": status,
                "statusCode": code, "metadata": m.get("metadata", {}),
                "sourceAddress": m["destination_number"], "mtContent": m["content"],
                "messageContent": m["content"], "retryCount": 0, "billingUnits": 1})

    def inbound(self, frm, text, images=(), headers=None):
        """A reply from frm: RECEIVED_MMS with images [(bytes, ctype, name)]
        inline as base64, else RECEIVED_SMS. Returns [(status, body)]."""
        rid = str(uuid.uuid4())
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        ctx = {"format": "MMS" if images else "SMS", "moId": rid, "replyId": rid,
               "accountId": "LyrebirdTest", "submittedTimestamp": now,
               "receivedTimestamp": now, "sourceAddress": frm,
               "destinationAddress": self.clinic, "moContent": text, "replyContent": text,
               "retryCount": 0, "metadata": {}}
        if images:
            ctx["attachments"] = [{"contentType": c, "base64": base64.b64encode(d).decode(),
                                   "originalName": n} for d, c, n in images]
        return self._fire("RECEIVED_MMS" if images else "RECEIVED_SMS", ctx, headers)

    def opt_out(self, frm, text="STOP", headers=None):
        nid = str(uuid.uuid4())
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return self._fire("OPT_OUT_SMS", {
            "notificationId": nid, "accountId": "LyrebirdTest", "receivedTimestamp": now,
            "sourceAddress": frm, "destinationAddress": self.clinic, "moContent": text,
            "metadata": {}}, headers)
