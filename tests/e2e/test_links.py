"""One number, both ways: the route each message takes, and the secure link
that carries an image when the host cannot send it as MMS."""
import re
import time

import pytest

from e2e_helpers import make_png, wait_for, same_png
import store_db

JORDAN = "+61491570156"
NUMBER = "+61488868772"
SMS_ONLY = dict(LYREBIRD_SIM_MMS_OUT="false")


def send_image(server, text="Your X-ray", **extra):
    png = make_png(32, 24)
    up = server.upload(png)
    assert up.status_code == 201, up.text
    return png, server.send_ok(JORDAN, text, [up.json()["id"]], **extra)


def received(server, text):
    """The handset's copy of the message whose text starts with `text`."""
    def probe():
        got = [m for m in server.handset(JORDAN)
               if m["direction"] == "received" and m["text"].startswith(text)]
        return got[-1] if got else None
    return wait_for(probe, timeout=10)


def link_of(sms_text):
    m = re.search(r"(http\S+/v/[A-Za-z0-9_-]+)$", sms_text)
    assert m, "no link at the end of the SMS: %r" % sms_text
    return m.group(1)


def views(server, link_id):
    r = server.api("GET", "/api/v1/links/%s/views" % link_id)
    assert r.status_code == 200, r.text
    return r.json()["views"]


def check_link_headers(r):
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in r.headers["X-Robots-Tag"]
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp


@pytest.mark.lyrebird_env(**SMS_ONLY)
def test_sms_only_host_sends_an_image_as_a_link_from_the_same_number(server):
    png, msg = send_image(server)
    assert msg["route"]["plan"] == "link"
    assert "cannot send MMS" in msg["route"]["reason"]
    assert "same number" in msg["route"]["reason"]
    server.wait_status(msg["id"], "delivered")

    got = received(server, "Your X-ray")
    assert got["from"] == NUMBER            # the one number patients know
    assert got["media"] == []               # an SMS, not an MMS
    assert "WalkEasy Nexus Clinic has sent you an image" in got["text"]
    url = link_of(got["text"])              # the link comes last
    assert url.startswith(server.base + "/v/")
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 22                 # at least 128 bits, base64url

    # The token is never stored: only its SHA-256.
    db = store_db.connect(server)
    try:
        for (table, col) in (("messages", "body"), ("links", "token_sha256")):
            rows = db.execute("SELECT %s FROM %s" % (col, table)).fetchall()
            assert not any(token in (r[0] or "") for r in rows), table
    finally:
        db.close()

    # A GET (what a link-preview bot does) shows a neutral page, no image,
    # and does not count as a view.
    link_id = server.message(msg["id"])["route"]["link"]
    r = server.raw("GET", url[len(server.base):])
    assert r.status_code == 200
    check_link_headers(r)
    assert "View image" in r.text and "<img" not in r.text
    assert "X-ray" not in r.text            # no health detail
    assert views(server, link_id) == []

    # The POST from its button shows the image, and is the one view.
    r = server.raw("POST", url[len(server.base):],
                   headers={"User-Agent": "PatientPhone/1.0"})
    assert r.status_code == 200
    check_link_headers(r)
    srcs = re.findall(r'<img src="([^"]+)"', r.text)
    assert len(srcs) == 1 and "Save image" in r.text
    img = server.raw("GET", srcs[0].replace("&amp;", "&"))
    assert img.status_code == 200 and same_png(img.content, png)
    check_link_headers(img)
    v = views(server, link_id)
    assert [x["outcome"] for x in v] == ["viewed"]
    assert v[0]["user_agent"] == "PatientPhone/1.0" and v[0]["ip"]

    # The image address needs the grant that came with the view.
    bad = re.sub(r"g=[0-9a-f]+", "g=" + "0" * 64, srcs[0].replace("&amp;", "&"))
    assert server.raw("GET", bad).status_code == 403


def test_mms_host_sends_the_image_as_mms(server):
    png, msg = send_image(server, "Your scan")
    assert msg["route"]["plan"] == "mms"
    got = received(server, "Your scan")
    assert len(got["media"]) == 1
    assert same_png(server.raw("GET", got["media"][0]["url"]).content, png)


