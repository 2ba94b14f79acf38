"""serve, migrate and check-config with a real configuration file: the
path an operator takes, as opposed to the demo."""
import os
import signal
import subprocess
import time

import requests

from conftest import BIN, check_sanitizers, clean_env, free_port
from e2e_helpers import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = "operator-key-0123456789abcdefghij"


def write_config(tmp_path, port, extra=""):
    (tmp_path / "api-key").write_text(KEY + "\n")
    cfg = tmp_path / "lyrebird.ini"
    cfg.write_text(f"""
[server]
listen = 127.0.0.1
port = {port}

[api]
key_file = {tmp_path / 'api-key'}

[store]
path = {tmp_path / 'db.sqlite'}

[media]
dir = {tmp_path / 'media'}

[clinic]
name = WalkEasy Nexus Clinic
number = 0488 868 772
host = sim

[sim]
enabled = true
secret = operator-sim-secret-0123456789
dr_delay_ms = 50
{extra}
""")
    return cfg


def run(args, env=None):
    return subprocess.run([BIN] + args, capture_output=True, text=True,
                          timeout=30, env=clean_env(env))


def test_example_file_is_what_the_binary_documents():
    r = run(["check-config", "--example"])
    assert r.returncode == 0
    with open(os.path.join(ROOT, "lyrebird.example.ini")) as f:
        assert r.stdout == f.read(), "regenerate lyrebird.example.ini"


EXAMPLE_SECRETS = {
    "LYREBIRD_API_KEY": KEY,
    "LYREBIRD_SMSBROADCAST_USERNAME": "walkeasy",
    "LYREBIRD_SMSBROADCAST_PASSWORD": "portal-password",
    "LYREBIRD_SMSBROADCAST_WEBHOOK_SECRET": "portal-webhook-secret-0123456789",
    "LYREBIRD_LINKS_SECRET": "link-secret-0123456789abcdefghijklmnop",
}


def test_example_file_validates_with_secrets_from_the_environment(tmp_path):
    r = run(["check-config", "--config", os.path.join(ROOT, "lyrebird.example.ini")],
            env=dict(EXAMPLE_SECRETS,
                     LYREBIRD_STORE_PATH=str(tmp_path / "lyrebird.db"),
                     LYREBIRD_MEDIA_DIR=str(tmp_path)))
    assert r.returncode == 0, r.stderr
    assert "+61488868772" in r.stdout and "hosted by smsbroadcast" in r.stdout


def test_example_file_is_a_production_start_with_the_simulator_off():
    with open(os.path.join(ROOT, "lyrebird.example.ini")) as f:
        text = f.read()
    sim = text[text.index("\n[sim]\n"):]
    assert "\nenabled = false\n" in sim, sim
    assert "\nhost = smsbroadcast\n" in text
    # It says how to turn the simulator on ...
    assert "To try lyrebird without a provider" in sim
    # ... and following that advice is a configuration that works.
    r = run(["check-config", "--config", os.path.join(ROOT, "lyrebird.example.ini")],
            env=dict(EXAMPLE_SECRETS, LYREBIRD_CLINIC_HOST="sim"))
    assert r.returncode == 1
    assert "[sim] enabled" in r.stderr and "enabled = true" in r.stderr


def _serve(tmp_path, cfg, port):
    """Starts lyrebird serve on cfg; returns (process, log file)."""
    err = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen([BIN, "serve", "--config", str(cfg)], stdout=err,
                            stderr=err, env=clean_env())

    def up():
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            return requests.get("http://127.0.0.1:%d/healthz" % port,
                                timeout=1).status_code == 200
        except requests.RequestException:
            return False
    wait_for(up, timeout=20, desc="serve to listen")
    return proc, err


def _stop(tmp_path, proc, err):
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=15)
    err.close()
    log = (tmp_path / "serve.log").read_text()
    check_sanitizers(log, "lyrebird serve")
    assert rc == 0, log[-3000:]
    return log


def test_serve_warns_when_the_simulated_carrier_is_on(tmp_path):
    import json
    port = free_port()
    proc, err = _serve(tmp_path, write_config(tmp_path, port), port)
    log = _stop(tmp_path, proc, err)
    warn = [json.loads(l) for l in log.splitlines()
            if '"config.sim_enabled"' in l]
    assert len(warn) == 1, log[-3000:]
    assert warn[0]["level"] == "warn"
    assert "[sim] enabled = false" in warn[0]["msg"]
    assert "http://127.0.0.1:%d/sim/" % port in warn[0]["msg"]


