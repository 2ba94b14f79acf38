"""Staff sign in to the inbox: cookies, CSRF, sign-in throttles, session
expiry, accounts (CLI and admin API), patient names and conversation search.
docs/web.md is the specification."""
import ctypes
import ctypes.util
import hashlib
import time

import pytest
import requests

from e2e_helpers import (DEMO_PASSWORD, DEMO_USER, JORDAN, PRIYA,
                         SESSION_COOKIE, add_user, demo_db, login, make_png,
                         session_token,
                         set_session_times, sign_in, unique, user_cli, wait_for)
import store_db


def demo_env(**kw):
    """lyrebird_env with the demo staff password fixed (a test's own marker
    replaces the module's, so every marker carries it)."""
    return pytest.mark.lyrebird_env(LYREBIRD_DEMO_PASSWORD=DEMO_PASSWORD, **kw)


pytestmark = demo_env()


def error_of(r):
    return r.json()["error"]


def cookie_attributes(set_cookie):
    """'a=b; Path=/; HttpOnly' -> {'path': '/', 'httponly': True}"""
    attrs = {}
    for part in set_cookie.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        attrs[k.lower()] = v if _ else True
    return attrs


def now_ms():
    return int(time.time() * 1000)


def texts_in_conversation(server, patient):
    return [m["text"] for m in server.conv_messages(patient)]


# ---- signing in and out ------------------------------------------------------

def test_sign_in_sets_a_safe_cookie_and_the_session_reads_the_api(server):
    # Not signed in yet: the session API says so.
    r = requests.get(server.url("/api/v1/session"), timeout=10)
    assert r.status_code == 401, r.text
    assert error_of(r)["code"] == "unauthorized"

    r = login(server)
    assert r.status_code == 200, r.text
    set_cookie = r.headers.get("Set-Cookie", "")
    assert set_cookie.startswith(SESSION_COOKIE + "="), set_cookie
    attrs = cookie_attributes(set_cookie)
    assert attrs.get("httponly") is True, set_cookie
    assert attrs.get("samesite") == "Lax", set_cookie
    assert attrs.get("path") == "/", set_cookie
    # The demo's public_url is http://, so the cookie must not be Secure
    # (a browser would never send it back).
    assert "secure" not in attrs, set_cookie
    token = session_token(r)
    assert token and len(token) >= 43, set_cookie

    body = r.json()
    assert body["user"]["username"] == DEMO_USER
    assert body["user"]["role"] == "staff"
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 20

    cookie = {"Cookie": "%s=%s" % (SESSION_COOKIE, token)}
    r = requests.get(server.url("/api/v1/session"), headers=cookie, timeout=10)
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["user"]["username"] == DEMO_USER
    assert s["user"]["name"] == "Reception"
    assert s["user"]["role"] == "staff"
    assert s["csrf_token"] == body["csrf_token"]
    assert s["clinic"]["name"] == "WalkEasy Nexus Clinic"
    assert s["clinic"]["number"] == "+61488868772"
    assert s["clinic"]["timezone"] == "Australia/Sydney"
    assert s["sim_phone"] is True

    # The cookie alone reads the API, like the inbox does.
    r = requests.get(server.url("/api/v1/conversations"), headers=cookie,
                     timeout=10)
    assert r.status_code == 200, r.text
    patients = {c["patient"] for c in r.json()["conversations"]}
    assert {JORDAN, PRIYA} <= patients, patients

    # The database keeps only the token's SHA-256, never the token.
    db = store_db.connect(server)
    try:
        rows = db.execute("SELECT token_sha256 FROM sessions").fetchall()
    finally:
        db.close()
    hashes = [row[0] for row in rows]
    assert hashlib.sha256(token.encode()).hexdigest() in hashes, hashes
    assert token not in hashes


