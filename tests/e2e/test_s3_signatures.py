"""lyrebird's SigV4 signatures, checked by tests/s3/s3stub.py: a small
S3 stand-in that recomputes every signature with botocore and refuses bad
ones. s3rver, which the rest of the S3 tests run against (test_s3.py), does
not verify signatures, so what depends on a correct signature is tested
here: every request signed as S3 requires, a wrong secret refused with a
clear error, the SSE header signed, a prefix encoded once.

The stored bytes may differ from the uploaded ones (intake may re-encode
images), so the stub's object is compared with what lyrebird serves back,
and with its own key (blobs are content-addressed), never with the upload.
"""
import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
import requests

from conftest import BIN, Lyrebird, _env_for, _finish
from e2e_helpers import JORDAN, make_png, unique

STUB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "s3",
                    "s3stub.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable

ACCESS_KEY = "AKIDLYREBIRDE2E00001"
SECRET_KEY = "e2e/s3+Secret0123456789abcdefghijklmnopq"
WRONG_SECRET = "e2e/s3+WRONG-9876543210zyxwvutsrqponmlkj"
REGION = "ap-southeast-2"
BUCKET = "lyrebird-e2e"
PREFIX = "media/"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


class S3Stub:
    def __init__(self, workdir):
        self.log_path = os.path.join(str(workdir), "s3stub.log")
        self.err_path = os.path.join(str(workdir), "s3stub.stderr")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(
            [PYTHON, STUB, "--port", "0", "--access-key", ACCESS_KEY,
             "--secret-key", SECRET_KEY, "--region", REGION,
             "--bucket", BUCKET, "--log", self.log_path],
            stdout=subprocess.PIPE, stderr=self.err, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            self.stop()
            pytest.fail("s3stub did not print its port (got %r):\n%s"
                        % (line, self.stderr()))
        self.port = int(line)
        self.base = "http://127.0.0.1:%d" % self.port

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.err.close()

    def lyrebird_env(self):
        return {
            "LYREBIRD_MEDIA_STORE": "s3",
            "LYREBIRD_S3_ENDPOINT": self.base,
            "LYREBIRD_S3_PATH_STYLE": "true",
            "LYREBIRD_S3_BUCKET": BUCKET,
            "LYREBIRD_S3_REGION": REGION,
            "LYREBIRD_S3_ACCESS_KEY": ACCESS_KEY,
            "LYREBIRD_S3_SECRET_KEY": SECRET_KEY,
            "LYREBIRD_S3_PREFIX": PREFIX,
        }

    def _get(self, path):
        r = requests.get(self.base + path, timeout=10)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r

    def requests(self):
        return self._get("/_stub/requests").json()

    def rejected(self):
        return self._get("/_stub/rejected").json()

    def objects(self):
        return self._get("/_stub/objects").json()

    def object_bytes(self, key):
        return self._get("/_stub/objects/%s/%s" % (BUCKET, key)).content

    def plant(self, key, data):
        r = requests.put(self.base + "/_stub/objects/%s/%s" % (BUCKET, key),
                         data=data, timeout=10)
        assert r.status_code == 200, r.text


@pytest.fixture
def s3(tmp_path):
    stub = S3Stub(tmp_path)
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def server(request, tmp_path, s3):
    """lyrebird demo with its media in the stub; lyrebird_env markers are
    applied over the S3 settings."""
    env = s3.lyrebird_env()
    env.update(_env_for(request))
    srv = Lyrebird(tmp_path / "lyrebird", env)
    srv.start()
    try:
        yield srv
    finally:
        _finish(srv, request)


def upload_png(server, **kw):
    r = server.upload(make_png(6, 6, **kw), "image/png")
    assert r.status_code == 201, r.text
    return r.json()


def main_object(server, s3, up):
    """The stub's object that GET /api/v1/media/{id} serves, and its bytes.
    (An image upload may store more than one blob, e.g. a thumbnail.)"""
    g = server.api("GET", "/api/v1/media/" + up["id"])
    assert g.status_code == 200, g.text
    sha = hashlib.sha256(g.content).hexdigest()
    objs = {o["key"]: o for o in s3.objects()}
    assert PREFIX + sha in objs, (sha, sorted(objs))
    obj = objs[PREFIX + sha]
    stored = s3.object_bytes(obj["key"])
    assert stored == g.content
    return obj, stored


def assert_content_addressed(obj):
    assert obj["bucket"] == BUCKET
    assert obj["key"].startswith(PREFIX), obj
    assert obj["key"] == PREFIX + obj["sha256"], obj


def assert_signed_properly(reqs):
    """Every request lyrebird made carried x-amz-content-sha256 (the body's
    hash, or the empty hash without a body) and signed it."""
    assert reqs, "the stub saw no accepted request"
    for q in reqs:
        h = q["headers"]
        assert "x-amz-content-sha256" in h, q
        assert h["x-amz-content-sha256"] == q["body_sha256"], q
        if q["method"] in ("GET", "HEAD"):
            assert h["x-amz-content-sha256"] == EMPTY_SHA256, q
        for name in ("host", "x-amz-content-sha256", "x-amz-date"):
            assert name in q["signed_headers"], q
        assert "?" not in q["path"], q
        cred = h["authorization"].split("Credential=")[1].split(",")[0]
        assert cred.split("/")[0] == ACCESS_KEY
        assert cred.split("/")[2:] == [REGION, "s3", "aws4_request"], cred


def test_every_request_is_signed_as_s3_requires(server, s3):
    up = upload_png(server)
    obj, stored = main_object(server, s3, up)
    assert up["bytes"] == len(stored)
    objs = s3.objects()
    for o in objs:
        assert_content_addressed(o)
        assert hashlib.sha256(s3.object_bytes(o["key"])).hexdigest() == o["sha256"]
        assert o["sse"] is None

    reqs = s3.requests()
    puts = [q for q in reqs if q["method"] == "PUT"]
    gets = [q for q in reqs if q["method"] == "GET"]
    assert gets, reqs
    assert sorted(q["path"] for q in puts) == sorted(
        "/%s/%s" % (BUCKET, o["key"]) for o in objs), (puts, objs)
    for q in puts:
        assert q["headers"]["content-type"] == "application/octet-stream"
        assert "content-type" in q["signed_headers"]
        assert "x-amz-server-side-encryption" not in q["headers"]
    assert_signed_properly(reqs)
    assert s3.rejected() == []

    # Nothing went to the filesystem store.
    media_dir = os.path.join(server.data, "media")
    files = [f for _, _, fs in os.walk(media_dir) for f in fs]
    assert files == [], files


@pytest.mark.lyrebird_env(LYREBIRD_S3_SECRET_KEY=WRONG_SECRET)
def test_wrong_secret_is_refused_and_nothing_is_stored(server, s3):
    r = server.upload(make_png(5, 5), "image/png")
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "storage_unavailable", r.json()
    assert s3.objects() == []
    assert s3.requests() == []
    rej = s3.rejected()
    assert rej and all(q["method"] == "PUT" for q in rej), rej
    assert {q["code"] for q in rej} == {"SignatureDoesNotMatch"}, rej

    # Logged with S3's error code, never with a secret.
    err = server.stderr()
    assert "SignatureDoesNotMatch" in err, err[-3000:]
    assert WRONG_SECRET not in err and SECRET_KEY not in err
    for q in rej:
        sig = q["headers"]["authorization"].split("Signature=")[1]
        assert sig not in err


@pytest.mark.lyrebird_env(LYREBIRD_S3_SSE="AES256")
def test_sse_header_is_sent_and_signed(server, s3):
    up = upload_png(server)
    puts = [q for q in s3.requests() if q["method"] == "PUT"]
    assert puts, s3.requests()
    for q in puts:
        assert q["headers"]["x-amz-server-side-encryption"] == "AES256"
        assert "x-amz-server-side-encryption" in q["signed_headers"]
    assert s3.objects() and all(o["sse"] == "AES256" for o in s3.objects())

    # A GET must not carry the SSE header (S3 refuses it for SSE-S3).
    main_object(server, s3, up)
    gets = [q for q in s3.requests() if q["method"] == "GET"]
    assert gets and all("x-amz-server-side-encryption" not in q["headers"]
                        for q in gets)
    assert_signed_properly(s3.requests())


@pytest.mark.lyrebird_env(LYREBIRD_S3_PREFIX="clinic a/média/")
def test_prefix_is_uri_encoded_once(server, s3):
    upload_png(server)
    objs = s3.objects()
    assert objs
    for o in objs:
        assert o["key"] == "clinic a/média/" + o["sha256"], o
    paths = sorted(q["path"] for q in s3.requests() if q["method"] == "PUT")
    assert paths == sorted("/%s/clinic%%20a/m%%C3%%A9dia/%s" % (
        BUCKET, o["sha256"]) for o in objs), paths
    assert s3.rejected() == []


def test_purge_deletes_are_signed_and_verified(request, tmp_path, s3,
                                               run_cli):
    out = subprocess.run([BIN, "--version"], capture_output=True,
                         text=True).stdout
    if "settable clock" not in out:
        pytest.skip("needs a test build (cmake -DLYREBIRD_TEST_CLOCK=ON: the "
                    "sanitizer build) to write messages in the past")
    clock = tmp_path / "clock"
    clock.write_text("2017-01-10T09:00:00Z\n")
    env = s3.lyrebird_env()
    env["LYREBIRD_TEST_CLOCK_FILE"] = str(clock)
    srv = Lyrebird(tmp_path / "lyrebird", env)
    srv.start()
    try:
        up = upload_png(srv)
        m = srv.send_ok(JORDAN, unique("2017 X-ray"), media=[up["id"]])
        srv.wait_status(m["id"], "delivered")
        keys = {o["key"] for o in s3.objects()}
        assert PREFIX + up["sha256"] in keys
        os.remove(str(clock))
        cli_env = dict(srv.env)
        cli_env.pop("LYREBIRD_TEST_CLOCK_FILE", None)
        p = run_cli(["purge", "--data", srv.data], env=cli_env)
        assert p.returncode == 0, p.stderr
        assert "could not be deleted" not in p.stderr, p.stderr
        assert s3.objects() == []
        deletes = [q for q in s3.requests() if q["method"] == "DELETE"]
        assert sorted(q["path"] for q in deletes) == sorted(
            "/%s/%s" % (BUCKET, k) for k in keys), (deletes, keys)
        for q in deletes:
            assert q["headers"]["x-amz-content-sha256"] == EMPTY_SHA256, q
        assert_signed_properly(s3.requests())
        assert s3.rejected() == []
    finally:
        srv.stop()


# -- the stub itself: it must refuse what real S3 refuses ------------------

def _signed(s3, method, path, body=b"", secret=SECRET_KEY, headers=None,
            content_sha=None):
    """A request signed by botocore (not by lyrebird or curl)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    h = {"x-amz-content-sha256": hashlib.sha256(body).hexdigest()
         if content_sha is None else content_sha}
    h.update(headers or {})
    req = AWSRequest(method=method, url=s3.base + path, data=body, headers=h)
    S3SigV4Auth(Credentials(ACCESS_KEY, secret), "s3", REGION).add_auth(req)
    return dict(req.headers.items())


def _signed_query_as_is(s3, path, query):
    """Headers for a GET whose canonical request has the query in the order
    given, sorted or not."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    host = s3.base.split("://", 1)[1]
    h = {"host": host, "x-amz-date": amz_date,
         "x-amz-content-sha256": EMPTY_SHA256}
    req = AWSRequest(method="GET", url="%s%s?%s" % (s3.base, path, query),
                     headers=h)
    req.context["timestamp"] = amz_date
    signer = S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION)
    lines = signer.canonical_request(req).split("\n")
    lines[2] = query  # botocore sorted it
    sig = signer.signature(signer.string_to_sign(req, "\n".join(lines)), req)
    h["Authorization"] = (
        "AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s"
        % (ACCESS_KEY, amz_date[:8], REGION, sig))
    return h


