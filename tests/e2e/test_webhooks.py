"""Webhooks to the clinic's app: endpoints managed through the API and the
CLI, Standard Webhooks signatures checked by this suite's own verifier,
commit order, retries, dead letters, replays, 410 and the failing-endpoint
rule, rotation, URL safety, and the changes feed that catches up."""
import time

import pytest
import requests

from e2e_helpers import JORDAN, PRIYA, make_png, unique, wait_for
from webhook_receiver import BadSignature, Receiver, verify

# Quick retries, so a test sees the whole schedule; the real default is the
# Standard Webhooks one (docs/webhooks.md).
pytestmark = pytest.mark.lyrebird_env(
    LYREBIRD_EVENTS_RETRY_SCHEDULE="1s, 1s",
    LYREBIRD_EVENTS_TIMEOUT_SECONDS="2",
    LYREBIRD_SIM_DR_DELAY_MS="200")


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def add_endpoint(server, url, events=None, description=None):
    body = {"url": url}
    if events is not None:
        body["events"] = events
    if description is not None:
        body["description"] = description
    r = server.api("POST", "/api/v1/webhook-endpoints", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["secret"].startswith("whsec_"), out
    return out["endpoint"], out["secret"]


def deliveries(server, ep_id):
    r = server.api("GET", "/api/v1/webhook-endpoints/%s/deliveries" % ep_id)
    assert r.status_code == 200, r.text
    return r.json()["deliveries"]


def endpoint(server, ep_id):
    r = server.api("GET", "/api/v1/webhook-endpoints/" + ep_id)
    assert r.status_code == 200, r.text
    return r.json()["endpoint"]


def received_text(receiver, text, path="/hook"):
    return [d for d in receiver.at(path, "message.received")
            if d.data["message"]["text"] == text]


def test_a_reply_arrives_signed_with_the_api_s_message(server, receiver):
    ep, secret = add_endpoint(server, receiver.url(), description="clinic app")
    assert ep["url"] == receiver.url() and ep["enabled"] is True, ep
    assert ep["events"] == ["*"] and ep["description"] == "clinic app", ep
    # The secret is shown once: never in a read.
    assert "secret" not in endpoint(server, ep["id"])
    assert secret not in server.api("GET", "/api/v1/webhook-endpoints").text

    text = unique("reply")
    server.handset_send(PRIYA, text)
    d = wait_for(lambda: received_text(receiver, text), desc="the reply")[0]
    env = verify(secret, d.headers, d.body)
    assert d.id.startswith("evt_") and len(d.id) == 30, d.id
    assert d.headers["content-type"] == "application/json"
    assert abs(int(d.headers["webhook-timestamp"]) - time.time()) < 60
    assert set(env) == {"type", "timestamp", "data"}, env
    assert env["type"] == "message.received"
    assert env["data"]["patient"] == PRIYA
    # data holds the API's own message object.
    msg = env["data"]["message"]
    api = server.message(msg["id"])
    api.pop("history")
    assert msg == api, (msg, api)

    with pytest.raises(BadSignature):
        verify("whsec_" + "A" * 43 + "=", d.headers, d.body)
    with pytest.raises(BadSignature):
        verify(secret, d.headers, d.body + b" ")


def test_each_status_change_arrives_in_commit_order(server, receiver):
    ep, secret = add_endpoint(server, receiver.url(), events=["message.status"])
    assert ep["events"] == ["message.status"]
    m = server.send_ok(JORDAN, unique("status"), metadata={"appointment": "A-7"},
                       client_reference="booking-42")
    mine = lambda: [d for d in receiver.at("/hook")
                    if d.data["message"]["id"] == m["id"]]
    wait_for(lambda: any(d.data["status"] == "delivered" for d in mine()),
             desc="delivered")
    got = mine()
    for d in got:
        verify(secret, d.headers, d.body)
        assert d.type == "message.status"
        assert d.data["message"]["metadata"] == {"appointment": "A-7"}
        assert d.data["message"]["client_reference"] == "booking-42"
        assert d.data["final"] == (d.data["status"] == "delivered")
        assert d.data["status"] == d.data["message"]["status"]
    assert [d.data["status"] for d in got] == [
        "queued", "sending", "sent", "delivered"], got
    assert got[0].data["reason"], got[0].data  # why it goes as it goes
    # Only what it asked for.
    assert not receiver.at("/hook", "message.received")
    ids = [d.id for d in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids


def test_a_photo_reply_carries_short_lived_urls_that_need_no_key(
        server, receiver):
    _, secret = add_endpoint(server, receiver.url(), events=["message.received"])
    text = unique("photo")
    server.handset_send(PRIYA, text, media=[("image/png", make_png(16, 16))])
    d = wait_for(lambda: received_text(receiver, text), desc="the photo")[0]
    verify(secret, d.headers, d.body)
    media = d.data["message"]["media"]
    assert len(media) == 1, media
    item = media[0]
    assert item["content_type"] in ("image/png", "image/jpeg"), item
    assert item["bytes"] > 0 and item["id"], item
    url = item["download_url"]
    assert "/p/media/%s/" % item["id"] in url, url
    assert item["download_expires_at"] > d.envelope["timestamp"]
    got = requests.get(url, timeout=10)  # no key
    assert got.status_code == 200, got.text
    assert len(got.content) == item["bytes"]
    assert got.headers["Content-Type"].startswith(item["content_type"])
    # The same URL with its signature changed is refused.
    bad = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    assert requests.get(bad, timeout=10).status_code in (403, 404)


def test_failures_are_retried_with_the_same_id_and_hold_back_the_next(
        server, receiver):
    ep, secret = add_endpoint(server, receiver.url())
    tries = []

    def flaky(d):
        tries.append(d)
        return 503 if len(tries) <= 2 else 200
    receiver.answer("/hook", flaky)
    first, second = unique("first"), unique("second")
    server.handset_send(PRIYA, first)
    wait_for(lambda: received_text(receiver, first), desc="a first attempt")
    server.handset_send(PRIYA, second)
    wait_for(lambda: received_text(receiver, second), timeout=15,
             desc="the second reply, after the first got through")
    firsts = received_text(receiver, first)
    assert len(firsts) == 3, firsts
    assert len({d.id for d in firsts}) == 1  # one event, three attempts
    stamps = [int(d.headers["webhook-timestamp"]) for d in firsts]
    assert stamps == sorted(stamps), stamps
    for d in firsts:
        verify(secret, d.headers, d.body)
    # In order: nothing of the second before the first was delivered.
    order = [d.data["message"]["text"] for d in receiver.at("/hook")]
    assert order.index(second) > len(order) - 1 - order[::-1].index(first)
    log = deliveries(server, ep["id"])
    mine = [a for a in log if a["event_id"] == firsts[0].id]
    assert [a["outcome"] for a in reversed(mine)] == [
        "retrying", "retrying", "delivered"], mine
    assert [a["attempt"] for a in reversed(mine)] == [1, 2, 3], mine
    assert mine[-1]["status"] == 503 and mine[0]["status"] == 200, mine
    assert all(a["duration_ms"] >= 0 and a["at"] for a in mine), mine


def test_after_the_last_retry_an_event_is_dead_lettered_and_replayable(
        server, receiver):
    ep, _ = add_endpoint(server, receiver.url())
    down = {"on": True}
    receiver.answer("/hook", lambda d: 500 if down["on"] else 200)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    lost = unique("lost")
    server.handset_send(PRIYA, lost)
    # The schedule is "1s, 1s": three attempts, then the next event goes.
    wait_for(lambda: any(a["outcome"] == "dead"
                         for a in deliveries(server, ep["id"])),
             timeout=15, desc="the dead letter")
    assert len(received_text(receiver, lost)) == 3
    down["on"] = False
    later = unique("later")
    server.handset_send(PRIYA, later)
    wait_for(lambda: received_text(receiver, later), desc="the next event")
    lost_id = received_text(receiver, lost)[0].id

    r = server.api("POST", "/api/v1/webhook-endpoints/%s/replay" % ep["id"],
                   json={"since": since})
    assert r.status_code == 202, r.text
    assert r.json()["endpoint"] == ep["id"]
    wait_for(lambda: len(received_text(receiver, later)) == 2,
             desc="the replay")
    again = received_text(receiver, lost)
    assert len(again) == 4 and again[-1].id == lost_id  # the same webhook-id
    r = server.api("POST", "/api/v1/webhook-endpoints/%s/replay" % ep["id"],
                   json={"since": "yesterday"})
    assert r.status_code == 400, r.text


def test_410_gone_disables_the_endpoint_with_the_reason(server, receiver):
    ep, _ = add_endpoint(server, receiver.url())
    receiver.answer("/hook", lambda d: 410)
    server.handset_send(PRIYA, unique("gone"))
    got = wait_for(lambda: not endpoint(server, ep["id"])["enabled"]
                   and endpoint(server, ep["id"]), desc="disabled")
    assert "410" in got["disabled_reason"], got
    n = len(receiver.at("/hook"))
    server.handset_send(PRIYA, unique("after gone"))
    time.sleep(1.5)
    assert len(receiver.at("/hook")) == n  # nothing more is sent
    # Enabled again, it carries on from where it stopped.
    receiver.answer("/hook", lambda d: 200)
    r = server.api("PATCH", "/api/v1/webhook-endpoints/" + ep["id"],
                   json={"enabled": True})
    assert r.status_code == 200 and r.json()["endpoint"]["enabled"], r.text
    assert r.json()["endpoint"]["disabled_reason"] is None
    wait_for(lambda: len(receiver.at("/hook")) >= n + 2, desc="the backlog")


@pytest.mark.lyrebird_env(LYREBIRD_EVENTS_DISABLE_AFTER="3s",
                          LYREBIRD_EVENTS_RETRY_SCHEDULE="1s, 1s, 1s, 1s, 1s")
def test_an_endpoint_that_fails_every_delivery_for_long_is_disabled(
        server, receiver):
    ep, _ = add_endpoint(server, receiver.url())
    receiver.answer("/hook", lambda d: 500)
    server.handset_send(PRIYA, unique("failing"))
    got = wait_for(lambda: not endpoint(server, ep["id"])["enabled"]
                   and endpoint(server, ep["id"]), timeout=15,
                   desc="disabled after failing")
    assert "every delivery has failed since" in got["disabled_reason"], got
    assert "HTTP 500" in got["disabled_reason"], got
    assert deliveries(server, ep["id"])[0]["outcome"] == "disabled"


def test_a_hanging_or_redirecting_receiver_delays_only_itself(server, receiver):
    slow, _ = add_endpoint(server, receiver.url("/slow"))
    moved, _ = add_endpoint(server, receiver.url("/moved"))
    fast, _ = add_endpoint(server, receiver.url("/fast"))
    receiver.delay("/slow", 5)  # past the 2 s timeout
    receiver.answer("/moved", lambda d: (302, {"Location": receiver.url("/fast")}))
    texts = [unique("burst") for _ in range(3)]
    t0 = time.monotonic()
    for t in texts:
        server.handset_send(PRIYA, t)
    wait_for(lambda: all(received_text(receiver, t, "/fast") for t in texts),
             desc="all three at the fast endpoint")
    assert time.monotonic() - t0 < 2.5, "the fast endpoint waited for the slow"
    log = wait_for(lambda: deliveries(server, slow["id"]), timeout=6)
    assert log[-1]["status"] is None and "no answer" in log[-1]["error"], log
    assert log[-1]["outcome"] == "retrying"
    log = wait_for(lambda: deliveries(server, moved["id"]))
    assert log[-1]["status"] == 302 and "redirect" in log[-1]["error"], log
    # The redirect was not followed: the fast endpoint got each text once.
    for t in texts:
        assert len(received_text(receiver, t, "/fast")) == 1


def test_a_rotated_secret_overlaps_with_the_old_one(server, receiver):
    ep, old = add_endpoint(server, receiver.url())
    r = server.api("POST",
                   "/api/v1/webhook-endpoints/%s/rotate-secret" % ep["id"])
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new.startswith("whsec_") and new != old
    assert r.json()["endpoint"]["previous_secret_until"]
    text = unique("rotated")
    server.handset_send(PRIYA, text)
    d = wait_for(lambda: received_text(receiver, text))[0]
    assert len(d.headers["webhook-signature"].split(" ")) == 2
    verify(new, d.headers, d.body)
    verify(old, d.headers, d.body)


@pytest.mark.lyrebird_env(LYREBIRD_EVENTS_ROTATION_OVERLAP="0s")
def test_without_an_overlap_only_the_new_secret_signs(server, receiver):
    ep, old = add_endpoint(server, receiver.url())
    r = server.api("POST",
                   "/api/v1/webhook-endpoints/%s/rotate-secret" % ep["id"])
    new = r.json()["secret"]
    text = unique("no overlap")
    server.handset_send(PRIYA, text)
    d = wait_for(lambda: received_text(receiver, text))[0]
    verify(new, d.headers, d.body)
    with pytest.raises(BadSignature):
        verify(old, d.headers, d.body)


def test_filters_consent_events_and_link_views(server, receiver):
    _, secret = add_endpoint(server, receiver.url(),
                             events=["patient.opted_out", "link.viewed"])
    server.handset_send(PRIYA, "STOP")
    d = wait_for(lambda: receiver.at("/hook", "patient.opted_out"))[0]
    verify(secret, d.headers, d.body)
    assert d.data["patient"] == PRIYA
    assert d.data["consent"]["state"] == "opted_out", d.data
    assert d.data["consent"]["source"] == "keyword", d.data
    server.handset_send(PRIYA, "START")
    time.sleep(1)
    assert not receiver.at("/hook", "patient.opted_in")
    assert all(d.type in ("patient.opted_out", "link.viewed")
               for d in receiver.at("/hook"))


def test_conversation_read_is_an_event(server, receiver):
    add_endpoint(server, receiver.url(), events=["conversation.read"])
    r = server.api("POST", "/api/v1/conversations/0491570156/read")
    assert r.status_code == 200, r.text
    d = wait_for(lambda: receiver.at("/hook", "conversation.read"))[0]
    assert d.data == {"patient": JORDAN}, d.data


def test_endpoints_are_listed_changed_tested_and_removed(server, receiver):
    ep, secret = add_endpoint(server, receiver.url(), events=["message.status"])
    r = server.api("PATCH", "/api/v1/webhook-endpoints/" + ep["id"],
                   json={"description": "billing", "events": ["message.received",
                                                              "ping"]})
    assert r.status_code == 200, r.text
    assert r.json()["endpoint"]["events"] == ["message.received", "ping"]
    assert r.json()["endpoint"]["description"] == "billing"
    listed = server.api("GET", "/api/v1/webhook-endpoints").json()["endpoints"]
    assert [e["id"] for e in listed] == [ep["id"]]

    r = server.api("POST", "/api/v1/webhook-endpoints/%s/test" % ep["id"])
    assert r.status_code == 200, r.text
    att = r.json()["delivery"]
    assert att["outcome"] == "delivered" and att["status"] == 200, att
    d = wait_for(lambda: receiver.at("/hook", "ping"))[0]
    verify(secret, d.headers, d.body)
    assert d.id == att["event_id"]
    assert deliveries(server, ep["id"])[0]["event_type"] == "ping"

    r = server.api("DELETE", "/api/v1/webhook-endpoints/" + ep["id"])
    assert r.status_code == 204, r.text
    assert server.api("GET", "/api/v1/webhook-endpoints/" + ep["id"]
                      ).status_code == 404
    n = len(receiver.at("/hook"))
    server.handset_send(PRIYA, unique("after removal"))
    time.sleep(1)
    assert len(receiver.at("/hook")) == n
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""),
                         ("POST", "/rotate-secret"), ("GET", "/deliveries"),
                         ("POST", "/test")):
        r = server.api(method, "/api/v1/webhook-endpoints/%s%s" % (ep["id"], path),
                       json={} if method == "PATCH" else None)
        assert r.status_code == 404, (method, path, r.text)