def test_serve_on_a_real_provider_gives_no_such_warning(tmp_path):
    port = free_port()
    cfg = write_config(tmp_path, port)
    cfg.write_text(cfg.read_text().replace("host = sim", "host = smsbroadcast")
                   .replace("enabled = true", "enabled = false") + """
[smsbroadcast]
username = walkeasy
password = portal-password
webhook_secret = portal-webhook-secret-0123456789
base_url = http://127.0.0.1:9
""")
    proc, err = _serve(tmp_path, cfg, port)
    log = _stop(tmp_path, proc, err)
    assert "config.sim_enabled" not in log and "simulated carrier" not in log


def test_check_config_names_each_bad_line(tmp_path):
    cfg = write_config(tmp_path, 8080, extra="rate = lots\n[outbx]\nworkers = 2\n")
    text = cfg.read_text().replace("[api]\n", "[api]\nkye = x\n")
    cfg.write_text(text)
    r = run(["check-config", "--config", str(cfg)])
    assert r.returncode == 1
    lines = text.splitlines()
    kye = lines.index("kye = x") + 1
    rate = lines.index("rate = lots") + 1
    assert f"{cfg}:{kye}: [api] kye: unknown key 'kye' in [api]; did you mean 'key'?" in r.stderr
    assert f"{cfg}:{rate}: [sim] rate:" in r.stderr
    assert "did you mean [outbox]?" in r.stderr


def test_check_config_refuses_a_landline_clinic_number_and_unknown_host(tmp_path):
    cfg = write_config(tmp_path, 8080)
    cfg.write_text(cfg.read_text().replace("0488 868 772", "12").replace(
        "host = sim", "host = carrier-pigeon"))
    r = run(["check-config", "--config", str(cfg)])
    assert r.returncode == 1
    assert "[clinic] number" in r.stderr and "[clinic] host" in r.stderr
    assert "known providers: sim" in r.stderr


def test_serve_with_a_config_file_and_an_environment_override(tmp_path):
    file_port, port = free_port(), free_port()
    cfg = write_config(tmp_path, file_port)
    r = run(["migrate", "--config", str(cfg)])
    assert r.returncode == 0 and "from version 0 to" in r.stdout, r.stdout + r.stderr
    r = run(["migrate", "--config", str(cfg)])
    assert r.returncode == 0 and "up to date" in r.stdout

    err = open(tmp_path / "stderr.log", "wb")
    # LYREBIRD_SERVER_PORT wins over the file's port.
    proc = subprocess.Popen([BIN, "serve", "--config", str(cfg)], stdout=err,
                            stderr=err, env=clean_env({"LYREBIRD_SERVER_PORT": str(port)}))
    try:
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return requests.get(base + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_for(up, timeout=20, desc="serve to listen on the overridden port")
        auth = {"Authorization": "Bearer " + KEY}
        m = requests.post(base + "/api/v1/messages", headers=auth, timeout=10,
                          json={"to": "0491 570 156", "text": "from serve"}).json()
        assert m["from"] == "+61488868772"

        def delivered():
            x = requests.get(base + "/api/v1/messages/" + m["id"], headers=auth,
                             timeout=10).json()
            return x if x["status"] == "delivered" else None
        wait_for(delivered, timeout=10, desc="delivered")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=15)
        err.close()
    log = (tmp_path / "stderr.log").read_text()
    check_sanitizers(log, "lyrebird serve")
    assert rc == 0, log[-3000:]
    assert KEY not in log, "the API key must never be logged"


def test_check_config_refuses_a_second_sender_and_says_why(tmp_path):
    # The seed's "Twilio in parallel": images from another number. Patients
    # would then see two numbers, so it is refused unless explicitly allowed.
    cfg = write_config(tmp_path, 8080, extra=(
        "[routing]\nmms_provider = twilio\nmms_from = +61400000001\n"))
    r = run(["check-config", "--config", str(cfg)])
    assert r.returncode == 1, r.stdout
    assert "[routing] mms_provider" in r.stderr
    assert "two numbers" in r.stderr and "+61488868772" in r.stderr
    assert "allow_other_sender = true" in r.stderr


def test_check_config_wants_the_link_last_in_the_template(tmp_path):
    cfg = write_config(tmp_path, 8080, extra=(
        "[links]\ntemplate = {link} is your image from {clinic}\n"))
    r = run(["check-config", "--config", str(cfg)])
    assert r.returncode == 1
    assert "[links] template" in r.stderr and "must end with {link}" in r.stderr


