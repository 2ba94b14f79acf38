"""Inbound media a provider sends as links: fetched after the message is
stored, through the SSRF-guarded fetcher; a refused or failing link marks
the item unavailable, and the message is always kept."""
import http.server
import threading
import time
import uuid

import pytest

from e2e_helpers import CLINIC, PRIYA, make_png, same_png, unique, wait_for


class Origin:
    """A little web server on loopback, standing in for a provider's media
    host; it counts the requests it gets."""

    def __init__(self, body=b"", status=200, ctype="image/png"):
        origin = self
        self.hits = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                origin.hits.append(self.path)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path="/media/1.png", scheme="http"):
        return "%s://127.0.0.1:%d%s" % (scheme, self.port, path)

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def origin_png():
    png = make_png(20, 10)
    o = Origin(png)
    o.png = png
    yield o
    o.close()


def inbound_with_links(server, *urls, text=None):
    text = text or unique("Photo of the wound")
    r = server.hook("inbound", {"id": "SIM-" + uuid.uuid4().hex, "from": PRIYA,
                                "to": CLINIC, "text": text,
                                "media": [{"url": u} for u in urls]})
    assert r.status_code == 200, r.text
    return r.json()["id"], text


def settled(server, mid):
    m = server.message(mid)
    return m if not m.get("media_pending") else None


@pytest.mark.lyrebird_env(LYREBIRD_MEDIA_FETCH_PRIVATE="true")
def test_linked_media_is_fetched_cleaned_and_shown(server, origin_png):
    mid, text = inbound_with_links(server, origin_png.url())
    m = wait_for(lambda: settled(server, mid), desc="the fetch to finish")
    assert m["text"] == text and m["status"] == "received"
    assert len(m["media"]) == 1, m
    assert m["media"][0]["content_type"] == "image/png"
    assert "media_unavailable" not in m or m["media_unavailable"] == []
    got = server.api("GET", m["media"][0]["url"]).content
    assert same_png(got, origin_png.png)
    assert origin_png.hits == ["/media/1.png"]


PRODUCTION = dict(LYREBIRD_MEDIA_FETCH_PRIVATE="false")


@pytest.mark.lyrebird_env(**PRODUCTION)
def test_link_to_loopback_is_refused_and_the_message_kept(server, origin_png):
    # As in production (the demo allows private addresses for its phone
    # simulator): private addresses are off limits, whatever the scheme.
    mid, text = inbound_with_links(
        server, origin_png.url(scheme="https"),
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/")
    t0 = time.monotonic()
    m = wait_for(lambda: settled(server, mid), desc="the fetches to settle")
    assert time.monotonic() - t0 < 10
    assert m["text"] == text and m["status"] == "received"
    assert m["media"] == []
    errors = [e["error"] for e in m["media_unavailable"]]
    assert len(errors) == 2, m
    assert all("private" in e or "not public" in e or "refused" in e
               for e in errors), errors
    assert "127.0.0.1" in errors[0] and "169.254.169.254" in errors[1], errors
    assert origin_png.hits == []  # never connected
    # The conversation shows the message, so staff can ask for the photo.
    assert any(x["id"] == mid for x in server.conv_messages(PRIYA))


@pytest.mark.lyrebird_env(**PRODUCTION)
def test_plain_http_links_are_refused_outside_test_mode(server, origin_png):
    mid, _ = inbound_with_links(server, origin_png.url())
    m = wait_for(lambda: settled(server, mid))
    assert "https" in m["media_unavailable"][0]["error"], m
    assert origin_png.hits == []


@pytest.mark.lyrebird_env(LYREBIRD_MEDIA_FETCH_PRIVATE="true",
                          LYREBIRD_MEDIA_FETCH_MAX_ATTEMPTS="2")
def test_failing_link_is_retried_then_marked_unavailable(server):
    o = Origin(b"busy", status=503, ctype="text/plain")
    try:
        mid, _ = inbound_with_links(server, o.url())
        m = wait_for(lambda: settled(server, mid), timeout=20,
                     desc="two tries, then giving up")
        assert len(o.hits) == 2, o.hits
        assert "503" in m["media_unavailable"][0]["error"], m
        assert m["media"] == []
    finally:
        o.close()


@pytest.mark.lyrebird_env(LYREBIRD_MEDIA_FETCH_PRIVATE="true")
def test_link_to_something_not_an_image_is_refused(server):
    o = Origin(b"#!/bin/sh\necho hi\n", ctype="image/jpeg")
    try:
        mid, _ = inbound_with_links(server, o.url("/x.jpg"))
        m = wait_for(lambda: settled(server, mid))
        assert "not accepted" in m["media_unavailable"][0]["error"], m
        assert len(o.hits) == 1  # not retried: it will not change
    finally:
        o.close()
