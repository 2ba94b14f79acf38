"""The S3 media store against s3rver, an S3-compatible server from npm
(tests/s3, see s3rver_server.py): uploads, thumbnails, an outbound MMS, an
inbound photo, reads, the retention purge, large objects, changed objects,
and the server going away.

The bucket is read back through the S3 API (ListObjectsV2, GetObject),
not through lyrebird. Stored bytes may differ from the uploaded ones
(intake re-encodes images), so objects are compared with what lyrebird
serves and with their own key (blobs are content-addressed).

s3rver does not verify SigV4 signatures: test_s3_signatures.py checks
them against tests/s3/s3stub.py.
"""
import hashlib
import os
import subprocess
import time

import pytest

from conftest import BIN, Lyrebird, _env_for, _finish
from e2e_helpers import JORDAN, PRIYA, make_png, unique, wait_for
from s3rver_server import PREFIX, S3rver

RECENT = "+61491570159"


@pytest.fixture
def s3(tmp_path):
    srv = S3rver(tmp_path)
    try:
        yield srv
    finally:
        srv.stop()


def _start(request, tmp_path, s3, extra=None):
    env = s3.lyrebird_env()
    env.update(extra or {})
    env.update(_env_for(request))
    srv = Lyrebird(tmp_path / "lyrebird", env)
    srv.start()
    return srv


@pytest.fixture
def server(request, tmp_path, s3):
    """lyrebird demo with its media in s3rver; lyrebird_env markers are
    applied over the S3 settings."""
    srv = _start(request, tmp_path, s3)
    try:
        yield srv
    finally:
        _finish(srv, request)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def upload_png(server, w=6, h=6):
    r = server.upload(make_png(w, h), "image/png")
    assert r.status_code == 201, r.text
    return r.json()


def served(server, url):
    g = server.api("GET", url)
    assert g.status_code == 200, (url, g.status_code, g.text)
    return g.content


def assert_in_bucket(s3, data):
    """data is in the bucket under <prefix><its SHA-256>, byte for byte."""
    key = PREFIX + sha(data)
    assert key in s3.keys(), (key, s3.keys())
    assert s3.get(key) == data
    return key


def fs_media_files(server):
    return [f for _, _, fs in os.walk(os.path.join(server.data, "media"))
            for f in fs]


def test_upload_and_its_thumbnail_are_objects_in_the_bucket(server, s3):
    assert s3.keys() == []
    png = make_png(480, 240)
    r = server.upload(png, "image/png")
    assert r.status_code == 201, r.text
    up = r.json()
    image = served(server, up["url"])
    thumb = served(server, up["thumb_url"])
    assert up["bytes"] == len(image) and up["sha256"] == sha(image)
    k_image = assert_in_bucket(s3, image)
    k_thumb = assert_in_bucket(s3, thumb)
    assert k_image != k_thumb
    # Every object is content-addressed under the prefix, and nothing went
    # to the filesystem store.
    for k in s3.keys():
        assert k.startswith(PREFIX) and k == PREFIX + sha(s3.get(k)), k
    assert fs_media_files(server) == []

    # The same bytes again: the same objects, no new ones.
    before = s3.keys()
    again = server.upload(png, "image/png")
    assert again.status_code == 201, again.text
    assert again.json()["sha256"] == up["sha256"]
    assert s3.keys() == before


@pytest.mark.lyrebird_env(LYREBIRD_MEDIA_KEEP_ORIGINAL="true")
def test_kept_original_is_an_object_too(server, s3):
    png = make_png(7, 7)
    r = server.upload(png, "image/png")
    assert r.status_code == 201, r.text
    original = served(server, r.json()["url"] + "/original")
    assert original == png
    assert_in_bucket(s3, png)


def test_mms_goes_out_and_a_photo_comes_in(server, s3):
    up = upload_png(server)
    stored = served(server, up["url"])
    assert_in_bucket(s3, stored)

    # Out: the carrier fetches the media from lyrebird, which reads S3.
    text = unique("Exercise sheet (S3)")
    m = server.send_ok(PRIYA, text, media=[up["id"]])
    server.wait_status(m["id"], "delivered", timeout=20)
    got = wait_for(lambda: server.handset_with_text(PRIYA, text),
                   desc="handset to receive the MMS")
    assert len(got) == 1 and len(got[0]["media"]) == 1, got
    b = server.raw("GET", got[0]["media"][0]["url"])
    assert b.status_code == 200 and b.content == stored

    # In: a patient's photo is stored in the bucket and served from it.
    reply = unique("Photo of my foot (S3)")
    server.handset_send(PRIYA, reply, media=[("image/png", make_png(9, 5))])
    msgs = wait_for(lambda: [x for x in server.conv_messages(PRIYA)
                             if x["text"] == reply and x["media"]],
                    desc="the inbound photo")
    assert len(msgs) == 1, msgs
    med = msgs[0]["media"][0]
    photo = served(server, med["url"])
    assert med["sha256"] == sha(photo)
    assert_in_bucket(s3, photo)
    assert_in_bucket(s3, served(server, med["url"] + "/thumb"))
    assert fs_media_files(server) == []


