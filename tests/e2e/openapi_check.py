"""Every answer the e2e suite receives from a lyrebird under test is checked
against docs/openapi.json: the route (path and method) must be in the
document, the status must be one the operation lists, the Content-Type one
it lists for that status, and a JSON body must validate against the schema
(Draft 2020-12, Debian's python3-jsonschema; every object lyrebird makes is
closed with additionalProperties: false, so an undocumented field fails).

conftest.py installs the check on requests (HTTPAdapter.send: every
exchange, whether made through a Session, requests.get() or a redirect);
tests that speak HTTP over a raw socket (the event stream) call check()
themselves, and check_event() for each event they read.

A response is taken as lyrebird's when it comes from a loopback address
and its path is /healthz or under /api/v1/. A test that runs something
else there calls not_lyrebird(port).

A mismatch raises OpenAPIViolation (an AssertionError) in the test that
received the answer, and is also recorded, so that a test that swallows
the exception still fails (conftest.py's pytest_runtest_makereport).
"""
import json
import os
import re
import threading
import urllib.parse

from jsonschema import Draft202012Validator, RefResolver
from jsonschema.exceptions import best_match

DOC_PATH = os.path.normpath(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
    "openapi.json"))

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")


class OpenAPIViolation(AssertionError):
    pass


_lock = threading.Lock()
_doc = None
_routes = None       # [(regex, template)], literal paths first
_validators = {}
_ignored_ports = set()
violations = []      # messages, since the current test began
checked = [0]        # responses checked (all tests)
seen = set()         # (template, method, status key) answered so far


def document():
    """The document, from docs/openapi.json (test_openapi.py checks that
    the server serves the same)."""
    global _doc, _routes
    with _lock:
        if _doc is None:
            with open(DOC_PATH, encoding="utf-8") as f:
                _doc = json.load(f)
            routes = []
            for template in _doc.get("paths", {}):
                rx = "^" + re.sub(r"\\\{[^/]*?\\\}", "[^/]+",
                                  re.escape(template)) + "$"
                routes.append((template.count("{"), re.compile(rx), template))
            routes.sort(key=lambda t: t[0])
            _routes = [(rx, t) for _, rx, t in routes]
        return _doc


def not_lyrebird(port):
    """Answers from this port are not lyrebird's: not checked."""
    _ignored_ports.add(int(port))


def reset():
    del violations[:]


def _fail(what, problem):
    msg = "OpenAPI: %s: %s" % (what, problem)
    violations.append(msg)
    raise OpenAPIViolation(msg)


def is_lyrebird(url):
    u = urllib.parse.urlsplit(url)
    if (u.hostname or "") not in LOOPBACK or u.port in _ignored_ports:
        return False
    return u.path == "/healthz" or u.path.startswith("/api/v1/")


def route_of(path):
    """The document's path template for a request path, or None."""
    document()
    for rx, template in _routes:
        if rx.match(path):
            return template
    return None


def _resolve(obj):
    doc = document()
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and len(obj) == 1:
        ref = obj["$ref"]
        assert ref.startswith("#/"), ref
        obj = doc
        for part in ref[2:].split("/"):
            obj = obj[part.replace("~1", "/").replace("~0", "~")]
        seen += 1
        assert seen < 20, "a $ref loop at %s" % ref
    return obj


def _validator(key, schema):
    v = _validators.get(key)
    if v is None:
        resolver = RefResolver.from_schema(document())
        v = Draft202012Validator(schema, resolver=resolver)
        _validators[key] = v
    return v


def _media_type(header):
    return (header or "").split(";")[0].strip().lower()


def _content_for(content, ctype):
    """The documented media type entry that ctype matches, or None."""
    if ctype in content:
        return ctype, content[ctype]
    for key, entry in content.items():
        k = key.lower()
        if k == "*/*" or (k.endswith("/*") and ctype.startswith(k[:-1])):
            return key, entry
    return None, None


def _is_json(ctype):
    return ctype == "application/json" or ctype.endswith("+json")


def _describe(error):
    where = "".join("[%r]" % p if isinstance(p, int) else "." + str(p)
                    for p in error.absolute_path) or "(the body)"
    schema_at = "/".join(str(p) for p in error.absolute_schema_path)
    return "%s at %s (schema: %s)" % (error.message, where, schema_at)


def validate(schema_key, schema, instance):
    """Validation errors of instance against schema, as one string, or
    None when it is valid."""
    v = _validator(schema_key, schema)
    errors = list(v.iter_errors(instance))
    if not errors:
        return None
    best = best_match(errors)
    more = "" if len(errors) == 1 else " (and %d more)" % (len(errors) - 1)
    return _describe(best) + more


def _router_answer(status, ctype, body):
    """The router's own 404 (no such path) or 405 (method not taken)."""
    if status not in (404, 405) or not _is_json(ctype) or body is None:
        return False
    try:
        e = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    if status == 404:
        return (e.get("code") == "not_found"
                and str(e.get("message", "")).startswith("no such endpoint"))
    return e.get("code") == "method_not_allowed"


