"""Several gateway nodes on one database (docs/scaling.md): node ids, outbox
leases and their takeover, wake-ups between processes, sign-in throttles
and sessions shared by the nodes, and filesystem media refused beside
another live node. Two `lyrebird demo` processes share one data directory
here, and so one database: the SQLite file, or on PostgreSQL runs the
directory's database."""
import json
import os
import re
import subprocess
import threading
import time

import pytest
import requests

import store_db
from conftest import STORE, Lyrebird, clean_env
from e2e_helpers import (BIN, DEMO_PASSWORD, DEMO_USER, JORDAN, SESSION_COOKIE,
                         login, make_png, session_token, unique, wait_for)

SHARED = dict(LYREBIRD_MEDIA_SHARED_DIR="true", LYREBIRD_SERVER_NODES="2",
              LYREBIRD_DEMO_PASSWORD=DEMO_PASSWORD)


def now_ms():
    return int(time.time() * 1000)


def db_of(server):
    return store_db.connect(server)


def second_node(server, tmp_path, node_id, **env):
    """Another node on server's data directory (not yet started)."""
    b = Lyrebird(tmp_path / node_id, env=dict(server.env))
    b.env.update(env)
    b.env["LYREBIRD_SERVER_NODE_ID"] = node_id
    b.data = server.data
    return b


@pytest.mark.lyrebird_env(LYREBIRD_SERVER_NODE_ID="clinic-a")
def test_the_node_id_is_logged_and_recorded_at_start(server):
    assert '"event":"app.node"' in server.stderr(), server.stderr()
    line = [l for l in server.stderr().splitlines() if '"app.node"' in l][0]
    assert "node clinic-a" in json.loads(line)["msg"], line
    db = db_of(server)
    row = db.execute("SELECT id, pid, seen_at FROM nodes").fetchall()
    db.close()
    assert [r[0] for r in row] == ["clinic-a"], row
    assert row[0][1] == server.proc.pid
    # A clean stop removes the node: nobody waits for its leases.
    server.stop()
    db = db_of(server)
    assert db.execute("SELECT COUNT(*) FROM nodes").fetchone()[0] == 0
    db.close()


@pytest.mark.lyrebird_env(LYREBIRD_SIM_SEND_FAILURE_RATE="1",
                          LYREBIRD_OUTBOX_BACKOFF_BASE_MS="60000",
                          LYREBIRD_OUTBOX_BACKOFF_MAX_MS="60000",
                          LYREBIRD_OUTBOX_LEASE_SECONDS="3",
                          LYREBIRD_MEDIA_SHARED_DIR="true",
                          LYREBIRD_SERVER_NODE_ID="node-a")
def test_a_live_nodes_lease_is_kept_and_an_expired_one_is_taken_over(server):
    text = unique("Held by another node")
    m = server.send_ok(JORDAN, text)
    wait_for(lambda: server.message(m["id"])["attempts"] >= 1,
             desc="a first (failing) attempt")
    server.stop()

    # Node B (alive: its heartbeat is fresh) is sending the message.
    db = db_of(server)
    with db:
        db.execute("UPDATE messages SET status = 'sending', lease_node = "
                   "'node-b', lease_until = ? WHERE id = ?",
                   (now_ms() + 600000, m["id"]))
        db.execute("INSERT INTO nodes (id, host, pid, media, started_at, "
                   "seen_at) VALUES ('node-b', 'elsewhere', 1, 'fs-shared', "
                   "?, ?)", (now_ms(), now_ms()))
    server.env["LYREBIRD_SIM_SEND_FAILURE_RATE"] = "0"
    server.start()
    # Neither the start nor the keeper (every second here) takes it.
    time.sleep(3.5)
    assert server.message(m["id"])["status"] == "sending"
    assert server.handset_with_text(JORDAN, text) == []

    # Node B dies: its lease runs out, and node A takes the message over.
    with db:
        db.execute("UPDATE messages SET lease_until = ? WHERE id = ?",
                   (now_ms() - 1, m["id"]))
    db.close()
    done = server.wait_status(m["id"], "delivered", timeout=10)
    assert len(server.handset_with_text(JORDAN, text)) == 1
    assert "outbox.takeover" in server.stderr()
    assert "node-b" in server.stderr()
    details = " ".join(h["detail"] or "" for h in done["history"])
    assert "requeued after its node stopped renewing its lease" in details, done


@pytest.mark.lyrebird_env(LYREBIRD_SERVER_NODE_ID="node-a",
                          LYREBIRD_OUTBOX_LEASE_SECONDS="3")
def test_a_claim_carries_this_nodes_lease_and_it_ends_with_the_send(server):
    m = server.send_ok(JORDAN, unique("Leased"))
    server.wait_status(m["id"], ("sent", "delivered"))
    db = db_of(server)
    row = db.execute("SELECT lease_node, lease_until FROM messages WHERE "
                     "id = ?", (m["id"],)).fetchone()
    db.close()
    assert row == (None, None), row


