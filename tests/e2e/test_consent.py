"""A patient's choice: STOP, START and HELP from the handset, enforcement at
queue and send time, the consent history, and staff overrides with a
reason (docs/compliance.md)."""
import time

import pytest

from e2e_helpers import CLINIC_NAME, JORDAN, PRIYA, unique, wait_for

OPT_OUT_REPLY = ("%s: you will get no more messages from this number. Reply "
                 "START to receive them again." % CLINIC_NAME)
OPT_IN_REPLY = ("%s: you will receive messages from this number again. Reply "
                "STOP to stop them." % CLINIC_NAME)


def consent(server, patient):
    r = server.api("GET", "/api/v1/patients/%s/consent" % patient)
    assert r.status_code == 200, r.text
    return r.json()


def opted_out(server, patient):
    return consent(server, patient)["opt_out"]


def stop(server, patient, word="STOP"):
    server.handset_send(patient, word)
    return wait_for(lambda: opted_out(server, patient), desc="the opt-out")


def test_stop_from_the_handset_then_a_send_is_refused_with_409(server):
    got = stop(server, JORDAN)
    assert got["source"] == "keyword", got
    assert "STOP" in got["description"], got
    # The confirmation reaches the handset, from the clinic's number, once.
    wait_for(lambda: server.handset_with_text(JORDAN, OPT_OUT_REPLY),
             desc="the opt-out confirmation")
    r = server.send(JORDAN, unique("After STOP"))
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "opted_out", err
    assert err["source"] == "keyword" and err["since"].endswith("Z"), err
    assert "opted out" in err["message"], err
    # The keyword message is kept in the thread like any other.
    assert any(m["text"] == "STOP" and m["direction"] == "inbound"
               for m in server.conv_messages(JORDAN))
    # The conversation list shows it.
    conv = server.conversation(JORDAN)
    assert conv["opt_out"] and conv["opt_out"]["since"], conv


def test_full_width_case_and_punctuation_still_opt_out(server):
    got = stop(server, PRIYA, "\uff53\uff54\uff4f\uff50\uff01")  # full-width "stop!"
    assert got["source"] == "keyword"
    assert server.send(PRIYA, "x").status_code == 409
    # Words around it make it a message, not a keyword.
    server.handset_send(JORDAN, "please stop texting me at work")
    time.sleep(0.5)
    assert opted_out(server, JORDAN) is None


def test_stop_twice_is_one_opt_out_and_one_confirmation(server):
    stop(server, JORDAN)
    wait_for(lambda: server.handset_with_text(JORDAN, OPT_OUT_REPLY))
    server.handset_send(JORDAN, "Stop.")
    wait_for(lambda: sum(m["text"] == "Stop." for m in server.conv_messages(JORDAN)) == 1)
    time.sleep(0.6)
    assert len(server.handset_with_text(JORDAN, OPT_OUT_REPLY)) == 1
    history = consent(server, JORDAN)["history"]
    assert [e["state"] for e in history] == ["opted_out"], history


@pytest.mark.lyrebird_env(LYREBIRD_SIM_RATE="1")
def test_a_message_queued_before_the_stop_is_never_sent(server):
    # One send a second: the later messages wait in the outbox while the
    # STOP arrives. None of them may reach the carrier afterwards.
    texts = [unique("Queued %d" % i) for i in range(4)]
    ids = [server.send_ok(PRIYA, t)["id"] for t in texts]
    server.handset_send(PRIYA, "STOP")
    finals = [server.wait_status(i, ("delivered", "failed"), timeout=20) for i in ids]
    stopped = [m for m in finals if m["status"] == "failed"]
    assert stopped, "every message went before the STOP: %r" % finals
    for m in stopped:
        assert m["error"]["code"] == "opted_out", m
        assert m["error"]["retryable"] is False, m
        # The carrier never saw it: the handset has nothing with its text.
        assert server.handset_with_text(PRIYA, m["text"]) == []
        # Not turned into a link either.
        assert m["route"]["plan"] == "sms", m


