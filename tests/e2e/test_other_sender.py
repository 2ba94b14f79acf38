"""[routing] mms_provider with allow_other_sender = true (the "Twilio in
parallel" option, against the advice): SMS Broadcast hosts the clinic's
number and sends every text and link; an image it cannot send goes as MMS
through Twilio from Twilio's own number, marked, with the reason."""
import os
import subprocess
import sys

import pytest

from conftest import BIN, clean_env
from e2e_helpers import make_png, unique, wait_for
from gateway import Gateway

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from fake_smsbroadcast import FakeSmsBroadcast  # noqa: E402
from fake_twilio import FakeTwilio  # noqa: E402

SID = "AC" + "fedcba9876543210" * 2
TOKEN = "fake-auth-token-fedcba9876543210"
OTHER = "+61400000001"
SECRET = "portal-webhook-secret-0123456789abcd"
JORDAN = "+61491570156"


@pytest.fixture
def fakes():
    sb = FakeSmsBroadcast("u", "p")
    tw = FakeTwilio(SID, TOKEN, clinic=OTHER)
    yield sb, tw
    sb.close()
    tw.close()


def ini(sb, tw, allow=True):
    return f"""
[smsbroadcast]
username = u
password = p
base_url = {sb.base}
webhook_secret = {SECRET}

[twilio]
account_sid = {SID}
auth_token = {TOKEN}
base_url = {tw.base}
media_hosts = 127.0.0.1

[routing]
mms_provider = twilio
mms_from = {OTHER}
allow_other_sender = {"true" if allow else "false"}
"""


def test_without_the_explicit_allow_the_setup_is_refused_with_why(tmp_path, fakes):
    g = Gateway(tmp_path, "smsbroadcast", ini(*fakes, allow=False))
    r = subprocess.run([BIN, "check-config", "--config", str(g.cfg)],
                       capture_output=True, text=True, timeout=30, env=clean_env())
    assert r.returncode == 1
    assert "two numbers" in r.stderr and "allow_other_sender = true" in r.stderr


def test_an_image_goes_from_the_other_number_marked_texts_stay_on_the_clinics(tmp_path, fakes):
    sb, tw = fakes
    with Gateway(tmp_path, "smsbroadcast", ini(sb, tw)) as gw:
        r = subprocess.run([BIN, "routes", "--config", str(gw.cfg)], capture_output=True,
                           text=True, timeout=30, env=clean_env())
        assert r.returncode == 0, r.stderr
        assert "through twilio from %s" % OTHER in r.stdout

        text = unique("Hello")
        t = gw.send(JORDAN, text)
        gw.wait_status(t["id"], "sent")
        assert sb.sent[0]["from"] == "61488868772" and tw.sent == []
        assert "other_sender" not in (t["route"] or {})

        up = gw.upload(make_png(48, 32))
        m = gw.send(JORDAN, unique("Your X-ray"), media=[up["id"]])
        assert m["route"]["plan"] == "mms" and m["route"]["other_sender"] is True
        assert m["from"] == OTHER and m["provider"] == "twilio"
        assert "ANOTHER NUMBER" in m["route"]["reason"]
        assert "does not reach this inbox" in m["route"]["reason"]
        got = gw.wait_status(m["id"], "delivered")  # Twilio's receipts are taken
        assert got["route"]["other_sender"] is True
        assert tw.sent[0]["form"]["From"] == [OTHER]
        assert len(sb.sent) == 1  # nothing else went through SMS Broadcast
        assert "allow_other_sender is on" in gw.stderr()

        # Replies to the other number are not received here.
        _, status, body, _ = tw.inbound(gw.url("/hooks/twilio/inbound"), JORDAN, "reply")
        assert status == 404 and b"not received here" in body


def test_a_failed_mms_from_the_other_number_falls_back_to_a_link_from_the_clinics(tmp_path, fakes):
    sb, tw = fakes
    tw.next_error = (400, 30019, "Content size exceeds carrier limit")
    with Gateway(tmp_path, "smsbroadcast", ini(sb, tw)) as gw:
        up = gw.upload(make_png(48, 32))
        m = gw.send(JORDAN, unique("Scan"), media=[up["id"]])
        assert m["route"]["other_sender"] is True

        def relinked():
            x = gw.message(m["id"])
            return x if x["route"]["plan"] == "link" and x["status"] == "sent" else None
        got = wait_for(relinked, timeout=15, desc="the fallback link SMS")
        assert got["from"] == "+61488868772" and got["provider"] == "smsbroadcast"
        assert "other_sender" not in got["route"]
        # The reason names who refused the MMS: the second sender.
        assert "twilio refused the MMS for good" in got["route"]["reason"], got["route"]
        assert sb.sent[-1]["from"] == "61488868772"
        assert gw.url("/v/") in sb.sent[-1]["message"]
