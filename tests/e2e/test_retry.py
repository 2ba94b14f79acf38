"""A failed message, in words staff understand, sent again: Retry (a new
attempt of the same message, its history kept) and Edit and resend (a new
message linked to the first). Both audited, both refused for a patient who
opted out, and neither possible for a message still on its way."""

import json
import pytest

from e2e_helpers import JORDAN, PRIYA, demo_db, statuses, unique, wait_for
import store_db


def phone(server, e164, off):
    r = server.raw("POST", "/sim/handsets/%s/state" % e164,
                   json={"switched_off": off})
    assert r.status_code == 200, r.text


def audit(server, **params):
    r = server.api("GET", "/api/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def undelivered(server, patient, text):
    phone(server, patient, True)
    m = server.send_ok(patient, text)
    u = server.wait_status(m["id"], "undelivered")
    phone(server, patient, False)
    return u


def status_events(server, mid):
    with store_db.connect(server) as db:
        return [json.loads(r[0]).get("status") for r in db.execute(
            "SELECT payload FROM events "
            "WHERE message_id = ? AND type = 'message.status' ORDER BY seq",
            (mid,))]


def test_phone_off_reads_as_a_sentence_and_retry_delivers_it(server):
    text = unique("Your results are in")
    u = undelivered(server, JORDAN, text)
    f = u["failure"]
    assert f["reason"] == "phone_unreachable", u
    assert "phone was off or out of range" in f["message"], f
    assert "call them" in f["action"], f
    assert f["details"]["code"] == "absent_subscriber", f
    assert u["can_retry"] is True and u["resend_of"] is None, u
    assert server.handset_with_text(JORDAN, text) == []

    r = server.api("POST", "/api/v1/messages/%s/retry" % u["id"])
    assert r.status_code == 202, r.text
    again = r.json()
    assert again["id"] == u["id"] and again["status"] == "queued", again
    assert again["failure"] is None and again["can_retry"] is False, again
    d = server.wait_status(u["id"], "delivered")
    # The same message: the handset has it once, and its history keeps
    # the attempt that failed before the one that worked.
    assert len(server.handset_with_text(JORDAN, text)) == 1
    hist = statuses(d)
    assert hist.index("undelivered") < len(hist) - 1 - hist[::-1].index("queued"), hist
    assert hist[-1] == "delivered", hist
    retried = [h for h in d["history"] if h["status"] == "queued"
               and (h["detail"] or "").startswith("retried by")]
    assert len(retried) == 1 and "absent_subscriber" in retried[0]["detail"], d
    # The event log carries the new attempt's statuses.
    ev = status_events(server, u["id"])
    assert ev[ev.index("undelivered") + 1:][:1] == ["queued"], ev
    assert ev[-1] == "delivered", ev
    # Audited.
    rows = [e for e in audit(server, patient=JORDAN)
            if e["action"] == "message.retried"]
    assert len(rows) == 1 and rows[0]["subject"] == u["id"], rows


def test_a_late_receipt_for_the_earlier_attempt_does_not_undo_the_new_one(server):
    u = undelivered(server, JORDAN, unique("Late receipt"))
    old_pmid = u["provider_message_id"]
    assert server.api("POST", "/api/v1/messages/%s/retry" % u["id"]).status_code == 202
    d = server.wait_status(u["id"], "delivered")
    assert d["provider_message_id"] != old_pmid, d
    r = server.hook("status", {"id": old_pmid, "ref": u["id"],
                               "status": "undelivered",
                               "error_code": "absent_subscriber"})
    assert r.status_code == 200, r.text
    after = server.message(u["id"])
    assert after["status"] == "delivered", after
    assert any("earlier attempt" in (h["detail"] or "") for h in after["history"]), after


@pytest.mark.lyrebird_env(LYREBIRD_SIM_SEND_FAILURE_RATE="1",
                          LYREBIRD_OUTBOX_MAX_ATTEMPTS="2",
                          LYREBIRD_OUTBOX_BACKOFF_BASE_MS="50",
                          LYREBIRD_OUTBOX_BACKOFF_MAX_MS="100")
def test_a_send_that_never_reached_the_carrier_is_retried_as_the_same_message(server):
    m = server.send_ok(PRIYA, unique("Carrier down"))
    f = server.wait_status(m["id"], "failed", timeout=15)
    assert f["failure"]["reason"] == "carrier_unavailable", f
    assert f["failure"]["details"]["code"] == "unavailable", f
    assert f["provider_message_id"] is None
    r = server.api("POST", "/api/v1/messages/%s/retry" % m["id"])
    assert r.status_code == 202, r.text
    # A new attempt of its own, with its own tries; still refused here.
    again = server.wait_status(m["id"], "failed", timeout=15)
    hist = statuses(again)
    assert hist.count("failed") == 2 and hist.count("sending") == 4, hist
    assert again["attempts"] == 2, again


@pytest.mark.lyrebird_env(LYREBIRD_SIM_DR_DELAY_MS="600000")
def test_retry_is_refused_while_a_message_is_with_the_carrier_or_delivered(server):
    sent = server.send_ok(JORDAN, unique("Waiting for a receipt"))
    server.wait_status(sent["id"], "sent")
    r = server.api("POST", "/api/v1/messages/%s/retry" % sent["id"])
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "not_retryable" and "sent" in err["message"], err
    r = server.api("POST", "/api/v1/messages/%s/resend" % sent["id"],
                   json={"text": "again"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_retryable"
    assert server.message(sent["id"])["can_retry"] is False
    # Nothing was sent twice.
    assert len(server.handset_with_text(JORDAN, sent["text"])) == 1


def test_retry_refusals_name_the_reason(server):
    d = server.send_ok(JORDAN, unique("Delivered"))
    server.wait_status(d["id"], "delivered")
    r = server.api("POST", "/api/v1/messages/%s/retry" % d["id"])
    assert r.status_code == 409 and "reached the patient" in r.json()["error"]["message"], r.text
    inbound = server.handset_send(PRIYA, unique("Hello from the patient"))
    got = wait_for(lambda: [m for m in server.conv_messages(PRIYA)
                            if m["direction"] == "inbound"], desc="the inbound")
    r = server.api("POST", "/api/v1/messages/%s/retry" % got[0]["id"])
    assert r.status_code == 409 and "from the patient" in r.json()["error"]["message"], r.text
    assert got[0]["failure"] is None and got[0]["can_retry"] is False
    r = server.api("POST", "/api/v1/messages/01HZZZZZZZZZZZZZZZZZZZZZZZ/retry")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    r = server.api("POST", "/api/v1/messages/nope/retry")
    assert r.status_code == 404, r.text
    r = server.api("POST", "/api/v1/messages/%s/retry" % d["id"], json={"x": 1})
    assert r.status_code == 400, r.text
    assert inbound


def test_retry_and_resend_are_refused_for_a_patient_who_opted_out(server):
    u = undelivered(server, JORDAN, unique("Before STOP"))
    server.handset_send(JORDAN, "STOP")
    wait_for(lambda: server.api("GET", "/api/v1/patients/%s/consent" % JORDAN)
             .json()["opt_out"], desc="the opt-out")
    for path, body in (("retry", None), ("resend", {"text": "edited"})):
        r = server.api("POST", "/api/v1/messages/%s/%s" % (u["id"], path),
                       json=body)
        assert r.status_code == 409, r.text
        err = r.json()["error"]
        assert err["code"] == "opted_out" and "START" in err["message"], err
    assert server.message(u["id"])["status"] == "undelivered"
    assert not [e for e in audit(server, patient=JORDAN)
                if e["action"] in ("message.retried", "message.resent")]


def test_edit_and_resend_is_a_new_message_linked_to_the_first(server):
    u = undelivered(server, PRIYA, unique("Typo in thsi"))
    r = server.api("POST", "/api/v1/messages/%s/resend" % u["id"], json={})
    assert r.status_code == 400, r.text
    r = server.api("POST", "/api/v1/messages/%s/resend" % u["id"],
                   json={"text": "x" * 1601})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request", r.text
    fixed = unique("Typo fixed")
    r = server.api("POST", "/api/v1/messages/%s/resend" % u["id"],
                   json={"text": fixed})
    assert r.status_code == 202, r.text
    new = r.json()
    assert new["id"] != u["id"] and new["resend_of"] == u["id"], new
    assert new["to"] == PRIYA and new["text"] == fixed, new
    server.wait_status(new["id"], "delivered")
    assert len(server.handset_with_text(PRIYA, fixed)) == 1
    # The original stays as it was, failed, in the thread.
    assert server.message(u["id"])["status"] == "undelivered"
    rows = [e for e in audit(server, patient=PRIYA)
            if e["action"] == "message.resent"]
    assert len(rows) == 1 and rows[0]["subject"] == new["id"], rows
    assert u["id"] in str(rows[0]["detail"]), rows


def test_resend_keeps_the_media(server):
    from e2e_helpers import make_png
    up = server.upload(make_png(8, 8))
    assert up.status_code == 201, up.text
    phone(server, JORDAN, True)
    m = server.send_ok(JORDAN, "Your x-ray", media=[up.json()["id"]])
    u = server.wait_status(m["id"], "undelivered")
    phone(server, JORDAN, False)
    r = server.api("POST", "/api/v1/messages/%s/resend" % u["id"],
                   json={"text": "Your x-ray, again"})
    assert r.status_code == 202, r.text
    new = r.json()
    assert [x["id"] for x in new["media"]] == [x["id"] for x in u["media"]], new


def test_retry_needs_the_send_scope(server):
    u = undelivered(server, JORDAN, unique("Scoped"))
    r = server.api("POST", "/api/v1/keys",
                   json={"name": "reader", "scopes": ["messages:read"]})
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    for path in ("retry", "resend"):
        r = server.raw("POST", "/api/v1/messages/%s/%s" % (u["id"], path),
                       headers={"Authorization": "Bearer " + secret},
                       json={"text": "x"} if path == "resend" else None)
        assert r.status_code == 403, r.text
