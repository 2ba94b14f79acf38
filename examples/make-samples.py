#!/usr/bin/env python3
"""Makes the tour's sample images, examples/xray.jpg and examples/photo.jpg.

Both are drawn from a few shapes by this script (no scan, no photograph, no
person), so anyone may use them. Needs the libvips command-line tool
(`vips`, Debian package libvips-tools) and exiftool (libimage-exiftool-perl).

    python3 examples/make-samples.py

xray.jpg  a grayscale, X-ray-like view of a right foot from above.
photo.jpg a colour "photo" of a foot on a bath mat, as a patient would take
          it with a phone: stored sideways with an EXIF orientation tag, and
          carrying a GPS position and camera details, which lyrebird removes.
"""
import math
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# The foot, in units of the image's width (y grows downwards): tapered
# capsules (x0, y0, r0, x1, y1, r1).
FOOT = [
    (0.52, 1.10, 0.13, 0.52, 1.10, 0.13),   # heel
    (0.52, 1.08, 0.13, 0.50, 0.62, 0.17),   # midfoot
    (0.40, 0.51, 0.12, 0.64, 0.56, 0.11),   # ball of the foot
]
TOES = [  # base, tip, radius: big toe to little toe
    ((0.37, 0.45), (0.35, 0.27), 0.068),
    ((0.475, 0.45), (0.485, 0.30), 0.042),
    ((0.555, 0.47), (0.57, 0.335), 0.040),
    ((0.625, 0.50), (0.645, 0.38), 0.037),
    ((0.685, 0.55), (0.715, 0.44), 0.034),
]
BONES = [
    (0.53, 1.17, 0.080, 0.53, 0.98, 0.065),  # calcaneus
    (0.48, 0.87, 0.050, 0.49, 0.80, 0.048),  # talus
    (0.43, 0.745, 0.034, 0.54, 0.745, 0.034),  # navicular
    (0.60, 0.80, 0.040, 0.62, 0.72, 0.038),  # cuboid
    (0.40, 0.68, 0.027, 0.41, 0.63, 0.027),  # cuneiforms
    (0.47, 0.685, 0.024, 0.47, 0.64, 0.024),
    (0.53, 0.695, 0.024, 0.54, 0.65, 0.024),
    (0.405, 0.605, 0.030, 0.375, 0.455, 0.028),  # metatarsals
    (0.47, 0.615, 0.021, 0.47, 0.45, 0.020),
    (0.535, 0.625, 0.020, 0.555, 0.47, 0.019),
    (0.59, 0.665, 0.019, 0.625, 0.50, 0.018),
    (0.625, 0.705, 0.021, 0.685, 0.55, 0.018),
]


def toe_bones():
    out = []
    for i, ((x0, y0), (x1, y1), r) in enumerate(TOES):
        parts = [(0.10, 0.55), (0.62, 0.92)] if i == 0 else \
            [(0.10, 0.50), (0.56, 0.72), (0.78, 0.92)]
        for a, b in parts:
            rr = r * (0.42 if i == 0 else 0.5)
            out.append((x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, rr,
                        x0 + (x1 - x0) * b, y0 + (y1 - y0) * b, rr * 0.9))
    return out


def toe_nails():
    out = []
    for (x0, y0), (x1, y1), r in TOES:
        a, b = 0.80, 0.93
        out.append((x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, r * 0.6,
                    x0 + (x1 - x0) * b, y0 + (y1 - y0) * b, r * 0.5))
    return out


def capsule(px, py, c):
    """Signed distance from (px, py) to the tapered capsule c."""
    x0, y0, r0, x1, y1, r1 = c
    dx, dy = x1 - x0, y1 - y0
    ll = dx * dx + dy * dy
    t = 0.0 if ll == 0 else max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / ll))
    qx, qy = x0 + dx * t - px, y0 + dy * t - py
    return math.sqrt(qx * qx + qy * qy) - (r0 + (r1 - r0) * t)


def field(w, h, shapes, margin):
    """The smallest signed distance to any shape at each pixel, in width
    units; only computed within 'margin' of a shape (elsewhere: margin)."""
    d = [margin] * (w * h)
    for c in shapes:
        x0, y0, r0, x1, y1, r1 = c
        r = max(r0, r1) + margin
        ia, ib = max(0, int((min(x0, x1) - r) * w)), min(w, int((max(x0, x1) + r) * w) + 1)
        ja, jb = max(0, int((min(y0, y1) - r) * w)), min(h, int((max(y0, y1) + r) * w) + 1)
        for j in range(ja, jb):
            py = (j + 0.5) / w
            row = j * w
            for i in range(ia, ib):
                s = capsule((i + 0.5) / w, py, c)
                if s < d[row + i]:
                    d[row + i] = s
    return d


def smooth(e0, e1, x):
    t = max(0.0, min(1.0, (x - e0) / (e1 - e0)))
    return t * t * (3 - 2 * t)


