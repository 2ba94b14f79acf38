"""The clinic's message templates: admins manage them (validated,
audited), staff list them and fill one in for a patient, with what is
still missing named."""
import pytest

from e2e_helpers import CLINIC_NAME, JORDAN, PRIYA


@pytest.fixture(autouse=True)
def no_demo_templates(server):
    """The demo seeds a few templates into a new data directory; these tests
    start from none."""
    for t in server.api("GET", "/api/v1/templates").json()["templates"]:
        assert server.api("DELETE", "/api/v1/templates/" + t["id"]).status_code == 200


def create(server, name, body, **kw):
    return server.api("POST", "/api/v1/templates",
                      json={"name": name, "body": body}, **kw)


def key(server, scopes):
    r = server.api("POST", "/api/v1/keys", json={"name": "k", "scopes": scopes})
    assert r.status_code == 201, r.text
    return {"Authorization": "Bearer " + r.json()["secret"]}


def audit(server):
    r = server.api("GET", "/api/v1/audit")
    assert r.status_code == 200, r.text
    return r.json()["entries"]


@pytest.mark.lyrebird_env(LYREBIRD_CLINIC_PHONE="02 9999 0000")
def test_admin_creates_staff_fill_in_for_a_patient(server):
    r = create(server, "Reminder",
               "Hi {first_name}, see you at {time} at {clinic_name}. "
               "Call {clinic_phone} to change it. Code {{A}}")
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["id"].startswith("tpl_") and t["name"] == "Reminder", t
    assert t["fields"] == ["first_name", "time", "clinic_name", "clinic_phone"], t
    staff = key(server, ["messages:send"])
    r = server.raw("GET", "/api/v1/templates", headers=staff)
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["templates"]] == [t["id"]]

    r = server.raw("POST", "/api/v1/templates/%s/render" % t["id"],
                   headers=staff, json={"patient": JORDAN})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["text"] == ("Hi Jordan, see you at {time} at %s. Call 02 9999 "
                           "0000 to change it. Code {A}" % CLINIC_NAME), out
    assert out["missing"] == ["time"], out
    r = server.raw("POST", "/api/v1/templates/%s/render" % t["id"],
                   headers=staff, json={"patient": JORDAN,
                                        "values": {"time": "10:30"}})
    assert r.json()["missing"] == [] and "at 10:30 at" in r.json()["text"], r.text
    # An unknown patient: the first name is missing, not made up.
    r = server.raw("POST", "/api/v1/templates/%s/render" % t["id"],
                   headers=staff, json={"patient": "+61491570999",
                                        "values": {"time": "9"}})
    assert r.json()["missing"] == ["first_name"], r.text
    assert r.json()["text"].startswith("Hi {first_name},"), r.text


def test_changes_need_the_admin_scope_and_are_audited(server):
    staff = key(server, ["messages:send", "messages:read"])
    r = create(server, "Nope", "Hello", headers=staff)
    assert r.status_code == 403, r.text
    t = create(server, "Results", "Your results are in, {first_name}.").json()
    r = server.raw("PATCH", "/api/v1/templates/" + t["id"], headers=staff,
                   json={"body": "x"})
    assert r.status_code == 403, r.text
    r = server.raw("DELETE", "/api/v1/templates/" + t["id"], headers=staff)
    assert r.status_code == 403, r.text
    reader = key(server, ["messages:read"])
    assert server.raw("GET", "/api/v1/templates", headers=reader).status_code == 403

    r = server.api("PATCH", "/api/v1/templates/" + t["id"],
                   json={"body": "Your results are ready, {first_name}."})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Results" and "ready" in r.json()["body"], r.text
    r = server.api("PATCH", "/api/v1/templates/" + t["id"], json={"name": "Results 2"})
    assert r.status_code == 200 and r.json()["body"].endswith("{first_name}."), r.text
    r = server.api("DELETE", "/api/v1/templates/" + t["id"])
    assert r.status_code == 200 and r.json() == {"id": t["id"], "deleted": True}
    assert server.api("DELETE", "/api/v1/templates/" + t["id"]).status_code == 404
    assert server.api("GET", "/api/v1/templates").json()["templates"] == []
    actions = [e["action"] for e in audit(server)
               if e["action"].startswith("template.") and e["subject"] == t["id"]]
    assert actions.count("template.created") == 1, actions
    assert actions.count("template.updated") == 2, actions
    assert actions.count("template.deleted") == 1, actions


def test_bad_templates_are_refused_with_the_reason(server):
    for body, word in (("Hi {First}", "placeholder"),
                       ("Hi {first_name", "{{"),
                       ("a } b", "}}"),
                       ("x" * 1601, "1600"),
                       (" ".join("{f%d}" % i for i in range(11)), "placeholders")):
        r = create(server, "T", body)
        assert r.status_code == 422, (body, r.text)
        assert word in r.json()["error"]["message"], (body, r.text)
    assert create(server, "", "Hello").status_code == 422
    assert create(server, "x" * 61, "Hello").status_code == 422
    assert create(server, "T", "").status_code == 422
    r = server.api("POST", "/api/v1/templates", json={"name": "T"})
    assert r.status_code == 400, r.text
    r = server.api("POST", "/api/v1/templates", json={"name": "T", "body": 3})
    assert r.status_code == 400, r.text
    r = server.api("POST", "/api/v1/templates", json={"name": "T", "body": "b", "x": 1})
    assert r.status_code == 400, r.text
    assert create(server, "Same", "One").status_code == 201
    r = create(server, "Same", "Two")
    assert r.status_code == 409 and r.json()["error"]["code"] == "name_taken", r.text
    assert server.api("PATCH", "/api/v1/templates/tpl_01HZZZZZZZZZZZZZZZZZZZZZZZ",
                      json={"body": "b"}).status_code == 404
    assert server.api("PATCH", "/api/v1/templates/nope", json={"body": "b"}).status_code == 404
    t = server.api("GET", "/api/v1/templates").json()["templates"][0]
    r = server.api("PATCH", "/api/v1/templates/" + t["id"], json={})
    assert r.status_code == 400, r.text
    long_t = create(server, "Long", "{time}").json()
    r = server.api("POST", "/api/v1/templates/%s/render" % long_t["id"],
                   json={"values": {"time": "x" * 201}})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_value", r.text
    r = server.api("POST", "/api/v1/templates/%s/render" % long_t["id"],
                   json={"values": {"time": 3}})
    assert r.status_code == 400, r.text
    r = server.api("POST", "/api/v1/templates/%s/render" % long_t["id"],
                   json={"patient": "not a number"})
    assert r.status_code == 422, r.text
    assert PRIYA
