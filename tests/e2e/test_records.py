"""The clinical record: the audit log and its chain, the export of a
patient's thread, and the retention purge (with a clock that only test
builds let a test set)."""
import io
import json
import os
import subprocess
import zipfile

import pytest

from conftest import BIN
from e2e_helpers import (DEMO_PASSWORD, JORDAN, PRIYA, make_png, sign_in,
                         unique, wait_for)
import store_db

pytestmark = pytest.mark.lyrebird_env(LYREBIRD_DEMO_PASSWORD=DEMO_PASSWORD)

UNDER_25 = "+61491570158"
RECENT = "+61491570159"


def settable_clock():
    out = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout
    return "settable clock" in out


def audit(server, **params):
    r = server.api("GET", "/api/v1/audit", params=params)
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def media_files(server):
    n = 0
    for _, _, files in os.walk(os.path.join(server.data, "media")):
        n += len([f for f in files if not f.startswith(".")])
    return n


def test_a_staff_image_view_is_audited_and_a_changed_row_is_named(server, run_cli):
    png = make_png(6, 6)
    server.handset_send(JORDAN, "My foot", media=[("image/png", png)])
    msg = wait_for(lambda: [m for m in server.conv_messages(JORDAN) if m["media"]])[0]
    media_id = msg["media"][0]["id"]
    staff = sign_in(server)
    assert staff.request("GET", "/api/v1/media/%s/thumb" % media_id).status_code == 200
    assert staff.request("GET", "/api/v1/media/" + media_id).status_code == 200
    rows = audit(server, patient=JORDAN)
    views = [e for e in rows if e["action"] == "media.viewed"]
    assert len(views) == 1, rows  # the thumbnail is not audited one by one
    v = views[0]
    assert v["actor"] == {"kind": "user", "name": "reception"}, v
    assert v["subject"] == media_id and v["patient"] == JORDAN and v["ip"], v
    # The sign-in is on the log too.
    assert any(e["action"] == "signin" for e in audit(server))

    env = dict(server.env)
    p = run_cli(["audit", "verify", "--data", server.data], env=env)
    assert p.returncode == 0 and "ok" in p.stdout, p.stdout + p.stderr
    db = store_db.connect(server)
    with db:
        seq = db.execute("SELECT seq FROM audit_log WHERE action = 'media.viewed'").fetchone()[0]
        db.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = ?", (seq,))
    db.close()
    p = run_cli(["audit", "verify", "--data", server.data], env=env)
    assert p.returncode == 1, p.stdout
    assert "row %d" % seq in p.stdout and "changed" in p.stdout, p.stdout
    p = run_cli(["audit", "--patient", JORDAN, "--data", server.data], env=env)
    assert p.returncode == 0 and "media.viewed" in p.stdout, p.stdout


def test_a_failed_sign_in_is_audited(server):
    r = server.raw("POST", "/api/v1/session",
                   json={"username": "reception", "password": "not-the-password"})
    assert r.status_code == 401
    rows = [e for e in audit(server) if e["action"] == "signin.failed"]
    assert rows and rows[0]["subject"] == "reception" and rows[0]["ip"], rows


def test_export_of_a_thread(server, run_cli, tmp_path):
    png = make_png(8, 5)
    up = server.upload(png).json()
    sent = server.send_ok(JORDAN, "Your X-ray <b>bold</b>", media=[up["id"]])
    server.wait_status(sent["id"], "delivered")
    server.handset_send(JORDAN, "Thanks! Here is mine", media=[("image/png", make_png(3, 4))])
    wait_for(lambda: len([m for m in server.conv_messages(JORDAN) if m["media"]]) == 2)

    r = server.api("GET", "/api/v1/patients/%s/export" % JORDAN)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/zip"
    assert "attachment" in r.headers["Content-Disposition"]
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = z.namelist()
    assert "thread.json" in names and "thread.html" in names, names
    media = [n for n in names if n.startswith("media/")]
    assert len(media) == 2, names
    doc = json.loads(z.read("thread.json"))
    assert doc["patient"]["number"] == JORDAN and doc["patient"]["name"] == "Jordan Lee"
    texts = [m["text"] for m in doc["messages"]]
    assert "Your X-ray <b>bold</b>" in texts and "Thanks! Here is mine" in texts
    assert all("history" in m for m in doc["messages"])
    # The files are the stored bytes.
    stored = server.api("GET", "/api/v1/media/" + up["id"]).content
    assert z.read("media/%s.png" % up["id"]) == stored
    html = z.read("thread.html").decode()
    assert html.count("data:image/png;base64,") == 2
    assert "<script" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    # Audited.
    assert any(e["action"] == "export" and e["patient"] == JORDAN for e in audit(server))

    # Nobody to export: 404.
    assert server.api("GET", "/api/v1/patients/%s/export" % RECENT).status_code == 404
    # Staff who are not admins cannot export.
    staff = sign_in(server)
    assert staff.request("GET", "/api/v1/patients/%s/export" % JORDAN).status_code == 403

    out = tmp_path / "thread.zip"
    p = run_cli(["export", "--patient", "0491 570 156", "--out", str(out),
                 "--data", server.data], env=dict(server.env))
    assert p.returncode == 0, p.stderr
    assert set(zipfile.ZipFile(str(out)).namelist()) == set(names)


