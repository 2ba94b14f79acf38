// Pictures as the inbox shows them: a sideways phone photo comes out upright
// (thumbnail and full size), and a patient's picture sent by the provider as a
// link is fetched after the message is stored, with the thread updated live:
// "Fetching a picture from the provider…", then the picture or "Picture
// unavailable: <reason>".
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';

import {
  DESKTOP,
  PHONE,
  axeViolations,
  expectHidden,
  expectImageLoaded,
  expectText,
  expectVisible,
  harness,
  inboxPage,
  openConversation,
  screenshot,
  signIn,
  waitFor,
} from './lib/browser.mjs';
import { makePng } from './lib/images.mjs';
import { API_KEY, CLINIC, JORDAN, PRIYA } from './lib/lyrebird.mjs';

// The demo makes a random carrier secret unless told one; the webhooks below
// are signed with this one.
const SIM_SECRET = 'media-test-sim-secret-0123456789abcdef';
const h = harness('media', { env: { LYREBIRD_SIM_SECRET: SIM_SECRET } });

const FETCHING = 'Fetching a picture from the provider…';
// The notes under an inbound message, found by their words (docs/web.md
// promises no class for them).
const fetchingNote = (li) => li.getByText(FETCHING, { exact: true });
const unavailableNote = (li) => li.getByText(/^Picture unavailable: /);

// -- a sideways JPEG -----------------------------------------------------------

// Four coloured quadrants: no rotation or mirror of it looks like another.
const COLOURS = {
  red: [230, 30, 30],
  green: [30, 200, 60],
  blue: [30, 60, 230],
  yellow: [240, 220, 30],
};
const CAMERA_MAKE = 'Quokka Optics';

/**
 * A 600x400 JPEG whose pixels are stored landscape, red | green over
 * blue | yellow, with EXIF orientation 6 ("turn 90° clockwise to view"),
 * a camera make and a GPS position, as a phone held upright writes it.
 * Upright it is 400x600: blue | red over yellow | green.
 */