def test_wrong_password_and_unknown_user_get_the_same_answer(server):
    wrong = login(server, DEMO_USER, "not-the-password-at-all")
    nobody = login(server, "nobody-here", DEMO_PASSWORD)
    for r in (wrong, nobody):
        assert r.status_code == 401, r.text
        assert error_of(r)["code"] == "invalid_login", r.text
        assert session_token(r) is None, r.headers
    # Nothing in the answer tells which usernames exist.
    assert error_of(wrong)["message"] == error_of(nobody)["message"]

    # A form post (what a cross-site page could send) is refused outright.
    r = requests.post(server.url("/api/v1/session"), timeout=10,
                      data={"username": DEMO_USER, "password": DEMO_PASSWORD})
    assert r.status_code == 415, r.text
    assert session_token(r) is None

    for body in ({"username": DEMO_USER}, {"password": DEMO_PASSWORD}, {},
                 {"username": DEMO_USER, "password": 12345678901}):
        r = requests.post(server.url("/api/v1/session"), json=body, timeout=10)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert session_token(r) is None

    # The right password still works: two failures lock nothing.
    assert login(server).status_code == 200


def test_csrf_token_is_required_with_the_cookie_but_not_with_the_key(server):
    staff = sign_in(server)

    def body(text):
        return {"to": "0491 570 156", "text": text}

    missing = unique("no csrf token")
    r = staff.request("POST", "/api/v1/messages", json=body(missing), csrf=None)
    assert r.status_code == 403, r.text
    assert error_of(r)["code"] == "csrf_failed"

    wrong = unique("wrong csrf token")
    r = staff.request("POST", "/api/v1/messages", json=body(wrong),
                      csrf="A" * len(staff.csrf))
    assert r.status_code == 403, r.text
    assert error_of(r)["code"] == "csrf_failed"

    # Another session's token is not this one's.
    other = sign_in(server)
    stolen = unique("other session's csrf token")
    r = staff.request("POST", "/api/v1/messages", json=body(stolen),
                      csrf=other.csrf)
    assert r.status_code == 403, r.text

    right = unique("right csrf token")
    r = staff.request("POST", "/api/v1/messages", json=body(right))
    assert r.status_code == 202, r.text
    assert r.json()["to"] == JORDAN

    # The API key needs no CSRF token.
    keyed = unique("sent with the key")
    server.send_ok(JORDAN, keyed)

    # A wrong key is judged alone: a valid cookie does not rescue it.
    bad_key = unique("wrong key and a cookie")
    r = staff.request("POST", "/api/v1/messages", json=body(bad_key),
                      headers={"Authorization": "Bearer not-the-key"})
    assert r.status_code == 401, r.text
    assert error_of(r)["code"] == "unauthorized"
    r = staff.request("GET", "/api/v1/conversations",
                      headers={"Authorization": "Bearer not-the-key"})
    assert r.status_code == 401, r.text

    texts = texts_in_conversation(server, JORDAN)
    assert right in texts and keyed in texts, texts
    for refused in (missing, wrong, stolen, bad_key):
        assert refused not in texts, "refused request stored %r" % refused
    wait_for(lambda: server.handset_with_text(JORDAN, right),
             desc="the accepted message to reach the phone")
    for refused in (missing, wrong, stolen, bad_key):
        assert server.handset_with_text(JORDAN, refused) == []


def test_sign_out_ends_only_that_session(server):
    staff = sign_in(server)
    laptop = sign_in(server)  # the same person on another computer

    # Signing out changes something, so it needs the CSRF token too.
    r = staff.request("DELETE", "/api/v1/session", csrf=None)
    assert r.status_code == 403, r.text
    assert staff.request("GET", "/api/v1/session").status_code == 200

    r = staff.request("DELETE", "/api/v1/session")
    assert r.status_code == 204, r.text
    set_cookie = r.headers.get("Set-Cookie", "")
    assert set_cookie.startswith(SESSION_COOKIE + "=;"), set_cookie
    attrs = cookie_attributes(set_cookie)
    assert attrs.get("max-age") == "0", set_cookie
    assert attrs.get("path") == "/", set_cookie

    # The old cookie is dead even if the browser kept it.
    r = staff.request("GET", "/api/v1/session")
    assert r.status_code == 401, r.text
    assert error_of(r)["code"] == "unauthorized"
    r = staff.request("GET", "/api/v1/conversations")
    assert r.status_code == 401, r.text

    # The other computer is still signed in.
    r = laptop.request("GET", "/api/v1/session")
    assert r.status_code == 200, r.text


