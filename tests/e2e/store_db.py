"""Direct access to a test server's database, on either backend.

    db = store_db.connect(server)
    db.execute("UPDATE links SET expires_at = ? WHERE id = ?", (t, lid))
    rows = db.execute("SELECT id FROM messages").fetchall()

On SQLite runs this is sqlite3 on the demo's file. On PostgreSQL runs
(LYREBIRD_TEST_STORE=postgresql) each execute() is one psql call on the
server's database, in autocommit, with '?' parameters given as quoted
literals; digit-only values come back as ints, NULL as None, as sqlite3
gives them for lyrebird's columns. Only what the tests need: execute,
fetchone, fetchall, rowcount, commit, close, and use in a with block."""
import os
import re
import sqlite3
import subprocess

import conftest


class _Result:
    def __init__(self, rows, rowcount):
        self._rows = rows
        self.rowcount = rowcount

    def fetchall(self):
        return list(self._rows)

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def __iter__(self):
        return iter(self._rows)


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, bytes):
        v = v.decode("utf-8")
    return "'" + str(v).replace("'", "''") + "'"


def _bind(sql, params):
    params = list(params or ())
    out, i, quote = [], 0, None
    for ch in sql:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append(_literal(params[i]))
            i += 1
        else:
            out.append(ch)
    assert i == len(params), "%d parameters for %d placeholders" % (
        len(params), i)
    return "".join(out)


def _value(s):
    if s == "\x1d":
        return None
    if re.fullmatch(r"-?[0-9]{1,18}", s):
        return int(s)
    return s


class _Psql:
    def __init__(self, url):
        self.url = url

    def execute(self, sql, params=()):
        text = _bind(sql, params)
        p = subprocess.run(
            ["psql", "-X", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-F", "\x1f",
             "-R", "\x1e", "-P", "null=\x1d", "-d", self.url, "-c", text],
            capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise sqlite3.OperationalError("psql: %s" % p.stderr.strip())
        first = sql.lstrip().split(None, 1)[0].upper()
        if first in ("SELECT", "WITH", "VALUES") and " RETURNING " not in sql.upper():
            out = p.stdout[:-1] if p.stdout.endswith("\n") else p.stdout
            rows = [tuple(_value(c) for c in r.split("\x1f"))
                    for r in out.split("\x1e") if r != ""]
            return _Result(rows, -1)
        tag = p.stdout.strip().split("\x1e")[-1].split()
        n = int(tag[-1]) if tag and tag[-1].isdigit() else -1
        return _Result([], n)

    def commit(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def connect(server, timeout=10):
    """The server's database (a Lyrebird from conftest)."""
    url = conftest.store_url_for(server.data)
    if url:
        return _Psql(url)
    return sqlite3.connect(os.path.join(server.data, "lyrebird.db"),
                           timeout=timeout)


def connect_gateway(tmp_path, timeout=10):
    """The database of a gateway.Gateway made in tmp_path."""
    url = conftest.store_url_for(str(tmp_path))
    if url:
        return _Psql(url)
    return sqlite3.connect(os.path.join(str(tmp_path), "db.sqlite"),
                           timeout=timeout)
