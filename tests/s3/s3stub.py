#!/usr/bin/python3
"""A small S3-compatible server for tests that really checks SigV4.

Every S3 request must carry an AWS4-HMAC-SHA256 Authorization header. The
stub rebuilds the request from the headers the client says it signed,
recomputes the signature with botocore (Debian's python3-botocore) and
answers 403 SignatureDoesNotMatch (an S3 XML error) when:
  - the signature differs (wrong secret, a header changed or not signed);
  - x-amz-content-sha256 is missing, or is neither the SHA-256 of the body
    nor UNSIGNED-PAYLOAD;
  - the access key is unknown, or the credential scope (date, region,
    service) is wrong;
  - a header the client signed is missing, or an x-amz-* header it sent is
    not signed (real S3 refuses both).
The canonical path is recomputed from the decoded path, as S3 does, so a
client that signs "%c3" where S3 expects "%C3" is refused too.
A request with no Authorization header is refused with 403 AccessDenied.

Objects live in memory, path-style only: PUT, GET, HEAD and DELETE on
/<bucket>/<key>, and a minimal ListObjects on GET /<bucket>/.

Test hooks (no authentication; "_stub" cannot be a bucket name):
  GET    /_stub/requests          accepted S3 requests, JSON, oldest first
  GET    /_stub/rejected          refused S3 requests with the reason
  GET    /_stub/objects           the objects' metadata, JSON
  GET    /_stub/objects/<b>/<k>   an object's bytes
  PUT    /_stub/objects/<b>/<k>   plants bytes as they are (no checks)
  DELETE /_stub/objects/<b>/<k>   drops an object
  POST   /_stub/reset             forgets objects and requests

    /usr/bin/python3 tests/s3/s3stub.py --port 0 --access-key AK \\
        --secret-key SK --region us-east-1 --bucket media

With --port 0 the stub picks a free port; the first line on stdout is the
port either way. --log FILE also appends each request (accepted or not) to
FILE as a JSON line.
"""
import argparse
import datetime
import hashlib
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from botocore.auth import SIGNED_HEADERS_BLACKLIST, S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
MAX_BODY = 64 * 1024 * 1024
MAX_SKEW = datetime.timedelta(minutes=15)
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),"
    r"\s*Signature=([0-9a-f]{64})$")
BUCKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class Refused(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.objects = {}  # (bucket, key) -> dict
        self.requests = []
        self.rejected = []
        self.log = open(args.log, "a") if args.log else None

    def record(self, entry, accepted):
        with self.lock:
            (self.requests if accepted else self.rejected).append(entry)
            if self.log:
                self.log.write(json.dumps(dict(entry, accepted=accepted)) + "\n")
                self.log.flush()


def error_xml(code, message, resource="", extra=None):
    parts = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>",
             "<Code>%s</Code>" % escape(code),
             "<Message>%s</Message>" % escape(message)]
    for k, v in (extra or {}).items():
        parts.append("<%s>%s</%s>" % (k, escape(v), k))
    parts.append("<Resource>%s</Resource><RequestId>stub</RequestId></Error>"
                 % escape(resource))
    return "".join(parts).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and "100 Continue" for PUT
    server_version = "s3stub"
    sys_version = ""

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):
        if self.state.args.verbose:
            sys.stderr.write("s3stub: " + (fmt % args) + "\n")

    # -- plumbing ----------------------------------------------------------
    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise Refused(501, "NotImplemented",
                          "chunked request bodies are not supported")
        n = self.headers.get("Content-Length")
        if n is None:
            if self.command == "PUT":
                raise Refused(411, "MissingContentLength",
                              "You must provide the Content-Length HTTP header.")
            return b""
        try:
            n = int(n)
        except ValueError:
            raise Refused(400, "InvalidArgument", "bad Content-Length")
        if n < 0 or n > MAX_BODY:
            raise Refused(400, "EntityTooLarge", "body too large for the stub")
        return self.rfile.read(n) if n else b""

    def reply(self, status, body=b"", ctype="application/xml", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def reply_json(self, status, obj):
        self.reply(status, json.dumps(obj, indent=1).encode(),
                   "application/json")

    def header_map(self):
        """Lower-case name -> value; repeated headers joined with ','."""
        out = {}
        for name in self.headers.keys():
            lname = name.lower()
            if lname not in out:
                out[lname] = ",".join(self.headers.get_all(name))
        return out

    # -- SigV4 -------------------------------------------------------------
    def verify(self, body):
        """Raises Refused unless the request is signed correctly. Returns the
        signed header names."""
        args = self.state.args
        hdrs = self.header_map()
        auth = hdrs.get("authorization")
        if not auth:
            raise Refused(403, "AccessDenied", "Anonymous access is refused.")
        m = AUTH_RE.match(auth.strip())
        if not m:
            raise Refused(400, "AuthorizationHeaderMalformed",
                          "The authorization header is malformed.")
        credential, signed, signature = m.groups()
        signed_names = signed.split(";")
        scope = credential.split("/")
        if len(scope) != 5:
            raise Refused(400, "AuthorizationHeaderMalformed",
                          "The credential is malformed: %s" % credential)
        akid, date, region, service, term = scope
        if akid != args.access_key:
            raise Refused(403, "SignatureDoesNotMatch",
                          "The access key Id %s is not known to the stub."
                          % akid)

        amz_date = hdrs.get("x-amz-date", "")
        try:
            when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            raise Refused(403, "SignatureDoesNotMatch",
                          "x-amz-date is missing or malformed: %r" % amz_date)
        now = datetime.datetime.now(datetime.timezone.utc)
        now = now.replace(tzinfo=None)
        if abs(now - when) > MAX_SKEW:
            raise Refused(403, "RequestTimeTooSkewed",
                          "The difference between the request time and the "
                          "current time is too large.")
        if (date != amz_date[:8] or region != args.region or service != "s3"
                or term != "aws4_request"):
            raise Refused(403, "SignatureDoesNotMatch",
                          "The credential scope %s does not match %s/%s/s3/"
                          "aws4_request" % ("/".join(scope[1:]),
                                            amz_date[:8], args.region))

        content_sha = hdrs.get("x-amz-content-sha256")
        if content_sha is None:
            raise Refused(403, "SignatureDoesNotMatch",
                          "x-amz-content-sha256 is missing: SigV4 requests "
                          "to S3 must carry it.")
        actual = hashlib.sha256(body).hexdigest()
        if content_sha != UNSIGNED and content_sha != actual:
            raise Refused(403, "SignatureDoesNotMatch",
                          "x-amz-content-sha256 is %s but the body's SHA-256 "
                          "is %s." % (content_sha, actual))

        if signed_names != sorted(set(signed_names)) or "" in signed_names:
            raise Refused(403, "SignatureDoesNotMatch",
                          "SignedHeaders must be sorted, lower case, unique.")
        for must in ("host", "x-amz-content-sha256", "x-amz-date"):
            if must not in signed_names:
                raise Refused(403, "SignatureDoesNotMatch",
                              "%s must be signed." % must)
        for name in hdrs:
            if name.startswith("x-amz-") and name not in signed_names:
                raise Refused(403, "SignatureDoesNotMatch",
                              "%s was sent but not signed." % name)
        for name in signed_names:
            if name not in hdrs:
                raise Refused(403, "SignatureDoesNotMatch",
                              "%s is signed but was not sent." % name)
            if name in SIGNED_HEADERS_BLACKLIST:
                raise Refused(403, "SignatureDoesNotMatch",
                              "%s is signed; this stub (botocore) cannot "
                              "check a signature over it." % name)

        # Rebuild the request from the signed headers only and sign it
        # again. Like S3, the canonical path is the decoded path encoded
        # once more (RFC 3986 unreserved characters and '/' as they are,
        # everything else %XX in upper case), whatever case the client
        # used; the query goes as sent (botocore sorts it).
        split = urlsplit(self.path)
        path = quote(unquote(split.path), safe="/~")
        url = "http://%s%s" % (hdrs["host"], path)
        if split.query:
            url += "?" + split.query
        req = AWSRequest(method=self.command, url=url,
                         headers={n: hdrs[n] for n in signed_names})
        req.context["timestamp"] = amz_date
        signer = S3SigV4Auth(Credentials(args.access_key, args.secret_key),
                             "s3", args.region)
        canonical = signer.canonical_request(req)
        to_sign = signer.string_to_sign(req, canonical)
        expected = signer.signature(to_sign, req)
        if signer.signed_headers(signer.headers_to_sign(req)) != signed \
                or not _consteq(expected, signature):
            raise Refused(403, "SignatureDoesNotMatch",
                          "The request signature we calculated does not "
                          "match the signature you provided. Check your key "
                          "and signing method.",
                          AWSAccessKeyId=akid, StringToSign=to_sign,
                          CanonicalRequest=canonical)
        return signed_names

    # -- dispatch ----------------------------------------------------------
    def handle_any(self):
        split = urlsplit(self.path)
        if split.path.startswith("/_stub/") or split.path == "/_stub":
            return self.stub_api(split)
        entry = {"method": self.command, "path": self.path,
                 "headers": self.header_map()}
        try:
            body = self.read_body()
            entry["body_sha256"] = hashlib.sha256(body).hexdigest()
            entry["body_len"] = len(body)
            entry["signed_headers"] = self.verify(body)
            status = self.s3(split, body)
            entry["status"] = status
            self.state.record(entry, True)
        except Refused as e:
            entry.update(status=e.status, code=e.code, reason=e.message)
            self.state.record(entry, False)
            self.reply(e.status, error_xml(e.code, e.message, split.path,
                                           e.extra))
            if e.status in (411, 501):
                self.close_connection = True

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any

    def s3(self, split, body):
        args = self.state.args
        parts = split.path.lstrip("/").split("/", 1)
        bucket = unquote(parts[0])
        key = unquote(parts[1]) if len(parts) > 1 else ""
        if not BUCKET_RE.match(bucket):
            raise Refused(400, "InvalidBucketName", "bad bucket name")
        if bucket != args.bucket:
            raise Refused(404, "NoSuchBucket",
                          "The specified bucket does not exist")
        st = self.state
        if not key:
            if self.command != "GET":
                raise Refused(405, "MethodNotAllowed",
                              "The specified method is not allowed against "
                              "this resource.")
            return self.list_objects(bucket, dict(parse_qsl(split.query)))
        if self.command == "PUT":
            sse = self.headers.get("x-amz-server-side-encryption")
            if sse is not None and sse not in ("AES256", "aws:kms"):
                raise Refused(400, "InvalidArgument",
                              "The encryption method specified is not "
                              "supported")
            etag = '"%s"' % hashlib.md5(body).hexdigest()
            with st.lock:
                st.objects[(bucket, key)] = {
                    "data": body, "etag": etag, "sse": sse,
                    "content_type": self.headers.get(
                        "Content-Type", "binary/octet-stream")}
            headers = {"ETag": etag}
            if sse:
                headers["x-amz-server-side-encryption"] = sse
            self.reply(200, headers=headers)
            return 200
        if self.command in ("GET", "HEAD"):
            with st.lock:
                obj = st.objects.get((bucket, key))
            if obj is None:
                raise Refused(404, "NoSuchKey",
                              "The specified key does not exist.")
            headers = {"ETag": obj["etag"]}
            if obj["sse"]:
                headers["x-amz-server-side-encryption"] = obj["sse"]
            self.reply(200, obj["data"], obj["content_type"], headers)
            return 200
        if self.command == "DELETE":
            with st.lock:
                st.objects.pop((bucket, key), None)
            self.reply(204)
            return 204
        raise Refused(405, "MethodNotAllowed",
                      "The specified method is not allowed against this "
                      "resource.")

    def list_objects(self, bucket, q):
        prefix = q.get("prefix", "")
        with self.state.lock:
            keys = sorted((k, o) for (b, k), o in self.state.objects.items()
                          if b == bucket and k.startswith(prefix))
        items = "".join(
            "<Contents><Key>%s</Key><Size>%d</Size><ETag>%s</ETag>"
            "</Contents>" % (escape(k), len(o["data"]), escape(o["etag"]))
            for k, o in keys)
        xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix>"
               "<KeyCount>%d</KeyCount><IsTruncated>false</IsTruncated>%s"
               "</ListBucketResult>" % (escape(bucket), escape(prefix),
                                        len(keys), items))
        self.reply(200, xml.encode())
        return 200

    # -- test hooks ----------------------------------------------------------
    def stub_api(self, split):
        st = self.state
        path = split.path
        try:
            body = self.read_body()
        except Refused as e:
            self.reply_json(e.status, {"error": e.message})
            return
        if path == "/_stub/requests" and self.command == "GET":
            with st.lock:
                return self.reply_json(200, list(st.requests))
        if path == "/_stub/rejected" and self.command == "GET":
            with st.lock:
                return self.reply_json(200, list(st.rejected))
        if path == "/_stub/reset" and self.command == "POST":
            with st.lock:
                st.objects.clear()
                st.requests.clear()
                st.rejected.clear()
            return self.reply_json(200, {"ok": True})
        if path == "/_stub/objects" and self.command == "GET":
            with st.lock:
                objs = [{"bucket": b, "key": k, "size": len(o["data"]),
                         "sha256": hashlib.sha256(o["data"]).hexdigest(),
                         "content_type": o["content_type"], "sse": o["sse"]}
                        for (b, k), o in sorted(st.objects.items())]
            return self.reply_json(200, objs)
        if path.startswith("/_stub/objects/"):
            rest = path[len("/_stub/objects/"):].split("/", 1)
            if len(rest) == 2 and rest[1]:
                ident = (unquote(rest[0]), unquote(rest[1]))
                with st.lock:
                    if self.command == "PUT":
                        st.objects[ident] = {
                            "data": body, "sse": None,
                            "etag": '"%s"' % hashlib.md5(body).hexdigest(),
                            "content_type": "binary/octet-stream"}
                        return self.reply_json(200, {"ok": True})
                    if self.command == "DELETE":
                        found = st.objects.pop(ident, None) is not None
                        return self.reply_json(200 if found else 404,
                                               {"ok": found})
                    obj = st.objects.get(ident)
                if self.command in ("GET", "HEAD") and obj is not None:
                    return self.reply(200, obj["data"],
                                      "application/octet-stream")
                return self.reply_json(404, {"error": "no such object"})
        self.reply_json(404, {"error": "unknown stub endpoint"})


def _consteq(a, b):
    import hmac
    return hmac.compare_digest(a.encode(), b.encode())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--access-key", default="AKIDEXAMPLE")
    ap.add_argument("--secret-key",
                    default="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--bucket", default="lyrebird-test")
    ap.add_argument("--log", help="append each request as a JSON line")
    ap.add_argument("--verbose", action="store_true",
                    help="log each request to stderr")
    args = ap.parse_args(argv)

    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
