"""Health check, unknown paths, and the command line's --help/--version."""
import os
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


def test_layering_check_names_an_include_that_points_outwards(tmp_path):
    # scripts/check-layers runs first in make test; it must fail, naming
    # the file, the line and the rule, when a lower layer reaches up.
    import subprocess
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts",
                          "check-layers")
    (tmp_path / "src" / "outbox").mkdir(parents=True)
    (tmp_path / "src" / "core").mkdir(parents=True)
    (tmp_path / "src" / "outbox" / "q.c").write_text(
        '#include "store/store.h"\n#include "api/api.h"\n')
    (tmp_path / "src" / "core" / "d.c").write_text(
        '#include "util/err.h"\n#include "gateway/gateway.h"\n')
    r = subprocess.run([script, str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1, r.stdout
    assert 'src/outbox/q.c:2: includes "api/api.h": only api/ and cli/ include api/' in r.stdout
    assert 'src/core/d.c:2: includes "gateway/gateway.h"' in r.stdout
    assert "store/store.h" not in r.stdout  # outbox may use the store
    assert "2 include(s)" in r.stdout
    (tmp_path / "src" / "outbox" / "q.c").write_text('#include "store/store.h"\n')
    (tmp_path / "src" / "core" / "d.c").write_text('#include "util/err.h"\n')
    r = subprocess.run([script, str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0 and "ok" in r.stdout, r.stdout
