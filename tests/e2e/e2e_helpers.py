"""Shared constants and helpers for the end-to-end suite (stdlib only)."""
import hashlib
import hmac
import os
import re
import struct
import time
import uuid
import zlib

DEFAULT_BIN = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "lyrebird")
BIN = os.path.abspath(os.environ.get("LYREBIRD_BIN", DEFAULT_BIN))

API_KEY = "e2e-api-key-0123456789abcdefghijklmnopqrstuv"  # 44 chars
SIM_SECRET = "e2e-sim-secret-0123456789abcdefghijklmnopq"

CLINIC = "+61488868772"
CLINIC_NAME = "WalkEasy Nexus Clinic"
JORDAN = "+61491570156"  # seeded patient "Jordan Lee"
PRIYA = "+61491570157"  # seeded patient "Priya Sharma"

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

ISO_UTC = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:?00)$")


def wait_for(fn, timeout=10, interval=0.05, desc=None):
    """Polls fn() every `interval` s until it returns something truthy and
    returns that. On timeout raises AssertionError showing the last value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(
                "timed out after %ss waiting for %s; last value: %r"
                % (timeout, desc or getattr(fn, "__name__", "condition"), last))
        time.sleep(interval)


def unique(prefix="e2e"):
    return "%s %s" % (prefix, uuid.uuid4().hex[:12])


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def make_png(width=4, height=4, seed=None):
    """A real, valid RGB PNG. Pixels come from `seed` (random by default), so
    two calls give different bytes."""
    seed = os.urandom(16) if seed is None else seed
    stream = hashlib.sha256(seed).digest()
    while len(stream) < width * height * 3:
        stream += hashlib.sha256(stream).digest()
    raw = b""
    row = width * 3
    for y in range(height):
        raw += b"\x00" + stream[y * row:(y + 1) * row]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


def png_pixels(data):
    """(width, height, channels, raw pixel bytes) of an 8-bit, non-interlaced
    PNG. lyrebird re-encodes every image it stores (to drop metadata), so
    tests compare pixels, not bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0, ihdr
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw, stride, out, prev = zlib.decompress(idat), w * ch, bytearray(), None
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        prev = prev or bytearray(stride)
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b, c = prev[x], prev[x - ch] if x >= ch else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return w, h, ch, bytes(out)


def same_png(got, want):
    """True when two PNGs show the same pixels."""
    return png_pixels(got) == png_pixels(want)


# A minimal ELF64 header (what `file` calls an ELF executable).
ELF_BYTES = (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8
             + struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0,
                           64, 56, 1, 64, 0, 0)
             + b"\x00" * 200)

TEXT_BYTES = b"This is a plain text file, not an image.\nSecond line.\n" * 4


def sign(body, secret=SIM_SECRET, t=None):
    """X-Sim-Signature value for a raw body (bytes)."""
    t = int(time.time()) if t is None else int(t)
    mac = hmac.new(secret.encode(), b"%d." % t + body, hashlib.sha256)
    return "t=%d,v1=%s" % (t, mac.hexdigest())


def statuses(msg):
    return [h["status"] for h in msg.get("history", [])]


def is_subsequence(want, got):
    it = iter(got)
    return all(any(g == w for g in it) for w in want)


# ---- staff accounts and sign-in ---------------------------------------------
# These helpers (unlike the ones above) use requests and the lyrebird binary.

import subprocess as _subprocess

DEMO_USER = "reception"
DEMO_PASSWORD = "e2e-staff-password-0123"  # give it with lyrebird_env
SESSION_COOKIE = "lyrebird_session"


def demo_db(server):
    """The demo's database, as `lyrebird user --db` takes it: its SQLite
    file, or on PostgreSQL runs its database's URL (store_db.connect()
    opens either)."""
    import conftest  # (imports this module first)
    return (conftest.store_url_for(server.data)
            or os.path.join(server.data, "lyrebird.db"))


def session_token(response):
    """The lyrebird_session value a sign-in answer sets, or None."""
    m = re.search(r"(?:^|[ ,])%s=([^;, ]*)" % SESSION_COOKIE,
                  response.headers.get("Set-Cookie", ""))
    return m.group(1) if m else None


def login(server, username=DEMO_USER, password=DEMO_PASSWORD, **kw):
    """POST /api/v1/session with no cookie jar involved; the raw answer."""
    import requests
    kw.setdefault("timeout", 10)
    return requests.post(server.url("/api/v1/session"),
                         json={"username": username, "password": password}, **kw)


class Staff:
    """A signed-in browser, reduced to what matters: the cookie, and the
    CSRF token sent on every request that changes something."""

    def __init__(self, server, token, session):
        self.server = server
        self.token = token
        self.session = session
        self.csrf = session["csrf_token"]

    def request(self, method, path, csrf="auto", headers=None, **kw):
        import requests
        h = {"Cookie": "%s=%s" % (SESSION_COOKIE, self.token)}
        if csrf == "auto":
            csrf = None if method in ("GET", "HEAD") else self.csrf
        if csrf is not None:
            h["X-CSRF-Token"] = csrf
        h.update(headers or {})
        kw.setdefault("timeout", 10)
        return requests.request(method, self.server.url(path), headers=h, **kw)

    def token_sha256(self):
        return hashlib.sha256(self.token.encode()).hexdigest()


def sign_in(server, username=DEMO_USER, password=DEMO_PASSWORD):
    r = login(server, username, password)
    assert r.status_code == 200, "sign in as %s -> %s %s" % (
        username, r.status_code, r.text)
    token = session_token(r)
    assert token, "no %s cookie in %r" % (SESSION_COOKIE,
                                          r.headers.get("Set-Cookie"))
    return Staff(server, token, r.json())


def user_cli(args, password=None, timeout=30):
    """Runs `lyrebird user ARGS` with a clean environment. `password`, when
    given, is written to stdin (stdin is never a terminal here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYREBIRD_")}
    p = _subprocess.run([BIN, "user"] + list(args), capture_output=True,
                        text=True, env=env, timeout=timeout,
                        input="" if password is None else password + "\n")
    hits = [m for m in SANITIZER_MARKERS if m in p.stderr]
    assert not hits, "lyrebird user %s: sanitizer report:\n%s" % (
        " ".join(args), p.stderr)
    return p


def add_user(server, name, password, role=None, display=None):
    args = ["add", name, "--db", demo_db(server), "--password-stdin"]
    if role:
        args += ["--role", role]
    if display:
        args += ["--display", display]
    p = user_cli(args, password)
    assert p.returncode == 0, "user add %s -> %s\n%s%s" % (
        name, p.returncode, p.stdout, p.stderr)
    return p


def set_session_times(server, token_sha256, created_at=None, last_seen_at=None):
    """Rewrites a session's times (ms since the epoch) in the database."""
    import store_db
    db = store_db.connect(server)
    try:
        for col, v in (("created_at", created_at),
                       ("last_seen_at", last_seen_at)):
            if v is not None:
                n = db.execute("UPDATE sessions SET %s = ? WHERE token_sha256 = ?"
                               % col, (int(v), token_sha256)).rowcount
                assert n == 1, "no session %s in the database" % token_sha256
        db.commit()
    finally:
        db.close()
