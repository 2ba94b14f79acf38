"""`lyrebird send` talks to a running server."""
import time

from e2e_helpers import API_KEY, CLINIC, JORDAN, make_png, unique, wait_for, same_png


def test_cli_send_text(server, run_cli):
    text = unique("hi from the CLI")
    p = run_cli(["send", "--server", server.base, "--to", "0491570156",
                 "--text", text], env={"LYREBIRD_API_KEY": API_KEY})
    assert p.returncode == 0, "exit %s\nstdout: %s\nstderr: %s" % (
        p.returncode, p.stdout, p.stderr)
    got = wait_for(lambda: server.handset_with_text(JORDAN, text),
                   desc="handset to receive the CLI message")
    assert len(got) == 1 and got[0]["from"] == CLINIC, got


def test_cli_send_image(server, run_cli, tmp_path):
    png = make_png(7, 7)
    f = tmp_path / "photo.png"
    f.write_bytes(png)
    text = unique("CLI picture")
    p = run_cli(["send", "--server", server.base, "--to", "0491570156",
                 "--text", text, "--image", str(f)],
                env={"LYREBIRD_API_KEY": API_KEY})
    assert p.returncode == 0, "exit %s\nstdout: %s\nstderr: %s" % (
        p.returncode, p.stdout, p.stderr)
    got = wait_for(lambda: server.handset_with_text(JORDAN, text),
                   desc="handset to receive the CLI picture")
    assert len(got[0]["media"]) == 1, got
    assert got[0]["media"][0]["content_type"] == "image/png"
    assert same_png(server.raw("GET", got[0]["media"][0]["url"]).content, png)


def test_cli_send_wrong_key_fails(server, run_cli):
    text = unique("should not go")
    p = run_cli(["send", "--server", server.base, "--to", "0491570156",
                 "--text", text],
                env={"LYREBIRD_API_KEY": "wrong-key-0123456789abcdefghijklmn"})
    assert p.returncode != 0, p.stdout + p.stderr
    time.sleep(0.3)
    assert server.handset_with_text(JORDAN, text) == []