@pytest.mark.parametrize("url, why", [
    ("ftp://example.com/hook", "https"),
    ("not a url", "absolute URL"),
    ("https://user:pw@example.com/hook", "user name"),
    ("", "required"),
])
def test_bad_urls_are_refused_with_the_reason(shared_server, url, why):
    r = shared_server.api("POST", "/api/v1/webhook-endpoints", json={"url": url})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_url", r.text
    assert why in r.json()["error"]["message"], r.text


def test_other_bad_requests_are_400(shared_server):
    for body in ({"url": "https://app.example.com/h", "events": ["message.deleted"]},
                 {"url": "https://app.example.com/h", "events": "message.status"},
                 {"url": "https://app.example.com/h", "secret": "mine"}):
        r = shared_server.api("POST", "/api/v1/webhook-endpoints", json=body)
        assert r.status_code == 400, (body, r.text)
    r = shared_server.api("POST", "/api/v1/webhook-endpoints",
                          json={"url": "https://app.example.com/h",
                                "events": ["message.deleted"]})
    assert "message.received" in r.json()["error"]["message"], r.text


@pytest.mark.lyrebird_env(LYREBIRD_EVENTS_ALLOW_PRIVATE_URLS="false")
def test_without_allow_private_urls_only_public_https_is_taken(server):
    for url, why in (("http://app.example.com/hook", "https"),
                     ("https://127.0.0.1/hook", "loopback"),
                     ("https://10.1.2.3/hook", "private"),
                     ("https://169.254.169.254/latest", "link-local"),
                     ("https://[::1]/hook", "loopback"),
                     ("https://localhost/hook", "loopback")):
        r = server.api("POST", "/api/v1/webhook-endpoints", json={"url": url})
        assert r.status_code == 400, (url, r.text)
        assert why in r.json()["error"]["message"], (url, r.text)
    # A name is checked where it leads, when connecting: this one resolves to
    # loopback (/etc/hosts), and the attempt is refused without a request.
    ep, _ = add_endpoint(server, "https://ip6-localhost:9/hook")
    r = server.api("POST", "/api/v1/webhook-endpoints/%s/test" % ep["id"])
    assert r.status_code == 200, r.text
    att = r.json()["delivery"]
    assert att["outcome"] == "failed" and att["status"] is None, att
    assert ("loopback" in att["error"] or "resolve" in att["error"].lower()), att


