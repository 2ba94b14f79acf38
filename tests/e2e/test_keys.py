"""Scoped API keys: made through the API and the CLI, shown once, stored as
a hash, each route guarded by its scope, revocation at once on every
thread, and the [api] key of the configuration still holding every scope."""
import threading

import pytest

from e2e_helpers import DEMO_PASSWORD, JORDAN, demo_db, make_png, sign_in, unique
import store_db

pytestmark = pytest.mark.lyrebird_env(LYREBIRD_DEMO_PASSWORD=DEMO_PASSWORD)


def create_key(server, name, scopes):
    r = server.api("POST", "/api/v1/keys", json={"name": name, "scopes": scopes})
    assert r.status_code == 201, r.text
    return r.json()["key"], r.json()["secret"]


def as_key(server, secret, method, path, **kw):
    headers = dict(kw.pop("headers", None) or {})
    headers["Authorization"] = "Bearer " + secret
    return server.raw(method, path, headers=headers, **kw)


def test_a_key_is_shown_once_and_stored_only_as_a_hash(server):
    key, secret = create_key(server, "clinic app", ["messages:send", "media:write"])
    assert secret.startswith("lb_%s_" % key["prefix"]), (secret, key)
    assert len(secret) >= 3 + 8 + 1 + 22  # at least 128 random bits
    assert key["name"] == "clinic app" and key["id"].startswith("key_")
    assert key["scopes"] == ["messages:send", "media:write"]
    assert key["created_at"] and key["last_used_at"] is None
    assert key["revoked_at"] is None
    listed = server.api("GET", "/api/v1/keys")
    assert listed.status_code == 200, listed.text
    assert secret not in listed.text
    assert [k["id"] for k in listed.json()["keys"]] == [key["id"]]
    with store_db.connect(server) as db:
        rows = db.execute("SELECT * FROM api_keys").fetchall()
    assert rows and not any(secret in str(v) for v in rows[0]), rows


def test_each_route_needs_its_scope(server):
    _, sender = create_key(server, "sender", ["messages:send", "media:write"])
    _, reader = create_key(server, "reader", ["messages:read",
                                              "conversations:read"])
    up = as_key(server, sender, "POST", "/api/v1/media", data=make_png(8, 8),
                headers={"Content-Type": "image/png"})
    assert up.status_code == 201, up.text
    r = as_key(server, sender, "POST", "/api/v1/messages",
               json={"to": JORDAN, "text": unique("scoped"),
                     "media": [up.json()["id"]]})
    assert r.status_code == 202, r.text
    mid = r.json()["id"]
    # The sender may not read, and the reader may not send.
    for secret, method, path, need in (
            (sender, "GET", "/api/v1/messages/" + mid, "messages:read"),
            (sender, "GET", "/api/v1/conversations", "conversations:read"),
            (sender, "GET", "/api/v1/webhook-endpoints", "webhooks:manage"),
            (sender, "GET", "/api/v1/keys", "admin"),
            (reader, "POST", "/api/v1/messages", "messages:send"),
            (reader, "POST", "/api/v1/conversations/%s/read" % JORDAN,
             "conversations:write"),
            (reader, "GET", "/api/v1/media/" + up.json()["id"], "media:read"),
            (reader, "POST", "/api/v1/patients/%s/opt-out" % JORDAN,
             "patients:write"),
            (reader, "GET", "/api/v1/audit", "admin")):
        r = as_key(server, secret, method, path,
                   json={"to": JORDAN, "text": "x"} if method == "POST" else None)
        assert r.status_code == 403, (path, r.text)
        err = r.json()["error"]
        assert err["code"] == "insufficient_scope", (path, err)
        assert "'%s'" % need in err["message"], (path, err)
    r = as_key(server, reader, "GET", "/api/v1/messages/" + mid)
    assert r.status_code == 200, r.text
    assert as_key(server, reader, "GET", "/api/v1/conversations").status_code == 200


def test_admin_covers_every_scope_and_the_ini_key_still_works(server):
    _, admin = create_key(server, "ops", ["admin"])
    for path in ("/api/v1/keys", "/api/v1/audit", "/api/v1/webhook-endpoints",
                 "/api/v1/conversations"):
        assert as_key(server, admin, "GET", path).status_code == 200, path
    # The [api] key of lyrebird.ini: every scope, so no deployment breaks.
    for path in ("/api/v1/keys", "/api/v1/audit", "/api/v1/conversations"):
        assert server.api("GET", path).status_code == 200, path


def test_forged_unknown_and_revoked_keys_get_401(server):
    key, secret = create_key(server, "soon revoked", ["messages:read"])
    ok = as_key(server, secret, "GET", "/api/v1/conversations/%s/messages" % JORDAN)
    assert ok.status_code == 403  # authenticated; only the scope is missing
    forged = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    for bad in (forged, "lb_00000000_" + "x" * 32, "lb_nothex!!_x", "nonsense"):
        r = as_key(server, bad, "GET", "/api/v1/messages/01M8XZWQJDGXPS5HWNMEDD17MZ")
        assert r.status_code == 401, (bad, r.text)
        assert r.json()["error"]["code"] == "unauthorized"
        assert r.headers["WWW-Authenticate"] == "Bearer"
    r = server.api("DELETE", "/api/v1/keys/" + key["id"])
    assert r.status_code == 200, r.text
    assert r.json()["key"]["revoked_at"]
    r = as_key(server, secret, "GET", "/api/v1/messages/01M8XZWQJDGXPS5HWNMEDD17MZ")
    assert r.status_code == 401, r.text
    assert "revoked" in r.json()["error"]["message"]
    assert server.api("DELETE", "/api/v1/keys/key_nope").status_code == 404


