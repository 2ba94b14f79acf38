"""The web pages and their assets (security headers, caching, no inline code),
and the simulated carrier's handset API the phone simulator uses."""
import http.client
import re
import urllib.parse

import pytest

from e2e_helpers import CLINIC, ISO_UTC, JORDAN, PRIYA, make_png, unique, same_png

PAGES = ("/login", "/inbox", "/admin", "/sim/phone")

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}

TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
         ".png": "image/png", ".html": "text/html", ".ico": "image/"}


def media_type(r):
    return r.headers.get("Content-Type", "").split(";")[0].strip().lower()


def raw_get(server, path, headers=None):
    """A GET with the path sent exactly as written (requests would tidy
    away "..")."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


def check_page_headers(path, r):
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp, (path, csp)
    assert "frame-ancestors 'none'" in csp, (path, csp)
    assert "default-src 'none'" in csp, (path, csp)
    assert "unsafe-inline" not in csp, (path, csp)
    for name, want in SECURITY_HEADERS.items():
        assert r.headers.get(name) == want, (path, name, r.headers.get(name))


def static_refs_in_html(html):
    return set(re.findall(r"""\b(?:src|href)\s*=\s*["'](/static/[^"'#?]+)""",
                          html))


def static_refs_in_js(path, js):
    """Module specifiers of static imports/exports and dynamic import()s,
    resolved against the file's own URL."""
    specs = re.findall(r"""\b(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]""", js)
    specs += re.findall(r"""\bimport\s*['"]([^'"]+)['"]""", js)
    specs += re.findall(r"""\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)""", js)
    return {urllib.parse.urljoin(path, s) for s in specs}