def test_the_scope_guards_the_endpoints(server, run_cli):
    p = run_cli(["key", "create", "--name", "reader", "--scopes",
                 "messages:read", "--data", server.data])
    assert p.returncode == 0, p.stderr
    key = p.stdout.strip().splitlines()[-1]
    r = server.raw("GET", "/api/v1/webhook-endpoints",
                   headers={"Authorization": "Bearer " + key})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "insufficient_scope"
    assert "webhooks:manage" in r.json()["error"]["message"]


def test_events_survive_a_crash_after_the_commit(server, receiver):
    ep, secret = add_endpoint(server, receiver.url())
    receiver.answer("/hook", lambda d: 503)
    text = unique("before the crash")
    server.handset_send(PRIYA, text)
    wait_for(lambda: received_text(receiver, text), desc="a failed attempt")
    event_id = received_text(receiver, text)[0].id
    server._kill()  # SIGKILL: no shutdown at all
    receiver.answer("/hook", lambda d: 200)
    server.start()
    wait_for(lambda: any(a["event_id"] == event_id and a["outcome"] == "delivered"
                         for a in deliveries(server, ep["id"])), timeout=15,
             desc="the event delivered after the restart")
    got = received_text(receiver, text)
    assert len(got) >= 2 and {d.id for d in got} == {event_id}, got
    verify(secret, got[-1].headers, got[-1].body)


