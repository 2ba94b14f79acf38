"""Working as a team: a conversation's state (done hides it until the
patient writes again), its assignee, the list's filters, internal notes
(never sent, kept in the export and the audit), and the live events."""
import io
import json
import zipfile

import pytest

from e2e_helpers import (DEMO_PASSWORD, DEMO_USER, JORDAN, PRIYA, add_user,
                         sign_in, unique, wait_for)
from test_events import open_stream

pytestmark = pytest.mark.lyrebird_env(LYREBIRD_DEMO_PASSWORD=DEMO_PASSWORD)


def patch(server, patient, **body):
    return server.api("PATCH", "/api/v1/conversations/" + patient, json=body)


def wrote(server, patient, text):
    """The patient's message, once it is stored (a seeded conversation is
    listed before it arrives)."""
    server.handset_send(patient, text)
    wait_for(lambda: any(m.get("text") == text
                         for m in server.conv_messages(patient)),
             desc="the patient's message stored")


def listed(server, **params):
    r = server.api("GET", "/api/v1/conversations", params=params)
    assert r.status_code == 200, r.text
    return [c["patient"] for c in r.json()["conversations"]]


def test_done_hides_a_conversation_until_the_patient_writes(server):
    wrote(server, JORDAN, unique("hello"))
    r = patch(server, JORDAN, state="done")
    assert r.status_code == 200, r.text
    assert r.json() == {"patient": JORDAN, "state": "done", "assigned_to": None}
    assert JORDAN not in listed(server)
    assert JORDAN in listed(server, state="done")
    assert JORDAN in listed(server, state="all")
    # Staff writing does not reopen it; the patient writing does.
    server.send_ok(JORDAN, unique("see you then"))
    assert JORDAN not in listed(server)
    server.handset_send(JORDAN, unique("one more thing"))
    wait_for(lambda: JORDAN in listed(server), desc="the reply reopens it")
    conv = server.conversation(JORDAN)
    assert conv["state"] == "open", conv
    assert patch(server, JORDAN, state="later").status_code == 400
    assert patch(server, JORDAN).status_code == 400
    assert patch(server, "+61491570199", state="done").status_code == 404


def test_assignment_to_staff_and_the_filters(server):
    add_user(server, "sam.ng", "sam-password-0123456789")
    wrote(server, JORDAN, unique("hi"))
    wrote(server, PRIYA, unique("hi"))
    r = patch(server, JORDAN, assigned_to=DEMO_USER)
    assert r.status_code == 200 and r.json()["assigned_to"] == DEMO_USER, r.text
    assert server.conversation(JORDAN)["assigned_to"] == DEMO_USER

    staff = sign_in(server)
    mine = staff.request("GET", "/api/v1/conversations?assigned=mine")
    assert mine.status_code == 200, mine.text
    assert [c["patient"] for c in mine.json()["conversations"]] == [JORDAN]
    un = [c["patient"] for c in staff.request(
        "GET", "/api/v1/conversations?assigned=unassigned").json()["conversations"]]
    assert PRIYA in un and JORDAN not in un
    # An API key is no one: "mine" is refused, with the reason.
    r = server.api("GET", "/api/v1/conversations", params={"assigned": "mine"})
    assert r.status_code == 400 and "API key" in r.json()["error"]["message"]
    assert server.api("GET", "/api/v1/conversations",
                      params={"assigned": "everyone"}).status_code == 400

    # Handed to a colleague, by a signed-in staff member.
    r = staff.request("PATCH", "/api/v1/conversations/" + JORDAN,
                      json={"assigned_to": "sam.ng"})
    assert r.status_code == 200 and r.json()["assigned_to"] == "sam.ng", r.text
    # Only active staff accounts.
    r = patch(server, JORDAN, assigned_to="nobody")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_user"
    r = server.api("PATCH", "/api/v1/users/sam.ng", json={"disabled": True})
    assert r.status_code == 200, r.text
    r = patch(server, PRIYA, assigned_to="sam.ng")
    assert r.status_code == 400 and "disabled" in r.json()["error"]["message"]
    r = patch(server, JORDAN, assigned_to=None)
    assert r.status_code == 200 and r.json()["assigned_to"] is None
    # Audited: who assigned, and who changed the state.
    patch(server, JORDAN, state="done")
    rows = server.api("GET", "/api/v1/audit",
                      params={"patient": JORDAN}).json()["entries"]
    assigned = [e for e in rows if e["action"] == "conversation.assigned"]
    assert [e["detail"]["to"] for e in assigned] == [DEMO_USER, "sam.ng", ""], rows
    assert assigned[1]["actor"] == {"kind": "user", "name": DEMO_USER}
    assert any(e["action"] == "conversation.state_changed"
               and e["detail"] == {"from": "open", "to": "done"} for e in rows)