def foot_shapes():
    return FOOT + [(x0, y0, r, x1, y1, r * 0.85) for (x0, y0), (x1, y1), r in TOES]


def xray(w, h, rnd):
    soft = field(w, h, foot_shapes(), 0.02)
    bone = field(w, h, BONES + toe_bones(), 0.02)
    # A lead "R" marker in the corner, as on a real film.
    s = 0.006
    marker = [(0.08, 0.08, s, 0.08, 0.16, s), (0.08, 0.08, s, 0.115, 0.08, s),
              (0.115, 0.08, s, 0.13, 0.10, s), (0.13, 0.10, s, 0.115, 0.12, s),
              (0.115, 0.12, s, 0.08, 0.12, s), (0.10, 0.12, s, 0.135, 0.16, s)]
    mark = field(w, h, marker, 0.01)
    out = bytearray(w * h)
    for j in range(h):
        for i in range(w):
            k = j * w + i
            v = 14 + 6 * math.hypot(i / w - 0.5, j / w - 0.65)  # film fog
            v += 72 * smooth(0, 0.012, -soft[k])
            b = -bone[k]
            if b > 0:
                v += smooth(0, 0.003, b) * (70 + 60 * math.exp(-b / 0.006)
                                          + 3 * math.sin(i * 1.3 + j * 0.7))
            v += 200 * smooth(0, 0.002, -mark[k])
            v += rnd.gauss(0, 3)
            out[k] = max(0, min(255, int(v)))
    return b"P5 %d %d 255\n" % (w, h) + bytes(out)


def photo(w, h, rnd):
    foot = field(w, h, foot_shapes(), 0.08)
    nails = field(w, h, toe_nails(), 0.01)
    out = bytearray(w * h * 3)
    for j in range(h):
        for i in range(w):
            k = j * w + i
            x, y = i / w, j / w
            # A woven teal bath mat, lit from the top left.
            weave = 0.92 + 0.08 * math.sin(i * 0.9) * math.sin(j * 0.9)
            light = 1.05 - 0.25 * math.hypot(x - 0.2, y - 0.2)
            # The foot's shadow, a little to the right and below.
            sh = foot[min(w * h - 1, k + 12 + 12 * w)] if i + 12 < w and j + 12 < h else 1
            shadow = 1 - 0.35 * (1 - smooth(0, 0.05, sh))
            c = [48 * weave * light * shadow, 128 * weave * light * shadow,
                 136 * weave * light * shadow]
            d = foot[k]
            if d < 0.004:
                a = smooth(0.004, -0.004, d)
                shade = (0.72 + 0.28 * smooth(0, 0.07, -d)) * light
                skin = [226 * shade, 174 * shade, 146 * shade]
                n = -nails[k]
                if n > 0:
                    g = smooth(0, 0.004, n)
                    skin = [s + (t - s) * g for s, t in
                            zip(skin, (238 * shade, 206 * shade, 196 * shade))]
                c = [a * s + (1 - a) * b for s, b in zip(skin, c)]
            for ch in range(3):
                out[3 * k + ch] = max(0, min(255, int(c[ch] + rnd.gauss(0, 1.5))))
    return b"P6 %d %d 255\n" % (w, h) + bytes(out)


def run(*cmd):
    subprocess.run(cmd, check=True)


def main():
    rnd = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        pgm = os.path.join(tmp, "xray.pgm")
        with open(pgm, "wb") as f:
            f.write(xray(360, 480, rnd))
        run("vips", "gaussblur", pgm, os.path.join(tmp, "xray.v"), "0.8")
        run("vips", "copy", os.path.join(tmp, "xray.v"),
            os.path.join(HERE, "xray.jpg") + "[Q=82,strip]")

        ppm = os.path.join(tmp, "photo.ppm")
        with open(ppm, "wb") as f:
            f.write(photo(480, 640, rnd))
        # A phone stores the pixels as its sensor saw them (sideways) and
        # says how to turn them: orientation 6, rotate 90 degrees clockwise.
        run("vips", "rot", ppm, os.path.join(tmp, "photo.v"), "d270")
        out = os.path.join(HERE, "photo.jpg")
        run("vips", "copy", os.path.join(tmp, "photo.v"), out + "[Q=80,strip]")
    run("exiftool", "-q", "-overwrite_original", "-Orientation#=6",
        "-Make=Lyrebird", "-Model=Sample Phone",
        "-DateTimeOriginal=2026:03:07 09:30:00",
        "-GPSLatitude=33.8915", "-GPSLatitudeRef=S",
        "-GPSLongitude=151.2767", "-GPSLongitudeRef=E", out)
    for name in ("xray.jpg", "photo.jpg"):
        print("%s: %d bytes" % (name, os.path.getsize(os.path.join(HERE, name))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