def test_a_clean_restart_sends_no_delivered_event_again(server, receiver):
    # Delivered events are recorded in batches; a clean stop writes the
    # last one, so the receiver sees each event once across the restart.
    add_endpoint(server, receiver.url(), events=["message.received"])
    texts = [unique("batch %d" % i) for i in range(15)]
    for t in texts:
        server.handset_send(PRIYA, t)
    wait_for(lambda: all(received_text(receiver, t) for t in texts),
             desc="every reply delivered")
    server.restart()
    last = unique("after the restart")
    server.handset_send(PRIYA, last)
    wait_for(lambda: received_text(receiver, last), desc="the next reply")
    time.sleep(0.5)
    ids = [d.id for d in receiver.at("/hook", "message.received")]
    assert len(ids) == len(set(ids)) == len(texts) + 1, ids


def test_a_crash_after_deliveries_loses_none_and_resends_with_the_ids(
        server, receiver):
    ep, secret = add_endpoint(server, receiver.url(),
                              events=["message.received"])
    texts = [unique("crash %d" % i) for i in range(15)]
    for t in texts:
        server.handset_send(PRIYA, t)
    wait_for(lambda: all(received_text(receiver, t) for t in texts),
             desc="every reply delivered")
    server._kill()  # the newest batch of attempts may not be written
    server.start()
    last = unique("after the crash")
    server.handset_send(PRIYA, last)
    wait_for(lambda: received_text(receiver, last), desc="the next reply")
    for t in texts + [last]:
        got = received_text(receiver, t)
        # Sent again at most: the same id and the same signed body.
        assert len({d.id for d in got}) == 1, got
        assert len({d.body for d in got}) == 1, got
        verify(secret, got[-1].headers, got[-1].body)
    last_id = received_text(receiver, last)[0].id
    wait_for(lambda: any(a["event_id"] == last_id and
                         a["outcome"] == "delivered"
                         for a in deliveries(server, ep["id"])),
             desc="the delivery recorded (in its batch)")


