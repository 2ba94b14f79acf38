"""The inbox's live updates: GET /api/v1/events (Server-Sent Events).
Every read has a deadline, so a stream that stalls fails the test."""
import json
import select
import socket
import time

import pytest
import requests

import openapi_check
from e2e_helpers import (API_KEY, DEMO_PASSWORD, JORDAN, PRIYA, SESSION_COOKIE,
                         sign_in, unique)

KEY = {"Authorization": "Bearer " + API_KEY}

# Receipts come late enough for "sent" to be recorded before "delivered".
pytestmark = pytest.mark.lyrebird_env(LYREBIRD_DEMO_PASSWORD=DEMO_PASSWORD,
                                      LYREBIRD_SIM_DR_DELAY_MS="300")


class EventStream:
    """GET /api/v1/events over a plain socket, so that every wait has a
    deadline: a stream that stalls fails the test instead of hanging it."""

    def __init__(self, server, headers=None, timeout=10,
                 path="/api/v1/events"):
        self.url = "http://127.0.0.1:%d%s" % (server.port, path)
        self.sock = socket.create_connection(("127.0.0.1", server.port),
                                             timeout=timeout)
        lines = ["GET %s HTTP/1.1" % path,
                 "Host: 127.0.0.1:%d" % server.port,
                 "Accept: text/event-stream"]
        lines += ["%s: %s" % kv for kv in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.raw = b""      # bytes as they came off the socket
        self.data = b""     # the body, chunk framing removed
        self.eof = False
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.raw:
            self._recv(deadline)
            assert not self.eof or b"\r\n\r\n" in self.raw, (
                "connection closed before the headers: %r" % self.raw)
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        head = head.decode("latin-1").split("\r\n")
        self.status = int(head[0].split()[1])
        self.headers = {}
        for h in head[1:]:
            k, _, v = h.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "")
        self.clen = (int(self.headers["content-length"])
                     if "content-length" in self.headers else None)
        # Not through requests: checked against docs/openapi.json here (the
        # body, when there is one to read, in body()).
        openapi_check.check("GET", self.url, self.status, self.headers, None)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("event stream: nothing more within the "
                                 "deadline; so far: %r" % self.data[-2000:])
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            return
        got = self.sock.recv(65536)
        if not got:
            self.eof = True
        self.raw += got

    def _unframe(self):
        if not self.chunked:
            self.data += self.raw
            self.raw = b""
            return
        while b"\r\n" in self.raw:
            size_line, rest = self.raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                self.eof = True
                self.raw = b""
                return
            if len(rest) < size + 2:
                return
            self.data += rest[:size]
            self.raw = rest[size + 2:]

    def body(self, timeout=10):
        """The whole body of an answer that is not a stream (e.g. a 401)."""
        deadline = time.monotonic() + timeout
        while True:
            self._unframe()
            if self.eof or (self.clen is not None and len(self.data) >= self.clen):
                openapi_check.check("GET", self.url, self.status,
                                    self.headers, self.data)
                return self.data
            self._recv(deadline)

    def block(self, timeout=10):
        """The next block of lines up to a blank line, as text; None when the
        stream ended."""
        deadline = time.monotonic() + timeout
        while True:
            self._unframe()
            data = self.data.replace(b"\r\n", b"\n")
            if b"\n\n" in data:
                blk, self.data = data.split(b"\n\n", 1)
                return blk.decode("utf-8")
            if self.eof:
                return None
            self._recv(deadline)

    def event(self, timeout=10, pings=False):
        """The next block parsed: {"id", "event", "data" (JSON-decoded when
        it can be), "retry", "comments", "text"}. Pings are skipped unless
        asked for. None at the end of the stream."""
        while True:
            blk = self.block(timeout)
            if blk is None:
                return None
            ev = {"id": None, "event": None, "data": None, "retry": None,
                  "comments": [], "text": blk}
            data = []
            for line in blk.split("\n"):
                if line.startswith(":"):
                    ev["comments"].append(line[1:].strip())
                    continue
                k, _, v = line.partition(":")
                v = v[1:] if v.startswith(" ") else v
                if k == "data":
                    data.append(v)
                elif k in ("id", "event", "retry"):
                    ev[k] = v
            if data:
                ev["data"] = "\n".join(data)
                try:
                    ev["data"] = json.loads(ev["data"])
                except ValueError:
                    pass
            if not pings and ev["comments"] and not data and not ev["event"] \
                    and ev["retry"] is None:
                continue
            if ev["event"] is not None:
                openapi_check.check_event(ev["event"], ev["data"])
            return ev

    def until(self, pred, timeout=10, desc="an event"):
        """Events up to and including the first for which pred(ev) is true."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %s; saw %r"
                                     % (desc, [e["text"] for e in seen]))
            try:
                ev = self.event(timeout=left)
            except openapi_check.OpenAPIViolation:
                raise
            except AssertionError:
                raise AssertionError("timed out waiting for %s; saw %r"
                                     % (desc, [e["text"] for e in seen]))
            assert ev is not None, "stream ended waiting for %s; saw %r" % (
                desc, [e["text"] for e in seen])
            seen.append(ev)
            if pred(ev):
                return seen


def open_stream(server, headers=None):
    """A stream with the key, past its opening "retry:" block."""
    s = EventStream(server, dict(KEY, **(headers or {})))
    assert s.status == 200, (s.status, s.body())
    first = s.event()
    assert first is not None and first["retry"] is not None, first
    return s


def rename(server, patient, name):
    r = server.api("PATCH", "/api/v1/patients/" + patient, json={"name": name})
    assert r.status_code == 200, r.text


def conversation_event(patient, kind=None):
    kinds = (kind,) if kind else ("conversation.updated", "conversation.read")
    return lambda ev: (ev["event"] in kinds
                       and ev["data"] == {"patient": patient})


def is_message(ev):
    return (ev["event"] or "").startswith("message.")


def test_events_need_sign_in_and_start_with_retry(server):
    r = requests.get(server.url("/api/v1/events"), timeout=10)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
    with EventStream(server, {"Authorization": "Bearer wrong-key"}) as s:
        assert s.status == 401

    with EventStream(server, KEY) as s:
        assert s.status == 200
        assert s.headers["content-type"].startswith("text/event-stream"), s.headers
        first = s.event()
        assert first["retry"] is not None and first["retry"].isdigit(), first
        assert first["text"].startswith("retry:"), first

    # The inbox reads it with the session cookie.
    staff = sign_in(server)
    cookie = {"Cookie": "%s=%s" % (SESSION_COOKIE, staff.token)}
    with EventStream(server, cookie) as s:
        assert s.status == 200
        assert s.event()["retry"] is not None


def test_an_outbound_message_and_its_status_changes_are_streamed(server):
    with open_stream(server) as s:
        text = unique("streamed outbound")
        m = server.send_ok(JORDAN, text)
        seen = s.until(lambda ev: is_message(ev)
                       and ev["data"]["message"]["id"] == m["id"]
                       and ev["data"]["message"]["status"] == "delivered",
                       desc="message %s delivered on the stream" % m["id"])
    mine = [ev for ev in seen if is_message(ev)
            and ev["data"]["message"]["id"] == m["id"]]
    for ev in mine:
        assert ev["id"], ev
        # An outbound message's changes are message.status events, each
        # saying its status, why, and whether it is final.
        assert ev["event"] == "message.status", ev
        assert ev["data"]["status"] == ev["data"]["message"]["status"], ev
        assert ev["data"]["final"] == (ev["data"]["status"] == "delivered"), ev
        assert ev["data"]["patient"] == JORDAN, ev
        msg = ev["data"]["message"]
        assert msg["direction"] == "outbound" and msg["text"] == text, ev
        assert msg["to"] == JORDAN, ev
    st = [ev["data"]["message"]["status"] for ev in mine]
    # Stored first (queued), then each status change, in order.
    assert st[0] == "queued" and st[1] == "sending", st
    assert "sent" in st and st[-1] == "delivered", st
    assert st.index("sent") < st.index("delivered"), st


def test_a_patient_reply_is_streamed(server):
    with open_stream(server) as s:
        text = unique("streamed reply")
        server.handset_send(PRIYA, text)
        seen = s.until(lambda ev: is_message(ev)
                       and ev["data"]["message"]["text"] == text,
                       desc="the reply on the stream")
    ev = seen[-1]
    assert ev["event"] == "message.received", ev
    assert ev["data"]["patient"] == PRIYA, ev
    msg = ev["data"]["message"]
    assert msg["direction"] == "inbound", msg
    assert msg["from"] == PRIYA and msg["status"] == "received", msg
    assert isinstance(msg["id"], str) and msg["id"], msg


def test_rename_and_read_are_streamed_as_conversation_events(server):
    with open_stream(server) as s:
        rename(server, "0491570156", "Jordan Lee-Smith")
        s.until(conversation_event(JORDAN, "conversation.updated"),
                desc="the rename")
        r = server.api("POST", "/api/v1/conversations/0491570157/read")
        assert r.status_code == 200, r.text
        s.until(conversation_event(PRIYA, "conversation.read"), desc="the read")


def test_reconnecting_with_last_event_id_replays_what_was_missed(server):
    with open_stream(server) as s:
        ids = []
        for i, name in enumerate(("First", "Second", "Third")):
            rename(server, "0491570156", name)
            ev = s.until(conversation_event(JORDAN), desc="rename %d" % i)[-1]
            assert ev["id"], ev
            ids.append(ev["id"])
    assert len(set(ids)) == 3, ids

    # Back after missing the second and third events: just those, in order.
    with open_stream(server, {"Last-Event-ID": ids[0]}) as s:
        assert s.event()["id"] == ids[1]
        assert s.event()["id"] == ids[2]
        # Nothing else was replayed: the next event is a new one.
        rename(server, "0491570157", "Priya S")
        ev = s.event()
        assert ev["id"] not in ids and ev["data"] == {"patient": PRIYA}, ev

    # Up to date: nothing to replay.
    with open_stream(server, {"Last-Event-ID": ids[2]}) as s:
        rename(server, "0491570157", "Priya Sharma")
        ev = s.event()
        assert ev["event"] == "conversation.updated" and ev["id"] not in ids, ev
        ids.append(ev["id"])

    # An id that is not one of this log's: start over with a reset.
    for bogus in ("nonsense", "1-1", "99999999"):
        with open_stream(server, {"Last-Event-ID": bogus}) as s:
            ev = s.event()
            assert ev["event"] == "reset" and ev["data"] == {}, (bogus, ev)
            rename(server, "0491570156", "After reset")
            ev = s.event()
            assert ev["event"] == "conversation.updated", (bogus, ev)
            ids.append(ev["id"])

    # Ids are places in the durable event log: after a restart, a client
    # that was away still gets exactly what it missed.
    server.restart()
    rename(server, "0491570157", "Missed while away")
    with open_stream(server, {"Last-Event-ID": ids[-1]}) as s:
        ev = s.event()
        assert ev["event"] == "conversation.updated", ev
        assert ev["data"] == {"patient": PRIYA} and ev["id"] not in ids, ev


def test_a_cursor_resumes_the_stream_like_last_event_id(server):
    """The changes feed's cursor works on the stream too: an app moves from
    one to the other without a gap."""
    feed = server.api("GET", "/api/v1/messages", params={"limit": 500})
    assert feed.status_code == 200, feed.text
    cursor = feed.json()["cursor"]
    text = unique("after the cursor")
    server.handset_send(PRIYA, text)
    s = EventStream(server, KEY, path="/api/v1/events?cursor=" + cursor)
    try:
        assert s.status == 200, s.body()
        seen = s.until(lambda ev: is_message(ev)
                       and ev["data"]["message"]["text"] == text,
                       desc="the reply after the cursor")
        assert seen[-1]["event"] == "message.received", seen[-1]
        assert int(seen[-1]["id"]) > int(cursor), (seen[-1], cursor)
    finally:
        s.close()
    r = server.api("GET", "/api/v1/events", params={"cursor": "abc"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_cursor"


def test_the_server_stops_promptly_with_a_stream_open(server):
    s = open_stream(server)
    try:
        rename(server, "0491570156", "Before stop")
        s.until(conversation_event(JORDAN), desc="a live event")
        t0 = time.monotonic()
        server.stop()  # SIGTERM; asserts exit status 0
        took = time.monotonic() - t0
        assert took < 5, "took %.1f s to stop with a stream open" % took
        # The stream ends rather than hanging.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if s.event(timeout=5) is None:
                break
        else:
            raise AssertionError("the stream did not end")
    finally:
        s.close()