def test_filesystem_media_beside_another_live_node_is_refused(server, tmp_path):
    b_port = str(server.port + 1 if server.port < 65000 else server.port - 1)
    env = dict(server.env, LYREBIRD_SERVER_NODE_ID="node-b")
    p = subprocess.run([BIN, "demo", "--port", b_port, "--data", server.data],
                       env=clean_env(env), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    assert p.returncode != 0
    err = p.stderr.decode("utf-8", "replace")
    assert "[media] store = s3" in err and "shared_dir" in err, err
    # The running node is unharmed.
    assert requests.get(server.url("/healthz"), timeout=5).status_code == 200


def test_a_second_process_with_the_same_node_id_is_refused(server, tmp_path):
    env = dict(server.env, LYREBIRD_MEDIA_SHARED_DIR="true")
    p = subprocess.run([BIN, "demo", "--port", str(server.port + 2),
                        "--data", server.data],
                       env=clean_env(env), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    assert p.returncode != 0
    err = p.stderr.decode("utf-8", "replace")
    assert "is in use" in err and "node_id" in err, err


@pytest.mark.lyrebird_env(LYREBIRD_SERVER_NODE_ID="node-a", **SHARED)
def test_two_nodes_share_the_queue_the_stream_and_sessions(server, tmp_path):
    b = second_node(server, tmp_path, "node-b")
    b.start()
    try:
        # An event committed by node A reaches a stream open on node B at
        # once (B polls only every 10 s as a safety net).
        got, ready = [], threading.Event()

        def listen():
            with requests.get(b.url("/api/v1/events"), stream=True,
                              headers={"Authorization": "Bearer " + b.key},
                              timeout=10) as r:
                ready.set()
                for line in r.iter_lines(decode_unicode=True):
                    if line and line.startswith("data:"):
                        got.append((time.monotonic(), line))
                    if len(got) >= 1 and any(text in l for _, l in got):
                        return
        text = unique("Across nodes")
        t = threading.Thread(target=listen, daemon=True)
        t.start()
        assert ready.wait(10)
        time.sleep(0.3)
        start = time.monotonic()
        m = server.send_ok(JORDAN, text)
        t.join(8)
        seen = [at for at, l in got if text in l]
        assert seen, "node B's stream never showed node A's message"
        assert seen[0] - start < 2.0, seen[0] - start

        # The message goes out once, from whichever node claimed it.
        wait_for(lambda: server.message(m["id"])["status"] in
                 ("sent", "delivered"), desc="sent")
        assert (len(server.handset_with_text(JORDAN, text)) +
                len(b.handset_with_text(JORDAN, text))) == 1

        # A session made on node A works on node B.
        r = login(server)
        assert r.status_code == 200, r.text
        cookie = {"Cookie": "%s=%s" % (SESSION_COOKIE, session_token(r))}
        r = requests.get(b.url("/api/v1/session"), headers=cookie, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["user"]["username"] == DEMO_USER
    finally:
        b.stop()


@pytest.mark.lyrebird_env(LYREBIRD_SERVER_NODE_ID="node-a",
                          LYREBIRD_WEB_LOGIN_MAX_FAILURES="4",
                          LYREBIRD_WEB_LOGIN_LOCKOUT_SECONDS="60", **SHARED)
def test_sign_in_failures_spread_over_two_nodes_lock_as_on_one(server,
                                                               tmp_path):
    b = second_node(server, tmp_path, "node-b")
    b.start()
    try:
        # Four failures, alternating nodes: each node saw only two.
        for node in (server, b, server, b):
            r = login(node, DEMO_USER, "a-wrong-password")
            assert r.status_code == 401, r.text
        for node in (server, b):
            r = login(node)
            assert r.status_code == 429, r.text
            assert r.json()["error"]["code"] == "too_many_attempts"
    finally:
        b.stop()


@pytest.mark.lyrebird_env(LYREBIRD_SIM_SEND_FAILURE_RATE="1",
                          LYREBIRD_OUTBOX_BACKOFF_BASE_MS="60000",
                          LYREBIRD_OUTBOX_BACKOFF_MAX_MS="60000")
def test_work_made_due_by_another_process_goes_out_at_once(server):
    text = unique("Due now")
    m = server.send_ok(JORDAN, text)
    wait_for(lambda: server.message(m["id"])["attempts"] >= 1,
             desc="a first (failing) attempt")
    server.restart(LYREBIRD_SIM_SEND_FAILURE_RATE="0")
    # The outbox now sleeps until the retry a minute away (its safety poll
    # is 10 s). Another process (here: this test) makes it due.
    time.sleep(0.5)
    db = db_of(server)
    with db:
        db.execute("UPDATE messages SET next_attempt_at = ? WHERE id = ?",
                   (now_ms(), m["id"]))
        # SQLite's writer sees any other process's commit; PostgreSQL
        # hears what a node (or here, the test) notifies, as a node does
        # after its commits.
        if STORE == "postgresql":
            db.execute("SELECT pg_notify('lyrebird', 'outbox')")
    db.close()
    start = time.monotonic()
    server.wait_status(m["id"], ("sent", "delivered"), timeout=10)
    assert time.monotonic() - start < 2.0, time.monotonic() - start
    assert len(server.handset_with_text(JORDAN, text)) == 1


def test_a_message_queued_here_goes_out_at_once(server):
    start = time.monotonic()
    m = server.send_ok(JORDAN, unique("Straight away"))
    server.wait_status(m["id"], ("sent", "delivered"), timeout=10)
    assert time.monotonic() - start < 1.0, time.monotonic() - start


@pytest.mark.lyrebird_env(LYREBIRD_SERVER_NODE_ID="node-a",
                          LYREBIRD_OUTBOX_LEASE_SECONDS="3",
                          LYREBIRD_SIM_RATE="4", **SHARED)
def test_a_killed_nodes_messages_are_finished_by_the_survivor(server,
                                                               tmp_path):
    b = second_node(server, tmp_path, "node-b")
    b.start()
    try:
        ids = [server.send_ok(JORDAN, unique("Batch %d" % i))["id"]
               for i in range(16)]
        # Both nodes share the queue and the carrier's rate (4 a second
        # between them), so node A holds messages in sending while it
        # waits for its turns. Kill it there, without warning.
        wait_for(lambda: sum(b.message(i)["status"] in ("sent", "delivered")
                             for i in ids) >= 2, desc="sends under way")
        db = db_of(server)
        held = db.execute("SELECT COUNT(*) FROM messages WHERE status = "
                          "'sending' AND lease_node = 'node-a'").fetchone()[0]
        server._kill()
        # Node B finishes everything: node A's messages once their lease
        # (3 s) expires, at most 4/3 of a lease after the kill.
        for i in ids:
            wait_for(lambda: b.message(i)["status"] in ("sent", "delivered"),
                     timeout=20, desc="message %s sent" % i)
        left = db.execute("SELECT COUNT(*) FROM messages WHERE status = "
                          "'sending'").fetchone()[0]
        db.close()
        assert left == 0
        assert held >= 1, "node A held nothing when it was killed"
        assert "outbox.takeover" in b.stderr(), b.stderr()[-3000:]
        assert "node-a" in b.stderr()
    finally:
        b.stop()


@pytest.mark.lyrebird_env(LYREBIRD_SERVER_NODE_ID="node-a")
def test_a_cli_command_beside_a_running_node_is_not_a_node(server, run_cli):
    p = run_cli(["audit", "verify", "--data", server.data], env=server.env)
    assert p.returncode == 0, p.stderr
    db = db_of(server)
    rows = db.execute("SELECT id FROM nodes").fetchall()
    db.close()
    assert rows == [("node-a",)], rows


def test_nodes_above_one_with_filesystem_media_is_a_config_error(tmp_path):
    env = {"LYREBIRD_API_KEY": "e2e-api-key-0123456789abcdefghijklmnopqrstuv",
           "LYREBIRD_SERVER_NODES": "3"}
    p = subprocess.run([BIN, "demo", "--port", "31650", "--data",
                        str(tmp_path / "data")],
                       env=clean_env(env), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30)
    assert p.returncode != 0
    err = p.stderr.decode("utf-8", "replace")
    assert "[media] store" in err and "nodes = 3" in err, err
    assert "s3" in err and "shared_dir = true" in err, err


@pytest.mark.lyrebird_env(LYREBIRD_SERVER_NODE_ID="node-a",
                          LYREBIRD_LINKS_MAX_VIEWS="1",
                          LYREBIRD_SIM_MMS_OUT="false", **SHARED)
def test_a_links_last_view_is_given_once_across_nodes(server, tmp_path):
    b = second_node(server, tmp_path, "node-b")
    b.start()
    try:
        text = unique("Once, on one node")
        up = server.upload(make_png(32, 24))
        assert up.status_code == 201, up.text
        server.send_ok(JORDAN, text, [up.json()["id"]])

        def sms():  # on the carrier of whichever node sent it
            for node in (server, b):
                got = [m for m in node.handset(JORDAN)
                       if m["text"].startswith(text)]
                if got:
                    return got[-1]["text"]
            return None
        link = re.search(r"/v/[A-Za-z0-9_-]+$", wait_for(sms)).group(0)

        codes = []

        def view(node):
            codes.append(requests.post(node.url(link), timeout=10).status_code)
        threads = [threading.Thread(target=view, args=(n,))
                   for n in (server, b) * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        assert sorted(codes) == [200] + [410] * 7, codes
    finally:
        b.stop()