def test_a_duplicate_inbound_emits_nothing(server, receiver):
    add_endpoint(server, receiver.url(), events=["message.received"])
    text = unique("once")
    server.handset_send(PRIYA, text, id="MO-dup-1")
    wait_for(lambda: received_text(receiver, text))
    # The provider sends it again: stored once, announced once.
    server.handset_send(PRIYA, text, id="MO-dup-1")
    time.sleep(1)
    assert len(received_text(receiver, text)) == 1


# ---- the changes feed ------------------------------------------------------

def feed(server, **params):
    r = server.api("GET", "/api/v1/messages", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_feed_catches_up_in_pages_with_each_message_once(server):
    start = feed(server)
    assert isinstance(start["cursor"], str)
    while start["has_more"]:
        start = feed(server, updated_since=start["cursor"])
    cursor = start["cursor"]
    sent = [server.send_ok(JORDAN, unique("feed %d" % i)) for i in range(5)]
    for m in sent:
        server.wait_status(m["id"], "delivered")
    seen, pages = [], 0
    page = {"has_more": True, "cursor": cursor}
    while page["has_more"]:
        page = feed(server, updated_since=page["cursor"], limit=2)
        seen += page["messages"]
        pages += 1
        assert len(page["messages"]) <= 2
    ids = [m["id"] for m in seen]
    assert sorted(ids) == sorted(m["id"] for m in sent), ids
    assert len(set(ids)) == len(ids), "a message twice in one catch-up"
    assert pages >= 3
    assert all(m["status"] == "delivered" for m in seen), seen
    # Nothing new: empty, and the cursor stays.
    again = feed(server, updated_since=page["cursor"])
    assert again["messages"] == [] and again["cursor"] == page["cursor"]
    assert again["has_more"] is False
    # A later change brings the message back, at its new place.
    server.handset_send(PRIYA, unique("later"))
    later = wait_for(lambda: feed(server, updated_since=page["cursor"])["messages"])
    assert later[0]["direction"] == "inbound"


def test_the_feed_refuses_bad_cursors_and_limits(shared_server):
    for params in ({"updated_since": "abc"}, {"updated_since": "-1"},
                   {"limit": "0"}, {"limit": "501"}, {"limit": "ten"}):
        r = shared_server.api("GET", "/api/v1/messages", params=params)
        assert r.status_code == 400, (params, r.text)


def test_metadata_is_checked_stored_and_returned(shared_server):
    m = shared_server.send_ok(JORDAN, unique("meta"),
                              metadata={"a": "1", "patient_id": "P-9"},
                              client_reference="ref-9")
    got = shared_server.message(m["id"])
    assert got["metadata"] == {"a": "1", "patient_id": "P-9"}
    assert got["client_reference"] == "ref-9"
    plain = shared_server.send_ok(JORDAN, unique("no meta"))
    assert plain["metadata"] == {} and plain["client_reference"] is None
    for bad in ({"metadata": {"n": 1}}, {"metadata": ["x"]},
                {"metadata": {"k%d" % i: "v" for i in range(17)}},
                {"metadata": {"k": "v" * 501}},
                {"metadata": {"": "v"}},
                {"client_reference": ""}, {"client_reference": 7},
                {"client_reference": "r" * 129}):
        r = shared_server.send(JORDAN, "x", **bad)
        assert r.status_code == 400, (bad, r.text)


def test_the_cli_manages_endpoints(server, receiver, run_cli):
    def cli(*args):
        p = run_cli(["webhook"] + list(args) + ["--data", server.data])
        return p
    p = cli("add", "--url", receiver.url(), "--events",
            "message.received,ping", "--description", "from the shell")
    assert p.returncode == 0, p.stderr
    ep_id = p.stdout.split()[0]
    secret = p.stdout.strip().splitlines()[-1]
    assert ep_id.startswith("we_") and secret.startswith("whsec_"), p.stdout
    assert "message.received,ping" in p.stdout
    p = cli("list")
    assert p.returncode == 0 and ep_id in p.stdout and secret not in p.stdout

    p = cli("test", ep_id)
    assert p.returncode == 0 and "delivered" in p.stdout, p.stdout + p.stderr
    d = wait_for(lambda: receiver.at("/hook", "ping"))[0]
    verify(secret, d.headers, d.body)
    text = unique("to the cli endpoint")
    server.handset_send(PRIYA, text)
    wait_for(lambda: received_text(receiver, text), desc="within a second of add")
    p = cli("show", ep_id)
    assert p.returncode == 0 and "message.received" in p.stdout, p.stdout
    assert "ping" in p.stdout and "delivered" in p.stdout

    p = cli("rotate-secret", ep_id)
    assert p.returncode == 0, p.stderr
    new = [w for w in p.stdout.split() if w.startswith("whsec_")][0]
    assert new != secret
    p = cli("disable", ep_id)
    assert p.returncode == 0 and "disabled" in p.stdout, p.stdout
    assert endpoint(server, ep_id)["enabled"] is False
    p = cli("enable", ep_id)
    assert p.returncode == 0 and endpoint(server, ep_id)["enabled"] is True
    receiver.answer("/hook", lambda d: 500)
    p = cli("test", ep_id)
    assert p.returncode == 1 and "HTTP 500" in p.stdout, p.stdout
    p = cli("remove", ep_id)
    assert p.returncode == 0, p.stderr
    p = cli("show", ep_id)
    assert p.returncode == 1 and "no endpoint" in p.stderr, p.stderr
    p = cli("add", "--url", "ftp://nope")
    assert p.returncode == 1 and "https" in p.stderr, p.stderr
    p = run_cli(["webhook", "--help"])
    assert p.returncode == 0 and "rotate-secret" in p.stdout
    audit = server.api("GET", "/api/v1/audit").json()["entries"]
    actions = {e["action"] for e in audit}
    assert {"webhook.created", "webhook.secret_rotated", "webhook.changed",
            "webhook.removed"} <= actions, actions
