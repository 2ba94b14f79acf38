"""A retried POST with the same Idempotency-Key sends one SMS, not two."""
import time
import uuid

from e2e_helpers import JORDAN, unique, wait_for


def test_same_key_same_body_returns_same_message(server):
    key = uuid.uuid4().hex
    text = unique("Reminder: bring your orthotics")
    a = server.send(JORDAN, text, idempotency_key=key)
    assert a.status_code == 202, a.text
    b = server.send(JORDAN, text, idempotency_key=key)
    assert b.status_code == 202, "replay -> %s %s" % (b.status_code, b.text)
    assert b.json()["id"] == a.json()["id"], (a.json(), b.json())

    server.wait_status(a.json()["id"], "delivered")
    time.sleep(0.5)  # a second send, if any, would have arrived by now
    got = server.handset_with_text(JORDAN, text)
    assert len(got) == 1, "handset received %d copies: %r" % (len(got), got)
    stored = [m for m in server.conv_messages(JORDAN) if m["text"] == text]
    assert len(stored) == 1, stored

    # Replay after delivery still answers with the same message.
    c = server.send(JORDAN, text, idempotency_key=key)
    assert c.status_code == 202, c.text
    assert c.json()["id"] == a.json()["id"]
    time.sleep(0.3)
    assert len(server.handset_with_text(JORDAN, text)) == 1


def test_same_key_different_body_conflicts(server):
    key = uuid.uuid4().hex
    text = unique("first body")
    a = server.send(JORDAN, text, idempotency_key=key)
    assert a.status_code == 202, a.text
    server.wait_status(a.json()["id"], "delivered")
    before = server.conv_messages(JORDAN)

    other = unique("second body")
    r = server.send(JORDAN, other, idempotency_key=key)
    assert r.status_code == 409, "different body, same key -> %s %s" % (
        r.status_code, r.text)
    assert r.json()["error"]["code"] == "idempotency_conflict", r.json()
    time.sleep(0.3)
    assert server.handset_with_text(JORDAN, other) == []
    assert server.conv_messages(JORDAN) == before


def test_different_keys_send_twice(server):
    text = unique("two keys")
    a = server.send(JORDAN, text, idempotency_key=uuid.uuid4().hex)
    b = server.send(JORDAN, text, idempotency_key=uuid.uuid4().hex)
    assert a.status_code == 202 and b.status_code == 202, (a.text, b.text)
    assert a.json()["id"] != b.json()["id"]
    wait_for(lambda: len(server.handset_with_text(JORDAN, text)) == 2,
             desc="two copies on the handset")
