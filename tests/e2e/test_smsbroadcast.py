"""host = smsbroadcast, end to end against the strict local fake
(tests/fakes/fake_smsbroadcast.py): texts out as the documented form POST,
images as a link SMS from the same number, replies in by the portal's
webhook (GET or the shipped JSON templates) with a secret, timeouts left
unconfirmed rather than resent, and `lyrebird provider check`."""
import base64
import os
import subprocess
import sys
import time

import pytest
import requests

from conftest import BIN, clean_env
from e2e_helpers import make_png, same_png, unique, wait_for
from gateway import Gateway

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from fake_smsbroadcast import FakeSmsBroadcast, webhook  # noqa: E402

USER = "clinic-api-user"
PASSWORD = "clinic-api-password-0123"
SECRET = "portal-webhook-secret-0123456789abcd"
JORDAN = "+61491570156"
PRIYA = "+61491570157"


@pytest.fixture
def fake():
    f = FakeSmsBroadcast(USER, PASSWORD)
    yield f
    f.close()


def provider_ini(fake, password=PASSWORD):
    return f"""
[smsbroadcast]
username = {USER}
password = {password}
base_url = {fake.base}
webhook_secret = {SECRET}
"""


@pytest.fixture
def gw(tmp_path, fake):
    with Gateway(tmp_path, "smsbroadcast", provider_ini(fake),
                 "[outbox]\nsend_timeout_ms = 1500\n") as g:
        yield g


def test_text_goes_as_the_documented_form_post(gw, fake):
    text = unique("Your appointment is on Tuesday at 10:30")
    m = gw.send(JORDAN, text)
    got = gw.wait_status(m["id"], "sent")
    assert len(fake.sent) == 1, fake.rejected
    f = fake.sent[0]
    assert f["to"] == "61491570156" and f["from"] == "61488868772"
    assert f["message"] == text and f["maxsplit"] == "1"
    assert len(f["ref"]) <= 20 and m["id"].endswith(f["ref"])
    assert f["username"] == USER and f["password"] == PASSWORD
    assert got["provider_message_id"] == f["smsref"]


def test_a_long_text_asks_for_enough_parts(gw, fake):
    text = unique("x" * 300)  # 3 parts of 153
    m = gw.send(JORDAN, text)
    gw.wait_status(m["id"], "sent")
    assert fake.sent[0]["maxsplit"] == "3"


def test_an_image_goes_as_a_link_sms_from_the_same_number(gw, fake):
    up = gw.upload(make_png(64, 48))
    text = unique("Your X-ray")
    m = gw.send(JORDAN, text, media=[up["id"]])
    assert m["route"]["plan"] == "link", m["route"]
    assert "smsbroadcast cannot send MMS" in m["route"]["reason"], m["route"]
    gw.wait_status(m["id"], "sent")
    f = fake.sent[0]
    assert f["from"] == "61488868772"
    link = f["message"].split()[-1]
    assert link.startswith(gw.url("/v/")), f["message"]
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "View image" in page.text


def test_a_bad_number_is_a_final_failure_with_the_reason(gw, fake):
    fake.next_line = "BAD:61491570158:Invalid Number\n"
    m = gw.send("+61491570158", unique("to a bad number"))
    got = gw.wait_status(m["id"], "failed")
    assert "Invalid Number" in got["error"]["message"], got["error"]


def test_a_timeout_is_left_unconfirmed_and_not_resent(gw, fake):
    fake.delay_s = 3  # longer than send_timeout_ms
    m = gw.send(JORDAN, unique("slow"))

    def unconfirmed():
        x = gw.message(m["id"])
        return x if x.get("error") and x["error"]["code"] == "unconfirmed" else None
    got = wait_for(unconfirmed, timeout=15, desc="the send to be unconfirmed")
    assert got["status"] == "sending"
    time.sleep(4)  # several back-off periods: no second try
    assert fake.requests == 1


def test_a_reply_by_get_with_the_secret_header_lands_in_the_inbox(gw):
    text = unique("Reply 5")
    # The documented example: + in from, refs in parentheses, blank to.
    status, body = webhook(gw.url("/hooks/smsbroadcast/inbound"), SECRET, {
        "from": PRIYA, "message": text, "msgref": "(971221653)",
        "ref": "(1214)", "to": ""})
    assert status == 200, body
    msgs = [x for x in gw.conversation(PRIYA) if x["text"] == text]
    assert len(msgs) == 1 and msgs[0]["from"] == PRIYA and msgs[0]["to"] == "+61488868772"


