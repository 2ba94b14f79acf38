"""A strict local stand-in for ClickSend's REST v3 API, for the e2e tests.
It refuses any request that breaks the documented format, and plays
ClickSend's side of the conversation: it fetches the one media_file of an
MMS (as ClickSend does) and checks it is a JPEG or GIF of at most 250 kB,
posts delivery receipts (webhook_type json) to the receipt rule's URL,
records the inbound and receipt rules created through the automations API,
serves inbound MMS media at a local URL and posts inbound messages.

Documented facts used: /work/shared/reference/providers.md section 4 (Basic
auth username:api_key, the response envelope, /v3/sms/send, /v3/mms/send
with one top-level media_file and subject of at most 20 characters, the
inbound and receipt rules, the InboundSms and SmsReceipt fields). The name
of the field that carries an inbound MMS's media URL is not documented: the
helper uses media_file unless told another. Standard library only.
"""
import base64
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
MMS_MAX_BYTES = 250000
SMS_FIELDS = {"source", "body", "to", "from", "custom_string", "schedule",
              "country", "list_id", "from_email", "exclude_no_sender_id_recipients"}
MMS_FIELDS = SMS_FIELDS | {"subject"}
INBOUND_RULE_FIELDS = {"dedicated_number", "rule_name", "message_search_type",
                       "message_search_term", "action", "action_address",
                       "enabled", "webhook_type"}
RECEIPT_RULE_FIELDS = {"rule_name", "match_type", "action", "action_address",
                       "enabled", "webhook_type"}


def envelope(http_code, code, msg, data=None):
    return {"http_code": http_code, "response_code": code,
            "response_msg": msg, "data": data}