# ---- sign-in throttles ----------------------------------------------------------

@demo_env(LYREBIRD_WEB_LOGIN_MAX_FAILURES="3",
          LYREBIRD_WEB_LOGIN_LOCKOUT_SECONDS="2")
def test_failed_sign_ins_lock_the_account_for_a_while(server):
    add_user(server, "nurse", "nurse-password-123")

    for _ in range(3):
        r = login(server, DEMO_USER, "a-wrong-password")
        assert r.status_code == 401, r.text

    # Locked: even the right password is refused, without being checked.
    r = login(server)
    assert r.status_code == 429, r.text
    assert error_of(r)["code"] == "too_many_attempts"
    assert session_token(r) is None
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.isdigit(), r.headers
    assert 1 <= int(retry) <= 2, retry
    assert "try again in %s second" % retry in error_of(r)["message"].lower(), r.text

    # The lock is on that account only: a colleague at the same desk signs in.
    assert login(server, "nurse", "nurse-password-123").status_code == 200

    # After the lock the right password works...
    time.sleep(int(retry) + 0.3)
    r = login(server)
    assert r.status_code == 200, r.text

    # ...and the count starts again: two more failures do not lock.
    for _ in range(2):
        assert login(server, DEMO_USER, "a-wrong-password").status_code == 401
    r = login(server)
    assert r.status_code == 200, r.text


@demo_env(LYREBIRD_WEB_LOGIN_IP_MAX_FAILURES="4",
          LYREBIRD_WEB_LOGIN_MAX_FAILURES="100")
def test_failed_sign_ins_from_one_address_block_every_account(server):
    for name in ("alice", "bob", "carol"):
        assert login(server, name, "guessing-passwords").status_code == 401
    # Under the limit nobody is blocked.
    assert login(server).status_code == 200

    assert login(server, DEMO_USER, "guessing-again").status_code == 401
    for name, pw in ((DEMO_USER, DEMO_PASSWORD), ("dave", "another-guess1")):
        r = login(server, name, pw)
        assert r.status_code == 429, (name, r.status_code, r.text)
        assert error_of(r)["code"] == "too_many_attempts"
        retry = r.headers.get("Retry-After", "")
        assert retry.isdigit() and 1 <= int(retry) <= 15 * 60, r.headers
        assert "try again in" in error_of(r)["message"].lower(), r.text


# ---- sessions end ---------------------------------------------------------------

@demo_env(LYREBIRD_WEB_SESSION_IDLE_MINUTES="1",
          LYREBIRD_WEB_SESSION_MAX_HOURS="1")
def test_idle_and_old_sessions_end(server):
    idle = sign_in(server)
    set_session_times(server, idle.token_sha256(), last_seen_at=now_ms() - 120000)
    r = idle.request("GET", "/api/v1/conversations")
    assert r.status_code == 401, r.text
    assert "sign-in has ended" in error_of(r)["message"], r.text

    old = sign_in(server)
    set_session_times(server, old.token_sha256(),
                      created_at=now_ms() - 2 * 3600 * 1000)
    r = old.request("GET", "/api/v1/session")
    assert r.status_code == 401, r.text
    assert "sign-in has ended" in error_of(r)["message"], r.text

    # A session within both limits lives on.
    fresh = sign_in(server)
    set_session_times(server, fresh.token_sha256(),
                      last_seen_at=now_ms() - 30000)
    assert fresh.request("GET", "/api/v1/session").status_code == 200