def test_delivery_override(server):
    # "link" on an MMS host: a link anyway.
    _, msg = send_image(server, "As a link please", delivery="link")
    assert msg["route"]["plan"] == "link"
    got = received(server, "As a link please")
    assert got["media"] == [] and "/v/" in got["text"]
    # A bad value is refused.
    up = server.upload(make_png())
    r = server.send(JORDAN, "x", [up.json()["id"]], delivery="fax")
    assert r.status_code == 400, r.text


@pytest.mark.lyrebird_env(**SMS_ONLY)
def test_asking_for_mms_from_an_sms_only_host_is_refused_with_the_reason(server):
    up = server.upload(make_png())
    r = server.send(JORDAN, "x", [up.json()["id"]], delivery="mms")
    assert r.status_code == 422, r.text
    assert "MMS" in r.json()["error"]["message"]
    assert server.handset(JORDAN) == []     # nothing was sent


@pytest.mark.lyrebird_env(**SMS_ONLY)
def test_revoked_and_expired_links_say_so_and_give_the_clinic_phone(server):
    _, msg = send_image(server, "Revoke me")
    got = received(server, "Revoke me")
    path = link_of(got["text"])[len(server.base):]
    link_id = server.message(msg["id"])["route"]["link"]

    r = server.api("DELETE", "/api/v1/links/" + link_id)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    for method in ("GET", "POST"):
        r = server.raw(method, path)
        assert r.status_code == 410
        check_link_headers(r)
        assert "withdrawn" in r.text and "5550 1234" in r.text
        assert "<img" not in r.text
    assert [x["outcome"] for x in views(server, link_id)] == ["revoked"]

    _, msg = send_image(server, "Expire me")
    got = received(server, "Expire me")
    path = link_of(got["text"])[len(server.base):]
    link_id = server.message(msg["id"])["route"]["link"]
    db = store_db.connect(server)
    try:
        db.execute("UPDATE links SET expires_at = ? WHERE id = ?",
                   (int(time.time() * 1000) - 1000, link_id))
        db.commit()
    finally:
        db.close()
    r = server.raw("POST", path)
    assert r.status_code == 410 and "expired" in r.text
    assert [x["outcome"] for x in views(server, link_id)] == ["expired"]


@pytest.mark.lyrebird_env(LYREBIRD_LINKS_MAX_VIEWS="1", **SMS_ONLY)
def test_a_link_allows_its_views_then_says_it_was_used(server):
    _, msg = send_image(server, "Once only")
    path = link_of(received(server, "Once only")["text"])[len(server.base):]
    assert server.raw("GET", path).status_code == 200   # previews are free
    assert server.raw("POST", path).status_code == 200
    r = server.raw("POST", path)
    assert r.status_code == 410 and "used" in r.text
    link_id = server.message(msg["id"])["route"]["link"]
    assert [x["outcome"] for x in views(server, link_id)] == ["viewed",
                                                               "used_up"]


def test_unknown_tokens_get_a_plain_not_found_page(server):
    r = server.raw("GET", "/v/" + "A" * 43)
    assert r.status_code == 404 and "not valid" in r.text
    check_link_headers(r)


DOB = dict(LYREBIRD_LINKS_CHECK="dob", LYREBIRD_LINKS_MAX_FAILURES="3",
           **SMS_ONLY)


def set_dob(server, dob):
    return server.api("PATCH", "/api/v1/patients/" + JORDAN, json={"dob": dob})


def post_dob(server, path, day, month, year):
    return server.raw("POST", path, data={"day": day, "month": month,
                                          "year": year})


@pytest.mark.lyrebird_env(**DOB)
def test_date_of_birth_is_kept_in_the_patient_record(server):
    r = set_dob(server, "7/3/1984")
    assert r.status_code == 200 and r.json()["dob"] == "1984-03-07", r.text
    for bad in ("31/02/1990", "1984-13-01", "yesterday", "2999-01-01"):
        r = set_dob(server, bad)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_dob", (bad, r.text)
    assert set_dob(server, None).json()["dob"] is None