def static_refs_in_css(path, css):
    urls = re.findall(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""", css)
    return {urllib.parse.urljoin(path, u) for u in urls
            if not u.startswith("data:")}


@pytest.fixture(scope="module")
def pages(shared_server):
    out = {}
    for path in PAGES:
        r = shared_server.raw("GET", path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        out[path] = r
    return out


def test_pages_are_html_with_strict_security_headers(pages):
    for path, r in pages.items():
        assert media_type(r) == "text/html", (path, r.headers)
        check_page_headers(path, r)


def test_pages_have_no_inline_script_or_style(pages):
    for path, r in pages.items():
        html = r.text
        for m in re.finditer(r"<script\b([^>]*)>(.*?)</script\s*>", html,
                             re.I | re.S):
            assert re.search(r"\bsrc\s*=", m.group(1)), (
                "%s has an inline <script>: %s" % (path, m.group(0)[:200]))
            assert not m.group(2).strip(), (path, m.group(0)[:200])
        tag = re.search(r"<[a-z][^>]*?\son[a-z]+\s*=", html, re.I)
        assert not tag, "%s has an event-handler attribute: %s" % (
            path, tag.group(0)[:200])
        tag = re.search(r"<[a-z][^>]*?\sstyle\s*=", html, re.I)
        assert not tag, "%s has a style attribute: %s" % (path, tag.group(0)[:200])
        assert not re.search(r"<style\b", html, re.I), "%s has <style>" % path
        assert "javascript:" not in html.lower(), path


def test_root_redirects_to_the_inbox(shared_server):
    r = shared_server.raw("GET", "/", allow_redirects=False)
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == "/inbox"


def test_every_referenced_asset_is_served_typed_and_cacheable(shared_server, pages):
    todo = set()
    for r in pages.values():
        todo |= static_refs_in_html(r.text)
    assert todo, "the pages reference no /static/ files"
    done = {}
    while todo:
        path = todo.pop()
        if path in done:
            continue
        assert path.startswith("/static/"), "reference outside /static/: %s" % path
        r = shared_server.raw("GET", path)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        ext = path[path.rfind("."):]
        assert ext in TYPES, "unexpected asset type: %s" % path
        assert media_type(r).startswith(TYPES[ext]), (path, r.headers)
        assert r.headers.get("X-Content-Type-Options") == "nosniff", path
        etag = r.headers.get("ETag")
        assert etag, "%s has no ETag" % path
        again = shared_server.raw("GET", path, headers={"If-None-Match": etag})
        assert again.status_code == 304, (path, again.status_code)
        assert again.content == b"", path
        done[path] = r
        if ext == ".js":
            todo |= static_refs_in_js(path, r.text) - set(done)
        elif ext == ".css":
            todo |= static_refs_in_css(path, r.text) - set(done)
    assert any(p.endswith(".js") for p in done), done.keys()
    assert any(p.endswith(".css") for p in done), done.keys()

    # A stale ETag gets the file again.
    some = sorted(done)[0]
    r = shared_server.raw("GET", some, headers={"If-None-Match": '"stale"'})
    assert r.status_code == 200 and r.content == done[some].content


def test_static_serves_only_plain_file_names(shared_server):
    for path in ("/static/../x", "/static/..%2Finbox.html",
                 "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/static/.hidden",
                 "/static/.htaccess", "/static/nope.js", "/static/",
                 "/static/app.css/x"):
        status, _, body = raw_get(shared_server, path)
        assert status == 404, (path, status, body[:200])
        assert b"root:" not in body, path


# ---- the phone simulator and the handset API ------------------------------------

def test_handsets_list_what_they_received_and_sent(server):
    text = unique("to Jordan's phone")
    m = server.send_ok(JORDAN, text)
    server.wait_status(m["id"], "delivered")
    png = make_png(5, 5)
    reply = unique("from Priya's phone")
    server.handset_send(PRIYA, reply, media=[("image/png", png)])

    r = server.raw("GET", "/sim/handsets")
    assert r.status_code == 200, r.text
    assert {JORDAN, PRIYA} <= set(r.json()["handsets"]), r.text

    got = server.handset_with_text(JORDAN, text)
    assert len(got) == 1, server.handset(JORDAN)
    assert got[0]["direction"] == "received", got
    assert got[0]["from"] == CLINIC and got[0]["to"] == JORDAN, got
    assert ISO_UTC.match(got[0]["at"]), got

    sent = server.handset_with_text(PRIYA, reply)
    assert len(sent) == 1, server.handset(PRIYA)
    assert sent[0]["direction"] == "sent", sent
    assert sent[0]["from"] == PRIYA and sent[0]["to"] == CLINIC, sent
    assert ISO_UTC.match(sent[0]["at"]), sent
    assert len(sent[0]["media"]) == 1, sent
    r = server.raw("GET", sent[0]["media"][0]["url"])
    assert r.status_code == 200
    assert media_type(r) == "image/png"
    assert same_png(r.content, png)

    # What Priya sent is not listed as received by anyone else.
    assert server.handset_with_text(JORDAN, reply) == []


def set_switched_off(server, e164, off):
    r = server.raw("POST", "/sim/handsets/%s/state" % e164,
                   json={"switched_off": off})
    assert r.status_code == 200, r.text
    assert r.json() == {"handset": e164, "switched_off": off, "mms": True}


def test_a_switched_off_handset_gets_nothing_until_it_is_on(server):
    set_switched_off(server, JORDAN, True)
    r = server.raw("GET", "/sim/handsets/%s/messages" % JORDAN)
    assert r.json()["switched_off"] is True, r.text

    lost = unique("while the phone is off")
    m = server.send_ok(JORDAN, lost)
    u = server.wait_status(m["id"], "undelivered")
    assert u["error"]["code"] == "absent_subscriber", u
    assert "switched off" in u["error"]["message"], u
    assert server.handset_with_text(JORDAN, lost) == []
    # Only that handset is off.
    other = server.send_ok(PRIYA, unique("Priya's phone is on"))
    server.wait_status(other["id"], "delivered")

    set_switched_off(server, JORDAN, False)
    back = unique("phone back on")
    m = server.send_ok(JORDAN, back)
    server.wait_status(m["id"], "delivered")
    assert len(server.handset_with_text(JORDAN, back)) == 1
    assert server.handset_with_text(JORDAN, lost) == []

    for body in ({"switched_off": "yes"}, {}, [True], None):
        r = server.raw("POST", "/sim/handsets/%s/state" % JORDAN, json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
    r = server.raw("POST", "/sim/handsets/%s/state" % JORDAN, data="off",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    r = server.raw("POST", "/sim/handsets/0491570156/state",
                   json={"switched_off": True})
    assert r.status_code == 400, r.text