@demo_env(LYREBIRD_WEB_SESSION_IDLE_MINUTES="1")
def test_each_request_keeps_a_session_alive(server):
    # The idle limit counts from the last request: a session last seen 58 s
    # ago and used now must still work a moment later, when its last request
    # is only seconds old.
    busy = sign_in(server)
    set_session_times(server, busy.token_sha256(), last_seen_at=now_ms() - 58000)
    assert busy.request("GET", "/api/v1/conversations").status_code == 200
    time.sleep(2.5)
    r = busy.request("GET", "/api/v1/conversations")
    assert r.status_code == 200, (
        "a session used 2.5 s ago ended (idle limit 1 minute): %s %s"
        % (r.status_code, r.text))


def session_last_seen(server, token_sha256):
    db = store_db.connect(server)
    try:
        return db.execute("SELECT last_seen_at FROM sessions WHERE "
                          "token_sha256 = ?", (token_sha256,)).fetchone()[0]
    finally:
        db.close()


@demo_env(LYREBIRD_WEB_SESSION_IDLE_MINUTES="1")
def test_an_unattended_inbox_does_not_keep_its_session_alive(server):
    # What the inbox does by itself -- the event stream, images, refreshes
    # marked X-Lyrebird-Background -- must not count as someone using it,
    # or a session left open on a desk would never idle out.
    idle = sign_in(server)
    since = now_ms() - 58000
    set_session_times(server, idle.token_sha256(), last_seen_at=since)
    bg = {"X-Lyrebird-Background": "1"}
    assert idle.request("GET", "/api/v1/conversations",
                        headers=bg).status_code == 200
    media = server.api("POST", "/api/v1/media", data=make_png())
    assert media.status_code == 201, media.text
    assert idle.request("GET", "/api/v1/media/" + media.json()["id"]
                        ).status_code == 200
    r = idle.request("GET", "/api/v1/events", stream=True)
    assert r.status_code == 200
    r.close()
    assert session_last_seen(server, idle.token_sha256()) == since
    time.sleep(2.5)
    r = idle.request("GET", "/api/v1/conversations", headers=bg)
    assert r.status_code == 401, r.text
    # A request someone made would have kept it (see the test above).


def cheap_argon2id_hash(password):
    """An Argon2id hash at a lower cost than lyrebird's (what an account made
    by an older release, or on a smaller machine, would hold)."""
    lib = ctypes.util.find_library("sodium")
    if not lib:
        pytest.skip("libsodium is not installed for ctypes")
    so = ctypes.CDLL(lib)
    assert so.sodium_init() >= 0
    so.crypto_pwhash_str.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                     ctypes.c_ulonglong, ctypes.c_ulonglong,
                                     ctypes.c_size_t]
    out = ctypes.create_string_buffer(128)
    pw = password.encode()
    assert so.crypto_pwhash_str(out, pw, len(pw), 1, 8 * 1024 * 1024) == 0
    return out.value.decode()


def test_signing_in_with_an_older_password_hash_keeps_the_session(server):
    # lyrebird upgrades such a hash when the password is next used; the
    # upgrade must not end the session being opened.
    add_user(server, "locum", "locum-password-123")
    db = store_db.connect(server)
    try:
        n = db.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                       (cheap_argon2id_hash("locum-password-123"), "locum")).rowcount
        db.commit()
    finally:
        db.close()
    assert n == 1
    locum = sign_in(server, "locum", "locum-password-123")
    r = locum.request("GET", "/api/v1/session")
    assert r.status_code == 200, (
        "signed in with an older hash, the new session is already gone: %s %s"
        % (r.status_code, r.text))
    assert r.json()["user"]["username"] == "locum"
    # The password works as before.
    sign_in(server, "locum", "locum-password-123")