def test_start_opts_back_in_and_sending_works_again(server):
    stop(server, JORDAN)
    server.handset_send(JORDAN, "Start")
    wait_for(lambda: opted_out(server, JORDAN) is None, desc="the opt-in")
    wait_for(lambda: server.handset_with_text(JORDAN, OPT_IN_REPLY),
             desc="the opt-in confirmation")
    m = server.send_ok(JORDAN, unique("Welcome back"))
    server.wait_status(m["id"], "delivered")
    history = consent(server, JORDAN)["history"]
    assert [(e["state"], e["source"]) for e in history] == [
        ("opted_out", "keyword"), ("opted_in", "keyword")], history
    assert history[0]["message"] and history[0]["at"] < history[1]["at"]


def test_help_gets_the_help_text(server):
    server.handset_send(PRIYA, "help")
    got = wait_for(lambda: [m for m in server.handset(PRIYA)
                            if m.get("text", "").startswith(CLINIC_NAME + ": this number")],
                   desc="the help reply")
    assert "(02) 5550 1234" in got[0]["text"], got  # [clinic] phone
    assert "STOP" in got[0]["text"]
    assert opted_out(server, PRIYA) is None


@pytest.mark.lyrebird_env(LYREBIRD_SIM_ANSWERS_KEYWORDS="true")
def test_no_second_confirmation_where_the_provider_answers_keywords(server):
    stop(server, JORDAN)
    # The carrier answers by itself (as Twilio does) ...
    wait_for(lambda: [m for m in server.handset(JORDAN) if "(carrier)" in m.get("text", "")],
             desc="the carrier's own reply")
    time.sleep(0.6)
    # ... so lyrebird sends nothing: one confirmation on the handset.
    assert server.handset_with_text(JORDAN, OPT_OUT_REPLY) == []
    assert not [m for m in server.conv_messages(JORDAN) if m["direction"] == "outbound"]
    # The choice is still recorded and enforced.
    assert server.send(JORDAN, "x").status_code == 409


def test_staff_override_needs_a_reason_and_is_recorded(server, run_cli):
    stop(server, JORDAN)
    r = server.api("POST", "/api/v1/patients/%s/opt-in" % JORDAN, json={})
    assert r.status_code == 400 and r.json()["error"]["code"] == "reason_required", r.text
    r = server.api("POST", "/api/v1/patients/%s/opt-in" % JORDAN, json={"reason": "  "})
    assert r.status_code == 400, r.text
    assert opted_out(server, JORDAN)
    r = server.api("POST", "/api/v1/patients/%s/opt-in" % JORDAN,
                   json={"reason": "consent given in person on 3 Dec"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["changed"] is True and body["opt_out"] is None, body
    assert body["event"]["source"] == "api" and body["event"]["reason"] == \
        "consent given in person on 3 Dec", body
    assert server.send(JORDAN, unique("Hello again")).status_code == 202

    # The command refuses without a reason, and records who ran it.
    env = dict(server.env)
    p = run_cli(["patient", "opt-out", JORDAN, "--data", server.data], env=env)
    assert p.returncode == 2 and "--reason" in p.stderr, p.stderr
    p = run_cli(["patient", "opt-out", JORDAN, "--reason", "asked by phone",
                 "--data", server.data], env=env)
    assert p.returncode == 0, p.stderr
    p = run_cli(["patient", "show", JORDAN, "--data", server.data], env=env)
    assert p.returncode == 0, p.stderr
    assert "OPTED OUT" in p.stdout and "asked by phone" in p.stdout, p.stdout
    history = consent(server, JORDAN)["history"]
    assert [e["source"] for e in history] == ["keyword", "api", "staff"], history
    assert history[2]["by"], history
    # And the override is on the audit log.
    r = server.api("GET", "/api/v1/audit", params={"patient": JORDAN})
    actions = [e["action"] for e in r.json()["entries"]]
    assert "consent.opted_in" in actions and "consent.opted_out" in actions, actions


def test_opt_out_events_reach_the_live_stream(server):
    import requests
    events = []
    with requests.get(server.url("/api/v1/events"), stream=True, timeout=10,
                      headers={"Authorization": "Bearer " + server.key}) as r:
        server.handset_send(PRIYA, "STOP")
        deadline = time.monotonic() + 8
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("event:") and "patient.opted_out" in line:
                events.append(line)
                continue
            if events and line.startswith("data:") and '"consent"' in line:
                events.append(line)
                break
            if time.monotonic() > deadline:
                break
    assert len(events) == 2 and '"opted_out"' in events[1], events