@pytest.mark.lyrebird_env(**DOB)
def test_a_link_that_asks_for_a_date_of_birth_needs_one_on_file(server):
    assert set_dob(server, None).status_code == 200   # the demo sets one
    up = server.upload(make_png())
    r = server.send(JORDAN, "No DOB yet", [up.json()["id"]])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "dob_required"
    assert "date of birth" in r.json()["error"]["message"]
    assert server.conv_messages(JORDAN) == []   # nothing was stored
    assert server.handset(JORDAN) == []         # nor sent


@pytest.mark.lyrebird_env(**SMS_ONLY)
def test_a_link_can_have_its_own_expiry_views_and_check(server):
    png = make_png(16, 16)
    up = server.upload(png)
    msg = server.send_ok(JORDAN, "Own settings", [up.json()["id"]],
                         link={"expires_days": 1, "max_views": 2,
                               "check": "dob"})
    link_id = msg["route"]["link"]          # there from the 202 on
    link = server.api("GET", "/api/v1/links/" + link_id).json()
    assert link["max_views"] == 2 and link["check"] == "dob"
    hours = (time.mktime(time.strptime(link["expires_at"][:19], "%Y-%m-%dT%H:%M:%S"))
             - time.mktime(time.strptime(link["created_at"][:19], "%Y-%m-%dT%H:%M:%S"))) / 3600
    assert hours == 24, link
    path = link_of(received(server, "Own settings")["text"])[len(server.base):]
    assert 'name="day"' in server.raw("GET", path).text   # the demo's DOB
    r = post_dob(server, path, "7", "3", "1984")
    assert r.status_code == 200 and "<img" in r.text
    for bad in ({"expires_days": 0}, {"max_views": -1}, {"check": "pin"},
                {"colour": "red"}, "soon"):
        r = server.send(JORDAN, "x", [up.json()["id"]], link=bad)
        assert r.status_code == 400, (bad, r.text)


@pytest.mark.lyrebird_env(**DOB)
def test_the_image_shows_only_after_the_right_date_of_birth(server):
    assert set_dob(server, "1984-03-07").status_code == 200
    png, msg = send_image(server, "Check first")
    path = link_of(received(server, "Check first")["text"])[len(server.base):]
    link_id = server.message(msg["id"])["route"]["link"]

    r = server.raw("GET", path)
    assert r.status_code == 200 and "date of birth" in r.text
    assert 'name="day"' in r.text and "<img" not in r.text

    # An empty or impossible answer is not counted as a guess.
    r = post_dob(server, path, "", "", "")
    assert r.status_code == 200 and "<img" not in r.text
    r = post_dob(server, path, "31", "2", "1984")
    assert r.status_code == 200 and "<img" not in r.text
    assert views(server, link_id) == []

    r = post_dob(server, path, "8", "3", "1984")
    assert r.status_code == 200 and "does not match" in r.text
    assert "2 more tries" in r.text and "<img" not in r.text

    r = post_dob(server, path, "07", "03", "1984")
    assert r.status_code == 200
    srcs = re.findall(r'<img src="([^"]+)"', r.text)
    assert len(srcs) == 1
    assert same_png(server.raw("GET", srcs[0].replace("&amp;", "&")).content, png)
    assert [x["outcome"] for x in views(server, link_id)] == ["wrong_answer",
                                                               "viewed"]


@pytest.mark.lyrebird_env(**DOB)
def test_wrong_answers_lock_the_link(server):
    assert set_dob(server, "1984-03-07").status_code == 200
    _, msg = send_image(server, "Lock me")
    path = link_of(received(server, "Lock me")["text"])[len(server.base):]
    link_id = server.message(msg["id"])["route"]["link"]
    for i in range(2):
        assert post_dob(server, path, "1", "1", "1990").status_code == 200
    r = post_dob(server, path, "1", "1", "1990")      # the third: locked
    assert r.status_code == 410 and "locked" in r.text
    assert "5550 1234" in r.text
    r = post_dob(server, path, "7", "3", "1984")      # even the right answer
    assert r.status_code == 410 and "<img" not in r.text
    assert server.raw("GET", path).status_code == 410
    outcomes = [x["outcome"] for x in views(server, link_id)]
    assert outcomes == ["wrong_answer"] * 3 + ["locked"], outcomes
    assert server.api("GET", "/api/v1/links/" + link_id).json()["state"] == "locked"