def test_disabling_a_user_signs_them_out_and_keeps_them_out(server):
    db = demo_db(server)
    add_user(server, "nurse", "nurse-password-123")
    nurse = sign_in(server, "nurse", "nurse-password-123")
    assert nurse.request("GET", "/api/v1/conversations").status_code == 200

    p = user_cli(["disable", "nurse", "--db", db])
    assert p.returncode == 0, p.stderr
    r = nurse.request("GET", "/api/v1/conversations")
    assert r.status_code == 401, r.text
    r = login(server, "nurse", "nurse-password-123")
    assert r.status_code == 401, r.text
    assert error_of(r)["code"] == "invalid_login"

    p = user_cli(["enable", "nurse", "--db", db])
    assert p.returncode == 0, p.stderr
    nurse = sign_in(server, "nurse", "nurse-password-123")

    # A new password signs the account out everywhere; only it works after.
    p = user_cli(["passwd", "nurse", "--db", db, "--password-stdin"],
                 "brand-new-password-456")
    assert p.returncode == 0, p.stderr
    assert nurse.request("GET", "/api/v1/session").status_code == 401
    assert login(server, "nurse", "nurse-password-123").status_code == 401
    sign_in(server, "nurse", "brand-new-password-456")


# ---- accounts through the API (admins and the key) -----------------------------

def test_only_admins_and_the_key_manage_accounts(server):
    add_user(server, "sam", "admin-password-123", role="admin",
             display="Dr Sam Ng")
    staff = sign_in(server)
    admin = sign_in(server, "sam", "admin-password-123")
    assert admin.session["user"]["role"] == "admin"

    r = staff.request("GET", "/api/v1/users")
    assert r.status_code == 403, r.text
    assert error_of(r)["code"] == "forbidden"
    r = staff.request("POST", "/api/v1/users",
                      json={"username": "sneaky", "password": "sneaky-password-1"})
    assert r.status_code == 403, r.text
    r = staff.request("PATCH", "/api/v1/users/sam", json={"disabled": True})
    assert r.status_code == 403, r.text

    for who in ("key", "admin"):
        if who == "key":
            r = server.api("GET", "/api/v1/users")
        else:
            r = admin.request("GET", "/api/v1/users")
        assert r.status_code == 200, (who, r.text)
        users = {u["username"]: u for u in r.json()["users"]}
        assert "sneaky" not in users
        assert users[DEMO_USER]["role"] == "staff", users
        assert users["sam"]["role"] == "admin", users
        assert users["sam"]["name"] == "Dr Sam Ng", users
        assert users["sam"]["disabled"] is False, users
        for u in users.values():
            assert "password" not in u and "password_hash" not in u, u

    new = {"username": "kim", "password": "kims-password-123", "role": "staff",
           "name": "Kim Tran"}
    r = admin.request("POST", "/api/v1/users", json=new)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["username"] == "kim" and made["role"] == "staff", made
    assert made["name"] == "Kim Tran" and made["disabled"] is False, made
    r = admin.request("POST", "/api/v1/users", json=new)
    assert r.status_code == 409, r.text
    assert error_of(r)["code"] == "username_taken"
    r = admin.request("POST", "/api/v1/users",
                      json={"username": "lee", "password": "short"})
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] == "weak_password"
    r = admin.request("POST", "/api/v1/users",
                      json={"username": "Bad Name", "password": "a-long-password-1"})
    assert r.status_code == 422, r.text
    assert error_of(r)["code"] == "invalid_username"
    # Admin changes need the CSRF token like any other.
    r = admin.request("POST", "/api/v1/users", csrf=None,
                      json={"username": "lee", "password": "a-long-password-1"})
    assert r.status_code == 403, r.text
    # The key creates accounts too.
    r = server.api("POST", "/api/v1/users",
                   json={"username": "lee", "password": "lees-password-123"})
    assert r.status_code == 201, r.text

    kim = sign_in(server, "kim", "kims-password-123")
    assert kim.request("GET", "/api/v1/conversations").status_code == 200
    r = admin.request("PATCH", "/api/v1/users/kim", json={"disabled": True})
    assert r.status_code == 200, r.text
    assert r.json()["disabled"] is True
    assert kim.request("GET", "/api/v1/conversations").status_code == 401
    assert login(server, "kim", "kims-password-123").status_code == 401
    r = admin.request("PATCH", "/api/v1/users/nobody", json={"disabled": True})
    assert r.status_code == 404, r.text

    # An admin cannot lock themselves out.
    for change in ({"disabled": True}, {"role": "staff"}):
        r = admin.request("PATCH", "/api/v1/users/sam", json=change)
        assert r.status_code == 409, (change, r.text)
        assert error_of(r)["code"] == "own_account"
    r = admin.request("GET", "/api/v1/users")
    assert r.status_code == 200, r.text
    sam = [u for u in r.json()["users"] if u["username"] == "sam"][0]
    assert sam["role"] == "admin" and sam["disabled"] is False, sam


