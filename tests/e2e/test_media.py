"""Media intake and MMS fitting, through the real binary: every image is
stored upright, without metadata, in a type browsers show, and goes out
within the host's MMS budget (or as a link when it cannot fit).

Test images are made here with Debian's vips, exiftool and heif-enc."""
import json
import os
import shutil
import struct
import subprocess
import time
import zlib

import pytest

from e2e_helpers import (ELF_BYTES, JORDAN, PRIYA, make_png, png_pixels,
                         unique, wait_for)

VIPS = shutil.which("vips")
EXIFTOOL = shutil.which("exiftool")
HEIF_ENC = shutil.which("heif-enc")

needs_tools = pytest.mark.skipif(
    not (VIPS and EXIFTOOL and HEIF_ENC),
    reason="needs vips (libvips-tools), exiftool and heif-enc "
           "(scripts/install-deps installs them)")


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    assert p.returncode == 0, "%s -> %s\n%s" % (cmd, p.returncode, p.stderr)
    return p.stdout


def photo(path, width, height, quality=92):
    """A colour, photo-like JPEG (blurred noise, three different bands)."""
    d = os.path.dirname(path)
    bands = []
    for i in range(3):
        n = os.path.join(d, "n%d.v" % i)
        run(VIPS, "gaussnoise", n, str(width), str(height),
            "--sigma", str(30 + 10 * i), "--mean", str(100 + 30 * i))
        b = os.path.join(d, "b%d.v" % i)
        run(VIPS, "gaussblur", n, b, "1.2")
        bands.append(b)
    rgb = os.path.join(d, "rgb.v")
    run(VIPS, "bandjoin", " ".join(bands), rgb)
    run(VIPS, "cast", rgb, path + "[Q=%d]" % quality, "uchar")
    return path


def exif(data, tmp_path, name="probe"):
    f = tmp_path / name
    f.write_bytes(data)
    return json.loads(run(EXIFTOOL, "-json", "-a", "-G1", str(f)))[0]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    if not (VIPS and EXIFTOOL and HEIF_ENC):
        pytest.skip("image tools missing")
    d = tmp_path_factory.mktemp("images")
    gps = photo(str(d / "gps.jpg"), 1200, 800)
    # A phone photo: GPS, the camera, and "rotate 90 CW" to display.
    run(EXIFTOOL, "-overwrite_original", "-GPSLatitude=33.8688",
        "-GPSLatitudeRef=S", "-GPSLongitude=151.2093", "-GPSLongitudeRef=E",
        "-Make=Apple", "-Model=iPhone 15", "-Orientation#=6",
        "-XMP-dc:Creator=Patient", gps)
    heic = str(d / "photo.heic")
    run(HEIF_ENC, "-q", "60", gps, "-o", heic)
    big = photo(str(d / "xray.jpg"), 4000, 3000)
    return {
        "gps": open(gps, "rb").read(),
        "heic": open(heic, "rb").read(),
        "big": open(big, "rb").read(),
    }


def upload(server, data, ctype="application/octet-stream"):
    r = server.upload(data, ctype)
    assert r.status_code == 201, r.text
    return r.json()


def get(server, url):
    r = server.api("GET", url)
    assert r.status_code == 200, (url, r.status_code, r.text)
    return r


@needs_tools
def test_upload_loses_gps_and_camera_details(server, images, tmp_path):
    before = exif(images["gps"], tmp_path, "before.jpg")
    assert "GPS:GPSLatitude" in before and before.get("IFD0:Make") == "Apple"
    up = upload(server, images["gps"], "image/jpeg")
    stored = get(server, up["url"]).content
    tags = exif(stored, tmp_path, "after.jpg")
    leaked = sorted(k for k in tags if k.split(":")[0] in
                    ("GPS", "IFD0", "ExifIFD", "XMP-dc", "IFD1", "IPTC",
                     "XMP-x", "ICC-header"))
    assert leaked == [], leaked
    assert not any("GPS" in k for k in tags), tags
    # The original (with its GPS) is not kept by default.
    assert server.api("GET", up["url"] + "/original").status_code == 404
    # Neither is GPS in the thumbnail.
    thumb = get(server, up["thumb_url"])
    assert thumb.headers["Content-Type"].startswith("image/jpeg")
    assert not any("GPS" in k for k in exif(thumb.content, tmp_path, "t.jpg"))


