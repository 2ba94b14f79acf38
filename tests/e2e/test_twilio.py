"""host = twilio, end to end against the strict local fake Twilio
(tests/fakes/twilio.py): texts and MMS out as the documented form POST,
images by short-lived signed URL, signed inbound MMS in with its media
fetched (Basic auth) and then deleted at Twilio, forged webhooks refused."""
import os
import store_db
import subprocess
import sys
import time

import pytest

from conftest import BIN, clean_env
from e2e_helpers import make_png, same_png, unique, wait_for
from gateway import Gateway

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from fake_twilio import FakeTwilio  # noqa: E402

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "fake-auth-token-0123456789abcdef"
JORDAN = "+61491570156"
PRIYA = "+61491570157"


@pytest.fixture
def fake():
    f = FakeTwilio(SID, TOKEN)
    yield f
    f.close()


def provider_ini(fake, token=TOKEN):
    return f"""
[twilio]
account_sid = {SID}
auth_token = {token}
base_url = {fake.base}
media_hosts = 127.0.0.1
"""


@pytest.fixture
def gw(tmp_path, fake):
    with Gateway(tmp_path, "twilio", provider_ini(fake)) as g:
        yield g


def test_text_goes_as_the_documented_form_post_and_is_delivered(gw, fake):
    text = unique("Your appointment is at 10:30")
    m = gw.send(JORDAN, text)
    assert m["route"]["plan"] == "sms"
    got = gw.wait_status(m["id"], "delivered")
    assert len(fake.sent) == 1, fake.rejected
    form = fake.sent[0]["form"]
    assert form["To"] == [JORDAN] and form["From"] == ["+61488868772"]
    assert form["Body"] == [text] and "MediaUrl" not in form
    # Our id rides along, so a receipt finds even a send whose answer was lost.
    assert form["StatusCallback"] == [gw.url("/hooks/twilio/status?ref=" + m["id"])]
    assert got["provider_message_id"] == fake.sent[0]["sid"]
    # Both callbacks were accepted (signed like every Twilio webhook).
    wait_for(lambda: len(fake.callbacks) == 2)
    assert [c[2] for c in fake.callbacks] == [200, 200]


def test_image_goes_as_mms_with_a_signed_media_url(gw, fake):
    png = make_png(64, 48)
    up = gw.upload(png)
    text = unique("Your X-ray")
    m = gw.send(JORDAN, text, media=[up["id"]])
    assert m["route"]["plan"] == "mms", m["route"]
    gw.wait_status(m["id"], "delivered")
    sent = fake.sent[0]
    urls = sent["form"]["MediaUrl"]
    assert len(urls) == 1 and urls[0].startswith(gw.url("/p/media/%s/" % up["id"]))
    # The fake fetched it as Twilio would: the stored (cleaned) image.
    ctype, data = sent["media"][0]
    assert ctype.startswith("image/png") and same_png(data, png)
    assert "media %s (clean) fetched by 127.0.0.1" % up["id"] in gw.stderr()


def test_signed_inbound_mms_is_stored_its_media_fetched_then_deleted_at_twilio(gw, fake):
    png = make_png(30, 20)
    text = unique("Photo of the wound")
    sid, status, body, ctype = fake.inbound(gw.url("/hooks/twilio/inbound"), PRIYA, text,
                                            media=[(png, "image/png")])
    assert status == 200, body
    assert ctype.startswith("text/xml") and b"<Response/>" in body

    def stored():
        msgs = [x for x in gw.conversation(PRIYA) if x["text"] == text]
        return msgs[0] if msgs and msgs[0]["media"] and not msgs[0].get("media_pending") else None
    m = wait_for(stored, timeout=15, desc="the inbound MMS with its picture")
    assert m["from"] == PRIYA and m["provider"] == "twilio"
    got = gw.api("GET", m["media"][0]["url"]).content
    assert same_png(got, png)
    # Deleted at Twilio once stored here.
    wait_for(lambda: len(fake.deleted) == 1, desc="the DELETE at Twilio")
    assert fake.deleted[0].split("/Messages/")[1].startswith(sid)
    assert fake.media == {}


def test_forged_signature_gets_403_and_nothing_is_stored(gw, fake):
    text = unique("forged")
    _, status, body, _ = fake.inbound(gw.url("/hooks/twilio/inbound"), PRIYA, text,
                                      token="not-the-auth-token")
    assert status == 403, body
    assert all(x["text"] != text for x in gw.conversation(PRIYA))