def test_a_revoked_key_is_refused_at_once_on_every_thread(server):
    key, secret = create_key(server, "busy", ["messages:read"])
    path = "/api/v1/messages?limit=1"
    stop = threading.Event()
    revoked = threading.Event()
    late = []  # successes that started after the revocation returned

    def hammer():
        while not stop.is_set():
            after = revoked.is_set()
            r = as_key(server, secret, "GET", path)
            if after and r.status_code == 200:
                late.append(r)
    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        r = server.api("DELETE", "/api/v1/keys/" + key["id"])
        assert r.status_code == 200, r.text
        revoked.set()
        for _ in range(40):
            assert as_key(server, secret, "GET", path).status_code == 401
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not late, "%d requests passed after the revocation" % len(late)


def test_last_use_is_recorded(server):
    key, secret = create_key(server, "used", ["messages:read"])
    assert as_key(server, secret, "GET", "/api/v1/messages?limit=1").status_code == 200
    listed = server.api("GET", "/api/v1/keys").json()["keys"]
    assert listed[0]["last_used_at"], listed


def test_bad_key_requests_are_400_and_staff_cannot_make_keys(server):
    for body in ({"name": "x"}, {"name": "x", "scopes": []},
                 {"name": "x", "scopes": ["messages:delete"]},
                 {"name": "", "scopes": ["admin"]},
                 {"scopes": ["admin"]}):
        r = server.api("POST", "/api/v1/keys", json=body)
        assert r.status_code == 400, (body, r.text)
    r = server.api("POST", "/api/v1/keys",
                   json={"name": "x", "scopes": ["messages:delete"]})
    assert r.json()["error"]["code"] == "invalid_scope"
    assert "messages:send" in r.json()["error"]["message"]  # the list
    staff = sign_in(server)  # the demo's receptionist: staff, not admin
    r = staff.request("POST", "/api/v1/keys",
                      json={"name": "from the inbox", "scopes": ["messages:read"]})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"


def test_the_cli_makes_lists_and_revokes_keys(server, run_cli):
    p = run_cli(["key", "create", "--name", "django app", "--scopes",
                 "messages:send,media:write", "--data", server.data])
    assert p.returncode == 0, p.stderr
    secret = p.stdout.strip().splitlines()[-1]
    assert secret.startswith("lb_"), p.stdout
    r = as_key(server, secret, "POST", "/api/v1/messages",
               json={"to": JORDAN, "text": unique("from the cli key")})
    assert r.status_code == 202, r.text
    p = run_cli(["key", "list", "--data", server.data])
    assert p.returncode == 0 and "django app" in p.stdout, p.stdout
    assert secret not in p.stdout
    key_id = [w for w in p.stdout.split() if w.startswith("key_")][0]
    p = run_cli(["key", "revoke", key_id, "--data", server.data])
    assert p.returncode == 0 and "REVOKED" in p.stdout, p.stdout + p.stderr
    r = as_key(server, secret, "POST", "/api/v1/messages",
               json={"to": JORDAN, "text": "x"})
    assert r.status_code == 401, r.text
    p = run_cli(["key", "create", "--name", "x", "--scopes", "nope",
                 "--data", server.data])
    assert p.returncode == 2 and "unknown scope 'nope'" in p.stderr, p.stderr
    p = run_cli(["key", "--help"])
    assert p.returncode == 0 and "webhooks:manage" in p.stdout
    # Made and revoked by the OS user, on the audit log.
    audit = server.api("GET", "/api/v1/audit").json()["entries"]
    actions = [e["action"] for e in audit]
    assert "key.created" in actions and "key.revoked" in actions, actions


def test_an_expired_key_gets_401(server):
    import time
    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    r = server.api("POST", "/api/v1/keys", json={
        "name": "short-lived", "scopes": ["messages:read"], "expires_at": soon})
    assert r.status_code == 201, r.text
    key, secret = r.json()["key"], r.json()["secret"]
    assert key["expires_at"].startswith(soon[:19]), key
    assert as_key(server, secret, "GET", "/api/v1/messages?limit=1").status_code == 200
    time.sleep(2.2)
    r = as_key(server, secret, "GET", "/api/v1/messages?limit=1")
    assert r.status_code == 401, r.text
    assert "expired" in r.json()["error"]["message"]
    for bad in ("2020-01-01T00:00:00Z", "next week", 5):
        r = server.api("POST", "/api/v1/keys", json={
            "name": "x", "scopes": ["messages:read"], "expires_at": bad})
        assert r.status_code == 400, (bad, r.text)
