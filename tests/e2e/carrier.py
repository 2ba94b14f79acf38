"""A carrier for the multi-node tests: it speaks the simulated carrier's wire
format (docs/providers/sim.md) but lives outside every gateway node, so it
outlives a node that is killed and counts what every node submitted.

- POST /api/messages (Bearer <secret>): every submission is recorded, with
  its "ref". A repeated ref gets the first id back and is not delivered
  again, as the sim (and a provider with a dedupe key) does; the raw
  submissions still show the repeat, which is the double-send count.
- A receipt ("delivered") goes to the submission's status_callback, and, if
  that node does not answer 2xx, to the other nodes in turn, as a carrier
  behind a load balancer would redeliver. It keeps trying for a while.
- inbound(): posts a patient's message to a node and redelivers it to the
  next node until one answers 2xx."""
import http.server
import itertools
import json
import threading
import time

import requests

from e2e_helpers import SIM_SECRET, sign


class Carrier:
    def __init__(self, secret=SIM_SECRET):
        self.secret = secret
        self.lock = threading.Lock()
        self.submissions = []  # (ref, to, text)
        self.ids = {}  # ref -> carrier id
        self.delivered = {}  # ref -> times the handset got it (1, or a bug)
        self.nodes = []  # base URLs the receipts may go to
        self.ids_seq = itertools.count(1)
        self.stop_flag = threading.Event()
        self.delay = 0.0  # seconds before each answer to a submission
        self.http = requests.Session()
        carrier = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if self.path != "/api/messages":
                    return self._answer(404, {"error": {"code": "not_found"}})
                if self.headers.get("Authorization") != "Bearer " + carrier.secret:
                    return self._answer(401, {"error": {"code": "unauthorized"}})
                m = json.loads(body)
                status, out = carrier._submit(m)
                self._answer(status, out)

            def _answer(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.stop_flag.set()
        self.server.shutdown()
        self.server.server_close()

    # -- sending -------------------------------------------------------------
    def _submit(self, m):
        if self.delay:
            time.sleep(self.delay)
        ref = m["ref"]
        with self.lock:
            self.submissions.append((ref, m["to"], m.get("text", "")))
            if ref in self.ids:
                return 202, {"id": self.ids[ref], "status": "accepted"}
            cid = "SM%08d" % next(self.ids_seq)
            self.ids[ref] = cid
            self.delivered[ref] = self.delivered.get(ref, 0) + 1
        threading.Thread(target=self._receipt,
                         args=(cid, ref, m.get("status_callback")),
                         daemon=True).start()
        return 202, {"id": cid, "status": "accepted"}

    def _receipt(self, cid, ref, callback):
        body = json.dumps({"id": cid, "ref": ref, "status": "delivered",
                           "error_code": None, "error_text": None}).encode()
        targets = [callback] if callback else []
        deadline = time.time() + 60
        while not self.stop_flag.is_set() and time.time() < deadline:
            with self.lock:
                others = [n + "/hooks/sim/status" for n in self.nodes]
            for url in targets + others:
                try:
                    r = self.http.post(url, data=body, timeout=5, headers={
                        "Content-Type": "application/json",
                        "X-Sim-Signature": sign(body, self.secret)})
                    if 200 <= r.status_code < 300:
                        return
                except requests.RequestException:
                    pass
            time.sleep(0.25)

    # -- receiving -------------------------------------------------------------
    def inbound(self, nodes, start, msg, tries=200):
        """Posts msg ({"id", "from", "to", "text"}) to nodes[start], then the
        next ones, until one answers 2xx. Returns the number of posts."""
        body = json.dumps(msg).encode()
        for i in range(tries):
            url = nodes[(start + i) % len(nodes)] + "/hooks/sim/inbound"
            try:
                r = self.http.post(url, data=body, timeout=10, headers={
                    "Content-Type": "application/json",
                    "X-Sim-Signature": sign(body, self.secret)})
                if 200 <= r.status_code < 300:
                    return i + 1
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError("no node took inbound %s" % msg["id"])

    # -- what happened -----------------------------------------------------------
    def counts(self):
        with self.lock:
            refs = [s[0] for s in self.submissions]
            return {"submissions": len(refs), "refs": len(set(refs)),
                    "repeats": len(refs) - len(set(refs)),
                    "handset_twice": sum(1 for v in self.delivered.values()
                                         if v > 1)}