# ---- patient names and search ----------------------------------------------------

def test_staff_rename_a_patient(server):
    r = server.api("PATCH", "/api/v1/patients/0491570156",
                   json={"name": "Jordan Lee-Smith"})
    assert r.status_code == 200, r.text
    assert r.json() == {"patient": JORDAN, "name": "Jordan Lee-Smith"}
    assert server.conversation(JORDAN)["name"] == "Jordan Lee-Smith"

    # The inbox does it with the cookie and the CSRF token.
    staff = sign_in(server)
    r = staff.request("PATCH", "/api/v1/patients/%2B61491570156", csrf=None,
                      json={"name": "Should Not Stick"})
    assert r.status_code == 403, r.text
    assert server.conversation(JORDAN)["name"] == "Jordan Lee-Smith"
    r = staff.request("PATCH", "/api/v1/patients/0491 570 156",
                      json={"name": "Jordan Lee"})
    assert r.status_code == 200, r.text
    assert server.conversation(JORDAN)["name"] == "Jordan Lee"

    for clear in (None, ""):
        server.api("PATCH", "/api/v1/patients/0491570156",
                   json={"name": "Temporary"})
        r = server.api("PATCH", "/api/v1/patients/0491570156",
                       json={"name": clear})
        assert r.status_code == 200, r.text
        assert r.json() == {"patient": JORDAN, "name": None}
        assert server.conversation(JORDAN)["name"] is None

    r = server.api("PATCH", "/api/v1/patients/0491570158", json={"name": "X"})
    assert r.status_code == 404, r.text
    r = server.api("PATCH", "/api/v1/patients/0491570157",
                   json={"nickname": "Pri"})
    assert r.status_code == 400, r.text
    r = server.api("PATCH", "/api/v1/patients/0491570157", json={"name": 7})
    assert r.status_code == 400, r.text
    assert server.conversation(PRIYA)["name"] == "Priya Sharma"


def test_conversation_search_by_name_or_number(shared_server):
    def found(q):
        r = shared_server.api("GET", "/api/v1/conversations", params={"q": q})
        assert r.status_code == 200, (q, r.status_code, r.text)
        return [c["patient"] for c in r.json()["conversations"]]

    for q in ("priya", "PRIYA", "Sharma", "0491 570 157", "+61491570157",
              "570157", " priya "):
        assert found(q) == [PRIYA], q
    assert found("lee") == [JORDAN]
    assert sorted(found("0491 570")) == sorted([JORDAN, PRIYA])
    # Wildcards in what staff type are plain characters.
    for q in ("zzz", "%", "_", "pri%", "pr_ya", "\\"):
        assert found(q) == [], q


@demo_env()
def test_admins_read_the_settings_without_any_secret(server):
    # An admin can see what the gateway runs with (the host and what it can
    # send, the sign-in limits); staff cannot, and no key or secret is ever
    # in it.
    add_user(server, "sam", "admin-password-123", role="admin")
    staff = sign_in(server)
    admin = sign_in(server, "sam", "admin-password-123")
    r = staff.request("GET", "/api/v1/settings")
    assert r.status_code == 403, r.text
    r = admin.request("GET", "/api/v1/settings")
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["clinic"]["number"] == "+61488868772"
    assert s["clinic"]["host"] == "sim"
    assert s["clinic"]["timezone"] == "Australia/Sydney"
    assert s["host_can"]["sms_out"] is True
    assert s["host_can"]["mms_in"] is True
    assert s["web"]["login_max_failures"] == 5
    text = r.text
    assert server.key not in text and server.secret not in text
    assert "secret" not in text and "api_key" not in text
