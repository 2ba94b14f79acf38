"""examples/django against a real lyrebird demo, both on loopback: the
clinic's app sends an image with a scoped key, receives the patient's reply
as a signed webhook, stores each event once, and catches up through
lyrebird's retries after being down."""
import base64
import hashlib
import hmac
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from conftest import clean_env, free_port, tail
from e2e_helpers import JORDAN, make_png, same_png, unique, wait_for

EXAMPLE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                       "examples", "django"))
SCOPES = "messages:send,media:write,media:read"
EVENTS = "message.received,message.status,message.updated"

# Retries a second or two apart, so the app's downtime costs seconds.
pytestmark = pytest.mark.lyrebird_env(
    LYREBIRD_EVENTS_RETRY_SCHEDULE="1s, 1s, 2s, 2s, 2s, 5s, 5s")

try:
    import django  # noqa: F401  (Debian's python3-django)
except ImportError:  # pragma: no cover
    pytestmark = [pytestmark, pytest.mark.skip(
        reason="the Django example needs python3-django (scripts/install-deps)")]


class DjangoApp:
    """The example's own commands, as its README runs them, in a
    subprocess: manage.py migrate, send_image, runserver."""

    def __init__(self, workdir, env):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.db_path = os.path.join(str(workdir), "app.sqlite3")
        self.log_path = os.path.join(str(workdir), "django.log")
        self.env = clean_env(dict(env, DJANGO_DB=self.db_path,
                                  PYTHONDONTWRITEBYTECODE="1",
                                  PYTHONUNBUFFERED="1"))
        self.proc = None

    def manage(self, *args):
        p = subprocess.run([sys.executable, "manage.py"] + list(args), cwd=EXAMPLE,
                           env=self.env, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, "manage.py %s -> %s\n%s%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr)
        return p.stdout

    def start(self):
        assert self.proc is None
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "manage.py", "runserver",
                 "127.0.0.1:%d" % self.port, "--noreload"],
                cwd=EXAMPLE, env=self.env, stdout=log, stderr=log,
                stdin=subprocess.DEVNULL)

        def up():
            assert self.proc.poll() is None, (
                "runserver exited:\n" + tail(self.log_path))
            try:
                return requests.get(self.base + "/", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        wait_for(up, timeout=20, desc="the Django server")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def get(self, path, **kw):
        return requests.get(self.base + path, timeout=10, **kw)

    def post(self, path, **kw):
        return requests.post(self.base + path, timeout=10, **kw)

    def rows(self, sql, *args):
        db = sqlite3.connect(self.db_path, timeout=10)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def replies(self, text):
        return self.rows("SELECT r.lyrebird_id, e.webhook_id FROM messaging_reply r "
                         "JOIN messaging_event e ON e.id = r.event_id WHERE r.text = ?",
                         text)

    def events(self):
        return self.rows("SELECT webhook_id, type FROM messaging_event")


def cli_ok(run_cli, args):
    p = run_cli(args)
    assert p.returncode == 0, "lyrebird %s -> %s\n%s%s" % (
        " ".join(args), p.returncode, p.stdout, p.stderr)
    return p.stdout


def standard_webhooks_headers(secret, msg_id, body, ts=None):
    """Signs as a sender would: this test's own reading of the spec."""
    ts = int(time.time()) if ts is None else ts
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, b"%s.%d.%s" % (msg_id.encode(), ts, body), hashlib.sha256)
    return {"Content-Type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": "v1," + base64.b64encode(mac.digest()).decode()}


def deliveries(server, endpoint):
    r = server.api("GET", "/api/v1/webhook-endpoints/%s/deliveries" % endpoint,
                   params={"limit": 200})
    assert r.status_code == 200, r.text
    return r.json()["deliveries"]


def handset_image(server, text):
    """The first image of the message the handset got with this text."""
    got = wait_for(lambda: server.handset_with_text(JORDAN, text), timeout=15,
                   desc="the handset to get %r" % text)
    assert len(got) == 1, got
    assert len(got[0]["media"]) == 1, got
    r = server.raw("GET", got[0]["media"][0]["url"])
    assert r.status_code == 200, r.text
    return r.content


