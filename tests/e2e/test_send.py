"""Staff send a text or a picture and the patient's phone gets it."""
import hashlib

import pytest

from e2e_helpers import (CLINIC, ISO_UTC, JORDAN, PRIYA, is_subsequence,
                         make_png, png_pixels, statuses, unique, wait_for, same_png)


def check_message_shape(m):
    for k in ("id", "direction", "from", "to", "text", "status", "provider",
              "provider_message_id", "error", "attempts", "media",
              "created_at", "updated_at"):
        assert k in m, "message JSON lacks %r: %r" % (k, m)
    assert isinstance(m["id"], str) and m["id"]
    assert m["provider"] == "sim"
    assert isinstance(m["attempts"], int)
    assert isinstance(m["media"], list)
    assert ISO_UTC.match(m["created_at"]), m["created_at"]
    assert ISO_UTC.match(m["updated_at"]), m["updated_at"]


# A receipt can overtake the send call's answer (sending -> delivered), so
# give the "sent" step room to be recorded before the receipt arrives.
@pytest.mark.lyrebird_env(LYREBIRD_SIM_DR_DELAY_MS="300")
def test_send_text_is_received_and_delivered(server):
    text = unique("Your appointment is confirmed")
    r = server.send("0491 570 156", text)
    assert r.status_code == 202, r.text
    m = r.json()
    check_message_shape(m)
    assert m["direction"] == "outbound"
    assert m["from"] == CLINIC
    assert m["to"] == JORDAN  # local form normalised to E.164
    assert m["text"] == text
    assert m["media"] == []
    assert m["error"] is None
    assert m["status"] in ("queued", "sending", "sent", "delivered"), m

    got = wait_for(lambda: server.handset_with_text(JORDAN, text),
                   desc="handset %s to receive %r" % (JORDAN, text))
    assert len(got) == 1, got
    assert got[0]["from"] == CLINIC
    assert got[0]["to"] == JORDAN

    d = server.wait_status(m["id"], "delivered")
    check_message_shape(d)
    assert d["id"] == m["id"]
    assert isinstance(d["provider_message_id"], str) and d["provider_message_id"]
    assert d["error"] is None
    assert d["attempts"] == 1
    hist = statuses(d)
    assert is_subsequence(["queued", "sending", "sent", "delivered"], hist), hist
    assert hist[0] == "queued" and hist[-1] == "delivered", hist
    for h in d["history"]:
        assert ISO_UTC.match(h["at"]), h
        assert "detail" in h, h
    ats = [h["at"] for h in d["history"]]
    assert ats == sorted(ats), "history not oldest first: %r" % ats

    # It shows up in the conversation with the seeded patient.
    conv = server.conversation(JORDAN)
    assert conv is not None, server.conversations()
    assert conv["name"] == "Jordan Lee"
    assert conv["number"] == CLINIC
    assert conv["last_message"]["id"] == m["id"]
    assert [x["id"] for x in server.conv_messages(JORDAN)].count(m["id"]) == 1

    # Still exactly one copy on the phone after the receipt.
    assert len(server.handset_with_text(JORDAN, text)) == 1


def test_send_image_is_received_with_same_bytes(server):
    png = make_png(8, 8)
    r = server.upload(png, "image/png")
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["content_type"] == "image/png"
    assert (up["width"], up["height"]) == (png_pixels(png)[0], png_pixels(png)[1])

    # Stored cleaned (re-encoded without metadata): the same pixels, and
    # the size and hash describe the stored bytes.
    g = server.api("GET", "/api/v1/media/" + up["id"])
    assert g.status_code == 200
    assert g.headers["Content-Type"].split(";")[0].strip() == "image/png"
    assert same_png(g.content, png)
    assert up["bytes"] == len(g.content)
    assert up["sha256"] == hashlib.sha256(g.content).hexdigest()

    text = unique("Exercise sheet")
    r = server.send(PRIYA, text, media=[up["id"]])
    assert r.status_code == 202, r.text
    m = r.json()
    assert len(m["media"]) == 1, m
    mm = m["media"][0]
    assert mm["id"] == up["id"]
    assert mm["content_type"] == "image/png"
    assert mm["bytes"] == up["bytes"]
    assert mm["url"] == "/api/v1/media/" + up["id"]

    got = wait_for(lambda: server.handset_with_text(PRIYA, text),
                   desc="handset to receive the MMS")
    assert len(got) == 1, got
    assert got[0]["from"] == CLINIC
    assert len(got[0]["media"]) == 1, got[0]
    hm = got[0]["media"][0]
    assert hm["content_type"] == "image/png"
    b = server.raw("GET", hm["url"])
    assert b.status_code == 200, (hm["url"], b.status_code)
    assert same_png(b.content, png), "handset media bytes differ from the upload"

    server.wait_status(m["id"], "delivered")


def test_media_type_is_sniffed_not_trusted(server):
    png = make_png(2, 2)
    r = server.upload(png, "image/jpeg")
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/png", r.json()
    g = server.api("GET", "/api/v1/media/" + r.json()["id"])
    assert g.status_code == 200
    assert g.headers["Content-Type"].split(";")[0].strip() == "image/png"
    assert same_png(g.content, png)


def test_message_with_only_media_is_accepted(server):
    png = make_png(3, 3)
    up = server.upload(png).json()
    r = server.send(JORDAN, media=[up["id"]])
    assert r.status_code == 202, r.text
    server.wait_status(r.json()["id"], "delivered")
    got = wait_for(lambda: [h for h in server.handset(JORDAN) if h["media"]],
                   desc="handset to receive the picture")
    assert same_png(server.raw("GET", got[0]["media"][0]["url"]).content, png)
