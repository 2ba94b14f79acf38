"""s3rver (npm) as a real S3-compatible server for the e2e tests.

tests/s3/s3rver.mjs starts it on 127.0.0.1 with its objects under a temp
directory and the test bucket made. The tests read the bucket back through
the S3 API (botocore's client: ListObjectsV2, GetObject, PutObject,
DeleteObject), never through s3rver's files.

s3rver knows one account (access key S3RVER, secret S3RVER) and refuses
other access keys, but it does not verify SigV4 signatures: a wrong secret
passes. The signature tests use tests/s3/s3stub.py instead (see
test_s3_signatures.py and docs/s3.md).

Skipped, with the reason, only when Node.js is not on PATH. When Node is
there but s3rver is not installed, the tests fail and say how to install it
(scripts/run-tests does it with `npm ci`).
"""
import os
import shutil
import subprocess
import time

import pytest
import requests

import openapi_check

HERE = os.path.dirname(os.path.abspath(__file__))
S3_DIR = os.path.normpath(os.path.join(HERE, "..", "s3"))
LAUNCHER = os.path.join(S3_DIR, "s3rver.mjs")

ACCESS_KEY = "S3RVER"  # s3rver's one account
SECRET_KEY = "S3RVER"
REGION = "ap-southeast-2"
BUCKET = "lyrebird-e2e"
PREFIX = "media/"


def node():
    """The node binary, or skip the test: the only reason to skip."""
    path = shutil.which("node")
    if not path:
        pytest.skip("Node.js is not on PATH: the S3 tests run s3rver (npm) "
                    "and need Node 20 or later (lyrebird never installs it)")
    return path


class S3rver:
    def __init__(self, workdir):
        self.node = node()
        if not os.path.isdir(os.path.join(S3_DIR, "node_modules", "s3rver")):
            pytest.fail("s3rver is not installed: run (cd tests/s3 && npm ci "
                        "--no-audit --no-fund); scripts/run-tests does it")
        self.dir = os.path.join(str(workdir), "s3rver")
        os.makedirs(self.dir, exist_ok=True)
        self.err_path = os.path.join(str(workdir), "s3rver.stderr")
        self.proc = None
        self.port = 0
        self.start()
        self.base = "http://127.0.0.1:%d" % self.port
        import botocore.session
        from botocore.config import Config
        self.client = botocore.session.get_session().create_client(
            "s3", endpoint_url=self.base, region_name=REGION,
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"},
                          retries={"max_attempts": 1}))

    def start(self):
        """Starts s3rver, on the port it had before after a stop()."""
        assert self.proc is None
        with open(self.err_path, "ab") as err:
            # stdin stays open: when this process dies, s3rver sees EOF and
            # stops by itself.
            self.proc = subprocess.Popen(
                [self.node, LAUNCHER, "--directory", self.dir,
                 "--bucket", BUCKET, "--port", str(self.port)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            self.stop()
            pytest.fail("s3rver did not start (got %r):\n%s"
                        % (line, self.stderr()))
        self.port = int(line)
        openapi_check.not_lyrebird(self.port)
        # Ready when it answers (any S3 answer will do).
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get("http://127.0.0.1:%d/" % self.port, timeout=1)
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdin.close()
        proc.stdout.close()

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

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

    # -- the bucket, through the S3 API ------------------------------------
    def keys(self):
        """Every key in the bucket (ListObjectsV2, all pages)."""
        out, token = [], None
        while True:
            kw = {"Bucket": BUCKET}
            if token:
                kw["ContinuationToken"] = token
            r = self.client.list_objects_v2(**kw)
            out += [o["Key"] for o in r.get("Contents", [])]
            if not r.get("IsTruncated"):
                return sorted(out)
            token = r["NextContinuationToken"]

    def get(self, key):
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def put(self, key, data):
        self.client.put_object(Bucket=BUCKET, Key=key, Body=data)

    def delete(self, key):
        self.client.delete_object(Bucket=BUCKET, Key=key)