function sidewaysJpeg(dir) {
  const w = 600;
  const ht = 400;
  const header = Buffer.from(`P6\n${w} ${ht}\n255\n`, 'ascii');
  const px = Buffer.alloc(w * ht * 3);
  for (let y = 0; y < ht; y++) {
    for (let x = 0; x < w; x++) {
      const c = y < ht / 2 ? (x < w / 2 ? COLOURS.red : COLOURS.green) : x < w / 2 ? COLOURS.blue : COLOURS.yellow;
      px.set(c, (y * w + x) * 3);
    }
  }
  const ppm = path.join(dir, 'sideways.ppm');
  const jpg = path.join(dir, 'sideways.jpg');
  fs.writeFileSync(ppm, Buffer.concat([header, px]));
  execFileSync('vips', ['copy', ppm, `${jpg}[Q=92]`], { stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync(
    'exiftool',
    [
      '-q',
      '-overwrite_original',
      '-n',
      '-Orientation=6',
      `-Make=${CAMERA_MAKE}`,
      '-GPSLatitude=33.8688',
      '-GPSLatitudeRef=S',
      '-GPSLongitude=151.2093',
      '-GPSLongitudeRef=E',
      jpg,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return fs.readFileSync(jpg);
}

/** The frame size and metadata segments of a JPEG (markers up to the first scan). */
function jpegInfo(buf) {
  assert.ok(buf.length > 4 && buf[0] === 0xff && buf[1] === 0xd8, 'a JPEG (starts with FF D8)');
  const info = { width: 0, height: 0, app: [] };
  let i = 2;
  while (i + 4 <= buf.length) {
    assert.equal(buf[i], 0xff, `a JPEG marker at byte ${i}`);
    const marker = buf[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break; // start of scan / end of image
    const len = buf.readUInt16BE(i + 2);
    const data = buf.subarray(i + 4, i + 2 + len);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      info.height = data.readUInt16BE(1);
      info.width = data.readUInt16BE(3);
    } else if (marker >= 0xe0 && marker <= 0xef) {
      info.app.push({ n: marker - 0xe0, id: data.subarray(0, 14).toString('latin1').split('\0')[0] });
    }
    i += 2 + len;
  }
  return info;
}

/** The colour at the middle of each quadrant of a loaded <img>, as the browser decoded it. */
async function quadrants(img) {
  const px = await img.evaluate((el) => {
    const w = el.naturalWidth;
    const ht = el.naturalHeight;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = ht;
    const g = canvas.getContext('2d');
    g.drawImage(el, 0, 0);
    const at = (fx, fy) => Array.from(g.getImageData(Math.floor(w * fx), Math.floor(ht * fy), 1, 1).data.slice(0, 3));
    return { topLeft: at(0.25, 0.25), topRight: at(0.75, 0.25), bottomLeft: at(0.25, 0.75), bottomRight: at(0.75, 0.75) };
  });
  const name = (rgb) => {
    let best = null;
    let bestD = Infinity;
    for (const [n, c] of Object.entries(COLOURS)) {
      const d = c.reduce((s, v, k) => s + (v - rgb[k]) ** 2, 0);
      if (d < bestD) [best, bestD] = [n, d];
    }
    return bestD < 60 ** 2 * 3 ? best : `rgb(${rgb.join(',')})`;
  };
  return Object.fromEntries(Object.entries(px).map(([k, v]) => [k, name(v)]));
}

const UPRIGHT = { topLeft: 'blue', topRight: 'red', bottomLeft: 'yellow', bottomRight: 'green' };

// -- the provider's media host, and its signed webhook ----------------------------

/**
 * An HTTP server on 127.0.0.1 standing in for a provider's media host:
 * /pic.png and /later.png are PNGs, anything else is 404. hold(path) keeps
 * the answers for that path back until the returned function is called.
 */
function startOrigin() {
  const files = {
    '/pic.png': makePng(320, 240, 5),
    '/later.png': makePng(240, 320, 6),
  };
  const held = new Map();
  const seen = new Map(); // path → requests
  const server = http.createServer(async (req, res) => {
    const p = new URL(req.url, 'http://origin').pathname;
    seen.set(p, (seen.get(p) || 0) + 1);
    const gate = held.get(p);
    if (gate) await gate.promise;
    const body = files[p];
    if (body) {
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': body.length });
      res.end(body);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    }
  });
  const origin = {
    server,
    files,
    requests: (p) => seen.get(p) || 0,
    url: (p) => `http://127.0.0.1:${server.address().port}${p}`,
    hold(p) {
      let release;
      const promise = new Promise((r) => {
        release = r;
      });
      held.set(p, { promise });
      return () => {
        held.delete(p);
        release();
      };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(origin));
  });
}

let origin;
before(async () => {
  origin = await startOrigin();
});
after(async () => {
  if (origin) await origin.close();
});

let hookSeq = 0;

/** Posts a signed inbound message to the demo, as the carrier would; returns the stored message's id. */
async function carrierInbound(srv, { from = PRIYA, text, media }) {
  const body = JSON.stringify({
    id: `SMLINK${process.pid}x${Date.now()}x${++hookSeq}`,
    from,
    to: CLINIC,
    text,
    media,
  });
  const t = String(Math.floor(Date.now() / 1000));
  const v1 = crypto.createHmac('sha256', SIM_SECRET).update(`${t}.${body}`).digest('hex');
  const r = await srv.raw('POST', '/hooks/sim/inbound', Buffer.from(body), {
    'Content-Type': 'application/json',
    'X-Sim-Signature': `t=${t},v1=${v1}`,
  });
  assert.equal(r.status, 200, `the inbound webhook: ${r.status} ${r.text.slice(0, 300)}`);
  assert.ok(r.json && r.json.id, `the webhook answer names the message: ${r.text}`);
  return r.json.id;
}

/**
 * Signs in, opens `name`'s conversation and waits until the inbox's event
 * stream is connected, so that what happens next can only reach the page
 * live. Counts main-frame navigations, and marks the window, to tell a
 * reload.
 */
async function openInbox(t, name) {
  const page = await t.newPage(undefined, 'inbox');
  let streams = 0;
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/api/v1/events' && r.status() === 200) streams++;
  });
  await signIn(page);
  await openConversation(page, name);
  await waitFor(() => streams > 0, { what: 'the inbox\'s event stream (/api/v1/events) to connect' });
  const nav = { count: 0 };
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) nav.count++;
  });
  await page.evaluate(() => {
    window.__mediaTestNoReload = 'same page';
  });
  const notReloaded = async () => {
    assert.equal(nav.count, 0, 'the inbox did not navigate');
    assert.equal(await page.evaluate(() => window.__mediaTestNoReload), 'same page', 'the inbox was not reloaded');
  };
  return { page, ib: inboxPage(page), notReloaded };
}

const pathOf = (u) => new URL(u, 'http://x').pathname;

