"""host = clicksend, end to end against the strict local fake ClickSend
(tests/fakes/fake_clicksend.py): a 12 MP X-ray out as one MMS whose JPEG
fits ClickSend's 250 kB, receipts to delivered, a patient's MMS reply with
a media link fetched through the gateway, a wrong secret in the webhook URL
refused, and `lyrebird provider setup` / `check`."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import BIN, clean_env
from e2e_helpers import make_png, same_png, unique, wait_for
from gateway import Gateway

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from fake_clicksend import FakeClickSend  # noqa: E402

USER = "clinic-api-user"
KEY = "0123ABCD-4567-89EF-ABCD-0123456789AB"
SECRET = "Zq8mN3pR7tV2xK9wB4cF6hJ1"
CLINIC = "+61488868772"
JORDAN = "+61491570156"
PRIYA = "+61491570157"
VIPS = shutil.which("vips")


@pytest.fixture
def fake():
    f = FakeClickSend(USER, KEY, CLINIC)
    yield f
    f.close()


def provider_ini(fake, key=KEY):
    return f"""
[clicksend]
username = {USER}
api_key = {key}
base_url = {fake.base}
webhook_secret = {SECRET}
media_hosts = 127.0.0.1
"""


@pytest.fixture
def gw(tmp_path, fake):
    with Gateway(tmp_path, "clicksend", provider_ini(fake)) as g:
        fake.receipt_url = g.url("/hooks/clicksend/status/" + SECRET)
        yield g


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, "%s -> %s\n%s" % (cmd, p.returncode, p.stderr)


def xray(path, width=4000, height=3000):
    """A 12 MP greyscale, X-ray-like JPEG (blurred noise), made with vips."""
    d = os.path.dirname(path)
    n, b = os.path.join(d, "noise.v"), os.path.join(d, "blur.v")
    run(VIPS, "gaussnoise", n, str(width), str(height), "--sigma", "45", "--mean", "110")
    run(VIPS, "gaussblur", n, b, "1.2")
    run(VIPS, "cast", b, path + "[Q=92]", "uchar")
    with open(path, "rb") as f:
        return f.read()


def cli(*args, timeout=30):
    return subprocess.run([BIN, *args], capture_output=True, text=True,
                          timeout=timeout, env=clean_env())


def test_text_goes_as_the_documented_json_and_is_delivered(gw, fake):
    text = unique("Your appointment is at 10:30 ☕ & bring 50%")
    m = gw.send(JORDAN, text)
    assert m["route"]["plan"] == "sms"
    got = gw.wait_status(m["id"], "delivered")
    assert len(fake.sent) == 1, fake.rejected
    sent = fake.sent[0]
    assert sent["path"] == "/v3/sms/send"
    msg = sent["json"]["messages"][0]
    assert msg == {"source": "lyrebird", "body": text, "to": JORDAN,
                   "from": CLINIC, "custom_string": m["id"]}
    assert got["provider_message_id"] == sent["message_id"]
    wait_for(lambda: len(fake.receipts) == 1)
    assert fake.receipts[0][2] == 200


@pytest.mark.skipif(not VIPS, reason="needs vips (libvips-tools)")
def test_a_12_megapixel_xray_goes_as_one_mms_jpeg_within_250_kb(gw, fake, tmp_path):
    big = xray(str(tmp_path / "xray.jpg"))
    assert len(big) > 250000
    up = gw.upload(big)
    text = unique("Your X-ray")
    m = gw.send(JORDAN, text, media=[up["id"]])
    assert m["route"]["plan"] == "mms", m["route"]
    got = gw.wait_status(m["id"], "delivered", timeout=60)
    assert len(fake.sent) == 1, fake.rejected
    sent = fake.sent[0]
    assert sent["path"] == "/v3/mms/send"
    body = sent["json"]
    assert set(body) == {"media_file", "messages"}
    assert body["media_file"].startswith(gw.url("/p/media/%s/" % up["id"]))
    msg = body["messages"][0]
    assert msg["to"] == JORDAN and msg["from"] == CLINIC and msg["body"] == text
    assert msg["custom_string"] == m["id"]
    assert 0 < len(msg["subject"]) <= 20 and msg["subject"] == "WalkEasy Nexus"
    # The one file ClickSend fetched: a JPEG within its documented maximum.
    ctype, data = sent["media"]
    assert ctype == "image/jpeg" and data[:3] == b"\xff\xd8\xff"
    assert len(data) <= 250000, len(data)
    assert got["provider_message_id"] == sent["message_id"]
    wait_for(lambda: fake.receipts and fake.receipts[0][2] == 200)
    assert fake.receipts[0][1]["message_type"] == "MMS"


def test_a_patients_mms_reply_lands_with_its_image(gw, fake):
    png = make_png(30, 20)
    text = unique("Photo of the wound")
    mid, status, body = fake.inbound(gw.url("/hooks/clicksend/inbound/" + SECRET),
                                     PRIYA, text, media=(png, "image/png"))
    assert status == 200, body

    def stored():
        msgs = [x for x in gw.conversation(PRIYA) if x["text"] == text]
        return msgs[0] if msgs and msgs[0]["media"] and not msgs[0].get("media_pending") else None
    m = wait_for(stored, timeout=15, desc="the inbound MMS with its picture")
    assert m["from"] == PRIYA and m["provider"] == "clicksend"
    got = gw.api("GET", m["media"][0]["url"]).content
    assert same_png(got, png)
    # The same webhook again (ClickSend retries) is stored once.
    status, _ = fake.post_json(gw.url("/hooks/clicksend/inbound/" + SECRET), {
        "from": PRIYA, "to": CLINIC, "body": text, "message_id": mid,
        "timestamp": "1795000000"})
    assert status == 200
    assert len([x for x in gw.conversation(PRIYA) if x["text"] == text]) == 1
    # The secret ends the URL but never reaches the log.
    assert SECRET not in gw.stderr()


def test_a_plain_text_reply_in_a_form_post_is_stored(gw, fake):
    import urllib.parse
    import requests
    text = unique("Yes, see you Tuesday")
    r = requests.post(gw.url("/hooks/clicksend/inbound/" + SECRET), timeout=10,
                      headers={"Content-Type": "application/x-www-form-urlencoded"},
                      data=urllib.parse.urlencode({
                          "from": PRIYA[1:], "to": CLINIC[1:], "body": text,
                          "message": text, "message_id": "FORM-" + text,
                          "originalsenderid": CLINIC, "timestamp": "1795000000"}))
    assert r.status_code == 200, r.text
    wait_for(lambda: any(x["text"] == text for x in gw.conversation(PRIYA)),
             desc="the form-posted reply")


def test_a_wrong_secret_gets_403_and_nothing_is_stored(gw, fake):
    text = unique("forged")
    _, status, body = fake.inbound(gw.url("/hooks/clicksend/inbound/" + "x" * 24),
                                   PRIYA, text)
    assert status == 403, body
    _, status, body = fake.inbound(gw.url("/hooks/clicksend/inbound"), PRIYA, text)
    assert status == 401, body
    status, body = fake.post_json(gw.url("/hooks/clicksend/status/" + SECRET[:-1] + "X"),
                                  {"message_id": "x", "status_text": "Delivered"})
    assert status == 403, body
    assert all(x["text"] != text for x in gw.conversation(PRIYA))
    assert SECRET not in gw.stderr()


def test_an_invalid_recipient_is_a_final_failure(gw, fake):
    fake.next_status = "INVALID_RECIPIENT"
    m = gw.send("+61491570158", unique("To nowhere"))
    got = gw.wait_status(m["id"], "failed")
    assert got["error"]["code"] == "invalid_number"
    assert "INVALID_RECIPIENT" in got["error"]["message"]


def test_provider_setup_creates_both_rules_without_printing_the_secret(tmp_path, fake):
    g = Gateway(tmp_path, "clicksend", provider_ini(fake))
    r = cli("provider", "setup", "clicksend", "--config", str(g.cfg))
    assert r.returncode == 0, r.stderr
    assert SECRET not in r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 2, r.stdout
    assert "inbound rule" in lines[0] and "<secret>" in lines[0]
    assert "receipt rule" in lines[1] and "<secret>" in lines[1]
    assert fake.inbound_rules == [{
        "dedicated_number": CLINIC, "rule_name": "lyrebird inbound",
        "message_search_type": 0, "message_search_term": "", "action": "URL",
        "action_address": g.url("/hooks/clicksend/inbound/" + SECRET),
        "enabled": 1, "webhook_type": "json"}]
    assert fake.receipt_rules == [{
        "rule_name": "lyrebird receipts", "match_type": 0, "action": "URL",
        "action_address": g.url("/hooks/clicksend/status/" + SECRET),
        "enabled": 1, "webhook_type": "json"}]
    # The receipt rule it made is where receipts now go.
    with g:
        m = g.send(JORDAN, unique("Reminder"))
        g.wait_status(m["id"], "delivered")
        assert fake.receipts[0][0] == g.url("/hooks/clicksend/status/" + SECRET)
        # And a reply through the inbound rule's URL is taken.
        text = unique("Thanks")
        _, status, _ = fake.inbound(fake.inbound_rules[0]["action_address"], PRIYA, text)
        assert status == 200


def test_provider_setup_reports_refused_credentials(tmp_path, fake):
    g = Gateway(tmp_path, "clicksend", provider_ini(fake, key="wrong-key-0123456789"))
    r = cli("provider", "setup", "clicksend", "--config", str(g.cfg))
    assert r.returncode == 1
    assert "credentials" in r.stderr and "Invalid username or API key" in r.stderr
    assert SECRET not in r.stdout + r.stderr and "wrong-key" not in r.stdout + r.stderr
    assert fake.inbound_rules == [] and fake.receipt_rules == []


def test_provider_check_proves_the_credentials(tmp_path, fake):
    g = Gateway(tmp_path, "clicksend", provider_ini(fake))
    r = cli("provider", "check", "clicksend", "--config", str(g.cfg))
    assert r.returncode == 0, r.stderr
    assert "clicksend: ok, account clinic-api-user: 12.3400 AUD" in r.stdout
    bad = Gateway(tmp_path, "clicksend", provider_ini(fake, key="wrong-key-0123456789"))
    r = cli("provider", "check", "clicksend", "--config", str(bad.cfg))
    assert r.returncode == 1
    assert "refused" in r.stderr and "wrong-key" not in r.stderr + r.stdout