class FakeClickSend:
    def __init__(self, username, api_key, clinic="+61488868772"):
        self.username = username
        self.api_key = api_key
        self.clinic = clinic
        self.sent = []           # accepted: dict(path, json, media=(ctype, bytes))
        self.rejected = []       # (path, reason)
        self.inbound_rules = []  # request bodies
        self.receipt_rules = []
        self.receipts = []       # (url, payload, status code)
        self.receipt_url = None  # overrides the receipt rule's URL
        self.next_error = None   # (http status, response_code, message)
        self.next_status = None  # a per-message status instead of SUCCESS
        self.media = {}          # path -> (content type, bytes)
        self.lock = threading.Lock()
        fake = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _auth_ok(self):
                want = "Basic " + base64.b64encode(
                    ("%s:%s" % (fake.username, fake.api_key)).encode()).decode()
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
                self._reply(status, envelope(status, code, message))

            def do_GET(self):
                path = urllib.parse.urlsplit(self.path).path
                with fake.lock:
                    item = fake.media.get(path)
                if item:  # inbound MMS media: a plain link, no credentials
                    return self._reply(200, body=item[1], ctype=item[0])
                if path != "/v3/account":
                    return self._error(404, "NOT_FOUND", "Resource not found.")
                if not self._auth_ok():
                    return self._error(401, "UNAUTHORIZED", "Invalid username or API key.")
                self._reply(200, envelope(200, "SUCCESS", "Here's your account", {
                    "user_id": 101, "username": fake.username, "balance": "12.3400",
                    "country": "AU", "_currency": {"currency_name_short": "AUD",
                                                   "currency_prefix_d": "$"}}))

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                    return None, "Content-Type must be application/json"
                try:
                    obj = json.loads(raw)
                except ValueError as e:
                    return None, "body is not JSON: %s" % e
                if not isinstance(obj, dict):
                    return None, "body must be a JSON object"
                return obj, None

            def do_POST(self):
                path = urllib.parse.urlsplit(self.path).path
                routes = {"/v3/sms/send": self._send, "/v3/mms/send": self._send,
                          "/v3/automations/sms/inbound": self._rule,
                          "/v3/automations/sms/receipts": self._rule}
                if path not in routes:
                    return self._error(404, "NOT_FOUND", "Resource not found.")
                if not self._auth_ok():
                    return self._error(401, "UNAUTHORIZED", "Invalid username or API key.")
                obj, why = self._body()
                if why:
                    return self._error(400, "BAD_REQUEST", why)
                routes[path](path, obj)

            def _rule(self, path, obj):
                inbound = path.endswith("/inbound")
                allowed = INBOUND_RULE_FIELDS if inbound else RECEIPT_RULE_FIELDS
                if set(obj) != allowed:
                    return self._error(400, "BAD_REQUEST", "fields %s, want %s" % (
                        sorted(obj), sorted(allowed)))
                if obj["action"] != "URL" or obj["enabled"] not in (0, 1):
                    return self._error(400, "BAD_REQUEST", "action must be URL, enabled 0/1")
                if obj["webhook_type"] not in ("post", "get", "json"):
                    return self._error(400, "BAD_REQUEST", "webhook_type must be post, get or json")
                if not re.match(r"^https?://", obj["action_address"]):
                    return self._error(400, "BAD_REQUEST", "action_address must be a URL")
                if inbound:
                    if obj["dedicated_number"] not in (fake.clinic, "*"):
                        return self._error(400, "BAD_REQUEST",
                                           "%s is not a dedicated number of this account"
                                           % obj["dedicated_number"])
                    if obj["message_search_type"] not in (0, 1, 2, 3):
                        return self._error(400, "BAD_REQUEST", "bad message_search_type")
                elif obj["match_type"] != 0:
                    return self._error(400, "BAD_REQUEST", "bad match_type")
                with fake.lock:
                    rules = fake.inbound_rules if inbound else fake.receipt_rules
                    rules.append(obj)
                    rid = len(rules)
                data = dict(obj)
                data["inbound_rule_id" if inbound else "receipt_rule_id"] = rid
                self._reply(200, envelope(200, "SUCCESS", "Your new rule has been added.", data))

            def _send(self, path, obj):
                mms = path == "/v3/mms/send"
                top = {"messages", "media_file"} if mms else {"messages", "shorten_urls"}
                if set(obj) - top or "messages" not in obj:
                    return self._error(400, "BAD_REQUEST", "top-level fields %s" % sorted(obj))
                msgs = obj["messages"]
                if not isinstance(msgs, list) or not 1 <= len(msgs) <= 1000:
                    return self._error(400, "BAD_REQUEST", "messages must be 1 to 1000")
                for m in msgs:
                    extra = set(m) - (MMS_FIELDS if mms else SMS_FIELDS)
                    if extra:
                        return self._error(400, "BAD_REQUEST", "unexpected fields %s" % sorted(extra))
                    if not E164.match(m.get("to", "")):
                        return self._error(400, "BAD_REQUEST", "'to' must be E.164, not %r" % m.get("to"))
                    if m.get("from") != fake.clinic:
                        return self._error(400, "BAD_REQUEST", "'from' %r is not this account's dedicated number" % m.get("from"))
                    if not isinstance(m.get("body"), str) or (not mms and not m["body"]):
                        return self._error(400, "BAD_REQUEST", "'body' is required")
                    if mms:
                        s = m.get("subject")
                        if not isinstance(s, str) or not s or len(s) > 20:
                            return self._error(400, "BAD_REQUEST", "The subject field is required and may not be greater than 20 characters.")
                media = None
                if mms:
                    url = obj.get("media_file")
                    if not isinstance(url, str) or not re.match(r"^https?://", url):
                        return self._error(400, "BAD_REQUEST", "exactly one media_file URL is required")
                    try:  # ClickSend fetches media_file itself
                        with urllib.request.urlopen(url, timeout=10) as resp:
                            ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
                            data = resp.read(MMS_MAX_BYTES + 1)
                    except Exception as e:  # noqa: BLE001
                        return self._error(400, "BAD_REQUEST", "could not fetch media_file: %s" % e)
                    jpeg = data[:3] == b"\xff\xd8\xff"
                    gif = data[:6] in (b"GIF87a", b"GIF89a")
                    if ctype not in ("image/jpeg", "image/gif") or not (jpeg or gif):
                        return self._error(400, "BAD_REQUEST", "media_file must be jpg or gif (convert it through /uploads?convert=mms), not %s" % ctype)
                    if len(data) > MMS_MAX_BYTES:
                        return self._error(400, "BAD_REQUEST", "media_file is larger than 250 kB")
                    media = (ctype, data)
                if fake.next_error:
                    status, code, msg = fake.next_error
                    fake.next_error = None
                    return self._error(status, code, msg)
                out = []
                for m in msgs:
                    status = fake.next_status or "SUCCESS"
                    mid = str(uuid.uuid4()).upper() if status == "SUCCESS" else None
                    r = dict(m, direction="out", date=int(time.time()), message_id=mid,
                             message_parts=1, message_price="0.0700", status=status,
                             country="AU", carrier="Telstra")
                    if mms:
                        r["_media_file_url"] = obj["media_file"]
                    out.append(r)
                fake.next_status = None
                with fake.lock:
                    fake.sent.append({"path": path, "json": obj, "media": media,
                                      "message_id": out[0]["message_id"]})
                self._reply(200, envelope(200, "SUCCESS", "Messages queued for delivery.", {
                    "total_price": 0.07, "total_count": len(out),
                    "queued_count": sum(1 for r in out if r["status"] == "SUCCESS"),
                    "messages": out, "_currency": {"currency_name_short": "AUD"}}))
                for r in out:
                    if r["status"] == "SUCCESS":
                        threading.Thread(target=fake._receipt, daemon=True,
                                         args=(r, "MMS" if mms else "SMS")).start()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.base = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()

    # -- ClickSend's side of webhooks ---------------------------------------
    @staticmethod
    def post_json(url, payload):
        """POSTs payload as JSON (webhook_type json); returns (status, body)."""
        req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _receipt(self, msg, mtype):
        time.sleep(0.2)
        with self.lock:
            url = self.receipt_url or (self.receipt_rules[-1]["action_address"]
                                       if self.receipt_rules else None)
        if not url:
            return
        now = int(time.time())
        payload = {"timestamp_send": str(now), "timestamp": str(now + 1),
                   "message_id": msg["message_id"], "status_code": "201",
                   "status_text": "Delivered", "error_code": "", "error_text": "",
                   "custom_string": msg.get("custom_string", ""), "subaccount_id": "120",
                   "message_type": mtype}
        code, _ = self.post_json(url, payload)
        with self.lock:
            self.receipts.append((url, payload, code))

    def add_media(self, data, ctype):
        """Serves data at a fresh local URL, as ClickSend links an inbound
        MMS's attachment (no credentials)."""
        path = "/mms/inbound/%s" % uuid.uuid4().hex
        with self.lock:
            self.media[path] = (ctype, data)
        return self.base + path

    def inbound(self, gateway_url, frm, text, media=None, field="media_file"):
        """Posts an inbound message (webhook_type json) with the documented
        InboundSms fields; media: (bytes, ctype), linked under 'field'.
        Returns (message_id, status, body)."""
        mid = str(uuid.uuid4()).upper()
        payload = {"timestamp": str(int(time.time())), "from": frm, "body": text,
                   "original_body": "", "original_message_id": "", "to": self.clinic,
                   "custom_string": "", "message_id": mid}
        if media:
            payload[field] = self.add_media(*media)
        status, body = self.post_json(gateway_url, payload)
        return mid, status, body
