"""Nothing is lost across a restart, and the outbox resumes."""
import os
import time

import pytest

from e2e_helpers import JORDAN, PRIYA, make_png, unique, wait_for, same_png
import store_db


def test_restart_keeps_messages_conversations_and_media(server):
    text = unique("Before restart")
    m = server.send_ok(JORDAN, text)
    d = server.wait_status(m["id"], "delivered")
    reply = unique("Reply before restart")
    server.handset_send(PRIYA, reply)
    wait_for(lambda: [x for x in server.conv_messages(PRIYA) if x["text"] == reply],
             desc="inbound reply")
    png = make_png(5, 5)
    up = server.upload(png).json()
    convs_before = server.conversations()

    server.restart()

    after = server.message(m["id"])
    assert after["status"] == "delivered", after
    assert after["text"] == text
    assert after["provider_message_id"] == d["provider_message_id"]
    assert [h["status"] for h in after["history"]] == [h["status"] for h in d["history"]]
    assert [x["id"] for x in server.conv_messages(JORDAN)].count(m["id"]) == 1
    replies = [x for x in server.conv_messages(PRIYA) if x["text"] == reply]
    assert len(replies) == 1 and replies[0]["status"] == "received", replies
    assert server.conversations() == convs_before
    g = server.api("GET", "/api/v1/media/" + up["id"])
    assert g.status_code == 200 and same_png(g.content, png)
    # Nothing was sent again on startup (the simulated carrier's own
    # memory does not survive the restart, so ask lyrebird).
    time.sleep(0.3)
    again = server.message(m["id"])
    assert again["attempts"] == d["attempts"], again
    assert len(again["history"]) == len(d["history"]), again


@pytest.mark.lyrebird_env(LYREBIRD_SIM_SEND_FAILURE_RATE="1",
                          LYREBIRD_OUTBOX_BACKOFF_BASE_MS="1000")
def test_queued_message_is_sent_after_restart(server):
    text = unique("Queued across restart")
    m = server.send_ok(JORDAN, text)

    def queued_after_attempt():
        x = server.message(m["id"])
        return x if x["attempts"] >= 1 and x["status"] == "queued" else None
    q = wait_for(queued_after_attempt, desc="a failed attempt, back in queued")
    assert q["error"] is None or q["error"].get("retryable") is not False, q
    time.sleep(0.3)
    assert server.message(m["id"])["status"] in ("queued", "sending")
    assert server.handset_with_text(JORDAN, text) == []

    server.restart(LYREBIRD_SIM_SEND_FAILURE_RATE="0")

    d = server.wait_status(m["id"], "delivered", timeout=15)
    assert d["attempts"] >= 2, d
    got = server.handset_with_text(JORDAN, text)
    assert len(got) == 1, got


@pytest.mark.lyrebird_env(LYREBIRD_SIM_SEND_FAILURE_RATE="1",
                          LYREBIRD_OUTBOX_BACKOFF_BASE_MS="1000")
def test_message_queued_for_a_provider_since_removed_fails_without_a_crash(server):
    # A message waits in the queue for a provider that the configuration
    # no longer has (here: it was queued for Twilio, and the clinic moved
    # back to the simulated carrier). The worker must not crash on it, and
    # must not send it from another provider.
    text = unique("Queued for a provider that is gone")
    m = server.send_ok(JORDAN, text)
    wait_for(lambda: server.message(m["id"])["attempts"] >= 1,
             desc="a failed attempt")
    server.stop()
    db = store_db.connect(server)
    with db:
        db.execute("UPDATE messages SET provider = 'twilio', status = 'queued',"
                   " next_attempt_at = 0 WHERE id = ?", (m["id"],))
    db.close()
    server.start()

    failed = server.wait_status(m["id"], "failed")
    assert failed["error"]["code"] == "provider_changed", failed
    assert "twilio" in failed["error"]["message"], failed
    assert failed["error"]["retryable"] is False, failed
    assert server.handset_with_text(JORDAN, text) == []
    # The gateway is still up.
    assert server.raw("GET", "/healthz").status_code == 200
