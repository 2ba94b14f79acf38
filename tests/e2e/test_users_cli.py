"""`lyrebird user`: staff accounts from the command line, on the database
of a running demo (the server and the CLI share it)."""
import re

import pytest

from e2e_helpers import (DEMO_PASSWORD, DEMO_USER, demo_db, login, sign_in,
                         user_cli)

pytestmark = pytest.mark.lyrebird_env(LYREBIRD_DEMO_PASSWORD=DEMO_PASSWORD)


def ok(p):
    assert p.returncode == 0, "exit %s\nstdout: %s\nstderr: %s" % (
        p.returncode, p.stdout, p.stderr)
    return p


def listing(db):
    """`user list` as {username: [role, status, created, name]}."""
    p = ok(user_cli(["list", "--db", db]))
    lines = p.stdout.splitlines()
    assert lines and lines[0].split()[0] == "USERNAME", p.stdout
    rows = {}
    for line in lines[1:]:
        parts = line.split(None, 4)
        rows[parts[0]] = parts[1:4] + [parts[4] if len(parts) > 4 else ""]
    return rows


def test_help_and_usage():
    p = ok(user_cli(["--help"]))
    for action in ("add", "list", "passwd", "disable", "enable",
                   "--password-stdin", "--role", "--db"):
        assert action in p.stdout, "help does not mention %s:\n%s" % (
            action, p.stdout)
    p = user_cli([])
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "usage" in p.stderr.lower(), p.stderr


def test_add_and_list_accounts(shared_server):
    db = demo_db(shared_server)
    p = ok(user_cli(["add", "sam.ng", "--role", "admin", "--display",
                     "Dr Sam Ng", "--db", db, "--password-stdin"],
                    "sams-password-123"))
    assert "sam.ng" in p.stdout
    assert "shown once" not in p.stdout, "a given password must not be printed"

    rows = listing(db)
    assert rows["sam.ng"][0] == "admin", rows
    assert rows["sam.ng"][1] == "active", rows
    assert re.match(r"^\d{4}-\d{2}-\d{2}$", rows["sam.ng"][2]), rows
    assert rows["sam.ng"][3] == "Dr Sam Ng", rows
    assert rows[DEMO_USER][:2] == ["staff", "active"], rows

    p = user_cli(["add", "sam.ng", "--db", db, "--password-stdin"],
                 "another-password-1")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "already exists" in p.stderr, p.stderr
    # The first password still holds.
    sign_in(shared_server, "sam.ng", "sams-password-123")

    for bad in ("Bad Name", "Sam", "_first", "x" * 65):
        p = user_cli(["add", bad, "--db", db, "--password-stdin"],
                     "a-good-password-1")
        assert p.returncode == 1, (bad, p.returncode, p.stderr)
        assert "a username" in p.stderr, (bad, p.stderr)

    p = user_cli(["add", "short.pw", "--db", db, "--password-stdin"], "short")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "a password is 10 to" in p.stderr, p.stderr
    p = user_cli(["add", "no.pw", "--db", db, "--password-stdin"], None)
    assert p.returncode == 1, (p.returncode, p.stderr)

    rows = listing(db)
    for never in ("short.pw", "no.pw", "bad", "sam"):
        assert never not in rows, rows

    ok(user_cli(["disable", "sam.ng", "--db", db]))
    assert listing(db)["sam.ng"][1] == "disabled"
    ok(user_cli(["enable", "sam.ng", "--db", db]))
    assert listing(db)["sam.ng"][1] == "active"

    p = user_cli(["disable", "nobody", "--db", db])
    assert p.returncode == 1 and "no user" in p.stderr, (p.returncode, p.stderr)


def test_a_made_up_password_is_printed_once_and_signs_in(shared_server):
    db = demo_db(shared_server)
    # stdin is a pipe, not a terminal, and no --password-stdin.
    p = ok(user_cli(["add", "temp.nurse", "--db", db]))
    m = re.search(r"^password for temp\.nurse \(shown once\): (\S+)$",
                  p.stdout, re.M)
    assert m, p.stdout
    first = m.group(1)
    assert len(first) >= 16, first
    sign_in(shared_server, "temp.nurse", first)

    p = ok(user_cli(["passwd", "temp.nurse", "--db", db]))
    m = re.search(r"^password for temp\.nurse \(shown once\): (\S+)$",
                  p.stdout, re.M)
    assert m and m.group(1) != first, p.stdout
    assert login(shared_server, "temp.nurse", first).status_code == 401
    sign_in(shared_server, "temp.nurse", m.group(1))


def test_no_database_at_the_path(tmp_path):
    missing = str(tmp_path / "nothing-here.db")
    for args in (["list"], ["add", "someone", "--password-stdin"]):
        p = user_cli(args + ["--db", missing], "a-good-password-1")
        assert p.returncode == 1, (args, p.returncode, p.stderr)
        assert "no database" in p.stderr, p.stderr
    assert not (tmp_path / "nothing-here.db").exists(), "it made a database"


def test_the_running_server_sees_cli_changes_at_once(shared_server):
    db = demo_db(shared_server)
    ok(user_cli(["add", "front.desk", "--display", "Front Desk", "--db", db,
                 "--password-stdin"], "front-desk-password"))
    r = shared_server.api("GET", "/api/v1/users")
    assert r.status_code == 200, r.text
    users = {u["username"]: u for u in r.json()["users"]}
    assert users["front.desk"]["name"] == "Front Desk", users
    assert users["front.desk"]["role"] == "staff", users
    staff = sign_in(shared_server, "front.desk", "front-desk-password")
    assert staff.session["user"]["name"] == "Front Desk"

    # And the other way: an account made through the API is in the list.
    r = shared_server.api("POST", "/api/v1/users",
                          json={"username": "api.made",
                                "password": "api-made-password", "role": "admin"})
    assert r.status_code == 201, r.text
    assert listing(db)["api.made"][:2] == ["admin", "active"]
