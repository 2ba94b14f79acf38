"""host = messagemedia, end to end against the strict local fake Sinch
MessageMedia (tests/fakes/fake_messagemedia.py): `lyrebird provider setup`
registers the webhooks (with lyrebird's templates and the shared secret),
an X-ray goes out as an MMS by signed media URL within the MMS budget,
delivery reports rendered from the registered template move it to
delivered, MMS replies arrive with their image inline (base64), opt-outs
are recorded, and webhooks without the secret are refused."""
import os
import shutil
import store_db
import subprocess
import sys

import pytest

from conftest import BIN, clean_env
from e2e_helpers import make_png, same_png, unique, wait_for
from gateway import Gateway

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fakes"))
from fake_messagemedia import FakeMessageMedia  # noqa: E402

KEY = "mm-e2e-api-key-0123"
SECRET = "mm-e2e-api-secret-0123456789abcdef"
HOOK_SECRET = "mm-e2e-webhook-secret-0123456789abcdef"
JORDAN = "+61491570156"
PRIYA = "+61491570157"
VIPS = shutil.which("vips")


@pytest.fixture
def fake():
    f = FakeMessageMedia(KEY, SECRET)
    yield f
    f.close()


def provider_ini(fake, secret=SECRET, auth="basic"):
    return f"""
[messagemedia]
api_key = {KEY}
api_secret = {secret}
base_url = {fake.base}
auth = {auth}
webhook_secret = {HOOK_SECRET}
"""


def cli(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60,
                          env=clean_env())


def setup_webhooks(g):
    r = cli("provider", "setup", "messagemedia", "--config", str(g.cfg))
    assert r.returncode == 0, r.stdout + r.stderr
    return r


@pytest.fixture
def gw(tmp_path, fake):
    g = Gateway(tmp_path, "messagemedia", provider_ini(fake))
    setup_webhooks(g)
    with g:
        yield g


def photo(path, width, height, quality=92):
    """A colour, photo-like JPEG (blurred noise in three bands)."""
    d = os.path.dirname(path)
    bands = []
    for i in range(3):
        n = os.path.join(d, "n%d.v" % i)
        subprocess.run([VIPS, "gaussnoise", n, str(width), str(height), "--sigma",
                        str(30 + 10 * i), "--mean", str(100 + 30 * i)], check=True)
        b = os.path.join(d, "b%d.v" % i)
        subprocess.run([VIPS, "gaussblur", n, b, "1.2"], check=True)
        bands.append(b)
    rgb = os.path.join(d, "rgb.v")
    subprocess.run([VIPS, "bandjoin", " ".join(bands), rgb], check=True)
    subprocess.run([VIPS, "cast", rgb, path + "[Q=%d]" % quality, "uchar"], check=True)
    return path


def test_provider_setup_registers_the_webhooks_once(tmp_path, fake):
    g = Gateway(tmp_path, "messagemedia", provider_ini(fake))
    r = setup_webhooks(g)
    lines = [x for x in r.stdout.splitlines() if x.strip()]
    assert len(lines) == 3 and all(x.startswith("messagemedia: created") for x in lines), r.stdout
    hooks = {w["url"]: w for w in fake.webhooks}
    base = g.url("/hooks/messagemedia")
    assert set(hooks) == {base + "/inbound", base + "/inbound?event=opt_out", base + "/status"}
    assert hooks[base + "/inbound"]["events"] == ["RECEIVED_SMS", "RECEIVED_MMS"]
    assert hooks[base + "/inbound?event=opt_out"]["events"] == ["OPT_OUT_SMS"]
    assert sorted(hooks[base + "/status"]["events"]) == sorted(
        ["ENROUTE_DR", "SUBMITTED_DR", "DELIVERED_DR", "EXPIRED_DR", "REJECTED_DR", "FAILED_DR"])
    for w in hooks.values():
        assert w["method"] == "POST" and w["encoding"] == "JSON"
        assert w["headers"] == {"X-Lyrebird-Secret": HOOK_SECRET}
        assert "$" in w["template"]
    assert HOOK_SECRET not in r.stdout + r.stderr
    # A second run: the API answers 409 for each; not an error.
    again = setup_webhooks(g)
    lines = [x for x in again.stdout.splitlines() if x.strip()]
    assert len(lines) == 3 and all("already there" in x for x in lines), again.stdout
    assert len(fake.webhooks) == 3


def test_provider_check_proves_the_credentials(tmp_path, fake):
    g = Gateway(tmp_path, "messagemedia", provider_ini(fake))
    r = cli("provider", "check", "messagemedia", "--config", str(g.cfg))
    assert r.returncode == 0, r.stderr
    assert "messagemedia: ok" in r.stdout and "credentials accepted" in r.stdout
    bad = Gateway(tmp_path, "messagemedia", provider_ini(fake, secret="wrong-secret-0123456789"))
    r = cli("provider", "check", "messagemedia", "--config", str(bad.cfg))
    assert r.returncode == 1
    assert "refused" in r.stderr and "wrong-secret" not in r.stderr + r.stdout


