"""Health check, unknown paths, and the command line's --help/--version."""
import re

import pytest

from e2e_helpers import BIN


def test_healthz_without_auth(server):
    r = server.raw("GET", "/healthz")
    assert r.status_code == 200
    # Extra fields (version, schema) are allowed; "status" is the contract.
    assert r.json()["status"] == "ok", r.json()
    assert r.headers["Content-Type"].split(";")[0].strip() == "application/json"


@pytest.mark.parametrize("path,auth", [("/no/such/path", False),
                                       ("/api/v1/no-such-thing", True)])
def test_unknown_path_is_404_json(server, path, auth):
    r = (server.api if auth else server.raw)("GET", path)
    assert r.status_code == 404, r.text
    body = r.json()
    assert isinstance(body.get("error"), dict), body
    assert body["error"].get("code"), body
    assert body["error"].get("message"), body


def _out(p):
    return p.stdout + p.stderr


def test_help(run_cli):
    p = run_cli(["--help"])
    assert p.returncode == 0, _out(p)
    assert "usage" in _out(p).lower(), _out(p)
    assert "demo" in _out(p) and "send" in _out(p), _out(p)


def test_version(run_cli):
    p = run_cli(["--version"])
    assert p.returncode == 0, _out(p)
    assert re.search(r"\d+\.\d+\.\d+", _out(p)), _out(p)


def test_demo_help(run_cli, tmp_path):
    p = run_cli(["demo", "--help"], timeout=10)
    assert p.returncode == 0, _out(p)
    assert "usage" in _out(p).lower(), _out(p)
    assert "--port" in _out(p), _out(p)


def test_unknown_command_fails(run_cli):
    p = run_cli(["no-such-command"], timeout=10)
    assert p.returncode != 0, _out(p)


def test_logs_are_json_lines(server):
    import json
    server.send_ok("0491570156", "log check")
    server.raw("GET", "/no/such/path")
    lines = [l for l in server.stderr().splitlines() if l.strip()]
    assert lines, "no log output on stderr"
    for l in lines:
        try:
            rec = json.loads(l)
        except ValueError:
            raise AssertionError("stderr line is not JSON: %r" % l)
        assert isinstance(rec, dict) and "level" in rec and "msg" in rec, rec
