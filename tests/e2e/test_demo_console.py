"""What a person running `make demo` sees in the terminal: the banner with
the sign-in stays in view, because the access log goes to a file in the
data directory rather than scrolling it away."""
import json
import os

from e2e_helpers import wait_for


def _lines(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def test_demo_keeps_the_access_log_off_the_console(server):
    server.send_ok("0491570156", "console check")
    server.raw("GET", "/no/such/path")
    server.raw("GET", "/healthz")
    path = os.path.join(server.data, "access.log")

    # The banner says where the access log is.
    with open(server.stdout_path) as f:
        banner = f.read()
    assert "Access log %s/access.log" % server.data in banner, banner
    assert "(sign in as reception / " in banner, banner

    # Every request is in the file, one JSON line each ...
    def logged():
        routes = [l.get("route") for l in _lines(server.access_log())
                  if l["event"] == "http.access"]
        return "/api/v1/messages" in routes and "/healthz" in routes \
            and "(none)" in routes
    wait_for(logged, timeout=5, desc="the requests in DATA/access.log")
    assert all(l["event"] == "http.access" for l in _lines(server.access_log()))
    assert os.stat(path).st_mode & 0o077 == 0, "access.log readable by others"

    # ... and none on the console, which keeps the rest of the log.
    err = _lines(server.stderr())
    assert not [l for l in err if l["event"] == "http.access"], err
    assert any(l["event"] == "app.ready" for l in err), err


def test_demo_access_log_survives_a_restart(server):
    server.raw("GET", "/healthz")
    wait_for(lambda: "/healthz" in server.access_log(), timeout=5,
             desc="the first run's request")
    first = server.access_log()
    server.restart()
    server.raw("GET", "/inbox")
    wait_for(lambda: '"route":"/inbox"' in server.access_log(), timeout=5,
             desc="the second run's request")
    assert server.access_log().startswith(first), "the log was truncated"


def test_demo_without_an_access_log_prints_no_such_line(server):
    server.restart(LYREBIRD_LOG_ACCESS="false")
    with open(server.stdout_path) as f:
        banner = f.read()
    assert "Access log" not in banner, banner
