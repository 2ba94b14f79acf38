"""The PostgreSQL store's own promises: nodes that start at once migrate
once, a lost connection is logged and recovered from without a crash, a
query that runs too long is cut off by [store] statement_timeout, and the
URL is checked and never shown with its password.

Needs the test cluster (LYREBIRD_TEST_PG_URL, from tests/pg/cluster)."""
import os
import subprocess
import time

import pytest
import requests

from conftest import BIN, PG_URL, Lyrebird, clean_env, pg_sql, pg_url
from e2e_helpers import JORDAN, unique, wait_for

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="needs a PostgreSQL test cluster (LYREBIRD_TEST_PG_URL)")


def fresh_db():
    name = "lb_pgt_%d_%d" % (os.getpid(), time.monotonic_ns() % 10 ** 12)
    pg_sql("CREATE DATABASE %s" % name)
    return name


def test_nodes_that_start_at_once_apply_the_migrations_once(tmp_path):
    for round_ in range(3):
        name = fresh_db()
        try:
            env = clean_env({"LYREBIRD_STORE_URL": pg_url(name)})
            procs = []
            for i in range(3):
                d = tmp_path / ("node%d-%d" % (round_, i))
                d.mkdir()
                procs.append(subprocess.Popen(
                    [BIN, "migrate", "--data", str(d)], env=env,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    stdin=subprocess.DEVNULL))
            outs = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
            assert all(rc == 0 for _, _, rc in outs), outs
            migrated = [o for o, _, _ in outs if "from version 0 to" in o]
            current = [o for o, _, _ in outs if "up to date" in o]
            assert len(migrated) == 1 and len(current) == 2, outs
            rows = pg_sql("SELECT version FROM schema_migrations ORDER BY "
                          "version", db=name).split()
            assert rows == [str(v) for v in range(1, len(rows) + 1)], rows
            assert len(rows) >= 12
        finally:
            pg_sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def kill_connections(db):
    pg_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
           "datname = '%s' AND pid <> pg_backend_pid()" % db)


@pytest.mark.skipif(os.environ.get("LYREBIRD_TEST_STORE") != "postgresql",
                    reason="the server must run on PostgreSQL")
def test_a_lost_connection_is_logged_and_the_node_carries_on(server):
    # The node says which store it runs on (the URL without a password).
    assert "PostgreSQL at postgresql:///" in server.stderr()
    first = server.send_ok(JORDAN, unique("Before"))
    server.wait_status(first["id"], "delivered")
    db = server.env["LYREBIRD_STORE_URL"].split("?")[0].rsplit("/", 1)[1]
    kill_connections(db)
    # Reads are run again on a new connection; writes start on one.
    r = server.api("GET", "/api/v1/conversations")
    assert r.status_code == 200, r.text
    m = server.send_ok(JORDAN, unique("After"))
    server.wait_status(m["id"], "delivered")
    wait_for(lambda: "connection to PostgreSQL was lost" in server.stderr(),
             desc="the log line")
    assert "reconnected to PostgreSQL" in server.stderr()
    assert server.proc.poll() is None


@pytest.mark.skipif(os.environ.get("LYREBIRD_TEST_STORE") != "postgresql",
                    reason="the server must run on PostgreSQL")
@pytest.mark.lyrebird_env(LYREBIRD_STORE_STATEMENT_TIMEOUT="1s")
def test_a_query_past_the_statement_timeout_fails_fast_and_the_next_works(server):
    db = server.env["LYREBIRD_STORE_URL"].split("?")[0].rsplit("/", 1)[1]
    holder = subprocess.Popen(
        ["psql", "-X", "-q", "-d", pg_url(db), "-c",
         "BEGIN; LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE; "
         "SELECT pg_sleep(4); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: pg_sql("SELECT COUNT(*) FROM pg_locks l JOIN pg_class "
                                "c ON c.oid = l.relation WHERE c.relname = "
                                "'conversations' AND l.mode = "
                                "'AccessExclusiveLock'", db=db).strip() == "1",
                 desc="the lock")
        t0 = time.monotonic()
        r = server.api("GET", "/api/v1/conversations")
        took = time.monotonic() - t0
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "store_unavailable"
        assert took < 3.5, took
    finally:
        holder.wait(timeout=30)
    r = server.api("GET", "/api/v1/conversations")
    assert r.status_code == 200, r.text
    assert "statement timeout" in server.stderr()


def test_the_url_is_checked_and_its_password_never_shown(tmp_path):
    def check(url):
        return subprocess.run([BIN, "migrate", "--data", str(tmp_path)],
                              env=clean_env({"LYREBIRD_STORE_URL": url}),
                              capture_output=True, text=True, timeout=30)
    p = check("mysql://db.example/lyrebird")
    assert p.returncode != 0 and "postgresql://" in p.stderr, p.stderr
    # A server nobody listens on: a clear failure, and no password in it.
    sock = tmp_path / "nothing-here"
    sock.mkdir()
    p = check("postgresql://lyrebird:s3cret-pw@/lyrebird?host=%s" % sock)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "cannot connect to PostgreSQL" in p.stderr, p.stderr
    assert "s3cret-pw" not in p.stdout + p.stderr
    # url_file: the URL from a file.
    f = tmp_path / "store-url"
    f.write_text(pg_url(fresh_db()) + "\n")
    p = subprocess.run([BIN, "migrate", "--data", str(tmp_path)],
                       env=clean_env({"LYREBIRD_STORE_URL_FILE": str(f)}),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "from version 0 to" in p.stdout, p.stderr


@pytest.mark.skipif(os.environ.get("LYREBIRD_TEST_STORE") != "postgresql",
                    reason="the server must run on PostgreSQL")
def test_one_idempotency_key_sent_at_once_is_one_message(server):
    # PostgreSQL takes writers concurrently: the requests meet in the
    # database, and the key's lock makes them one message.
    import threading
    text = unique("Same key at once")
    key = unique("k").replace(" ", "-")
    got = []

    def post():
        got.append(server.send(JORDAN, text, idempotency_key=key))
    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in got] == [202] * 8, [r.text for r in got]
    assert len({r.json()["id"] for r in got}) == 1
    assert len([m for m in server.conv_messages(JORDAN) if m["text"] == text]) == 1
