"""Search in what patients wrote: ?q= on the conversation list finds
message text as well as names and numbers, shows the matching message,
never errors on what a receptionist types, forgets a purged message, and
finds a word from an old message among 100,000 (indexed by migration 10)."""
import os
import random
import sqlite3
import string
import time

import pytest

from conftest import Lyrebird, sqlite_only
from e2e_helpers import CLINIC, JORDAN, PRIYA, demo_db, wait_for
import store_db


def word(prefix="w"):
    """A word nobody else wrote: letters only, so it is one token."""
    return prefix + "".join(random.choice(string.ascii_lowercase) for _ in range(10))


def search(server, q, **params):
    r = server.api("GET", "/api/v1/conversations", params=dict(q=q, **params))
    assert r.status_code == 200, "q=%r -> %s %s" % (q, r.status_code, r.text)
    return r.json()["conversations"]


def hits(conv):
    return [p["text"] for p in conv["match"]["snippet"] if p["hit"]]


def patient_writes(server, patient, text):
    server.handset_send(patient, text)
    return wait_for(lambda: [m for m in server.conv_messages(patient)
                             if m["text"] == text], desc="the message from %s" % patient)[0]


def test_a_word_a_patient_wrote_finds_the_message_in_its_conversation(server):
    w = word()
    msg = patient_writes(server, JORDAN, "My knee brace is rubbing, it says %s on the strap" % w)
    patient_writes(server, PRIYA, "Thanks, see you Tuesday")

    got = search(server, w)
    assert [c["patient"] for c in got] == [JORDAN], got
    m = got[0]["match"]
    assert m["message_id"] == msg["id"] and m["direction"] == "inbound", m
    assert m["created_at"] == msg["created_at"] and m["count"] == 1, m
    assert hits(got[0]) == [w], m
    assert "".join(p["text"] for p in m["snippet"]) == msg["text"]

    # Case and the word being typed: the last word is a prefix.
    assert [c["patient"] for c in search(server, w[:5].upper())] == [JORDAN]
    # Every word must be there, in any order.
    assert [c["patient"] for c in search(server, "strap " + w)] == [JORDAN]
    assert search(server, w + " elephantine") == []
    # What the clinic wrote is found too.
    w2 = word("o")
    sent = server.send_ok(PRIYA, "Your %s results are in" % w2)
    got = search(server, w2)
    assert [c["patient"] for c in got] == [PRIYA], got
    assert got[0]["match"]["message_id"] == sent["id"]
    assert got[0]["match"]["direction"] == "outbound"


def test_the_newest_match_is_shown_with_the_count(server):
    w = word()
    patient_writes(server, JORDAN, "first %s" % w)
    newest = patient_writes(server, JORDAN, "second %s again" % w)
    got = search(server, w)
    assert len(got) == 1 and got[0]["match"]["message_id"] == newest["id"], got
    assert got[0]["match"]["count"] == 2


def test_names_and_numbers_still_match(server):
    assert JORDAN in [c["patient"] for c in search(server, "jordan")]
    for q in ("0491 570 156", "+61 491 570 156", "570156"):
        got = search(server, q)
        assert [c["patient"] for c in got] == [JORDAN], (q, got)
        assert got[0]["match"] is None, got
    # Without q there is no match on any conversation.
    assert all(c["match"] is None for c in server.conversations())


def test_what_a_receptionist_types_never_errors(server):
    text = 'He said "call me" AND (maybe) NOT today: o\'brien-smith 100% sure*'
    msg = patient_writes(server, PRIYA, text)
    for q in ['"', '"call me', 'AND', 'OR NOT', 'call AND', 'NOT today', '*', '(', ')',
              'a:b', 'body:call', 'NEAR(call me)', '^', '-', '+', "o'brien", '💊',
              '%_\\', '{}', '"""', ' ', 'é', 'ü"ber', 'a' * 100]:
        search(server, q)  # 200, whatever it finds
    for q in ('"call me"', 'maybe)', 'NOT today', "o'brien", 'smith 100%'):
        got = search(server, q)
        assert PRIYA in [c["patient"] for c in got], (q, got)
        conv = [c for c in got if c["patient"] == PRIYA][0]
        assert conv["match"]["message_id"] == msg["id"], (q, conv)
    # A text holding the bytes the store marks matches with: found, shown
    # plainly, without them.
    w = word("m")
    odd = patient_writes(server, JORDAN, "bell\x01 %s \x02ring" % w)
    got = search(server, w)
    assert [c["patient"] for c in got] == [JORDAN], got
    assert got[0]["match"]["message_id"] == odd["id"]
    assert "".join(p["text"] for p in got[0]["match"]["snippet"]) == "bell %s ring" % w
    assert not any(p["hit"] for p in got[0]["match"]["snippet"])
    # Accents and case do not matter.
    w = word("c")
    patient_writes(server, JORDAN, "Meet at the Café %s" % w)
    assert [c["patient"] for c in search(server, "cafe " + w)] == [JORDAN]
    assert [c["patient"] for c in search(server, "CAFÉ")] == [JORDAN]
    # Words the text does not have find nothing, even as operators.
    assert search(server, 'call OR elephantine') == []
    r = server.api("GET", "/api/v1/conversations", params={"q": "a" * 101})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request", r.text


def fts_rowids(path, w):
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?",
                          ('"%s"' % w,)).fetchall()
        db.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
        return rows
    finally:
        db.close()


