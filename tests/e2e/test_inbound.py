"""Patients reply (with photos); carrier redeliveries are stored once."""
import base64
import hashlib
import time
import uuid

from e2e_helpers import CLINIC, ISO_UTC, JORDAN, PRIYA, make_png, png_pixels, unique, wait_for, same_png


def inbound_with_text(server, patient, text):
    return [m for m in server.conv_messages(patient) if m["text"] == text]


def test_reply_with_photo_appears_and_unread(server):
    png = make_png(6, 5)
    text = unique("Here is my foot")
    sent = server.handset_send(PRIYA, text, media=[("image/png", png)])
    assert isinstance(sent.get("id"), str) and sent["id"], sent

    msgs = wait_for(lambda: inbound_with_text(server, PRIYA, text),
                    desc="inbound reply in conversation")
    assert len(msgs) == 1, msgs
    m = msgs[0]
    assert m["direction"] == "inbound"
    assert m["status"] == "received"
    assert m["from"] == PRIYA
    assert m["to"] == CLINIC
    assert m["provider"] == "sim"
    assert ISO_UTC.match(m["created_at"]), m
    assert len(m["media"]) == 1, m
    med = m["media"][0]
    assert med["content_type"] == "image/png"
    assert (med["width"], med["height"]) == png_pixels(png)[:2]
    assert med["url"] == "/api/v1/media/" + med["id"]
    g = server.api("GET", med["url"])
    assert g.status_code == 200
    assert g.headers["Content-Type"].split(";")[0].strip() == "image/png"
    # Stored cleaned: the same pixels; size and hash are the stored bytes'.
    assert same_png(g.content, png)
    assert med["bytes"] == len(g.content)
    assert med["sha256"] == hashlib.sha256(g.content).hexdigest()

    one = server.message(m["id"])
    assert one["status"] == "received"
    assert [h["status"] for h in one["history"]][-1] == "received"

    conv = server.conversation(PRIYA)
    assert conv is not None
    assert conv["name"] == "Priya Sharma"
    assert conv["unread"] >= 1, conv
    assert conv["last_message"]["id"] == m["id"]

    r = server.api("POST", "/api/v1/conversations/%s/read" % PRIYA)
    assert r.status_code == 200, r.text
    assert server.conversation(PRIYA)["unread"] == 0


def test_carrier_redelivery_is_stored_once(server):
    cid = "carrier-" + uuid.uuid4().hex
    text = unique("Can I move my booking?")
    a = server.handset_send(JORDAN, text, id=cid)
    b = server.handset_send(JORDAN, text, id=cid)
    assert a["id"] == cid and b["id"] == cid, (a, b)
    wait_for(lambda: inbound_with_text(server, JORDAN, text),
             desc="the inbound message")
    # Let the second (asynchronous) delivery land too.
    time.sleep(1.0)
    msgs = inbound_with_text(server, JORDAN, text)
    assert len(msgs) == 1, "carrier redelivery stored %d times: %r" % (
        len(msgs), msgs)
    assert server.conversation(JORDAN)["unread"] == 1


def test_signed_webhook_posted_twice_is_stored_once(server):
    text = unique("Running late")
    body = {"id": "hook-" + uuid.uuid4().hex, "from": PRIYA, "to": CLINIC,
            "text": text, "media": []}
    for i in range(2):
        r = server.hook("inbound", body)
        assert r.status_code == 200, "post %d -> %s %s" % (i + 1, r.status_code, r.text)
    wait_for(lambda: inbound_with_text(server, PRIYA, text), desc="the inbound message")
    time.sleep(0.3)
    msgs = inbound_with_text(server, PRIYA, text)
    assert len(msgs) == 1, msgs
    assert msgs[0]["status"] == "received"
    assert server.conversation(PRIYA)["unread"] == 1


def test_signed_webhook_with_media(server):
    png = make_png(3, 7)
    text = unique("photo via hook")
    body = {"id": "hook-" + uuid.uuid4().hex, "from": JORDAN, "to": CLINIC,
            "text": text,
            "media": [{"content_type": "image/png",
                       "data": base64.b64encode(png).decode()}]}
    r = server.hook("inbound", body)
    assert r.status_code == 200, r.text
    msgs = wait_for(lambda: inbound_with_text(server, JORDAN, text),
                    desc="the inbound message")
    assert len(msgs) == 1, msgs
    assert len(msgs[0]["media"]) == 1
    assert same_png(server.api("GET", msgs[0]["media"][0]["url"]).content, png)