def test_the_secret_may_be_the_last_path_segment(gw):
    text = unique("via path")
    status, body = webhook(gw.url("/hooks/smsbroadcast/inbound"), SECRET, {
        "from": "61491570157", "to": "61488868772", "message": text},
        secret_in_path=True)
    assert status == 200, body
    assert [x["text"] for x in gw.conversation(PRIYA)].count(text) == 1
    assert SECRET not in gw.stderr(), "the secret must never be logged"


def test_wrong_or_missing_secret_is_refused_and_nothing_stored(gw):
    text = unique("forged")
    params = {"from": PRIYA, "to": "", "message": text}
    assert webhook(gw.url("/hooks/smsbroadcast/inbound"), "wrong-secret-0123456789abcdef",
                   params)[0] == 403
    assert webhook(gw.url("/hooks/smsbroadcast/inbound"), None, params)[0] == 401
    assert webhook(gw.url("/hooks/smsbroadcast/inbound"), "wrong-secret-0123456789abcdef",
                   params, secret_in_path=True)[0] == 403
    assert all(x["text"] != text for x in gw.conversation(PRIYA))


def test_provider_check_prints_the_balance_or_the_error(tmp_path, fake):
    g = Gateway(tmp_path, "smsbroadcast", provider_ini(fake))
    r = subprocess.run([BIN, "provider", "check", "smsbroadcast", "--config", str(g.cfg)],
                       capture_output=True, text=True, timeout=30, env=clean_env())
    assert r.returncode == 0, r.stderr
    assert "1234" in r.stdout
    bad = Gateway(tmp_path, "smsbroadcast", provider_ini(fake, password="not-the-password"))
    r = subprocess.run([BIN, "provider", "check", "smsbroadcast", "--config", str(bad.cfg)],
                       capture_output=True, text=True, timeout=30, env=clean_env())
    assert r.returncode == 1
    assert "Username or password is incorrect" in r.stderr
    assert "not-the-password" not in r.stderr + r.stdout


def test_a_status_update_with_the_shipped_template_settles_the_message(gw, fake):
    m = gw.send(JORDAN, unique("to be delivered"))
    gw.wait_status(m["id"], "sent")
    f = fake.sent[0]
    # docs/providers/smsbroadcast.md, "Status updates template (JSON)".
    status, body = webhook(gw.url("/hooks/smsbroadcast/status"), SECRET, body={
        "smsref": f["smsref"], "ref": f["ref"], "message_id": "",
        "status": "delivered", "status_code": "220", "received": ""},
        method="POST")
    assert status == 200, body
    gw.wait_status(m["id"], "delivered")


def test_a_receipt_settles_a_send_whose_answer_was_lost(gw, fake):
    fake.delay_s = 3  # the answer never arrives in time: no smsref kept
    m = gw.send(JORDAN, unique("lost answer"))
    wait_for(lambda: gw.message(m["id"]).get("error"), timeout=15)
    ref = m["id"][-20:]
    status, body = webhook(gw.url("/hooks/smsbroadcast/status"), SECRET, body={
        "smsref": "", "ref": ref, "status": "delivered"}, method="POST")
    assert status == 200, body
    got = gw.wait_status(m["id"], "delivered")
    assert not got.get("error"), got


def test_an_mms_reply_with_the_shipped_template_lands_with_its_picture(gw):
    png = make_png(40, 30)
    text = unique("Here is the photo")
    # docs/providers/smsbroadcast.md, "Replies template (JSON)".
    status, body = webhook(gw.url("/hooks/smsbroadcast/inbound"), SECRET, body={
        "id": "MO-" + text[-12:], "from": PRIYA, "to": "+61488868772",
        "message": text, "ref": "", "msgref": "", "received": "2026-11-24T05:00:00Z",
        "attachments": [{"content_type": "image/png",
                         "content": base64.b64encode(png).decode(),
                         "original_name": "IMG_0001.PNG"}]}, method="POST")
    assert status == 200, body
    msgs = [x for x in gw.conversation(PRIYA) if x["text"] == text]
    assert len(msgs) == 1 and len(msgs[0]["media"]) == 1, msgs
    assert same_png(gw.api("GET", msgs[0]["media"][0]["url"]).content, png)
