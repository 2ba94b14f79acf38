"""The README's five-minute tour runs as written.

Every shell block of the tour has a `<!-- tour -->` comment before it (a
paragraph a person does in a browser has `<!-- tour: browser -->`). This
test takes those blocks from README.md, in order, and runs each of their
commands in one bash, as the reader's terminals would, in a directory laid
out like a clone after `make demo` built it: `build/lyrebird` (the binary
under test) and `examples/` (the repository's own). Only this changes:

- `make demo` starts `build/lyrebird demo` in the background, as the
  Makefile's demo target does once the build is there (it never installs
  packages or builds), with the same environment, and waits for it; a
  second `make demo` stops the first, as the reader's Ctrl-C would;
- the ports 8080 (the demo) and 9000 (the webhook receiver) become free
  ones, everywhere;
- `curl` fails on an HTTP error (`--fail-with-body`), so that a 4xx or 5xx
  answer fails the command that got it.

A command that exits non-zero fails the test, showing the command and its
output. A comment "# the receiver prints: TEXT" is checked: the last command
started in the background prints a line with TEXT ("..." for any text)."""
import os
import re
import shlex
import subprocess

import pytest

from conftest import BIN, check_sanitizers, clean_env, free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
MARK = re.compile(r"<!-- tour(?:: (\w+))? -->\n")
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
PRINTS = re.compile(r"#\s*the receiver prints:\s*(.+)$")

PRELUDE = r"""
set -o pipefail
trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT
curl() { command curl --fail-with-body "$@"; }
make() {
  if [ "$*" != "demo" ]; then
    echo "the tour test runs only 'make demo', not 'make $*'" >&2
    return 2
  fi
  if [ -n "$TOUR_DEMO_PID" ]; then
    kill -TERM "$TOUR_DEMO_PID"
    wait "$TOUR_DEMO_PID"
  fi
  build/lyrebird demo --port "$TOUR_PORT" >>demo.out 2>>demo.err </dev/null &
  TOUR_DEMO_PID=$!
  for _ in $(seq 200); do
    command curl -sf "http://127.0.0.1:$TOUR_PORT/healthz" >/dev/null && return 0
    kill -0 "$TOUR_DEMO_PID" 2>/dev/null || { cat demo.err >&2; return 1; }
    sleep 0.1
  done
  echo "the demo did not answer /healthz within 20 s" >&2
  return 1
}
"""


def tour_section():
    with open(README) as f:
        text = f.read()
    start = text.index("## A five-minute tour")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def tour_parts():
    """The marked parts of the tour, in order: (kind, text), kind "sh" for a
    shell block or the marker's word ("browser")."""
    sec, out = tour_section(), []
    for m in MARK.finditer(sec):
        if m.group(1):
            end = sec.find("\n\n", m.end())
            out.append((m.group(1), sec[m.end():end if end >= 0 else None]))
            continue
        b = BLOCK.match(sec, m.end())
        assert b, "a <!-- tour --> mark must come right before a ```sh block:\n%s" % (
            sec[m.end():m.end() + 200])
        out.append(("sh", b.group(1)))
    return out


def commands(block):
    """The block's commands (continuation lines joined as written), and the
    output checks its comments ask for: (command, checks)."""
    out, cur = [], []
    for line in block.splitlines():
        if not cur:
            m = PRINTS.search(line.strip())
            if m and out:
                out[-1][1].append(m.group(1))
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        cur.append(line)
        if not line.endswith("\\"):
            out.append(("\n".join(cur), []))
            cur = []
    assert not cur, "a command ends with a backslash: %r" % cur
    return out


def localize(cmd, port, hook_port):
    return cmd.replace("127.0.0.1:8080", "127.0.0.1:%d" % port) \
              .replace("127.0.0.1:9000", "127.0.0.1:%d" % hook_port) \
              .replace(" 9000 &", " %d &" % hook_port)


def script(cmds):
    """One bash script running every command in turn, each one's output in
    .tour/<n>; a failure writes .tour/failed and stops."""
    lines = [PRELUDE, "mkdir -p .tour", "TOUR_BG="]
    for i, (cmd, checks) in enumerate(cmds):
        lines.append("{\n%s\n} >.tour/%d 2>&1" % (cmd, i))
        lines.append('rc=$?; [ $rc -eq 0 ] || { echo "%d $rc" >.tour/failed; exit 1; }' % i)
        if cmd.rstrip().endswith("&"):
            lines.append("TOUR_BG=%d" % i)
        for want in checks:
            pieces = [p for p in want.split("...") if p]
            grep = " | ".join(["grep -F -- %s .tour/$TOUR_BG" % shlex.quote(pieces[0])] +
                              ["grep -F -- %s" % shlex.quote(p) for p in pieces[1:]])
            lines.append(
                'for _ in $(seq 300); do %s >/dev/null && break; sleep 0.1; done\n'
                '%s >/dev/null || { echo "%d check" >.tour/failed; exit 1; }'
                % (grep, grep, i))
    return "\n".join(lines) + "\n"


def test_tour_blocks_are_all_marked():
    """A shell block added to the tour without a mark would go untested."""
    sec = tour_section()
    blocks = len(BLOCK.findall(sec))
    marked = sum(1 for kind, _ in tour_parts() if kind == "sh")
    assert blocks == marked, "%d ```sh blocks in the tour, %d marked <!-- tour -->" % (
        blocks, marked)
    assert marked >= 4


