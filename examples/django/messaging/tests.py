"""The receiver on its own: /usr/bin/python3 manage.py test"""
import base64
import hashlib
import hmac
import json
import time

from django.test import TestCase, override_settings

from .models import Attachment, Event, Reply, SentMessage
from .webhooks import InvalidSignature, verify

# The example in the Standard Webhooks reference libraries' tests.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def headers(msg_id, ts, sig):
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts), "webhook-signature": sig}


def sign(body, msg_id, ts=None, secret=SECRET):
    ts = int(time.time()) if ts is None else ts
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, b"%s.%d.%s" % (msg_id.encode(), ts, body), hashlib.sha256)
    return {"HTTP_WEBHOOK_ID": msg_id, "HTTP_WEBHOOK_TIMESTAMP": str(ts),
            "HTTP_WEBHOOK_SIGNATURE": "v1," + base64.b64encode(mac.digest()).decode()}


class VerifyTests(TestCase):
    def test_the_spec_example(self):
        h = headers(SPEC_ID, SPEC_TS, SPEC_SIG)
        self.assertEqual(verify(SPEC_SECRET, h, SPEC_BODY, now=SPEC_TS), SPEC_ID)

    def test_any_v1_entry_may_match(self):
        h = headers(SPEC_ID, SPEC_TS, "v1,bm90IGl0 v2,whatever " + SPEC_SIG)
        self.assertEqual(verify(SPEC_SECRET, h, SPEC_BODY, now=SPEC_TS), SPEC_ID)

    def test_refusals(self):
        ok = headers(SPEC_ID, SPEC_TS, SPEC_SIG)
        cases = {
            "body changed": (ok, SPEC_BODY + b" ", SPEC_TS),
            "id changed": (dict(ok, **{"webhook-id": SPEC_ID + "x"}), SPEC_BODY, SPEC_TS),
            "too old": (ok, SPEC_BODY, SPEC_TS + 301),
            "too new": (ok, SPEC_BODY, SPEC_TS - 301),
            "no signature": (dict(ok, **{"webhook-signature": ""}), SPEC_BODY, SPEC_TS),
            "not v1": (dict(ok, **{"webhook-signature": "v2" + SPEC_SIG[2:]}), SPEC_BODY, SPEC_TS),
            "bad timestamp": (dict(ok, **{"webhook-timestamp": "16e8"}), SPEC_BODY, SPEC_TS),
        }
        for name, (h, body, now) in cases.items():
            with self.subTest(name), self.assertRaises(InvalidSignature):
                verify(SPEC_SECRET, h, body, now=now)
        self.assertEqual(verify(SPEC_SECRET, ok, SPEC_BODY, now=SPEC_TS + 300), SPEC_ID)

    def test_no_secret_is_an_error_not_a_pass(self):
        with self.assertRaises(ValueError):
            verify("whsec_", headers(SPEC_ID, SPEC_TS, SPEC_SIG), SPEC_BODY, now=SPEC_TS)


def received(msg_id="01J00000000000000000000001", media=True):
    m = {"id": msg_id, "direction": "inbound", "from": "+61491570156",
         "to": "+61488868772", "text": "Here is my foot", "status": "received",
         "media": [], "metadata": {}, "client_reference": None,
         "created_at": "2026-12-01T01:02:03.456Z", "updated_at": "2026-12-01T01:02:03.456Z"}
    if media:
        m["media"] = [{"id": "01J00000000000000000000002", "content_type": "image/png",
                       "bytes": 70, "download_url": "http://127.0.0.1:8080/p/media/x",
                       "download_expires_at": "2026-12-01T01:12:03.456Z"}]
    return {"type": "message.received", "timestamp": m["created_at"],
            "data": {"patient": m["from"], "message": m}}


def status(ref, st, at):
    m = {"id": "01J00000000000000000000009", "direction": "outbound", "from": "+61488868772",
         "to": "+61491570156", "text": "Your X-ray", "status": st, "error": None,
         "media": [], "metadata": {}, "client_reference": ref,
         "created_at": "2026-12-01T01:00:00.000Z", "updated_at": at}
    return {"type": "message.status", "timestamp": at,
            "data": {"patient": m["to"], "message": m, "status": st}}


@override_settings(LYREBIRD_WEBHOOK_SECRET=SECRET)
class ReceiverTests(TestCase):
    def post(self, envelope, msg_id, **kw):
        body = json.dumps(envelope).encode()
        return self.client.post("/lyrebird/events", body, content_type="application/json",
                                **dict(sign(body, msg_id), **kw))

    def test_stored_once_by_webhook_id(self):
        r = self.post(received(), "evt_1")
        self.assertEqual(r.status_code, 200, r.content)
        self.assertEqual(r.json(), {"id": "evt_1", "duplicate": False})
        r = self.post(received(), "evt_1")
        self.assertEqual(r.status_code, 200)
        self.assertTrue(r.json()["duplicate"])
        self.assertEqual(Event.objects.count(), 1)
        self.assertEqual(Reply.objects.count(), 1)
        self.assertEqual(Attachment.objects.count(), 1)

    def test_forged_and_unsigned_are_refused(self):
        body = json.dumps(received()).encode()
        forged = sign(body, "evt_2", secret="whsec_" + base64.b64encode(b"x" * 32).decode())
        r = self.client.post("/lyrebird/events", body, content_type="application/json", **forged)
        self.assertEqual(r.status_code, 401)
        r = self.client.post("/lyrebird/events", body, content_type="application/json")
        self.assertEqual(r.status_code, 401)
        stale = sign(body, "evt_3", ts=int(time.time()) - 600)
        r = self.client.post("/lyrebird/events", body, content_type="application/json", **stale)
        self.assertEqual(r.status_code, 401)
        self.assertEqual(Event.objects.count(), 0)
        self.assertEqual(Reply.objects.count(), 0)

    def test_a_late_old_status_does_not_win(self):
        SentMessage.objects.create(client_reference="app-1", patient="+61491570156")
        self.post(status("app-1", "delivered", "2026-12-01T01:00:02.000Z"), "evt_5")
        self.post(status("app-1", "queued", "2026-12-01T01:00:00.000Z"), "evt_4")
        sent = SentMessage.objects.get()
        self.assertEqual((sent.status, sent.lyrebird_id), ("delivered", "01J00000000000000000000009"))