def test_a_landline_is_a_final_failure_with_the_reason(gw, fake):
    fake.next_error = (400, 21614, "'To' number is not a valid mobile number")
    m = gw.send("+61491570158", unique("To a landline"))
    got = gw.wait_status(m["id"], "failed")
    assert "21614" in (got["error"]["code"] + got["error"]["message"])
    assert "landline" in got["error"]["message"].lower() or "mobile" in got["error"]["message"].lower()


def test_an_opted_out_patient_is_recorded(gw, fake, tmp_path):
    fake.next_error = (400, 21610, "Attempt to send to unsubscribed recipient")
    m = gw.send(JORDAN, unique("After STOP"))
    gw.wait_status(m["id"], "failed")
    db = store_db.connect_gateway(tmp_path)
    try:
        row = db.execute("SELECT opted_out_at, opt_out_source FROM patients WHERE e164 = ?",
                         (JORDAN,)).fetchone()
    finally:
        db.close()
    assert row and row[0] and "opted out" in row[1], row


def test_media_too_large_at_twilio_falls_back_to_a_link(gw, fake):
    fake.next_error = (400, 11751, "Media exceeds messaging provider size limit")
    up = gw.upload(make_png(64, 48))
    m = gw.send(JORDAN, unique("Scan"), media=[up["id"]])
    got = gw.wait_status(m["id"], "delivered")
    assert got["route"]["plan"] == "link", got["route"]
    # The second try was an SMS with the link, from the same number.
    assert len(fake.sent) == 1 and "MediaUrl" not in fake.sent[0]["form"]
    assert gw.url("/v/") in fake.sent[0]["form"]["Body"][0]


def test_provider_check_proves_the_credentials(tmp_path, fake):
    g = Gateway(tmp_path, "twilio", provider_ini(fake))
    r = subprocess.run([BIN, "provider", "check", "twilio", "--config", str(g.cfg)],
                       capture_output=True, text=True, timeout=30, env=clean_env())
    assert r.returncode == 0, r.stderr
    assert "twilio: ok" in r.stdout and "active" in r.stdout
    bad = Gateway(tmp_path, "twilio", provider_ini(fake, token="wrong-token-0123456789abcdef"))
    r = subprocess.run([BIN, "provider", "check", "twilio", "--config", str(bad.cfg)],
                       capture_output=True, text=True, timeout=30, env=clean_env())
    assert r.returncode == 1
    assert "refused" in r.stderr and "wrong-token" not in r.stderr + r.stdout


def test_21610_records_the_provider_opt_out_and_later_sends_are_refused(gw, fake):
    fake.next_error = (400, 21610, "Attempt to send to unsubscribed recipient")
    m = gw.send(PRIYA, unique("After a STOP at Twilio"))
    gw.wait_status(m["id"], "failed")
    r = gw.api("GET", "/api/v1/patients/%s/consent" % PRIYA)
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["opt_out"]["source"] == "provider", c
    assert c["history"][0]["provider"] == "twilio", c
    r = gw.api("POST", "/api/v1/messages", json={"to": PRIYA, "text": "again"})
    assert r.status_code == 409 and r.json()["error"]["source"] == "provider", r.text
    assert len(fake.sent) == 0  # the refused send never reached Twilio again


def test_stop_to_twilio_gets_no_second_confirmation(gw, fake):
    # Twilio answers STOP itself ([twilio] answers_keywords, on by default).
    fake.inbound(gw.url("/hooks/twilio/inbound"), JORDAN, "STOP")
    wait_for(lambda: gw.api("GET", "/api/v1/patients/%s/consent" % JORDAN).json()["opt_out"],
             desc="the opt-out")
    time.sleep(0.5)
    assert fake.sent == [], fake.sent


def test_bodies_are_redacted_at_twilio_after_a_final_status(tmp_path, fake):
    with Gateway(tmp_path, "twilio", provider_ini(fake) + "redact_after = 1\n") as g:
        m = g.send(JORDAN, unique("Redact me"))
        d = g.wait_status(m["id"], "delivered")
        wait_for(lambda: fake.redacted == [d["provider_message_id"]], timeout=15,
                 desc="the redaction at Twilio")
        # lyrebird keeps its own copy, and says what happened.
        got = g.api("GET", "/api/v1/messages/" + m["id"]).json()
        assert got["text"].startswith("Redact me")
        assert any(h["status"] == "redacted" for h in got["history"]), got["history"]
