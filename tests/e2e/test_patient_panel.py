"""What the inbox's patient panel reads and edits: a patient's details
(GET /api/v1/patients/{patient}), the date of birth set through PATCH
(validated, audited, exported), and the pictures of a conversation
(GET /api/v1/conversations/{patient}/media, newest first, paged)."""
import datetime
import io
import json
import zipfile

import pytest

from e2e_helpers import DEMO_PASSWORD, JORDAN, PRIYA, make_png, sign_in, wait_for

pytestmark = pytest.mark.lyrebird_env(LYREBIRD_DEMO_PASSWORD=DEMO_PASSWORD)

NOBODY = "+61491570159"


def patient(server, number):
    r = server.api("GET", "/api/v1/patients/%s" % number)
    assert r.status_code == 200, r.text
    return r.json()


def patch(server, number, body):
    return server.api("PATCH", "/api/v1/patients/%s" % number, json=body)


def audit(server, number):
    r = server.api("GET", "/api/v1/audit", params={"patient": number})
    assert r.status_code == 200, r.text
    return r.json()["entries"]


def test_a_patients_details_include_the_date_of_birth_on_file(server):
    got = patient(server, JORDAN)
    assert got["patient"] == JORDAN and got["name"] == "Jordan Lee", got
    assert got["dob"] == "1984-03-07", got  # the demo's sample patient
    assert got["created_at"].endswith("Z"), got
    # The local form of the number finds the same patient.
    assert patient(server, "0491 570 156")["patient"] == JORDAN
    r = server.api("GET", "/api/v1/patients/%s" % NOBODY)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
    r = server.api("GET", "/api/v1/patients/not-a-number")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_number"


def test_the_date_of_birth_is_a_real_date_not_in_the_future(server):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    for bad in ("1990-02-30", "2001-13-01", "07/03", "yesterday", tomorrow, "1899-12-31"):
        r = patch(server, PRIYA, {"dob": bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_dob", r.text
        assert patient(server, PRIYA)["dob"] == "1990-11-02", bad  # unchanged
    r = patch(server, PRIYA, {"dob": 19900101})
    assert r.status_code == 400, r.text
    # A leap day is a real date; DD/MM/YYYY is read the Australian way.
    r = patch(server, PRIYA, {"dob": "29/02/1988"})
    assert r.status_code == 200 and r.json()["dob"] == "1988-02-29", r.text
    assert patient(server, PRIYA)["dob"] == "1988-02-29"
    # null clears it.
    r = patch(server, PRIYA, {"dob": None})
    assert r.status_code == 200 and r.json()["dob"] is None, r.text
    assert patient(server, PRIYA)["dob"] is None


def test_editing_a_patient_is_audited_with_the_fields_not_the_values(server):
    staff = sign_in(server)
    r = staff.request("PATCH", "/api/v1/patients/%s" % JORDAN,
                      json={"name": "Jordan A. Lee", "dob": "1984-03-08"})
    assert r.status_code == 200, r.text
    r = staff.request("PATCH", "/api/v1/patients/%s" % JORDAN, json={"dob": "1984-03-09"})
    assert r.status_code == 200, r.text
    rows = [e for e in audit(server, JORDAN) if e["action"] == "patient.updated"]
    assert len(rows) == 2, rows
    first, second = rows
    assert first["actor"] == {"kind": "user", "name": "reception"}, first
    assert first["patient"] == JORDAN and first["ip"], first
    assert first["detail"] == {"fields": "name,dob"}, first
    assert second["detail"] == {"fields": "dob"}, second
    text = json.dumps(rows)
    assert "1984-03-0" not in text and "Jordan A. Lee" not in text, rows
    # A refused change is not a change.
    assert patch(server, JORDAN, {"dob": "1984-02-31"}).status_code == 422
    assert len([e for e in audit(server, JORDAN) if e["action"] == "patient.updated"]) == 2


def test_the_export_carries_the_date_of_birth(server):
    assert patch(server, JORDAN, {"dob": "1979-06-15"}).status_code == 200
    server.send_ok(JORDAN, "See you Tuesday")
    r = server.api("GET", "/api/v1/patients/%s/export" % JORDAN)
    assert r.status_code == 200, r.text
    z = zipfile.ZipFile(io.BytesIO(r.content))
    doc = json.loads(z.read("thread.json"))
    assert doc["patient"]["dob"] == "1979-06-15", doc["patient"]
    assert "1979-06-15" in z.read("thread.html").decode()


def test_the_conversations_pictures_newest_first_in_pages(server):
    sent = []
    for i in range(3):
        up = server.upload(make_png(6 + i, 5)).json()
        m = server.send_ok(JORDAN, "Picture %d" % i, media=[up["id"]])
        sent.append((m["id"], up["id"]))
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    doc = server.upload(pdf, "application/pdf").json()
    server.send_ok(JORDAN, "A form", media=[doc["id"]])
    server.send_ok(JORDAN, "Just words")
    server.handset_send(JORDAN, "Mine", media=[("image/png", make_png(4, 4)),
                                               ("image/png", make_png(5, 5))])
    inbound = wait_for(lambda: [m for m in server.conv_messages(JORDAN)
                                if m["direction"] == "inbound" and len(m["media"]) == 2])[0]

    r = server.api("GET", "/api/v1/conversations/%s/media" % JORDAN)
    assert r.status_code == 200, r.text
    body = r.json()
    items = body["media"]
    assert body["next"] is None, body
    # Images only (not the PDF), newest message first, in order within one.
    want = [inbound["media"][0]["id"], inbound["media"][1]["id"]] + \
        [media for _, media in reversed(sent)]
    assert [m["id"] for m in items] == want, items
    first = items[0]
    assert first["direction"] == "inbound" and first["message_id"] == inbound["id"]
    assert first["thumb_url"] == "/api/v1/media/%s/thumb" % first["id"], first
    assert first["url"] == "/api/v1/media/%s" % first["id"]
    assert first["content_type"].startswith("image/") and first["sent_at"].endswith("Z")
    assert items[-1]["direction"] == "outbound" and items[-1]["message_id"] == sent[0][0]

    # Two at a time: a page may end inside a message, and the next goes on.
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2}
        if cursor:
            params["before"] = cursor
        r = server.api("GET", "/api/v1/conversations/%s/media" % JORDAN, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["media"]) <= 2
        seen += [m["id"] for m in page["media"]]
        pages += 1
        cursor = page["next"]
        if not cursor:
            break
        assert pages < 10
    assert seen == want and pages == 3, (seen, pages)

    r = server.api("GET", "/api/v1/conversations/%s/media" % JORDAN,
                   params={"limit": 1, "before": "%s:0" % inbound["id"]})
    assert [m["id"] for m in r.json()["media"]] == [want[1]], r.text


def test_the_picture_list_refuses_bad_paging_and_unknown_conversations(server):
    base = "/api/v1/conversations/%s/media" % JORDAN
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"},
                   {"before": "nonsense"}, {"before": "abc:1"}, {"before": ":3"}):
        r = server.api("GET", base, params=params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["error"]["code"] == "invalid_request", r.text
    r = server.api("GET", "/api/v1/conversations/%s/media" % NOBODY)
    assert r.status_code == 404, r.text
    # A conversation with no pictures is an empty list.
    r = server.api("GET", "/api/v1/conversations/%s/media" % PRIYA)
    assert r.status_code == 200 and r.json() == {"media": [], "next": None}, r.text