def check(method, url, status, headers, body):
    """Checks one answer. headers: a mapping (any case); body: bytes, or
    None when it was not read (HEAD, a stream). Raises OpenAPIViolation."""
    doc = document()
    checked[0] += 1
    path = urllib.parse.urlsplit(url).path
    method = method.upper()
    lheaders = {k.lower(): v for k, v in dict(headers).items()}
    ctype = _media_type(lheaders.get("content-type"))
    what = "%s %s -> %s" % (method, path, status)

    template = route_of(path)
    if template is None:
        if _router_answer(status, ctype, body):
            return
        _fail(what, "the route is not in docs/openapi.json (no path matches "
                    "%s)" % path)
    item = doc["paths"][template]
    op_method = method.lower()
    if op_method == "head" and "head" not in item:
        op_method = "get"
    operation = item.get(op_method)
    what = "%s %s (%s) -> %s" % (method, template, path, status)
    if operation is None:
        if status == 405 and _router_answer(status, ctype, body):
            return
        _fail(what, "the method is not documented for this path (it has: "
                    "%s)" % ", ".join(m.upper() for m in item if m in METHODS))
    responses = operation.get("responses", {})
    key = str(status)
    if key not in responses:
        key = "%sXX" % key[0] if "%sXX" % key[0] in responses else "default"
    if key not in responses:
        if status == 404 and _router_answer(status, ctype, body):
            return  # a parameter too long for the router: "no such endpoint"
        _fail(what, "status %s is not documented for this operation (it "
                    "lists: %s); body: %s"
              % (status, ", ".join(sorted(responses)),
                 (body or b"")[:300].decode("utf-8", "replace")))
    seen.add((template, op_method, key))
    response = _resolve(responses[key])
    content = response.get("content")
    if not content:
        if body:
            _fail(what, "the document says no body, but one came (%s, %d "
                        "bytes)" % (ctype or "no Content-Type", len(body)))
        return
    if method == "HEAD":
        return
    mkey, entry = _content_for(content, ctype)
    if entry is None:
        _fail(what, "Content-Type %r is not documented (it lists: %s)"
              % (lheaders.get("content-type"), ", ".join(content)))
    if not _is_json(ctype) or body is None:
        return
    try:
        instance = json.loads(body)
    except ValueError as e:
        _fail(what, "the body is not JSON (%s): %r" % (e, body[:300]))
    schema = entry.get("schema", {})
    problem = validate((template, op_method, key, mkey), schema, instance)
    if problem:
        _fail(what, "the body does not match the document: %s\nbody: %s"
              % (problem, json.dumps(instance)[:2000]))


def coverage():
    """(documented (path, method, status) triples answered so far, all of
    them, the ones never answered)."""
    doc = document()
    every = {(p, m, s) for p, item in doc["paths"].items()
             for m, o in item.items() if m in METHODS
             for s in o.get("responses", {})}
    return len(every & seen), len(every), sorted(every - seen)


def check_response(resp):
    """Checks a requests.Response (its body is read unless it is a
    stream of a non-JSON type)."""
    req = resp.request
    if req is None or not is_lyrebird(req.url):
        return
    ctype = _media_type(resp.headers.get("Content-Type"))
    body = None
    if req.method.upper() != "HEAD" and (_is_json(ctype) or not ctype
                                         or resp.status_code == 204):
        body = resp.content
    check(req.method, req.url, resp.status_code, resp.headers, body)


def event_schema(name):
    """The schema of an event's data (the webhook envelope's "data")."""
    doc = document()
    hook = doc.get("webhooks", {}).get(name)
    if hook is None:
        return None
    env = hook["post"]["requestBody"]["content"]["application/json"]["schema"]
    return env["properties"]["data"]


def check_event(name, data, where="GET /api/v1/events"):
    """Checks one event of the live stream: its type is documented and its
    data (JSON-decoded) matches the webhooks section's data for it."""
    checked[0] += 1
    what = "%s: event %r" % (where, name)
    if name == "reset":
        if data != {}:
            _fail(what, "a reset carries {} as its data, not %r" % (data,))
        return
    schema = event_schema(name)
    if schema is None:
        _fail(what, "the event type is not in the document's webhooks")
    problem = validate(("event", name), schema, data)
    if problem:
        _fail(what, "the data does not match the document: %s\ndata: %s"
              % (problem, json.dumps(data)[:2000]))


def check_webhook(headers, body):
    """Checks a webhook delivery as a receiver got it: the Standard
    Webhooks headers and the envelope, against the webhooks section."""
    doc = document()
    checked[0] += 1
    lheaders = {k.lower(): v for k, v in dict(headers).items()}
    try:
        env = json.loads(body)
    except ValueError as e:
        _fail("webhook delivery", "the body is not JSON (%s)" % e)
    name = env.get("type") if isinstance(env, dict) else None
    what = "webhook delivery %r" % (name,)
    hook = doc.get("webhooks", {}).get(name)
    if hook is None:
        _fail(what, "the event type is not in the document's webhooks")
    post = hook["post"]
    for p in post.get("parameters", []):
        p = _resolve(p)
        if p.get("in") != "header":
            continue
        value = lheaders.get(p["name"].lower())
        if value is None:
            if p.get("required"):
                _fail(what, "no %s header" % p["name"])
            continue
        problem = validate(("webhook-header", name, p["name"]),
                           p.get("schema", {}), value)
        if problem:
            _fail(what, "header %s: %s" % (p["name"], problem))
    ctype = _media_type(lheaders.get("content-type"))
    content = post["requestBody"]["content"]
    if ctype not in content:
        _fail(what, "Content-Type %r is not documented" % ctype)
    problem = validate(("webhook", name), content[ctype]["schema"], env)
    if problem:
        _fail(what, "the body does not match the document: %s\nbody: %s"
              % (problem, json.dumps(env)[:2000]))


def install():
    """Checks every answer requests receives from a lyrebird under test."""
    import requests.adapters
    adapter = requests.adapters.HTTPAdapter
    if getattr(adapter.send, "_openapi_checked", False):
        return
    original = adapter.send

    def send(self, request, *args, **kwargs):
        resp = original(self, request, *args, **kwargs)
        check_response(resp)
        return resp
    send._openapi_checked = True
    adapter.send = send


__all__ = ["OpenAPIViolation", "check", "check_event", "check_response",
           "check_webhook", "document", "install", "not_lyrebird",
           "route_of", "validate", "violations"]