def test_routes_explains_each_direction_and_the_four_setups(tmp_path):
    r = run(["routes"])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "+61488868772" in out and "hosted by sim" in out
    for way in ("SMS out", "SMS in", "MMS out", "MMS in"):
        assert way in out, way
    for option in ("Stay on SMS Broadcast", "Move the number to MessageMedia",
                   "Twilio in parallel", "Move (port) the number to Twilio"):
        assert option in out, option
    assert "Sent as MMS via sim on the same number" in out
    assert "allow_other_sender" in out

    # An SMS-only host (like SMS Broadcast): images go as links, and why.
    r = run(["routes"], env={"LYREBIRD_SIM_MMS_OUT": "false"})
    assert r.returncode == 0, r.stderr
    assert "sim cannot send MMS from this number" in r.stdout
    assert "sends images as links on the same number (like 1)" in r.stdout

    # A real configuration without a link secret: no links, and it says so.
    cfg = write_config(tmp_path, 8080, extra="mms_out = false\n")
    r = run(["routes", "--config", str(cfg)])
    assert r.returncode == 0, r.stderr
    assert "Links    off" in r.stdout
    assert "cannot send images yet" in r.stdout


def test_check_config_wants_a_database_directory_that_exists(tmp_path):
    cfg = write_config(tmp_path, 8080)
    missing = tmp_path / "var" / "lib" / "lyrebird"
    r = run(["check-config", "--config", str(cfg)],
            env={"LYREBIRD_STORE_PATH": str(missing / "lyrebird.db")})
    assert r.returncode == 1, r.stdout
    assert "ok." not in r.stdout
    assert "[store] path: the database's directory, %s, does not exist" % missing \
        in r.stderr, r.stderr
    # ... and says how to make it.
    assert "mkdir -p %s && sudo chown lyrebird: %s" % (missing, missing) in r.stderr

    # serve refuses it the same way, before it opens anything.
    r = run(["serve", "--config", str(cfg)],
            env={"LYREBIRD_STORE_PATH": str(missing / "lyrebird.db")})
    assert r.returncode == 1
    assert "mkdir -p %s" % missing in r.stderr, r.stderr
    assert not missing.exists()


def test_check_config_refuses_directories_it_cannot_write(tmp_path):
    # A path under a regular file cannot be written, even by root.
    (tmp_path / "a-file").write_text("not a directory\n")
    cfg = write_config(tmp_path, 8080)
    r = run(["check-config", "--config", str(cfg)],
            env={"LYREBIRD_STORE_PATH": str(tmp_path / "a-file" / "lyrebird.db"),
                 "LYREBIRD_MEDIA_DIR": str(tmp_path / "a-file" / "media")})
    assert r.returncode == 1, r.stdout
    assert "[store] path: the database's directory, %s, is not a directory" % (
        tmp_path / "a-file") in r.stderr, r.stderr
    assert "[media] dir: the media directory, %s, cannot be a directory" % (
        tmp_path / "a-file" / "media") in r.stderr, r.stderr
    assert "2 configuration errors" in r.stderr


def test_check_config_refuses_a_read_only_directory(tmp_path):
    if os.geteuid() == 0:
        import pytest
        pytest.skip("root writes in a read-only directory; the path-under-a-file "
                    "case covers a directory that cannot be written")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        cfg = write_config(tmp_path, 8080)
        r = run(["check-config", "--config", str(cfg)],
                env={"LYREBIRD_STORE_PATH": str(ro / "lyrebird.db"),
                     "LYREBIRD_MEDIA_DIR": str(ro / "media")})
        assert r.returncode == 1, r.stdout
        assert "cannot write in the database's directory, %s" % ro in r.stderr
        assert "sudo chown lyrebird: %s" % ro in r.stderr
        assert "[media] dir: the media directory, %s, does not exist and " \
            "cannot be created in %s" % (ro / "media", ro) in r.stderr, r.stderr
    finally:
        ro.chmod(0o700)


def test_check_config_accepts_a_media_directory_it_will_make(tmp_path):
    cfg = write_config(tmp_path, 8080)
    media = tmp_path / "new" / "media"
    r = run(["check-config", "--config", str(cfg)],
            env={"LYREBIRD_MEDIA_DIR": str(media)})
    assert r.returncode == 0, r.stderr
    assert "ok." in r.stdout
    assert not media.exists(), "check-config must not create anything"
