#!/usr/bin/python3
"""Pre-generate signed sim inbound webhooks for bench/ingest.

wrk's Lua cannot compute HMAC-SHA256, so this writes COUNT requests, one a
line, as "<X-Sim-Signature value>\t<JSON body>". Each body carries a carrier
message id unique to this file (PREFIX-<n>), so lyrebird, which dedupes on
that id, commits a new row for every request. The signature is
t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by SECRET>; the
same t is used for every line and lyrebird accepts it for 300 s.
"""
import argparse
import hashlib
import hmac
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--secret", required=True, help="LYREBIRD_SIM_SECRET")
    ap.add_argument("--count", type=int, required=True, help="requests")
    ap.add_argument("--prefix", required=True, help="carrier id prefix")
    ap.add_argument("--out", required=True, help="output file")
    ap.add_argument("--timestamp", type=int, default=None,
                    help="signature time (default: now)")
    a = ap.parse_args()
    if a.count < 1:
        ap.error("--count must be positive")

    t = str(a.timestamp if a.timestamp is not None else int(time.time()))
    key = a.secret.encode()
    head = (t + ".").encode()
    # hmac.new(key) precomputes the keyed inner/outer states once; copy()
    # is much cheaper than rebuilding them per line.
    base = hmac.new(key, head, hashlib.sha256)
    lines = []
    for n in range(a.count):
        body = ('{"id":"%s-%d","from":"+61491570156","to":"+61488868772",'
                '"text":"bench message %d"}' % (a.prefix, n, n))
        h = base.copy()
        h.update(body.encode())
        lines.append("t=%s,v1=%s\t%s\n" % (t, h.hexdigest(), body))
    with open(a.out, "w", encoding="utf-8") as f:
        f.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
