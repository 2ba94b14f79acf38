#!/usr/bin/env python3
"""A minimal receiver of lyrebird's webhooks, for trying them out: it checks
each delivery's Standard Webhooks signature with the endpoint's secret and
prints the event. Standard library only.

    WEBHOOK_SECRET=whsec_... python3 examples/webhook-receiver.py [PORT]

examples/django is a fuller example of what the clinic's app writes."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import sys
import time

SECRET = os.environ.get("WEBHOOK_SECRET", "")


def verified(headers, body):
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "0")
    if not SECRET.startswith("whsec_") or abs(time.time() - int(ts)) > 300:
        return False
    key = base64.b64decode(SECRET[len("whsec_"):] + "==")
    signed = msg_id.encode() + b"." + ts.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    return any(v == "v1" and hmac.compare_digest(want, s.encode())
               for v, _, s in (e.partition(",") for e in
                               headers.get("webhook-signature", "").split()))


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = verified(self.headers, body)
        self.send_response(204 if ok else 400)
        self.end_headers()
        if not ok:
            print("REFUSED: a delivery whose signature does not verify",
                  flush=True)
            return
        event = json.loads(body)
        data = event["data"]
        what = data.get("message", {}).get("text") or data.get("status") or ""
        print("%s %s (signature ok) %s %s" % (
            event["type"], self.headers["webhook-id"], data.get("patient", ""),
            json.dumps(what)), flush=True)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    print("listening on http://127.0.0.1:%d/" % port, flush=True)
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
