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
