"""The example answers in the documentation stay true.

Each example answer in README.md and docs/*.md is a fenced JSON block after a
comment naming the request that gives it:

    <!-- response: GET /healthz -->
    ```json
    {"status": "ok", "version": "0.1.0", "schema": 10}
    ```

This test makes each named request against a demo (REQUESTS below says
how) and compares the answer with the example: the same keys at every
level, the same status when the block starts with one ("409 {...}"), and
the same values, except the volatile ones: ids, times, hashes and URLs with
ids in them (VOLATILE_KEYS, plus any the comment lists as
"(volatile: a, b)"), which need only be of the same type. A string with
"..." in it matches any text in its place; a key "..." allows more keys.
The first element of a list stands for every element."""
import json
import os
import re

import pytest

from e2e_helpers import JORDAN, make_png, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = ["README.md"] + sorted(
    os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
    if f.endswith(".md"))

MARK = re.compile(r"<!-- response: (.+?)(?: \(volatile: ([^)]*)\))? -->\n```json\n(.*?)```",
                  re.S)
VOLATILE_KEYS = {"id", "created_at", "updated_at", "since", "at", "timestamp",
                 "provider_message_id", "sha256", "url", "thumb_url",
                 "download_url", "download_expires_at", "expires_at", "cursor"}
LANDLINE = "+61299999999"


def examples():
    """(file, line, request, volatile keys, status or None, example)."""
    out = []
    for rel in DOCS:
        with open(os.path.join(ROOT, rel)) as f:
            text = f.read()
        for m in MARK.finditer(text):
            body = m.group(3).strip()
            status = None
            s = re.match(r"(\d{3})\s+", body)
            if s:
                status, body = int(s.group(1)), body[s.end():]
            line = text.count("\n", 0, m.start()) + 1
            try:
                doc = json.loads(body)
            except ValueError as e:
                raise AssertionError("%s:%d: the example for %r is not JSON: %s"
                                     % (rel, line, m.group(1), e))
            vol = {v.strip() for v in (m.group(2) or "").split(",") if v.strip()}
            out.append((rel, line, m.group(1), vol, status, doc))
    return out


# ---- the requests ------------------------------------------------------------

def healthz(srv):
    r = srv.raw("GET", "/healthz")
    return r.status_code, r.json()


def send_to_landline(srv):
    r = srv.send(LANDLINE, "Hi")
    return r.status_code, r.json()


def delivered_mms(srv):
    up = srv.upload(make_png(8, 8), "image/png")
    assert up.status_code == 201, up.text
    m = srv.send_ok(JORDAN, "Hello", media=[up.json()["id"]],
                    metadata={"appointment_id": "A-1042"},
                    client_reference="xray-1042")
    srv.wait_status(m["id"], "delivered")
    r = srv.api("GET", "/api/v1/messages/" + m["id"])
    got = r.json()
    got.pop("history")  # "the message, plus history"
    return r.status_code, got


def send_after_stop(srv):
    srv.handset_send(JORDAN, "STOP")
    wait_for(lambda: srv.api("GET", "/api/v1/patients/%s/consent" % JORDAN)
             .json().get("opt_out"), desc="the opt-out to be recorded")
    r = srv.send(JORDAN, "Are you still coming on Tuesday?")
    return r.status_code, r.json()


# Said with a failure, when it has a usual cause.
HINTS = {
    "GET /healthz": "a new migration raises the schema: the example shows the "
                    "number of the latest one in src/store/migrations.h",
}

REQUESTS = {
    "GET /healthz": healthz,
    "POST /api/v1/messages to a landline": send_to_landline,
    "GET /api/v1/messages/{id} of a delivered MMS, without history": delivered_mms,
    "POST /api/v1/messages to a patient who replied STOP": send_after_stop,
}


# ---- the comparison ------------------------------------------------------------

def _pattern(s):
    return re.compile(".*".join(re.escape(p) for p in s.split("...")), re.S)


def differences(doc, got, volatile, path="$"):
    """What differs between the example and the answer, as readable lines."""
    out = []
    if isinstance(doc, dict):
        if not isinstance(got, dict):
            return ["%s: the example has an object, the answer %r" % (path, got)]
        more = "..." in doc
        keys = set(doc) - {"..."}
        missing, extra = keys - set(got), set(got) - keys
        if missing:
            out.append("%s: the answer has no %s" % (path, ", ".join(sorted(missing))))
        if extra and not more:
            out.append("%s: the example lacks %s (the answer: %s)" % (
                path, ", ".join(sorted(extra)),
                json.dumps({k: got[k] for k in sorted(extra)})[:300]))
        for k in sorted(keys & set(got)):
            out += differences(doc[k], got[k], volatile, "%s.%s" % (path, k)) \
                if k not in volatile else _same_type(doc[k], got[k], "%s.%s" % (path, k))
        return out
    if isinstance(doc, list):
        if not isinstance(got, list):
            return ["%s: the example has a list, the answer %r" % (path, got)]
        if doc and not got:
            return ["%s: the answer's list is empty" % path]
        if doc:
            out += differences(doc[0], got[0], volatile, path + "[0]")
        return out
    if isinstance(doc, str) and "..." in doc:
        if not isinstance(got, str) or not _pattern(doc).fullmatch(got):
            out.append("%s: %r does not match the example's %r" % (path, got, doc))
        return out
    if doc != got or type(doc) is not type(got):
        out.append("%s: the example says %r, the answer %r" % (path, doc, got))
    return out


def _same_type(doc, got, path):
    if doc is None or got is None or type(doc) is type(got):
        return []
    return ["%s: the example's %r and the answer's %r differ in type" % (path, doc, got)]


def test_every_example_names_a_known_request():
    found = examples()
    unknown = ["%s:%d: %r" % (f, l, req) for f, l, req, _, _, _ in found
               if req not in REQUESTS]
    assert not unknown, ("examples whose request this test cannot make; add "
                         "them to REQUESTS:\n" + "\n".join(unknown))
    unused = set(REQUESTS) - {req for _, _, req, _, _, _ in found}
    assert not unused, "requests no document shows any more: %s" % sorted(unused)


@pytest.mark.parametrize("example", examples(),
                         ids=lambda e: "%s:%d" % (e[0], e[1]))
def test_documented_answer_is_what_the_server_answers(server, example):
    rel, line, req, vol, status, doc = example
    if req not in REQUESTS:
        pytest.fail("%s:%d: unknown request %r" % (rel, line, req))
    got_status, got = REQUESTS[req](server)
    where = "%s:%d (%s)" % (rel, line, req)
    if status is not None:
        assert got_status == status, "%s: the example says %d, the server %d: %s" % (
            where, status, got_status, json.dumps(got))
    diffs = differences(doc, got, VOLATILE_KEYS | vol)
    assert not diffs, "%s: the documented answer is out of date:\n  %s\n%sthe answer was:\n%s" % (
        where, "\n  ".join(diffs), HINTS[req] + "\n" if req in HINTS else "",
        json.dumps(got, indent=2)[:3000])