def test_text_goes_as_one_sms_and_receipts_deliver_it(gw, fake):
    text = unique("Your appointment is at 10:30")
    m = gw.send(JORDAN, text)
    assert m["route"]["plan"] == "sms"
    got = gw.wait_status(m["id"], "delivered")
    assert len(fake.sent) == 1, fake.rejected
    sent = fake.sent[0]["message"]
    assert sent["content"] == text and sent["format"] == "SMS"
    assert sent["destination_number"] == JORDAN and sent["source_number"] == "+61488868772"
    assert sent["metadata"] == {"lyrebird_id": m["id"]}
    assert "callback_url" not in sent
    assert got["provider_message_id"] == fake.sent[0]["id"]
    # Both reports came through the registered template, with the secret.
    wait_for(lambda: len([d for d in fake.deliveries if d[0].endswith("_DR")]) == 2)
    assert [d[2] for d in fake.deliveries] == [200, 200], fake.deliveries


@pytest.mark.skipif(not VIPS, reason="needs vips (libvips-tools)")
def test_xray_goes_as_mms_within_budget_by_signed_url(gw, fake, tmp_path):
    xray = open(photo(str(tmp_path / "xray.jpg"), 4000, 3000), "rb").read()
    assert len(xray) > 500000
    up = gw.upload(xray)
    m = gw.send(JORDAN, unique("Your X-ray"), media=[up["id"]])
    assert m["route"]["plan"] == "mms", m["route"]
    gw.wait_status(m["id"], "delivered", timeout=30)
    assert len(fake.sent) == 1, fake.rejected
    sent = fake.sent[0]["message"]
    assert sent["format"] == "MMS" and sent["subject"] == "WalkEasy Nexus Clinic"
    assert len(sent["media"]) == 1
    assert sent["media"][0].startswith(gw.url("/p/media/%s/" % up["id"]))
    ctype, data = fake.sent[0]["media"][0]
    assert ctype.startswith("image/jpeg") and data[:3] == b"\xff\xd8\xff"
    assert len(data) <= 500000, len(data)


def test_mms_reply_lands_in_the_inbox_with_its_image(gw, fake):
    png = make_png(40, 30)
    text = unique("Photo of the wound")
    res = fake.inbound(PRIYA, text, images=[(png, "image/png", "IMG_0042.png")])
    assert [s for s, _ in res] == [200], res

    def stored():
        msgs = [x for x in gw.conversation(PRIYA) if x["media"]]
        return msgs[0] if msgs else None
    m = wait_for(stored, timeout=15, desc="the inbound MMS with its picture")
    assert m["from"] == PRIYA and m["provider"] == "messagemedia"
    assert same_png(gw.api("GET", m["media"][0]["url"]).content, png)
    # A text reply too.
    res = fake.inbound(PRIYA, text)
    assert [s for s, _ in res] == [200], res
    wait_for(lambda: any(x["text"] == text for x in gw.conversation(PRIYA)))


def test_webhooks_without_the_secret_are_refused(gw, fake):
    text = unique("forged")
    res = fake.inbound(PRIYA, text, headers={"X-Lyrebird-Secret": "not-the-secret"})
    assert [s for s, _ in res] == [403], res
    assert all(x["text"] != text for x in gw.conversation(PRIYA))


def test_an_opt_out_is_stored_and_recorded(gw, fake, tmp_path):
    res = fake.opt_out(JORDAN, "STOP")
    assert [s for s, _ in res] == [200], res
    wait_for(lambda: any(x["text"] == "STOP" for x in gw.conversation(JORDAN)))

    def recorded():
        db = store_db.connect_gateway(tmp_path)
        try:
            return db.execute("SELECT opted_out_at, opt_out_source FROM patients WHERE e164 = ?",
                              (JORDAN,)).fetchone()
        finally:
            db.close()
    row = wait_for(lambda: (recorded() or (None,))[0] and recorded(), desc="the opt-out")
    assert "messagemedia" in row[1], row


def test_an_invalid_number_is_final(gw, fake):
    fake.next_error = (400, {"message": "Request failed to parse correctly.", "details": [
        "/messages/0/destination_number: International address contains invalid characters."]})
    m = gw.send("+61491570158", unique("To nowhere"))
    got = gw.wait_status(m["id"], "failed")
    assert "destination_number" in got["error"]["message"]


def test_hmac_signed_requests(tmp_path, fake):
    g = Gateway(tmp_path, "messagemedia", provider_ini(fake, auth="hmac"))
    setup_webhooks(g)
    with g:
        m = g.send(JORDAN, unique("Signed"))
        g.wait_status(m["id"], "delivered")
    assert fake.auth_seen and set(fake.auth_seen) == {"hmac"}, fake.auth_seen
