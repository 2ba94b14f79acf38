"""Bad input gets the right 4xx, a JSON error, and nothing is stored.

One server for the module: no test here may store anything, and each checks
that the conversation list and the handsets are unchanged afterwards."""
import time
import uuid

import pytest

from e2e_helpers import (API_KEY, CLINIC, ELF_BYTES, JORDAN, PRIYA, TEXT_BYTES,
                         make_png, sign)

LANDLINE = "+61299999999"
WATCHED = (JORDAN, PRIYA, LANDLINE)


@pytest.fixture
def srv(shared_server):
    """Snapshots state before the test and checks it is unchanged after."""
    s = shared_server
    before = (s.conversations(), {n: s.handset(n) for n in WATCHED})
    yield s
    time.sleep(0.2)  # anything wrongly queued would be on its way by now
    after = (s.conversations(), {n: s.handset(n) for n in WATCHED})
    assert after[0] == before[0], "conversation list changed:\n%r\n->\n%r" % (
        before[0], after[0])
    assert after[1] == before[1], "a handset received something:\n%r" % after[1]


def assert_error(r, status, code=None):
    assert r.status_code == status, "want %s, got %s %s" % (status, r.status_code, r.text)
    try:
        body = r.json()
    except ValueError:
        raise AssertionError("error body is not JSON: %r" % r.text[:300])
    err = body.get("error") if isinstance(body, dict) else None
    assert isinstance(err, dict), body
    assert isinstance(err.get("code"), str) and err["code"], body
    assert isinstance(err.get("message"), str) and err["message"], body
    if code is not None:
        assert err["code"] == code, "want code %r, got %r" % (code, body)
    return err


def post_msg(s, body, **kw):
    return s.api("POST", "/api/v1/messages", data=body,
                 headers={"Content-Type": "application/json", **kw.pop("headers", {})}, **kw)


@pytest.mark.parametrize("body", [b"{not json", b"", b"{\"to\": \"0491570156\", \"text\": \"hi\""],
                         ids=["garbage", "empty", "truncated"])
def test_bad_json(srv, body):
    assert_error(post_msg(srv, body), 400, "invalid_json")


@pytest.mark.parametrize("body", [
    {"text": "hi"},
    {"to": JORDAN},
    {"to": 491570156, "text": "hi"},
    {"to": JORDAN, "text": 5},
    {"to": JORDAN, "text": "hi", "media": "notalist"},
    {"to": JORDAN, "text": "hi", "media": [7]},
    {"to": JORDAN, "text": ""},
    {"to": JORDAN, "text": "", "media": []},
    {"to": None, "text": "hi"},
], ids=["missing-to", "missing-text-and-media", "to-number", "text-number",
        "media-string", "media-int-item", "empty-text", "empty-text-empty-media",
        "to-null"])
def test_invalid_request(srv, body):
    assert_error(srv.api("POST", "/api/v1/messages", json=body), 400, "invalid_request")


def test_json_array_body_is_invalid_request(srv):
    assert_error(srv.api("POST", "/api/v1/messages", json=[JORDAN, "hi"]), 400,
                 "invalid_request")


@pytest.mark.parametrize("to", ["hello", "12", "+999123456", "+614915701569999",
                                "0491 570 15"])
def test_invalid_number(srv, to):
    err = assert_error(srv.send(to, "hi"), 422, "invalid_number")
    assert err["message"]


@pytest.mark.parametrize("to", ["02 9999 9999", "+61299999999", "(02) 9999-9999"])
def test_landline(srv, to):
    err = assert_error(srv.send(to, "hi"), 422, "not_mobile")
    assert "landline" in err["message"].lower(), err


def test_oversized_body(srv):
    r = srv.send(JORDAN, "x" * (70 * 1024))
    assert_error(r, 413, "body_too_large")


@pytest.mark.parametrize("auth", [None, "Bearer wrong-key-0123456789abcdefghijkl",
                                  "Bearer " + API_KEY[:-1], "Bearer " + API_KEY + "x",
                                  "Bearer ", "Basic " + API_KEY, API_KEY],
                         ids=["none", "wrong", "prefix", "longer", "empty",
                              "basic-scheme", "no-scheme"])
def test_unauthorized(srv, auth):
    headers = {"Authorization": auth} if auth is not None else {}
    r = srv.raw("POST", "/api/v1/messages", json={"to": JORDAN, "text": "hi"},
                headers=headers)
    assert_error(r, 401, "unauthorized")
    for path in ("/api/v1/conversations", "/api/v1/messages/anything"):
        assert_error(srv.raw("GET", path, headers=headers), 401, "unauthorized")


def test_unauthorized_media_upload(srv):
    r = srv.raw("POST", "/api/v1/media", data=make_png(),
                headers={"Content-Type": "image/png"})
    assert_error(r, 401, "unauthorized")


def test_unknown_media_id(srv):
    assert_error(srv.send(JORDAN, "see attached", media=["no-such-media-" + uuid.uuid4().hex]),
                 422, "media_not_found")


def test_unknown_message_and_media_404(srv):
    assert_error(srv.api("GET", "/api/v1/messages/nope-" + uuid.uuid4().hex), 404, "not_found")
    assert srv.api("GET", "/api/v1/media/nope-" + uuid.uuid4().hex).status_code == 404


@pytest.mark.parametrize("data,ctype", [(TEXT_BYTES, "text/plain"),
                                        (TEXT_BYTES, "image/png"),
                                        (ELF_BYTES, "image/jpeg")],
                         ids=["text", "text-as-png", "elf-as-jpeg"])
def test_media_type_not_allowed(srv, data, ctype):
    assert_error(srv.upload(data, ctype), 415, "unsupported_media_type")


def test_media_too_large(srv):
    big = make_png(4, 4) + b"\x00" * (10 * 1024 * 1024 + 1)
    assert_error(srv.upload(big, "image/png"), 413)


def _inbound_body():
    return ('{"id":"forged-%s","from":"%s","to":"%s","text":"forged %s","media":[]}'
            % (uuid.uuid4().hex, PRIYA, CLINIC, uuid.uuid4().hex)).encode()


def test_webhook_missing_signature(srv):
    r = srv.hook("inbound", _inbound_body(), signature=None)
    assert_error(r, 401)


@pytest.mark.parametrize("how", ["wrong-secret", "tampered-body", "garbage", "stale",
                                 "no-v1"])
def test_webhook_bad_signature(srv, how):
    body = _inbound_body()
    if how == "wrong-secret":
        sig = sign(body, secret="not-the-secret-0123456789abcdef")
    elif how == "tampered-body":
        sig = sign(body)
        body = body.replace(b"forged", b"FORGED")
    elif how == "garbage":
        sig = "t=123,v1=deadbeef"
    elif how == "stale":  # 5 minutes' tolerance (docs/providers/sim.md)
        sig = sign(body, t=time.time() - 3600)
    else:
        sig = sign(body).split(",")[0]
    assert_error(srv.hook("inbound", body, signature=sig), 403, "bad_signature")


def test_status_webhook_signatures(srv):
    body = ('{"id":"nope","ref":"nope","status":"delivered","error_code":null,'
            '"error_text":null}').encode()
    assert_error(srv.hook("status", body, signature=None), 401)
    assert_error(srv.hook("status", body, signature=sign(body, secret="x" * 32)),
                 403, "bad_signature")
