#!/usr/bin/python3
"""Pre-generate signed sim inbound webhooks for bench/ingest.

wrk's Lua cannot compute HMAC-SHA256, so this writes COUNT complete HTTP
requests, ready to send, split round-robin over THREADS files OUT.0 ...
OUT.<THREADS-1> (one per wrk thread). Every request has the same length (the
counter in the id and text is zero-padded), so the Lua script can cut a file
into requests without parsing it.

    POST /hooks/sim/inbound HTTP/1.1
    Host: 127.0.0.1
    Content-Type: application/json
    X-Sim-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
    Content-Length: <n>

    {"id":"<PREFIX>-<n>","from":"+61491570156","to":"+61488868772",
     "text":"bench message <n>"}

Each body carries a carrier message id unique to this run, so lyrebird, which
dedupes on that id, commits a new row for every request. All requests share
one t, and lyrebird accepts it for 300 s.
"""
import argparse
import hashlib
import hmac
import sys
import time

PATH = "/hooks/sim/inbound"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--secret", required=True, help="LYREBIRD_SIM_SECRET")
    ap.add_argument("--count", type=int, required=True, help="requests")
    ap.add_argument("--prefix", required=True, help="carrier id prefix")
    ap.add_argument("--threads", type=int, default=1, help="files to write")
    ap.add_argument("--out", required=True, help="output file prefix")
    ap.add_argument("--timestamp", type=int, default=None,
                    help="signature time (default: now)")
    a = ap.parse_args()
    if a.count < 1 or a.threads < 1 or a.count < a.threads:
        ap.error("need --count >= --threads >= 1")

    t = str(a.timestamp if a.timestamp is not None else int(time.time()))
    width = len(str(a.count - 1))
    # hmac.new() computes the keyed inner and outer states once; copy() is
    # much cheaper than rebuilding them for every request.
    base = hmac.new(a.secret.encode(), (t + ".").encode(), hashlib.sha256)
    files = [open("%s.%d" % (a.out, k), "wb") for k in range(a.threads)]
    try:
        for n in range(a.count):
            body = ('{"id":"%s-%0*d","from":"+61491570156",'
                    '"to":"+61488868772","text":"bench message %0*d"}'
                    % (a.prefix, width, n, width, n)).encode()
            h = base.copy()
            h.update(body)
            head = ("POST %s HTTP/1.1\r\n"
                    "Host: 127.0.0.1\r\n"
                    "Content-Type: application/json\r\n"
                    "X-Sim-Signature: t=%s,v1=%s\r\n"
                    "Content-Length: %d\r\n\r\n"
                    % (PATH, t, h.hexdigest(), len(body))).encode()
            files[n % a.threads].write(head + body)
    finally:
        for f in files:
            f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
