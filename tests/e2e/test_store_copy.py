"""`lyrebird store copy` moves a clinic from its SQLite file to PostgreSQL:
every row arrives with its id, and the clinic carries on from there.

Needs the test cluster (LYREBIRD_TEST_PG_URL, from tests/pg/cluster);
runs in the SQLite and the PostgreSQL run alike (its source is SQLite
either way)."""
import os
import sqlite3
import time

import pytest

from conftest import PG_URL, Lyrebird, pg_sql, pg_url
from e2e_helpers import DEMO_PASSWORD, JORDAN, PRIYA, sign_in, unique, wait_for

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="needs a PostgreSQL test cluster (LYREBIRD_TEST_PG_URL)")


def table_counts(db_path):
    db = sqlite3.connect(db_path)
    try:
        names = [n for (n,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
            "LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'")]
        return {n: db.execute('SELECT COUNT(*) FROM "%s"' % n).fetchone()[0]
                for n in names}
    finally:
        db.close()


def ids(db_path, table, col="id"):
    db = sqlite3.connect(db_path)
    try:
        return sorted(r[0] for r in db.execute(
            'SELECT "%s" FROM "%s"' % (col, table)))
    finally:
        db.close()


def test_a_sqlite_clinic_copied_to_postgresql_keeps_its_counts_and_ids(
        tmp_path, run_cli):
    # A clinic on SQLite (whichever store this run tests).
    src = Lyrebird(tmp_path / "clinic", {"LYREBIRD_STORE_URL": "",
                                          "LYREBIRD_DEMO_PASSWORD": DEMO_PASSWORD})
    src.start()
    word = unique("kiwi").replace(" ", "")
    try:
        sent = [src.send_ok(p, "Reminder %d for your appointment" % i)
                for i, p in enumerate([JORDAN, PRIYA, JORDAN])]
        for m in sent:
            src.wait_status(m["id"], "delivered")
        src.handset_send(JORDAN, "Can I bring my %s to the clinic?" % word)
        wait_for(lambda: [m for m in src.conv_messages(JORDAN)
                          if word in (m["text"] or "")], desc="the reply")
        sign_in(src)  # an audit row, chained
        before = {p: [m["id"] for m in src.conv_messages(p)]
                  for p in (JORDAN, PRIYA)}
    finally:
        src.stop()
    path = os.path.join(src.data, "lyrebird.db")  # SQLite in either run
    counts = table_counts(path)
    assert counts["messages"] == 4 and counts["audit_log"] >= 1, counts

    name = "lb_copy_%d_%d" % (os.getpid(), int(time.time() * 1000))
    pg_sql("CREATE DATABASE %s" % name)
    url = pg_url(name)
    try:
        p = run_cli(["store", "copy", "--from", "sqlite:" + path, "--to", url],
                    timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "messages" in p.stdout and "copied" in p.stdout, p.stdout
        # Every table has as many rows, and the rows keep their ids.
        for table, n in counts.items():
            if table in ("schema_migrations",):
                continue
            got = int(pg_sql('SELECT COUNT(*) FROM "%s"' % table, db=name))
            assert got == n, "%s: %d rows in SQLite, %d in PostgreSQL" % (
                table, n, got)
        for table, col in (("messages", "id"), ("conversations", "id"),
                           ("message_events", "id"), ("audit_log", "id"),
                           ("events", "id"), ("users", "id")):
            got = sorted(pg_sql('SELECT "%s" FROM "%s"' % (col, table),
                                db=name).split())
            assert got == ids(path, table, col), table
        # A second copy into the same database is refused.
        again = run_cli(["store", "copy", "--from", path, "--to", url])
        assert again.returncode == 1 and "empty" in again.stderr, again.stderr

        # The same clinic, now on PostgreSQL: the threads read as before,
        # search finds the old reply, the audit chain verifies, and it
        # sends and receives on.
        src.env["LYREBIRD_STORE_URL"] = url
        src.start()
        after = {p: [m["id"] for m in src.conv_messages(p)]
                 for p in (JORDAN, PRIYA)}
        assert after == before
        r = src.api("GET", "/api/v1/conversations", params={"q": word})
        assert r.status_code == 200, r.text
        assert [c["patient"] for c in r.json()["conversations"]] == [JORDAN]
        m = src.send_ok(PRIYA, "After the move")
        src.wait_status(m["id"], "delivered")
        assert m["id"] not in before[PRIYA]
        v = run_cli(["audit", "verify", "--data", src.data],
                    env={"LYREBIRD_STORE_URL": url})
        assert v.returncode == 0, v.stdout + v.stderr
    finally:
        src.stop()
        pg_sql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def test_store_copy_says_how_to_use_it(run_cli):
    p = run_cli(["store", "--help"])
    assert p.returncode == 0 and "--from sqlite:PATH" in p.stdout
    p = run_cli(["store", "copy", "--from", "x.db", "--to", "mysql://db"])
    assert p.returncode == 2 and "postgresql://" in p.stderr