@pytest.fixture
def clock_file(tmp_path):
    if not settable_clock():
        pytest.skip("needs a test build (cmake -DLYREBIRD_TEST_CLOCK=ON: the "
                    "sanitizer build)")
    path = tmp_path / "clock"
    path.write_text("2017-01-10T09:00:00Z\n")
    return path


def test_the_purge_deletes_what_is_due_and_keeps_the_rest(request, tmp_path, clock_file, run_cli):
    from conftest import Lyrebird
    # Written in January 2017 (the clock file), purged now: 7 years on.
    srv = Lyrebird(tmp_path / "srv", {"LYREBIRD_TEST_CLOCK_FILE": str(clock_file)})
    srv.start()
    try:
        old = srv.send_ok(JORDAN, unique("2017 X-ray"), media=[srv.upload(make_png(9, 9)).json()["id"]])
        srv.wait_status(old["id"], "delivered")
        srv.handset_send(PRIYA, "old photo", media=[("image/png", make_png(4, 4))])
        wait_for(lambda: [m for m in srv.conv_messages(PRIYA) if m["media"]])
        # A child: born in 2010, so not 25 until 2035.
        kid = srv.send_ok(UNDER_25, unique("2017, to a child"))
        srv.wait_status(kid["id"], "delivered")
        assert srv.api("PATCH", "/api/v1/patients/%s" % UNDER_25,
                       json={"dob": "2010-05-05"}).status_code == 200
        # Then today.
        os.remove(str(clock_file))
        recent = srv.send_ok(RECENT, unique("This week"), media=[srv.upload(make_png(5, 7)).json()["id"]])
        srv.wait_status(recent["id"], "delivered")
        files_before = media_files(srv)
        # A staff note goes with the rest of the patient's record.
        assert srv.api("POST", "/api/v1/conversations/%s/notes" % PRIYA,
                       json={"text": "old note"}).status_code == 201

        env = dict(srv.env)
        env.pop("LYREBIRD_TEST_CLOCK_FILE", None)
        p = run_cli(["purge", "--dry-run", "--data", srv.data], env=env)
        assert p.returncode == 0, p.stderr
        assert "Would purge" in p.stdout and "patients    2" in p.stdout, p.stdout
        assert srv.message(old["id"])["status"] == "delivered"  # nothing went

        p = run_cli(["purge", "--data", srv.data], env=env)
        assert p.returncode == 0, p.stderr
        assert "patients    2" in p.stdout and "messages    " in p.stdout, p.stdout

        assert srv.api("GET", "/api/v1/messages/" + old["id"]).status_code == 404
        assert srv.api("GET", "/api/v1/conversations/%s/messages" % PRIYA).status_code == 404
        with store_db.connect(srv) as db:
            assert db.execute("SELECT COUNT(*) FROM conversation_notes WHERE "
                              "patient_e164 = ?", (PRIYA,)).fetchone()[0] == 0
            assert db.execute("SELECT COUNT(*) FROM events WHERE type = "
                              "'note.created' AND patient_e164 = ?",
                              (PRIYA,)).fetchone()[0] == 0
        assert srv.message(kid["id"])["status"] == "delivered"      # under 25
        # A purged patient's name and date of birth go; a kept one's stay.
        gone = srv.api("GET", "/api/v1/patients/%s" % JORDAN).json()
        assert gone["name"] is None and gone["dob"] is None, gone
        assert srv.api("GET", "/api/v1/patients/%s" % UNDER_25).json()["dob"] == "2010-05-05"
        assert srv.message(recent["id"])["status"] == "delivered"   # recent
        got = srv.api("GET", "/api/v1/media/" + recent["media"][0]["id"])
        assert got.status_code == 200
        assert media_files(srv) < files_before  # the purged blobs and thumbnails
        # The tombstone: how many, and the dates, never what they said.
        tomb = [e for e in audit(srv) if e["action"] == "purge"]
        assert len(tomb) == 1, tomb
        d = tomb[0]["detail"]
        assert d["patients"] == 2 and d["messages"] == 2 and d["media"] == 2, d
        assert d["blobs"] >= 2, d  # the images and their thumbnails
        assert d["from"].startswith("2017-01") and d["complete"] is True, d
        # A second run finds nothing more.
        p = run_cli(["purge", "--data", srv.data], env=env)
        assert "patients    0" in p.stdout, p.stdout
    finally:
        srv.stop()