def test_largest_allowed_upload_is_one_object(server, s3):
    # No multipart upload: a blob is one PUT, up to [media] max_bytes
    # (10 MiB by default). A 9.5 MiB document goes as one object.
    body = os.urandom(9 * 1024 * 1024 + 512 * 1024)
    pdf = b"%PDF-1.4\n%" + body + b"\n%%EOF\n"
    r = server.upload(pdf, "application/pdf")
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["bytes"] == len(pdf)
    assert served(server, up["url"]) == pdf
    assert_in_bucket(s3, pdf)
    head = s3.client.head_object(Bucket="lyrebird-e2e", Key=PREFIX + sha(pdf))
    assert head["ContentLength"] == len(pdf)


def test_changed_or_missing_object_is_an_error_not_bad_bytes(server, s3):
    up = upload_png(server)
    stored = served(server, up["url"])
    key = assert_in_bucket(s3, stored)

    # Same size, other bytes: the content hash no longer matches the key.
    s3.put(key, bytes(b ^ 0xFF for b in stored))
    g = server.api("GET", up["url"])
    assert g.status_code == 503, g.text
    assert g.json()["error"]["code"] == "storage_unavailable"

    # Bigger than the database says: the read stops at the bound.
    s3.put(key, stored + b"\0" * (1 << 20))
    assert server.api("GET", up["url"]).status_code == 503

    # Gone: s3rver answers 404 NoSuchKey.
    s3.delete(key)
    assert key not in s3.keys()
    assert server.api("GET", up["url"]).status_code == 503

    err = server.stderr()
    assert "do not match its key" in err, err[-3000:]
    assert "larger than" in err, err[-3000:]
    assert "NoSuchKey" in err, err[-3000:]

    # Put back, it is served again.
    s3.put(key, stored)
    assert served(server, up["url"]) == stored


def test_uploads_from_many_threads_at_once(server, s3):
    from concurrent.futures import ThreadPoolExecutor
    pngs = [make_png(4, 4) for _ in range(16)]
    with ThreadPoolExecutor(8) as ex:
        ups = list(ex.map(lambda p: server.upload(p, "image/png"), pngs))
    assert all(r.status_code == 201 for r in ups), [r.text for r in ups]
    with ThreadPoolExecutor(8) as ex:
        gets = list(ex.map(lambda r: server.api("GET", r.json()["url"]), ups))
    assert all(g.status_code == 200 for g in gets)
    keys = set(s3.keys())
    for g in gets:
        assert PREFIX + sha(g.content) in keys


# Short back-off, and attempts enough to outlast the outage on a slow
# (sanitizer) build.
@pytest.mark.lyrebird_env(LYREBIRD_OUTBOX_BACKOFF_BASE_MS="300",
                          LYREBIRD_OUTBOX_BACKOFF_MAX_MS="1000",
                          LYREBIRD_OUTBOX_MAX_ATTEMPTS="60")
def test_server_down_is_a_clear_error_and_no_message_is_lost(server, s3):
    up = upload_png(server)
    stored = served(server, up["url"])
    s3.stop()

    # An upload fails with 503 and a log line naming the store, and
    # records nothing.
    r = server.upload(make_png(8, 8), "image/png")
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "storage_unavailable", r.json()
    err = server.stderr()
    assert "media.s3" in err and "PUT s3://lyrebird-e2e/media/" in err, \
        err[-3000:]
    assert "connect" in err.lower(), err[-3000:]
    assert "S3RVER:" not in err  # no credentials in the log
    assert server.api("GET", up["url"]).status_code == 503

    # An MMS queued now is not lost: it waits, retried by the outbox.
    text = unique("Sent while S3 is down")
    m = server.send_ok(JORDAN, text, media=[up["id"]])
    time.sleep(1.5)
    assert server.message(m["id"])["status"] not in ("delivered", "failed")
    assert server.handset_with_text(JORDAN, text) == []
    wait_for(lambda: "media could not be read" in server.stderr(),
             desc="the outbox to log why it waits")

    # An inbound photo is answered 503 (the carrier redelivers), never
    # acknowledged and dropped.
    reply = unique("Photo while S3 is down")
    server.handset_send(PRIYA, reply, media=[("image/png", make_png(5, 9))])
    wait_for(lambda: "answered 503" in server.stderr(), timeout=10,
             desc="the webhook refused with 503")

    # S3 comes back: both go through, each once.
    s3.start()
    server.wait_status(m["id"], "delivered", timeout=30)
    got = wait_for(lambda: server.handset_with_text(JORDAN, text),
                   timeout=10, desc="the MMS")
    assert len(got) == 1 and len(got[0]["media"]) == 1, got
    assert server.raw("GET", got[0]["media"][0]["url"]).content == stored
    msgs = wait_for(lambda: [x for x in server.conv_messages(PRIYA)
                             if x["text"] == reply], timeout=20,
                    desc="the redelivered inbound photo")
    time.sleep(1.0)  # let any further redelivery land
    msgs = [x for x in server.conv_messages(PRIYA) if x["text"] == reply]
    assert len(msgs) == 1 and len(msgs[0]["media"]) == 1, msgs
    assert_in_bucket(s3, served(server, msgs[0]["media"][0]["url"]))