@needs_tools
def test_rotated_photo_is_stored_upright(server, images, tmp_path):
    up = upload(server, images["gps"])
    # 1200x800 pixels marked "rotate 90 CW": upright it is 800 wide.
    assert (up["width"], up["height"]) == (800, 1200), up
    tags = exif(get(server, up["url"]).content, tmp_path, "r.jpg")
    assert tags["File:ImageWidth"] == 800 and tags["File:ImageHeight"] == 1200
    assert "IFD0:Orientation" not in tags


@needs_tools
def test_heic_becomes_jpeg_without_gps(server, images, tmp_path):
    assert images["heic"][4:12] == b"ftypheic"
    up = upload(server, images["heic"], "image/heic")
    assert up["content_type"] == "image/jpeg", up
    body = get(server, up["url"])
    assert body.headers["Content-Type"].startswith("image/jpeg")
    assert body.content[:3] == b"\xff\xd8\xff"
    assert not any("GPS" in k for k in exif(body.content, tmp_path, "h.jpg"))


def bomb_png(width, height):
    """A PNG header claiming width x height, with one tiny compressed row:
    enough for any decoder to start on it."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width * 3 + 1) * 4, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
            + chunk(b"IEND", b""))


def peak_rss_kb(server):
    with open("/proc/%d/status" % server.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def test_decompression_bomb_is_refused_from_its_header(server):
    bomb = bomb_png(30000, 30000)
    assert len(bomb) < 200 * 1024
    before = peak_rss_kb(server)
    t0 = time.monotonic()
    r = server.upload(bomb, "image/png")
    took = time.monotonic() - t0
    assert r.status_code == 413, r.text
    err = r.json()["error"]
    assert err["code"] == "image_too_large", err
    assert "30000x30000" in err["message"] and "megapixels" in err["message"]
    # Refused from the header: no 2.7 GB pixel buffer (nor anything near).
    grew_mb = (peak_rss_kb(server) - before) / 1024
    assert grew_mb < 64, "peak memory grew by %.0f MB" % grew_mb
    assert took < 5, took


def test_renamed_executable_is_refused(server):
    r = server.upload(ELF_BYTES, "image/jpeg")
    assert r.status_code == 415, r.text
    assert "x-executable" in r.json()["error"]["message"] or \
        "x-sharedlib" in r.json()["error"]["message"] or \
        "application/" in r.json()["error"]["message"]


def test_pdf_is_kept_as_a_document_without_thumbnail(server):
    pdf = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
           b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n"
           b"%%EOF\n")
    up = upload(server, pdf, "application/pdf")
    assert up["content_type"] == "application/pdf"
    assert "thumb_url" not in up and "width" not in up
    assert get(server, up["url"]).content == pdf
    r = server.api("GET", up["url"] + "/thumb")
    assert r.status_code == 404 and "document" in r.json()["error"]["message"]


def test_thumbnail_is_small_jpeg(server):
    png = make_png(480, 240)
    up = upload(server, png, "image/png")
    t = get(server, up["thumb_url"])
    assert t.headers["Content-Type"].startswith("image/jpeg")
    # JPEG SOF0/SOF2 gives the size; parse just enough to read it.
    data, i = t.content, 2
    while i < len(data):
        marker, n = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            break
        i += 2 + n
    assert (w, h) == (320, 160), (w, h)


@pytest.mark.lyrebird_env(LYREBIRD_MEDIA_KEEP_ORIGINAL="true")
@needs_tools
def test_keep_original_keeps_the_bytes_as_sent(server, images):
    up = upload(server, images["gps"])
    r = get(server, up["url"] + "/original")
    assert r.content == images["gps"]


@pytest.mark.lyrebird_env(LYREBIRD_SIM_MMS_MAX_BYTES="300000")
@needs_tools
def test_12mp_photo_goes_as_mms_within_the_budget(server, images, tmp_path):
    assert len(images["big"]) > 1000000  # several MB, as a camera makes
    up = upload(server, images["big"], "image/jpeg")
    assert (up["width"], up["height"]) == (4000, 3000)
    text = unique("X-ray")
    m = server.send_ok(JORDAN, text, media=[up["id"]])
    assert m["route"]["plan"] == "mms", m
    server.wait_status(m["id"], "delivered")
    got = wait_for(lambda: server.handset_with_text(JORDAN, text))
    media = got[0]["media"]
    assert len(media) == 1 and media[0]["content_type"] == "image/jpeg"
    sent = server.raw("GET", media[0]["url"]).content
    assert 50000 < len(sent) <= 300000, len(sent)
    tags = exif(sent, tmp_path, "sent.jpg")
    assert max(tags["File:ImageWidth"], tags["File:ImageHeight"]) <= 1600
    assert not any("GPS" in k for k in tags)


@pytest.mark.lyrebird_env(LYREBIRD_SIM_MMS_MAX_BYTES="3000")
@needs_tools
def test_image_that_cannot_fit_goes_as_a_link(server, images):
    up = upload(server, images["big"], "image/jpeg")
    text = unique("Scan")
    m = server.send_ok(PRIYA, text, media=[up["id"]])
    assert m["route"]["plan"] == "link", m
    assert "3 KB" in m["route"]["reason"], m["route"]
    server.wait_status(m["id"], "delivered")


def media_url_sig(api_key, media_id, variant, expires):
    """The signature of a provider media URL, as docs/media.md defines it."""
    import base64
    import hashlib
    import hmac
    key = hmac.new(b"lyrebird", b"lyrebird-media-url-key:" + api_key.encode(),
                   hashlib.sha256).digest()
    mac = hmac.new(key, ("lyrebird-media:%s/%s/%s" % (media_id, variant, expires)).encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def test_provider_fetches_mms_media_through_a_short_lived_signed_url(server):
    from e2e_helpers import API_KEY
    png = make_png(40, 30)
    up = upload(server, png, "image/png")
    text = unique("Diagram")
    m = server.send_ok(JORDAN, text, media=[up["id"]])
    assert m["route"]["plan"] == "mms"
    got = wait_for(lambda: server.handset_with_text(JORDAN, text))
    item = got[0]["media"][0]
    src = item["source_url"]
    base = server.url("/p/media/%s/" % up["id"])
    assert src.startswith(base), (src, base)
    variant, expires, sig = src[len(base):].split("/")
    assert variant == "clean"
    ttl = int(expires) - time.time()
    assert 500 < ttl <= 601, ttl  # [media] url_ttl_seconds, 10 minutes
    # No login needed: the signature is the credential.
    r = server.raw("GET", src.replace(server.url(""), ""))
    assert r.status_code == 200 and r.content == server.raw("GET", item["url"]).content
    assert r.headers["Cache-Control"] == "no-store"
    # Tampered, or used for another item: refused.
    bad = src[:-2] + ("AA" if not src.endswith("AA") else "BB")
    assert server.raw("GET", bad.replace(server.url(""), "")).status_code == 403
    other = upload(server, make_png(8, 8), "image/png")
    r = server.raw("GET", "/p/media/%s/clean/%s/%s" % (other["id"], expires, sig))
    assert r.status_code == 403
    # Expired (correctly signed, an hour ago): refused, saying why.
    old = str(int(time.time()) - 3600)
    r = server.raw("GET", "/p/media/%s/clean/%s/%s" % (
        up["id"], old, media_url_sig(API_KEY, up["id"], "clean", old)))
    assert r.status_code == 403 and r.json()["error"]["code"] == "expired"
    # Every fetch is logged, with who fetched it.
    wait_for(lambda: "media %s (clean) fetched by 127.0.0.1" % up["id"] in server.stderr())
