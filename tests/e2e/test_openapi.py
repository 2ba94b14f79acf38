"""docs/openapi.json: served as built, shaped as OpenAPI 3.1, and in step
with the route table in the source (each route with its scope) and the
event types. (Every answer the suite receives is checked against it:
openapi_check.py.)"""
import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from jsonschema import Draft202012Validator

import openapi_check
from e2e_helpers import JORDAN, PRIYA, make_png, unique, wait_for
from openapi_check import OpenAPIViolation

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")


def source(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def doc():
    return openapi_check.document()


def operations():
    for path, item in doc()["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def scope_names():
    """The scope names, from src/core/scope.c."""
    body = re.search(r"names\[\]\s*=\s*\{(.*?)\};", source("src/core/scope.c"),
                     re.S).group(1)
    return re.findall(r'"([^"]+)"', body)


def scope_of(macro):
    """SCOPE_MESSAGES_SEND -> messages:send; 0 -> None."""
    if macro == "0":
        return None
    name = macro[len("SCOPE_"):].lower()
    return name.replace("_", ":", 1)


def source_routes():
    """{(METHOD, path): (auth, scope)} for /healthz and every /api/v1 route
    registered in src/api/api.c's table and src/api/viewer.c."""
    routes = {}
    table = re.findall(
        r'\{\s*"([A-Z]+)",\s*"([^"]+)",\s*h_\w+,\s*[^,{}]+,\s*(AUTH_\w+),'
        r'\s*(SCOPE_\w+|0)\s*\}', source("src/api/api.c"))
    viewer = re.findall(
        r'http_server_route\(\s*s,\s*"([A-Z]+)",\s*"([^"]+)",\s*h_\w+,\s*a,'
        r'\s*[^,]+,\s*(AUTH_\w+),\s*(SCOPE_\w+|0)\s*\)',
        source("src/api/viewer.c"))
    assert len(table) >= 40 and len(viewer) >= 3, (
        "the route tables could not be read from the source", table, viewer)
    for method, path, auth, scope in table + viewer:
        if path == "/healthz" or path.startswith("/api/v1/"):
            routes[(method, path)] = (auth, scope_of(scope))
    return routes


def test_the_document_is_served_without_a_key_as_in_docs(shared_server):
    r = requests.get(shared_server.url("/api/v1/openapi.json"), timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    with open(openapi_check.DOC_PATH, "rb") as f:
        on_disk = f.read()
    # The binary embeds docs/openapi.json at build time: a stale build
    # fails here.
    assert r.content == on_disk, (
        "GET /api/v1/openapi.json differs from docs/openapi.json: rebuild")
    assert r.json() == doc()


def test_the_document_is_openapi_3_1_shaped():
    d = doc()
    assert d["openapi"] == "3.1.0"
    assert d["info"]["title"] and d["info"]["version"]
    schemes = d["components"]["securitySchemes"]
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http",
                                 "scheme": "bearer"}
    assert schemes["session"]["type"] == "apiKey"
    assert schemes["session"]["in"] == "cookie"
    assert schemes["session"]["name"] == "lyrebird_session"
    scopes = set(scope_names())
    assert len(scopes) == 9, scopes
    ids = set()
    for path, method, op in operations():
        where = "%s %s" % (method.upper(), path)
        assert op.get("responses"), where + ": no responses"
        assert "security" in op, where + ": no security"
        assert op.get("operationId") and op["operationId"] not in ids, where
        ids.add(op["operationId"])
        assert "x-scope" in op, where + ": no x-scope"
        for req in op["security"]:
            for name, roles in req.items():
                assert name in schemes, (where, name)
                for role in roles:
                    assert role in scopes, (where, role)
        if op["security"]:
            assert op["security"] == [
                {"apiKey": [op["x-scope"]] if op["x-scope"] else []},
                {"session": []}], where
        else:
            assert op["x-scope"] is None, where
        for status, resp in op["responses"].items():
            assert re.fullmatch(r"[1-5](\d\d|XX)|default", status), (where,
                                                                      status)
            assert "description" in openapi_check._resolve(resp), (where,
                                                                   status)
        # Every {parameter} of the path is declared.
        declared = {openapi_check._resolve(p)["name"]
                    for p in op.get("parameters", [])
                    if openapi_check._resolve(p)["in"] == "path"}
        assert declared == set(re.findall(r"\{([^}]+)\}", path)), where
    for name, schema in d["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)


def test_every_object_lyrebird_makes_is_closed():
    """additionalProperties: false wherever an object lists properties, so
    an undocumented field fails the check."""
    open_objects = []

    def walk(node, where):
        if isinstance(node, dict):
            if node.get("type") == "object" or (
                    isinstance(node.get("type"), list)
                    and "object" in node["type"]):
                if "properties" in node and node.get(
                        "additionalProperties") is not False:
                    open_objects.append(where)
            for k, v in node.items():
                walk(v, where + "/" + k)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s/%d" % (where, i))
    walk(doc()["components"]["schemas"], "#/components/schemas")
    walk(doc()["webhooks"], "#/webhooks")
    assert not open_objects, open_objects


def test_every_ref_resolves():
    bad = []

    def walk(node):
        if isinstance(node, dict):
            r = node.get("$ref")
            if isinstance(r, str):
                try:
                    openapi_check._resolve({"$ref": r})
                except (KeyError, AssertionError):
                    bad.append(r)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(doc())
    assert not bad, bad


def test_the_routes_and_scopes_are_those_of_the_source():
    src = source_routes()
    documented = {}
    for path, method, op in operations():
        documented[(method.upper(), path)] = op
    missing = sorted(set(src) - set(documented))
    extra = sorted(set(documented) - set(src))
    assert not missing, "routes in the source but not in the document: %s" % (
        missing,)
    assert not extra, "routes in the document but not in the source: %s" % (
        extra,)
    for key, (auth, scope) in sorted(src.items()):
        op = documented[key]
        assert op["x-scope"] == scope, (key, op["x-scope"], scope)
        if auth == "AUTH_NONE":
            assert op["security"] == [], key
        else:
            assert op["security"] == [{"apiKey": [scope] if scope else []},
                                      {"session": []}], key
            assert "401" in op["responses"], key


def event_type_names():
    body = re.search(r"event_type_names\[\]\s*=\s*\{(.*?)\};",
                     source("src/core/event.c"), re.S).group(1)
    return re.findall(r'"([^"]+)"', body)


def test_the_webhooks_name_every_event_type():
    names = event_type_names()
    assert "message.received" in names and "ping" in names, names
    hooks = doc()["webhooks"]
    assert sorted(hooks) == sorted(names)
    for name in names:
        post = hooks[name]["post"]
        headers = {openapi_check._resolve(p)["name"]
                   for p in post["parameters"]
                   if openapi_check._resolve(p)["in"] == "header"}
        assert {"webhook-id", "webhook-timestamp",
                "webhook-signature"} <= headers, name
        media = post["requestBody"]["content"]["application/json"]
        env = media["schema"]
        assert env["required"] == ["type", "timestamp", "data"], name
        assert env["properties"]["type"] == {"const": name}, name
        assert env["additionalProperties"] is False, name
        # The example is a valid delivery.
        assert media["example"]["type"] == name
        problem = openapi_check.validate(("example", name), env,
                                         media["example"])
        assert problem is None, (name, problem)


@pytest.fixture
def keep_coverage():
    """Made-up answers below do not count as the document's coverage."""
    saved = set(openapi_check.seen)
    yield
    openapi_check.seen.clear()
    openapi_check.seen.update(saved)


def test_a_delivery_can_be_checked_like_a_receiver_gets_it(keep_coverage):
    hook = doc()["webhooks"]["ping"]["post"]
    example = hook["requestBody"]["content"]["application/json"]["example"]
    headers = {"Content-Type": "application/json",
               "webhook-id": "evt_01M86S9ZB7Q0W3X4Y5Z6A7B8C9",
               "webhook-timestamp": "1796270706",
               "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="}
    openapi_check.check_webhook(headers, json.dumps(example))
    with pytest.raises(OpenAPIViolation, match="webhook-signature"):
        openapi_check.check_webhook(dict(headers, **{
            "webhook-signature": "nope"}), json.dumps(example))
    openapi_check.violations.pop()


# ---- the check itself fails what it should -----------------------------------

BASE = "http://127.0.0.1:1"
JSON = {"Content-Type": "application/json"}


def refused(*args, match):
    with pytest.raises(OpenAPIViolation, match=match):
        openapi_check.check(*args)
    # Expected here: not a failure of this test.
    openapi_check.violations.pop()


def test_the_check_refuses_an_undocumented_field_status_route_or_type(
        keep_coverage):
    ok = {"status": "ok", "version": "0.1.0", "schema": 2}
    openapi_check.check("GET", BASE + "/healthz", 200, JSON,
                        json.dumps(ok).encode())
    refused("GET", BASE + "/healthz", 200, JSON,
            json.dumps(dict(ok, extra=1)).encode(),
            match=r"GET /healthz .*-> 200: .*'extra' was unexpected")
    refused("GET", BASE + "/healthz", 418, JSON, b"{}",
            match="status 418 is not documented")
    refused("GET", BASE + "/api/v1/nowhere", 200, JSON, b"{}",
            match="route is not in docs/openapi.json")
    refused("PUT", BASE + "/api/v1/messages", 200, JSON, b"{}",
            match="method is not documented")
    refused("GET", BASE + "/healthz", 200, {"Content-Type": "text/html"},
            b"<p>", match="Content-Type 'text/html' is not documented")
    refused("GET", BASE + "/api/v1/messages/01M86S16X4EWW1YD512B7E41G8", 404,
            JSON, b'{"error": {"code": "gone", "message": "x"}}',
            match="'gone' is not one of")
    # The router's own answers for a path or method there is not.
    openapi_check.check("GET", BASE + "/api/v1/nowhere", 404, JSON,
                        b'{"error": {"code": "not_found", "message": '
                        b'"no such endpoint: /api/v1/nowhere"}}')
    openapi_check.check("PUT", BASE + "/api/v1/messages", 405, JSON,
                        b'{"error": {"code": "method_not_allowed", '
                        b'"message": "PUT is not allowed on /api/v1/messages"}}')


def test_the_check_follows_refs_and_nullable_fields(keep_coverage):
    m = {"id": "01M86S16X4EWW1YD512B7E41G8", "direction": "outbound",
         "from": "+61488868772", "to": "+61491570156", "text": "Hi",
         "status": "queued", "provider": "sim", "provider_message_id": None,
         "error": None, "attempts": 0,
         "route": {"plan": "sms", "reason": "Text only."}, "media": [],
         "metadata": {}, "client_reference": None,
         "created_at": "2026-12-03T04:05:06.000Z",
         "updated_at": "2026-12-03T04:05:06.000Z"}
    url = BASE + "/api/v1/messages"
    openapi_check.check("POST", url, 202, JSON, json.dumps(m).encode())
    refused("POST", url, 202, JSON,
            json.dumps(dict(m, route={"plan": "sms", "reason": "x",
                                      "why": 1})).encode(),
            match=r"'why' was unexpected\) at \.route")
    refused("POST", url, 202, JSON,
            json.dumps(dict(m, created_at="yesterday")).encode(),
            match="does not match")
    refused("POST", url, 202, JSON,
            json.dumps({k: v for k, v in m.items() if k != "error"}).encode(),
            match="'error' is a required property")


# ---- webhook deliveries, as a receiver gets them ----------------------------

class Receiver:
    """An HTTP server on loopback that keeps every POST and answers 200."""

    def __init__(self):
        got = self.got = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                got.append((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        openapi_check.not_lyrebird(self.http.server_address[1])
        self.url = "http://127.0.0.1:%d/events" % self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def types(self):
        return {json.loads(body)["type"] for _, body in self.got}

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.mark.lyrebird_env(LYREBIRD_SIM_MMS_OUT="false")
def test_every_event_type_is_delivered_as_the_document_says(server):
    rec = Receiver()
    try:
        r = server.api("POST", "/api/v1/webhook-endpoints",
                       json={"url": rec.url, "description": "openapi"})
        assert r.status_code == 201, r.text
        ep = r.json()["endpoint"]["id"]
        r = server.api("POST", "/api/v1/webhook-endpoints/%s/test" % ep)
        assert r.status_code == 200, r.text
        # An image to a host without MMS goes as a secure link.
        up = server.upload(make_png(32, 24))
        assert up.status_code == 201, up.text
        m = server.send_ok(JORDAN, "Your X-ray", [up.json()["id"]])
        server.wait_status(m["id"], "delivered")
        # A reply with an image, read; a rename; STOP and START.
        server.handset_send(PRIYA, unique("reply"),
                            media=[("image/png", make_png(8, 8))])
        server.api("POST", "/api/v1/conversations/%s/read" % PRIYA)
        server.api("PATCH", "/api/v1/patients/%s" % PRIYA,
                   json={"name": "Priya S"})
        server.handset_send(PRIYA, "STOP")
        server.handset_send(PRIYA, "START")
        # The patient opens the link; staff revoke it.
        sms = wait_for(lambda: [x["text"] for x in server.handset(JORDAN)
                                if "/v/" in x["text"]])
        path = re.search(r"/v/[A-Za-z0-9_-]+$", sms[-1]).group(0)
        assert server.raw("POST", path).status_code == 200
        link = server.message(m["id"])["route"]["link"]
        assert server.api("DELETE", "/api/v1/links/" + link).status_code == 200

        # Working as a team: assigned, done, a note.
        conv = "/api/v1/conversations/" + PRIYA
        server.api("PATCH", conv, json={"assigned_to": "reception",
                                        "state": "done"})
        server.api("POST", conv + "/notes", json={"text": "a note"})
        want = set(event_type_names())
        got = wait_for(lambda: want <= rec.types() and rec.types(),
                       timeout=20, desc="a delivery of every event type")
        assert got == want
        for headers, body in rec.got:
            openapi_check.check_webhook(headers, body)
        # Media items carry their signed download URL.
        events = [json.loads(b) for _, b in rec.got]
        media = [item for e in events if e["type"].startswith("message.")
                 for item in e["data"]["message"]["media"]]
        assert media and all(x["download_url"] for x in media), media
    finally:
        rec.close()