/** Waits until the conversation list's entry for `name` previews `preview`. */
async function listShows(ib, name, preview) {
  let last = null;
  await waitFor(
    async () => {
      last = await ib.convItem(name).getByRole('link').textContent({ timeout: 500 });
      return last.includes(preview);
    },
    { what: `the conversation list to preview ${JSON.stringify(preview)} for ${name} (last: ${JSON.stringify(last)})` },
  );
}

/** The bytes lyrebird serves at a media URL, with the API key. */
async function mediaBytes(srv, url) {
  const r = await fetch(srv.url(url), {
    headers: { Authorization: `Bearer ${API_KEY}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(r.status, 200, `GET ${url}: ${r.status}`);
  assert.equal(r.headers.get('content-type'), 'image/jpeg', `GET ${url}: the type`);
  return Buffer.from(await r.arrayBuffer());
}

// -- a. a sideways photo goes out upright ---------------------------------------------

h.test('a sideways photo (EXIF orientation 6) is sent upright: portrait thumbnail and full image, no metadata', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lyrebird-media-'));
  let jpeg;
  try {
    jpeg = sidewaysJpeg(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // The fixture is what a phone writes: landscape pixels, orientation 6, GPS.
  const raw = jpegInfo(jpeg);
  assert.deepEqual([raw.width, raw.height], [600, 400], 'the photo is stored 600x400 (sideways)');
  assert.ok(raw.app.some((a) => a.n === 1 && a.id === 'Exif'), 'the photo carries EXIF');
  assert.ok(jpeg.includes(Buffer.from(CAMERA_MAKE)), 'the photo names its camera');

  const { page, ib } = await openInbox(t, 'Jordan Lee');
  await ib.attach.setInputFiles({ name: 'IMG_4032.jpg', mimeType: 'image/jpeg', buffer: jpeg });
  await expectVisible(ib.removeAttachment, '"Remove attachment" once the photo is attached');
  const text = 'Jordan, this is the photo of your brace fitting.';
  await ib.messageBox.fill(text);
  await ib.send.click();

  const bubble = ib.msgWithText(text, 'outbound');
  await expectVisible(bubble, 'the outbound bubble');
  const id = await bubble.getAttribute('data-id');
  assert.ok(id, 'the bubble has data-id');
  const m = await t.srv.message(id);
  assert.equal(m.to, JORDAN);
  assert.equal(m.media.length, 1, `one picture on the message: ${JSON.stringify(m.media)}`);
  const media = m.media[0];
  assert.equal(media.content_type, 'image/jpeg');
  assert.deepEqual([media.width, media.height], [400, 600], `the stored picture is upright: ${JSON.stringify(media)}`);
  assert.equal(pathOf(media.url), `/api/v1/media/${media.id}`, 'the media url');
  assert.equal(pathOf(media.thumb_url), `/api/v1/media/${media.id}/thumb`, 'the media thumb_url');

  // The bubble shows the thumbnail, upright.
  const thumb = bubble.getByRole('button', { name: 'Open image', exact: true }).locator('img');
  const small = await expectImageLoaded(thumb, 'the thumbnail in the outbound bubble');
  assert.equal(pathOf(small.src), media.thumb_url, 'the bubble loads the thumbnail, not the full image');
  assert.ok(
    small.naturalHeight > small.naturalWidth,
    `the thumbnail is portrait (upright): ${small.naturalWidth}x${small.naturalHeight}`,
  );
  assert.ok(Math.max(small.naturalWidth, small.naturalHeight) <= 320, `a thumbnail is at most 320 px: ${JSON.stringify(small)}`);
  assert.deepEqual(await quadrants(thumb), UPRIGHT, 'the thumbnail is turned the right way (90° clockwise)');
  await expectVisible(bubble.getByRole('button', { name: 'Delivered', exact: true }), 'the status mark "Delivered"');
  await listShows(ib, 'Jordan Lee', `You: ${text}`);
  await screenshot(page, 'media-upright-thumb.png');

  // Chromium applies an EXIF orientation by itself, so a portrait <img> alone
  // does not prove the server turned the picture: the bytes it serves must be
  // portrait pixels with no EXIF left (nor the camera, nor GPS).
  for (const [what, url] of [
    ['the full image', media.url],
    ['the thumbnail', media.thumb_url],
  ]) {
    const bytes = await mediaBytes(t.srv, url);
    const info = jpegInfo(bytes);
    assert.ok(info.height > info.width, `${what} is stored portrait: ${info.width}x${info.height}`);
    assert.deepEqual(
      info.app.filter((a) => a.n === 1 || a.n === 13),
      [],
      `${what} has no EXIF/XMP/IPTC segment: ${JSON.stringify(info.app)}`,
    );
    assert.ok(!bytes.includes(Buffer.from(CAMERA_MAKE)), `${what} does not name the camera`);
    if (what === 'the full image') assert.deepEqual([info.width, info.height], [400, 600]);
  }

  // "Open image" shows the full image, upright.
  await bubble.getByRole('button', { name: 'Open image', exact: true }).click();
  await expectVisible(ib.dialog, 'the image dialog');
  const full = ib.dialog.locator('img');
  const big = await expectImageLoaded(full, 'the full image in the dialog');
  assert.equal(pathOf(big.src), media.url, 'the dialog shows the full image (the media url, not /thumb)');
  assert.deepEqual([big.naturalWidth, big.naturalHeight], [400, 600], 'the full image is 400x600, portrait');
  assert.deepEqual(await quadrants(full), UPRIGHT, 'the full image is turned the right way (90° clockwise)');
  await screenshot(page, 'media-upright-open.png');
  await page.keyboard.press('Escape');
  await expectHidden(ib.dialog, 'the image dialog after Escape');
});

// -- b. a patient's picture sent as a link -------------------------------------------

h.test('a patient\'s picture sent as a link: the message shows at once, then the picture, live; a 404 link says so', async (t) => {
  const { page, ib, notReloaded } = await openInbox(t, 'Priya Sharma');

  // The provider's media host holds the picture back until we have looked at
  // the message while it is being fetched.
  const release = origin.hold('/pic.png');
  let picId;
  const text = 'Here is the photo link';
  try {
    picId = await carrierInbound(t.srv, { text, media: [{ url: origin.url('/pic.png') }] });
    const bubble = ib.msg(picId);
    await expectVisible(bubble, 'the message, live, in the open thread');
    await expectText(bubble.locator('.text'), text, { what: 'the message text' });
    assert.ok(await bubble.evaluate((el) => el.classList.contains('inbound')), 'an inbound bubble');
    await expectVisible(fetchingNote(bubble), `"${FETCHING}" under the message`);
    await waitFor(() => origin.requests('/pic.png') > 0, { what: 'lyrebird to ask the provider for /pic.png' });
    const pending = await t.srv.message(picId);
    assert.equal(pending.media_pending, 1, `media_pending while fetching: ${JSON.stringify(pending)}`);
    assert.deepEqual(pending.media, []);
    assert.equal(await bubble.locator('img').count(), 0, 'no picture yet');
    assert.doesNotMatch(await bubble.textContent(), /Picture unavailable/, 'nothing given up yet');
    await listShows(ib, 'Priya Sharma', text);
    await screenshot(page, 'media-link-fetching.png');
  } finally {
    release();
  }

  // The picture arrives, and the message is redrawn with it.
  const bubble = ib.msg(picId);
  const img = bubble.getByRole('button', { name: 'Open image', exact: true }).locator('img');
  const got = await expectImageLoaded(img, 'the fetched picture in the message');
  await expectHidden(fetchingNote(bubble), `"${FETCHING}" once the picture is in`);
  assert.doesNotMatch(await bubble.textContent(), /Fetching|Picture unavailable/, 'no note left under the message');
  await expectText(bubble.locator('.text'), text, { what: 'the message text after the redraw' });
  assert.equal(await ib.msgWithText(text, 'inbound').count(), 1, 'the message is shown once');
  const m = await t.srv.message(picId);
  assert.equal(m.media.length, 1, `the picture is on the message: ${JSON.stringify(m)}`);
  assert.ok(!m.media_pending, 'nothing pending any more');
  assert.deepEqual(m.media_unavailable || [], []);
  assert.equal(m.media[0].content_type, 'image/png');
  assert.deepEqual([m.media[0].width, m.media[0].height], [320, 240]);
  assert.equal(pathOf(got.src), m.media[0].thumb_url, 'the bubble shows the thumbnail');
  assert.ok(got.naturalWidth > got.naturalHeight, `landscape as sent: ${JSON.stringify(got)}`);
  assert.equal(origin.requests('/pic.png'), 1, 'the picture was fetched once');
  await notReloaded();
  await listShows(ib, 'Priya Sharma', text);
  await screenshot(page, 'media-link-picture.png');

  // It opens full size, like any picture from a patient.
  await bubble.getByRole('button', { name: 'Open image', exact: true }).click();
  await expectVisible(ib.dialog, 'the image dialog');
  const full = await expectImageLoaded(ib.dialog.locator('img'), 'the fetched picture, full size');
  assert.equal(pathOf(full.src), m.media[0].url, 'the dialog shows the full image');
  assert.deepEqual([full.naturalWidth, full.naturalHeight], [320, 240]);
  await page.keyboard.press('Escape');
  await expectHidden(ib.dialog, 'the image dialog after Escape');

  // A link that answers 404 is given up at once and says why.
  const goneText = 'And the second one';
  const goneId = await carrierInbound(t.srv, { text: goneText, media: [{ url: origin.url('/gone.png') }] });
  const gone = ib.msg(goneId);
  await expectVisible(gone, 'the second message, live');
  await expectText(gone.locator('.text'), goneText, { what: 'the second message text' });
  const note = unavailableNote(gone);
  await expectVisible(note, '"Picture unavailable: …" under the second message');
  const noteText = (await note.textContent()).trim();
  assert.match(noteText, /^Picture unavailable: .*\b404\b/, 'the note gives the 404');
  assert.ok(!noteText.includes('gone.png'), `the note does not show the provider's URL: ${noteText}`);
  await expectHidden(fetchingNote(gone), `"${FETCHING}" once the link is given up`);
  assert.equal(await gone.locator('img').count(), 0, 'no picture for the 404');
  const g = await t.srv.message(goneId);
  assert.deepEqual(g.media, []);
  assert.ok(!g.media_pending, `nothing pending for the 404: ${JSON.stringify(g)}`);
  assert.equal(g.media_unavailable.length, 1, `one item given up: ${JSON.stringify(g)}`);
  assert.match(g.media_unavailable[0].error, /\b404\b/);
  assert.equal(origin.requests('/gone.png'), 1, 'a 404 is not asked again');
  await expectImageLoaded(img, 'the first picture, still there');
  await notReloaded();
  await listShows(ib, 'Priya Sharma', goneText);
  await screenshot(page, 'media-link-unavailable.png');

  await page.setViewportSize(PHONE);
  await expectVisible(note, 'the note at 360 px');
  await expectImageLoaded(img, 'the first picture at 360 px');
  await screenshot(page, 'media-link-phone.png');
});

// -- c. accessibility of the notes ------------------------------------------------------

h.test('axe finds no serious or critical problem in a thread with a picture being fetched, one fetched and one unavailable', async (t) => {
  // The thread has what the previous test left; make sure of all three states.
  const fetched = await carrierInbound(t.srv, { text: 'Photo of the dressing', media: [{ url: origin.url('/pic.png') }] });
  const unavailable = await carrierInbound(t.srv, { text: 'Photo of the label', media: [{ url: origin.url('/missing.png') }] });
  await waitFor(async () => (await t.srv.message(fetched)).media.length === 1, { what: 'the first picture to be fetched' });
  await waitFor(async () => ((await t.srv.message(unavailable)).media_unavailable || []).length === 1, {
    what: 'the second picture to be given up',
  });

  const problems = [];
  const release = origin.hold('/later.png');
  try {
    const { page, ib } = await openInbox(t, 'Priya Sharma');
    const pendingId = await carrierInbound(t.srv, { text: 'One more, on its way', media: [{ url: origin.url('/later.png') }] });
    const pending = ib.msg(pendingId);
    await expectVisible(fetchingNote(pending), `"${FETCHING}"`);
    await expectImageLoaded(ib.msg(fetched).locator('img'), 'the fetched picture');
    await expectVisible(unavailableNote(ib.msg(unavailable)), 'the unavailable note');
    for (const [vp, size] of [
      ['1280', DESKTOP],
      ['360', PHONE],
    ]) {
      await page.setViewportSize(size);
      await expectVisible(fetchingNote(pending), `the fetching note at ${vp} px`);
      problems.push(...(await axeViolations(page, `/inbox, a picture being fetched, at ${vp} px`)));
    }
    release();
    await expectImageLoaded(pending.locator('img'), 'the late picture');
    await expectHidden(fetchingNote(pending), 'the fetching note once the picture is in');
    for (const [vp, size] of [
      ['360', PHONE],
      ['1280', DESKTOP],
    ]) {
      await page.setViewportSize(size);
      await expectVisible(unavailableNote(ib.msg(unavailable)), `the unavailable note at ${vp} px`);
      problems.push(...(await axeViolations(page, `/inbox, pictures fetched and unavailable, at ${vp} px`)));
    }
  } finally {
    release();
  }
  assert.deepEqual(problems, [], `axe found serious/critical violations:\n${problems.join('\n')}`);
});