CODE = dict(LYREBIRD_LINKS_CHECK="code", LYREBIRD_LINKS_MAX_FAILURES="3",
            **SMS_ONLY)


@pytest.mark.lyrebird_env(**CODE)
def test_a_one_time_code_by_sms_opens_the_image(server):
    png, msg = send_image(server, "Code first")
    path = link_of(received(server, "Code first")["text"])[len(server.base):]
    link_id = server.message(msg["id"])["route"]["link"]

    r = server.raw("GET", path)
    assert r.status_code == 200 and "Text me a code" in r.text
    assert "<img" not in r.text

    r = server.raw("POST", path, data={"step": "send"})
    assert r.status_code == 200 and "texted you a code" in r.text
    sms = received(server, "Your code to open the image")
    assert sms["from"] == NUMBER                  # the same number, always
    code = re.search(r"\b(\d{6})\b", sms["text"]).group(1)
    # Asking again at once is refused (one code a minute).
    r = server.raw("POST", path, data={"step": "send"})
    assert "less than a minute ago" in r.text

    r = server.raw("POST", path, data={"code": "12"})   # not an answer
    assert r.status_code == 200 and "6-digit" in r.text
    wrong = "%06d" % ((int(code) + 1) % 1000000)
    r = server.raw("POST", path, data={"code": wrong})
    assert "does not match. 2 more tries" in r.text and "<img" not in r.text
    r = server.raw("POST", path, data={"code": code})
    srcs = re.findall(r'<img src="([^"]+)"', r.text)
    assert len(srcs) == 1
    assert same_png(server.raw("GET", srcs[0].replace("&amp;", "&")).content, png)
    assert [x["outcome"] for x in views(server, link_id)] == ["wrong_answer",
                                                               "viewed"]
    # Only the code's hash is kept.
    db = store_db.connect(server)
    try:
        hashes = [h for (h,) in db.execute("SELECT check_hash FROM links")]
    finally:
        db.close()
    assert code not in hashes


@pytest.mark.lyrebird_env(**CODE)
def test_wrong_codes_lock_the_link(server):
    _, msg = send_image(server, "Lock by code")
    path = link_of(received(server, "Lock by code")["text"])[len(server.base):]
    server.raw("POST", path, data={"step": "send"})
    code = re.search(r"\b(\d{6})\b", received(
        server, "Your code to open the image")["text"]).group(1)
    wrong = "%06d" % ((int(code) + 7) % 1000000)
    for _ in range(2):
        server.raw("POST", path, data={"code": wrong})
    r = server.raw("POST", path, data={"code": wrong})
    assert r.status_code == 410 and "locked" in r.text
    r = server.raw("POST", path, data={"code": code})
    assert r.status_code == 410 and "<img" not in r.text


def test_an_mms_the_carrier_refuses_goes_again_as_a_link(server):
    # The handset cannot take MMS: the carrier refuses the MMS outright, and
    # with [routing] mms_fallback = link the same message goes again as an
    # SMS with a link, from the same number. Its history shows both tries.
    r = server.raw("POST", "/sim/handsets/%s/state" % JORDAN,
                   json={"mms": False})
    assert r.status_code == 200 and r.json()["mms"] is False
    png, msg = send_image(server, "Fallback please")
    assert msg["route"]["plan"] == "mms"
    m = server.wait_status(msg["id"], "delivered")
    assert m["route"]["plan"] == "link"
    assert "MMS" in m["route"]["reason"]
    details = " | ".join(h["detail"] or "" for h in m["history"])
    assert "MMS failed" in details and "handset cannot receive MMS" in details
    assert "resending as an SMS with a secure link" in details
    got = received(server, "Fallback please")
    assert got["from"] == NUMBER and got["media"] == []
    path = link_of(got["text"])[len(server.base):]
    r = server.raw("POST", path)
    src = re.findall(r'<img src="([^"]+)"', r.text)[0].replace("&amp;", "&")
    assert same_png(server.raw("GET", src).content, png)