def test_stub_verifies_signatures(s3):
    path = "/%s/check/object" % BUCKET
    body = b"stub self-check"

    def put(headers, data=body):
        return requests.put(s3.base + path, data=data, headers=headers,
                            timeout=10)

    assert put(_signed(s3, "PUT", path, body)).status_code == 200
    cases = {
        "wrong secret": (_signed(s3, "PUT", path, body, secret=WRONG_SECRET),
                         body),
        "body changed": (_signed(s3, "PUT", path, body), body + b"!"),
        "hash missing": ({k: v for k, v in
                          _signed(s3, "PUT", path, body).items()
                          if k.lower() != "x-amz-content-sha256"}, body),
        "unknown key": ({k: (v.replace(ACCESS_KEY, "AKIDUNKNOWN")
                             if k.lower() == "authorization" else v)
                         for k, v in _signed(s3, "PUT", path, body).items()},
                        body),
        "unsigned x-amz header": (dict(_signed(s3, "PUT", path, body),
                                       **{"x-amz-meta-extra": "1"}), body),
    }
    for what, (headers, data) in cases.items():
        r = put(headers, data)
        assert r.status_code == 403, (what, r.status_code, r.text)
        assert "<Code>SignatureDoesNotMatch</Code>" in r.text, (what, r.text)
    assert requests.put(s3.base + path, data=body, timeout=10).status_code == 403

    # A query signed in the order sent rather than sorted (what curl 7.88
    # does) is refused, as S3 refuses it; the same request sorted passes.
    for query, want in (("list-type=2&prefix=check%2F", 200),
                        ("prefix=check%2F&list-type=2", 403)):
        r = requests.get("%s/%s/?%s" % (s3.base, BUCKET, query),
                         headers=_signed_query_as_is(s3, "/%s/" % BUCKET,
                                                     query), timeout=10)
        assert r.status_code == want, (query, r.text)
    assert "<Key>check/object</Key>" in requests.get(
        "%s/%s/?list-type=2&prefix=check%%2F" % (s3.base, BUCKET),
        headers=_signed_query_as_is(s3, "/%s/" % BUCKET,
                                    "list-type=2&prefix=check%2F"),
        timeout=10).text

    # Only the good PUT and the sorted lists got through.
    assert [q["method"] for q in s3.requests()] == ["PUT", "GET", "GET"]
    assert len(s3.rejected()) == len(cases) + 2
    with open(s3.log_path) as f:
        logged = [json.loads(line) for line in f]
    assert [e["accepted"] for e in logged].count(True) == 3
    assert len(logged) == len(cases) + 5