@pytest.fixture
def app(server, tmp_path, run_cli):
    """The example, configured as its README says: a scoped key and an
    endpoint made with the lyrebird CLI, then migrate and runserver."""
    out = cli_ok(run_cli, ["key", "create", "--name", "clinic-app", "--scopes", SCOPES,
                           "--data", server.data])
    key = re.findall(r"^lb_\S+$", out, re.M)
    assert len(key) == 1, out
    django_app = DjangoApp(tmp_path, {})
    out = cli_ok(run_cli, ["webhook", "add", "--url",
                           django_app.base + "/lyrebird/events", "--events", EVENTS,
                           "--data", server.data])
    secret = re.findall(r"^whsec_\S+$", out, re.M)
    endpoint = re.findall(r"^(we_\S+)\s", out, re.M)
    assert len(secret) == 1 and len(endpoint) == 1, out
    django_app.env.update(LYREBIRD_URL=server.base, LYREBIRD_APP_KEY=key[0],
                          LYREBIRD_WEBHOOK_SECRET=secret[0])
    django_app.key, django_app.secret, django_app.endpoint = key[0], secret[0], endpoint[0]
    django_app.manage("migrate", "--noinput")
    try:
        django_app.start()
        # lyrebird posts a signed ping and reports the answer.
        out = cli_ok(run_cli, ["webhook", "test", endpoint[0], "--data", server.data])
        assert out.startswith("delivered: %s answered 200" % endpoint[0]), out
        yield django_app
    finally:
        django_app.stop()
        print("---- django log (tail) ----\n" + tail(django_app.log_path, 3000))