@sqlite_only  # reads the FTS5 index in the file
def test_a_purged_message_is_no_longer_found(tmp_path, run_cli):
    srv = Lyrebird(tmp_path / "srv")
    srv.start()
    try:
        old, kept = word(), word()
        patient_writes(srv, PRIYA, "Old news: %s" % old)
        patient_writes(srv, JORDAN, "Still here: %s" % kept)
        assert [c["patient"] for c in search(srv, old)] == [PRIYA]
        srv.stop()
        assert len(fts_rowids(demo_db(srv), old)) == 1
        # Priya's last message is from 2010: past the 7 years the record is kept.
        db = store_db.connect(srv)
        with db:
            db.execute("UPDATE conversations SET last_message_at = 1262304000000, "
                       "created_at = 1262304000000 WHERE patient_e164 = ?", (PRIYA,))
        db.close()
        p = run_cli(["purge", "--data", srv.data], env=dict(srv.env))
        assert p.returncode == 0 and "patients    1" in p.stdout, p.stdout + p.stderr
        # Gone from the index itself, not only from the answers.
        assert fts_rowids(demo_db(srv), old) == []
        assert len(fts_rowids(demo_db(srv), kept)) == 1
        srv.start()
        assert search(srv, old) == []
        assert [c["patient"] for c in search(srv, kept)] == [JORDAN]
    finally:
        srv.stop()


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(ms, n):
    """A message id as lyrebird makes them: 48 bits of milliseconds, then
    80 bits (here a counter, so the ids are unique and in order)."""
    v = (ms << 80) | n
    return "".join(CROCKFORD[(v >> (5 * i)) & 31] for i in reversed(range(26)))


@sqlite_only  # fills a SQLite file at schema version 9
def test_a_word_from_an_old_message_among_100000(tmp_path, run_cli):
    """Made at schema version 9, filled with 100,000 messages in one
    transaction, then started: migration 10 indexes them all, logging its
    progress, and one old message's word finds exactly it."""
    t0 = time.monotonic()
    srv = Lyrebird(tmp_path / "srv")
    p = run_cli(["migrate", "--data", srv.data, "--to", "9"], env=dict(srv.env))
    assert p.returncode == 0 and "to 9" in p.stdout, p.stdout + p.stderr

    convs, per = 1000, 100
    w = word("z")
    start_ms = 1_600_000_000_000
    target = None
    db = store_db.connect(srv)
    with db:
        assert db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == 9
        db.execute("INSERT INTO numbers(e164, name, host_provider, created_at, updated_at) "
                   "VALUES (?, 'WalkEasy Nexus Clinic', 'sim', ?, ?)", (CLINIC, start_ms, start_ms))
        words = ["appointment", "tuesday", "thanks", "script", "referral", "pain",
                 "knee", "results", "booking", "tomorrow", "please", "call"]
        rng = random.Random(16)
        n = 0
        patients, conversations, messages = [], [], []
        for c in range(convs):
            patient = "+614%08d" % (20000000 + c)
            cid = ulid(start_ms, 10_000_000 + c)
            patients.append((patient, start_ms, start_ms))
            last = None
            for i in range(per):
                at = start_ms + (i * convs + c) * 60_000
                mid = ulid(at, n)
                n += 1
                inbound = i % 2 == 0
                body = " ".join(rng.choice(words) for _ in range(8))
                if c == 500 and i == 0:
                    body = "My old %s from the last visit" % w
                    target = (patient, mid)
                messages.append((mid, cid, "inbound" if inbound else "outbound",
                                 patient if inbound else CLINIC, CLINIC if inbound else patient,
                                 body, "received" if inbound else "delivered", "sim", at, at))
                last = (mid, at)
            conversations.append((cid, CLINIC, patient, last[0], last[1], start_ms))
        db.executemany("INSERT INTO patients(e164, created_at, updated_at) VALUES (?, ?, ?)",
                       patients)
        db.executemany("INSERT INTO conversations(id, number_e164, patient_e164, last_message_id, "
                       "last_message_at, unread_count, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
                       conversations)
        db.executemany("INSERT INTO messages(id, conversation_id, direction, from_e164, to_e164, "
                       "body, status, provider, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", messages)
    db.close()
    assert n == 100_000

    srv.start()
    try:
        log = srv.stderr()
        assert "building the search index over 100000 messages" in log, log[-3000:]
        assert "search index: 20000 of 100000 messages" in log, log[-3000:]
        assert "search index: 100000 of 100000 messages" in log, log[-3000:]
        assert "search index built: 100000 messages" in log, log[-3000:]
        r = srv.api("GET", "/healthz")
        assert r.json().get("schema", 0) >= 10, r.text

        got = search(srv, w)
        assert len(got) == 1, got
        assert got[0]["patient"] == target[0]
        assert got[0]["match"]["message_id"] == target[1] and got[0]["match"]["count"] == 1
        assert hits(got[0]) == [w]
        # A word in most messages: bounded by limit, and quick (the bound is
        # loose for a busy test machine; it takes well under 1 s idle).
        t = time.monotonic()
        common = search(srv, "appointment", limit=200)
        assert len(common) == 200 and all(c["match"] for c in common)
        assert all(c["match"]["count"] >= 1 for c in common)
        assert time.monotonic() - t < 5.0
        # The old message is reachable in its thread, page by page.
        before, seen = None, []
        for _ in range(5):
            params = {"limit": 50}
            if before:
                params["before"] = before
            page = srv.conv_messages(target[0], **params)
            if not page:
                break
            seen += [m["id"] for m in page]
            before = page[0]["id"]
        assert target[1] in seen
        # And a message written now is found at once.
        w2 = word()
        patient_writes(srv, target[0], "New today: %s" % w2)
        assert [c["patient"] for c in search(srv, w2)] == [target[0]]
    finally:
        srv.stop()
    assert time.monotonic() - t0 < 60