def test_tour_browser_steps():
    steps = [t for kind, t in tour_parts() if kind == "browser"]
    assert steps and "http://127.0.0.1:8080/inbox" in steps[0]
    pytest.skip("needs a person at a browser; tests/browser/messaging.test.mjs, "
                "media.test.mjs and failure.test.mjs do these steps in Chromium")


def test_tour_runs_as_written(tmp_path):
    clone = tmp_path / "clone"
    (clone / "build").mkdir(parents=True)
    os.symlink(BIN, clone / "build" / "lyrebird")
    os.symlink(os.path.join(ROOT, "examples"), clone / "examples")
    port, hook_port = free_port(), free_port()
    cmds = [(localize(c, port, hook_port), checks)
            for kind, block in tour_parts() if kind == "sh"
            for c, checks in commands(block)]
    assert any(c == "make demo" for c, _ in cmds)
    (clone / "tour.sh").write_text(script(cmds))

    p = subprocess.run(["bash", "tour.sh"], cwd=clone, capture_output=True,
                       text=True, timeout=240,
                       env=clean_env({"TOUR_PORT": str(port)}))
    err = (clone / "demo.err").read_text() if (clone / "demo.err").exists() else ""
    failed = clone / ".tour" / "failed"
    if failed.exists():
        n, rc = failed.read_text().split()
        out = (clone / ".tour" / n).read_text()
        what = ("its output lacks what the README says the receiver prints: %r"
                % cmds[int(n)][1] if rc == "check" else "it exited %s" % rc)
        pytest.fail("README tour command %s failed: %s\n$ %s\n%s\n---- demo stderr "
                    "(tail) ----\n%s" % (n, what, cmds[int(n)][0], out[-4000:],
                                         err[-3000:]))
    assert p.returncode == 0, "tour.sh exited %d\n%s\n%s" % (
        p.returncode, p.stdout[-3000:], p.stderr[-3000:])
    check_sanitizers(err, "the tour's demo")

    # What the tour said would happen, did: the export has Jordan's thread,
    # the photo upright, and the STOP and the opt-in given in person.
    import json
    import zipfile
    banner = (clone / "demo.out").read_text()
    assert "sign in as reception / " in banner and "simulated carrier (SMS only)" in banner
    with zipfile.ZipFile(clone / "jordan.zip") as z:
        thread = json.loads(z.read("thread.json"))
    texts = [m["text"] for m in thread["messages"]]
    assert texts[:4] == ["Hi Jordan, your orthotics are ready.", "Your X-ray",
                         "Your X-ray", "Here is my foot"], texts
    photo = thread["messages"][3]["media"][0]
    assert (photo["width"], photo["height"]) == (480, 640), photo
    assert [c["state"] for c in thread["consent"]] == ["opted_out", "opted_in"]


def _exif_ifd0(jpeg):
    """The tags of a JPEG's EXIF IFD0 as {tag: (type, count, value)}, or
    None when it has no EXIF."""
    import struct
    i = 2
    while i + 4 <= len(jpeg) and jpeg[i] == 0xFF:
        marker, size = jpeg[i + 1], struct.unpack(">H", jpeg[i + 2:i + 4])[0]
        seg = jpeg[i + 4:i + 2 + size]
        if marker == 0xE1 and seg.startswith(b"Exif\0\0"):
            t = seg[6:]
            e = "<" if t[:2] == b"II" else ">"
            off = struct.unpack(e + "I", t[4:8])[0]
            n = struct.unpack(e + "H", t[off:off + 2])[0]
            tags = {}
            for k in range(n):
                tag, typ, cnt = struct.unpack(e + "HHI", t[off + 2 + 12 * k:off + 10 + 12 * k])
                raw = t[off + 10 + 12 * k:off + 14 + 12 * k]
                val = struct.unpack(e + "H", raw[:2])[0] if typ == 3 else \
                    struct.unpack(e + "I", raw)[0]
                tags[tag] = (typ, cnt, val)
            return tags
        if marker == 0xDA:
            break
        i += 2 + size
    return None


ORIENTATION, GPS_IFD, MAKE = 0x0112, 0x8825, 0x010F


def test_sample_images_are_small_and_show_what_lyrebird_removes(server):
    ex = os.path.join(ROOT, "examples")
    for name in ("xray.jpg", "photo.jpg"):
        with open(os.path.join(ex, name), "rb") as f:
            data = f.read()
        assert data[:3] == b"\xff\xd8\xff", "%s is a JPEG" % name
        assert len(data) < 100 * 1024, "%s is %d bytes" % (name, len(data))
    with open(os.path.join(ex, "photo.jpg"), "rb") as f:
        photo = f.read()
    tags = _exif_ifd0(photo)
    assert tags and tags[ORIENTATION][2] == 6, "photo.jpg is stored sideways: %r" % tags
    assert GPS_IFD in tags and MAKE in tags, "photo.jpg carries GPS and the camera"

    # As the tour's step 4 says: kept upright, without the metadata.
    up = server.upload(photo, "image/jpeg")
    assert up.status_code == 201, up.text
    assert (up.json()["width"], up.json()["height"]) == (480, 640)
    stored = server.api("GET", "/api/v1/media/" + up.json()["id"]).content
    assert _exif_ifd0(stored) is None, "the stored copy keeps EXIF"
    assert b"Lyrebird" not in stored and b"Sample Phone" not in stored