def test_django_example(server, app, tmp_path, run_cli):
    # The key does what its scopes allow and nothing else.
    r = server.api("GET", "/api/v1/conversations",
                   headers={"Authorization": "Bearer " + app.key})
    assert r.status_code == 403, r.text

    # 1. Send an image with the management command.
    xray, text = make_png(16, 16), unique("Your X-ray")
    path = tmp_path / "xray.png"
    path.write_bytes(xray)
    out = app.manage("send_image", "--to", "0491 570 156", "--text", text,
                     "--meta", "appointment=A-1001", str(path))
    # (The status is the latest it knows: events may beat the answer.)
    assert re.match(r"^\w{26} (queued|sending|sent|delivered) to \+61491570156 "
                    r"\(app-\w+\)$", out.strip()), out
    assert same_png(handset_image(server, text), xray)
    # Its statuses come back as message.status events, up to delivered.
    wait_for(lambda: app.rows("SELECT status FROM messaging_sentmessage WHERE text = ?",
                              text) == [("delivered",)],
             timeout=15, desc="the app to see the message delivered")
    page = app.get("/patients/%s/" % JORDAN).text
    assert text in page and '<span class="status">delivered</span>' in page

    # ... and with the form, as staff would (CSRF and all).
    s = requests.Session()
    assert s.get(app.base + "/", timeout=10).status_code == 200
    form_text = unique("Your orthotics")
    r = s.post(app.base + "/send", timeout=10, allow_redirects=False,
               data={"csrfmiddlewaretoken": s.cookies["csrftoken"], "to": JORDAN,
                     "text": form_text},
               files={"image": ("scan.png", make_png(8, 8), "image/png")})
    assert r.status_code == 302 and r.headers["Location"] == "/patients/%s/" % JORDAN, (
        r.status_code, r.text[:2000])
    handset_image(server, form_text)
    wait_for(lambda: app.rows("SELECT status FROM messaging_sentmessage WHERE text = ?",
                              form_text) == [("delivered",)],
             timeout=15, desc="the form's message delivered")

    # 2. The patient replies with a photo: one event, one row, the photo shown.
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2))
    photo, reply = make_png(12, 9), unique("Here is my foot")
    server.handset_send(JORDAN, reply, media=[("image/png", photo)])
    rows = wait_for(lambda: app.replies(reply), timeout=15,
                    desc="the reply in the app's database")
    assert len(rows) == 1, rows
    message_id, webhook_id = rows[0]
    assert webhook_id.startswith("evt_")
    page = app.get("/patients/%s/" % JORDAN).text
    assert 'id="reply-%s"' % message_id in page and reply in page
    img = re.findall(r'<img src="(/attachments/\d+)"', page)
    assert len(img) == 1, page
    r = app.get(img[0])
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert same_png(r.content, photo)

    # 3. Only what lyrebird signed is stored.
    before = app.events()
    body = json.dumps({"type": "message.received", "timestamp": "2026-01-01T00:00:00Z",
                       "data": {"patient": JORDAN, "message": {"id": "forged"}}}).encode()
    wrong = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    for headers in (standard_webhooks_headers(wrong, "evt_forged1", body),
                    standard_webhooks_headers(app.secret, "evt_forged2", body,
                                              ts=int(time.time()) - 600),
                    {"Content-Type": "application/json"}):
        r = app.post("/lyrebird/events", data=body, headers=headers)
        assert r.status_code in (400, 401), (headers, r.status_code, r.text)
    # The signature covers the body: the real id and headers on another
    # body are refused too.
    h = standard_webhooks_headers(app.secret, webhook_id, b"{}")
    r = app.post("/lyrebird/events", data=body, headers=h)
    assert r.status_code == 401, r.text
    assert app.events() == before

    # A redelivery (lyrebird replays everything since before the reply, each
    # event with its own webhook-id) is answered 200 and not stored twice.
    cli_ok(run_cli, ["webhook", "replay", app.endpoint, "--since", since,
                     "--data", server.data])

    def redelivered():
        ok = [d for d in deliveries(server, app.endpoint)
              if d["event_id"] == webhook_id and d["outcome"] == "delivered"]
        return len(ok) >= 2
    wait_for(redelivered, timeout=15, desc="the replayed reply delivered again")
    assert app.events() == before
    assert app.replies(reply) == rows

    # 4. The app is down while two replies come in; lyrebird retries each
    # until it is back, and each is stored once.
    app.stop()
    later, late_photo = [unique("Still sore"), unique("Photo from today")], make_png(6, 6)
    server.handset_send(JORDAN, later[0])
    server.handset_send(JORDAN, later[1], media=[("image/png", late_photo)])

    def failed_attempt():
        return [d for d in deliveries(server, app.endpoint)
                if d["event_type"] == "message.received" and d["outcome"] == "retrying"]
    wait_for(failed_attempt, timeout=15, desc="a failed delivery to the stopped app")
    app.start()
    for text in later:
        got = wait_for(lambda: app.replies(text), timeout=20,
                       desc="%r after the restart" % text)
        assert len(got) == 1, got
    received = [t for _, t in app.events()].count("message.received")
    assert received == 3, app.events()
    # lyrebird records each as delivered once it has read the answer; the
    # first (the second waited behind it, in order) after failed attempts.
    late_ids = [app.replies(t)[0][1] for t in later]

    def recorded():
        ds = deliveries(server, app.endpoint)  # newest first
        done = {d["event_id"] for d in ds if d["outcome"] == "delivered"}
        return set(late_ids) <= done and ds
    ds = wait_for(recorded, timeout=10, desc="lyrebird to record the deliveries")
    first = [d["outcome"] for d in reversed(ds) if d["event_id"] == late_ids[0]]
    assert first[0] == "retrying" and first[-1] == "delivered", first
    page = app.get("/patients/%s/" % JORDAN).text
    assert all(t in page for t in later)
    img = re.findall(r'<img src="/attachments/(\d+)"', page)
    assert len(img) == 2, page

    # Looked at after its download_url expired, the photo comes from the
    # API with the key (media:read) instead.
    db = sqlite3.connect(app.db_path, timeout=10)
    with db:
        db.execute("UPDATE messaging_attachment SET download_expires_at = "
                   "'2000-01-01 00:00:00' WHERE id = ?", (img[1],))
    db.close()
    api_get = '"method":"GET","route":"/api/v1/media/{id}","status":200'
    n = server.access_log().count(api_get)
    r = app.get("/attachments/" + img[1])
    assert r.status_code == 200, r.text
    assert same_png(r.content, late_photo)
    wait_for(lambda: server.access_log().count(api_get) == n + 1, timeout=5,
             desc="lyrebird's access log to show GET /api/v1/media/{id}")
    log = tail(app.log_path, 10 ** 7)
    assert not re.search(r'" 5\d\d \d', log), "the app answered 5xx:\n" + log[-6000:]


def test_django_example_own_tests(tmp_path):
    """The example's unit tests (the signature check against the spec's
    example, the receiver's refusals and de-duplication)."""
    env = clean_env({"DJANGO_DB": str(tmp_path / "unused.sqlite3"),
                     "PYTHONDONTWRITEBYTECODE": "1"})
    p = subprocess.run([sys.executable, "manage.py", "test", "--noinput"], cwd=EXAMPLE,
                       env=env, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"^Ran \d+ tests", p.stderr, re.M) and "OK" in p.stderr, p.stderr
    # The committed migrations are the models' own.
    p = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check",
                        "--dry-run"], cwd=EXAMPLE, env=env, capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, "models changed without a migration:\n" + p.stdout + p.stderr