def test_a_note_is_never_sent_and_is_kept_in_thread_export_and_audit(server):
    sent = server.send_ok(PRIYA, unique("reminder"))
    server.wait_status(sent["id"], "delivered")
    before = len(server.handset(PRIYA))
    text = unique("Internal: she prefers mornings")
    staff = sign_in(server)
    r = staff.request("POST", "/api/v1/conversations/%s/notes" % PRIYA,
                      json={"text": text})
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["kind"] == "note" and note["text"] == text
    assert note["author"] == DEMO_USER and note["author_kind"] == "user"
    # Inline in the thread when asked for, after the message.
    items = server.conv_messages(PRIYA, include="notes")
    assert [x.get("kind") for x in items][-1] == "note", items
    assert items[-1]["id"] == note["id"]
    assert all(x.get("kind") != "note" for x in server.conv_messages(PRIYA))
    later = server.send_ok(PRIYA, unique("later"))
    items = server.conv_messages(PRIYA, include="notes")
    assert [x["id"] for x in items][-2:] == [note["id"], later["id"]]
    listed_notes = server.api("GET", "/api/v1/conversations/%s/notes" % PRIYA)
    assert listed_notes.json()["notes"][0]["id"] == note["id"]
    # Never sent: the handset gets the later message, never the note.
    server.wait_status(later["id"], "delivered")
    got = server.handset(PRIYA)
    assert len(got) == before + 1, got
    assert all(text not in (m.get("text") or "") for m in got), got
    # Bounded, and not empty.
    r = server.api("POST", "/api/v1/conversations/%s/notes" % PRIYA,
                   json={"text": "x" * 2001})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_note"
    assert server.api("POST", "/api/v1/conversations/%s/notes" % PRIYA,
                      json={"text": "  "}).status_code == 400
    assert server.api("POST", "/api/v1/conversations/+61491570199/notes",
                      json={"text": "who?"}).status_code == 404
    # In the export, and in the audit (who wrote it, not what).
    z = zipfile.ZipFile(io.BytesIO(server.api(
        "GET", "/api/v1/patients/%s/export" % PRIYA).content))
    doc = json.loads(z.read("thread.json"))
    assert [n["text"] for n in doc["notes"]] == [text]
    assert "Internal note by " + DEMO_USER in z.read("thread.html").decode()
    rows = server.api("GET", "/api/v1/audit",
                      params={"patient": PRIYA}).json()["entries"]
    made = [e for e in rows if e["action"] == "note.created"]
    assert len(made) == 1, rows
    assert made[0]["actor"] == {"kind": "user", "name": DEMO_USER}, rows
    assert made[0]["subject"] == note["id"]
    assert text not in json.dumps(rows)


def test_team_changes_are_live_events(server):
    wrote(server, JORDAN, unique("hi"))
    with open_stream(server) as s:
        assert patch(server, JORDAN, assigned_to=DEMO_USER).status_code == 200
        ev = s.until(lambda e: e["event"] == "conversation.assigned",
                     desc="the assignment")[-1]
        assert ev["data"] == {"patient": JORDAN, "state": "open",
                              "assigned_to": DEMO_USER, "by": "[api] key"}
        assert patch(server, JORDAN, state="done").status_code == 200
        ev = s.until(lambda e: e["event"] == "conversation.state_changed",
                     desc="the state change")[-1]
        assert ev["data"]["state"] == "done", ev
        r = server.api("POST", "/api/v1/conversations/%s/notes" % JORDAN,
                       json={"text": "note for the team"})
        ev = s.until(lambda e: e["event"] == "note.created",
                     desc="the note")[-1]
        assert ev["data"]["note"] == r.json(), ev
        # A change to what already is emits nothing and records nothing.
        assert patch(server, JORDAN, state="done").status_code == 200
        # The patient writes: open again, by no one, after the message.
        server.handset_send(JORDAN, unique("still there?"))
        seen = s.until(lambda e: e["event"] == "conversation.state_changed",
                       desc="the reopening")
        assert seen[-1]["data"] == {"patient": JORDAN, "state": "open",
                                    "assigned_to": DEMO_USER, "by": None}
        kinds = [e["event"] for e in seen]
        assert "message.received" in kinds, kinds
        # Nothing was done twice: the assignment and note were not repeated.
        assert kinds.count("conversation.state_changed") == 1, kinds


def test_notes_come_once_each_with_the_page_they_were_written_in(server):
    """Paging back through a thread with ?include=notes shows every note
    once, between the messages it was written between."""
    r = server.api("GET", "/api/v1/conversations/%s/messages" % JORDAN,
                   params={"include": "everything"})
    assert r.status_code == 400
    order = []
    for i in range(3):
        order.append(server.send_ok(JORDAN, unique("m%d" % i))["id"])
        n = server.api("POST", "/api/v1/conversations/%s/notes" % JORDAN,
                       json={"text": "note %d" % i})
        assert n.status_code == 201, n.text
        order.append(n.json()["id"])
    seen, before = [], None
    while True:
        params = {"include": "notes", "limit": 2}
        if before:
            params["before"] = before
        page = server.conv_messages(JORDAN, **params)
        if not page:
            break
        seen = [x["id"] for x in page] + seen
        msgs = [x for x in page if x.get("kind") != "note"]
        if len(msgs) < 2:
            break
        before = msgs[0]["id"]
    mine = [x for x in seen if x in order]
    assert mine == order, (mine, order)


def test_the_filters_apply_to_a_search_in_message_text(server):
    word = unique("zebrafinch").replace("-", "")
    server.handset_send(PRIYA, "about the %s appointment" % word)
    wait_for(lambda: PRIYA in listed(server, q=word), desc="found by its text")
    assert patch(server, PRIYA, state="done").status_code == 200
    assert PRIYA not in listed(server, q=word)
    assert PRIYA in listed(server, q=word, state="done")
    assert PRIYA in listed(server, q=word, state="all", assigned="unassigned")
    assert patch(server, PRIYA, assigned_to=DEMO_USER).status_code == 200
    assert PRIYA not in listed(server, q=word, state="all",
                               assigned="unassigned")