def settable_clock():
    out = subprocess.run([BIN, "--version"], capture_output=True,
                         text=True).stdout
    return "settable clock" in out


def test_purge_deletes_the_purged_media_objects(request, tmp_path, s3,
                                                run_cli):
    if not settable_clock():
        pytest.skip("needs a test build (cmake -DLYREBIRD_TEST_CLOCK=ON: the "
                    "sanitizer build) to write messages in the past")
    clock = tmp_path / "clock"
    clock.write_text("2017-01-10T09:00:00Z\n")
    srv = _start(request, tmp_path, s3,
                 {"LYREBIRD_TEST_CLOCK_FILE": str(clock)})
    try:
        # 2017: an MMS to Jordan and a photo from Priya.
        old_up = upload_png(srv, 9, 9)
        old = srv.send_ok(JORDAN, unique("2017 X-ray"), media=[old_up["id"]])
        srv.wait_status(old["id"], "delivered")
        srv.handset_send(PRIYA, "old photo", media=[("image/png",
                                                     make_png(4, 6))])
        inbound = wait_for(lambda: [m for m in srv.conv_messages(PRIYA)
                                    if m["media"]])[0]["media"][0]
        old_keys = {PREFIX + old_up["sha256"], PREFIX + inbound["sha256"],
                    PREFIX + sha(served(srv, old_up["thumb_url"])),
                    PREFIX + sha(served(srv, inbound["url"] + "/thumb"))}
        # Today: a recent MMS, which stays.
        os.remove(str(clock))
        new_up = upload_png(srv, 5, 7)
        recent = srv.send_ok(RECENT, unique("This week"),
                             media=[new_up["id"]])
        srv.wait_status(recent["id"], "delivered")
        new_keys = {PREFIX + new_up["sha256"],
                    PREFIX + sha(served(srv, new_up["thumb_url"]))}
        before = set(s3.keys())
        assert old_keys | new_keys <= before, (old_keys, new_keys, before)

        env = dict(srv.env)
        env.pop("LYREBIRD_TEST_CLOCK_FILE", None)
        p = run_cli(["purge", "--dry-run", "--data", srv.data], env=env)
        assert p.returncode == 0, p.stderr
        assert set(s3.keys()) == before  # a dry run deletes nothing

        p = run_cli(["purge", "--data", srv.data], env=env)
        assert p.returncode == 0, p.stderr
        assert "patients    2" in p.stdout, p.stdout
        after = set(s3.keys())
        assert not (after & old_keys), sorted(after & old_keys)
        assert new_keys <= after
        assert after == before - old_keys
        assert "could not be deleted" not in p.stderr, p.stderr
        assert served(srv, new_up["url"]) and \
            srv.api("GET", old_up["url"]).status_code == 404
    finally:
        srv.stop()


def test_purge_with_the_server_down_keeps_going_and_says_so(
        request, tmp_path, s3, run_cli):
    if not settable_clock():
        pytest.skip("needs a test build (cmake -DLYREBIRD_TEST_CLOCK=ON: the "
                    "sanitizer build) to write messages in the past")
    clock = tmp_path / "clock"
    clock.write_text("2017-01-10T09:00:00Z\n")
    srv = _start(request, tmp_path, s3,
                 {"LYREBIRD_TEST_CLOCK_FILE": str(clock)})
    try:
        up = upload_png(srv, 9, 9)
        old = srv.send_ok(JORDAN, unique("2017 X-ray"), media=[up["id"]])
        srv.wait_status(old["id"], "delivered")
        keys = set(s3.keys())
        assert PREFIX + up["sha256"] in keys
        os.remove(str(clock))
        s3.stop()
        env = dict(srv.env)
        env.pop("LYREBIRD_TEST_CLOCK_FILE", None)
        p = run_cli(["purge", "--data", srv.data], env=env)
        # The records go; the objects that could not be deleted are named,
        # so an operator can delete them by hand.
        assert p.returncode == 0, p.stderr
        assert "messages    1" in p.stdout, p.stdout
        assert "blobs       0" in p.stdout, p.stdout  # none was deleted
        assert "could not be deleted" in p.stderr, p.stderr
        assert up["sha256"] in p.stderr, p.stderr
        s3.start()
        assert set(s3.keys()) == keys
        assert srv.api("GET", up["url"]).status_code == 404
    finally:
        srv.stop()
