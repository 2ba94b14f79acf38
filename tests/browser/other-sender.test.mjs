// Images from a second number ([routing] allow_other_sender, docs/links.md):
// the host (the simulated carrier with MMS out switched off) cannot send MMS,
// so an image goes as MMS through Twilio from mms_from. The inbox marks that
// message with a warning under it; texts still go from the clinic's number,
// unmarked. Twilio is a small fake in this file (own server: its public URL
// is its own address, which Twilio configuration requires).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after } from 'node:test';

import {
  DESKTOP,
  PHONE,
  axeViolations,
  expectImageLoaded,
  expectText,
  expectVisible,
  harness,
  inboxPage,
  launchBrowser,
  openConversation,
  screenshot,
  signIn,
  waitFor,
} from './lib/browser.mjs';
import { pngFile } from './lib/images.mjs';
import { CLINIC, JORDAN, LyrebirdOnPort, freePort } from './lib/lyrebird.mjs';

const OTHER = '+61400000001';
const SID = `AC${randomBytes(16).toString('hex')}`;
const TOKEN = `token-${randomBytes(12).toString('hex')}`;
const WARNING =
  `Sent from another number, ${OTHER}: the patient sees a second number, ` +
  'and a reply to it will not reach this inbox.';

// ---- a fake Twilio: the Messages resource only --------------------------------

/** Answers POST /2010-04-01/Accounts/<SID>/Messages.json like Twilio; records each form. */
function startFakeTwilio() {
  const fake = { sent: [], refused: [], server: null, base: null, refuseNext: null };
  const wantPath = `/2010-04-01/Accounts/${SID}/Messages.json`;
  const wantAuth = `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`;
  fake.server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const answer = (status, body) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const body = Buffer.concat(chunks).toString('utf8');
      const problem =
        req.method !== 'POST' || req.url !== wantPath
          ? `${req.method} ${req.url}`
          : req.headers.authorization !== wantAuth
            ? `bad Authorization: ${req.headers.authorization}`
            : !/^application\/x-www-form-urlencoded\b/.test(req.headers['content-type'] || '')
              ? `bad Content-Type: ${req.headers['content-type']}`
              : null;
      if (problem) {
        fake.refused.push(problem);
        return answer(req.url === wantPath ? 401 : 404, { code: 20404, message: problem, status: 404 });
      }
      const form = new URLSearchParams(body);
      if (fake.refuseNext) {
        // Twilio's error body for a final refusal (e.g. 21620, bad media URL).
        const [code, message] = fake.refuseNext;
        fake.refuseNext = null;
        return answer(400, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status: 400 });
      }
      const sid = `MM${randomBytes(16).toString('hex')}`;
      fake.sent.push({ sid, form });
      return answer(201, { sid, status: 'queued' });
    });
  });
  return new Promise((resolve, reject) => {
    fake.server.once('error', reject);
    fake.server.listen(0, '127.0.0.1', () => {
      fake.base = `http://127.0.0.1:${fake.server.address().port}`;
      resolve(fake);
    });
  });
}

let twilio = null;

// The harness's server, on a port known before it starts: its public URL is in
// its environment. Lazy, so that the harness starts it through this setup.
const h = harness('other-sender', { lazy: true });
h.setup = async () => {
  if (h.srv) return;
  twilio ??= await startFakeTwilio();
  const port = await freePort();
  const srv = new LyrebirdOnPort({
    name: 'other-sender',
    port,
    env: {
      LYREBIRD_SIM_MMS_OUT: 'false',
      LYREBIRD_ROUTING_MMS_PROVIDER: 'twilio',
      LYREBIRD_ROUTING_MMS_FROM: OTHER,
      LYREBIRD_ROUTING_ALLOW_OTHER_SENDER: 'true',
      LYREBIRD_TWILIO_ACCOUNT_SID: SID,
      LYREBIRD_TWILIO_AUTH_TOKEN: TOKEN,
      LYREBIRD_TWILIO_BASE_URL: twilio.base,
      LYREBIRD_SERVER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    },
  });
  h.srv = srv;
  await srv.start();
  h.browser = await launchBrowser();
};
after(async () => {
  if (twilio) await new Promise((r) => twilio.server.close(r));
});

// ---- helpers ---------------------------------------------------------------

/** Sends from the open thread (with an image when file is given); returns the bubble and its message id. */
async function sendFromInbox(page, text, file) {
  const ib = inboxPage(page);
  if (file) {
    await ib.attach.setInputFiles(file);
    await expectVisible(ib.removeAttachment, '"Remove attachment" once an image is attached');
  }
  await ib.messageBox.fill(text);
  await ib.send.click();
  const bubble = ib.msgWithText(text, 'outbound');
  await expectVisible(bubble, `the outbound bubble "${text}"`);
  const id = await bubble.getAttribute('data-id');
  assert.ok(id, 'the bubble has data-id');
  return { bubble, id };
}

const warningOf = (bubble) => bubble.locator('.other-sender');

// ---- tests -----------------------------------------------------------------

h.test('an image the host cannot send goes as MMS from the other number, marked; a text goes from the clinic, unmarked', async (t) => {
  const page = await t.newPage(await t.newContext({ viewport: DESKTOP }), 'inbox');
  await signIn(page);
  await openConversation(page, 'Jordan Lee');
  const ib = inboxPage(page);

  // -- the image ---------------------------------------------------------------
  const imageText = 'Your exercise sheet, page 1.';
  const img = await sendFromInbox(page, imageText, pngFile('exercises.png', 5));
  await expectImageLoaded(img.bubble.locator('img'), 'the picture in the sent bubble');
  await expectVisible(warningOf(img.bubble), 'the other-sender warning under the image');
  await expectText(warningOf(img.bubble), WARNING, { what: 'the other-sender warning' });
  assert.equal(await warningOf(img.bubble).count(), 1, 'one warning under the image');
  assert.equal(
    await warningOf(img.bubble).evaluate((el) => el.tagName),
    'P',
    'the warning is a paragraph',
  );

  // Twilio got it: an MMS from the other number, with the picture's URL.
  const got = await waitFor(() => twilio.sent.length >= 1 && twilio.sent, { what: 'the fake Twilio to get the MMS' });
  assert.equal(got.length, 1, 'one request to Twilio');
  const form = got[0].form;
  assert.equal(form.get('From'), OTHER, 'Twilio From');
  assert.equal(form.get('To'), JORDAN, 'Twilio To');
  assert.equal(form.get('Body'), imageText, 'Twilio Body');
  const mediaUrls = form.getAll('MediaUrl');
  assert.equal(mediaUrls.length, 1, `one MediaUrl: ${JSON.stringify(mediaUrls)}`);
  assert.ok(
    mediaUrls[0].startsWith(`${t.srv.base}/`),
    `the MediaUrl is on the server's public URL: ${mediaUrls[0]}`,
  );
  // Twilio fetches the picture from that URL without signing in.
  const pic = await fetch(mediaUrls[0], { signal: AbortSignal.timeout(10_000) });
  assert.equal(pic.status, 200, `GET MediaUrl -> ${pic.status}`);
  assert.match(pic.headers.get('content-type') || '', /^image\//, 'the MediaUrl serves an image');
  assert.deepEqual(twilio.refused, [], 'no request the fake Twilio refused');

  // The API marks it.
  const m = await t.srv.waitStatus(img.id, 'sent');
  assert.equal(m.from, OTHER, 'the image message is from the other number');
  assert.equal(m.to, JORDAN);
  assert.equal(m.provider, 'twilio', 'it went through Twilio');
  assert.equal(m.provider_message_id, got[0].sid, "Twilio's SID is kept");
  assert.ok(m.route, 'the image message has a route');
  assert.equal(m.route.plan, 'mms', 'it went as MMS');
  assert.equal(m.route.other_sender, true, 'route.other_sender');
  assert.equal(m.media.length, 1, 'one picture on the message');

  // -- a text ------------------------------------------------------------------
  const plainText = 'See you on Thursday at 9:30.';
  const txt = await sendFromInbox(page, plainText);
  const tm = await t.srv.waitStatus(txt.id, 'delivered');
  assert.equal(tm.from, CLINIC, 'the text is from the clinic number');
  assert.ok(!tm.route || !tm.route.other_sender, `the text is not marked: ${JSON.stringify(tm.route)}`);
  assert.equal(twilio.sent.length, 1, 'the text did not go through Twilio');
  // Its bubble shows the delivery, and no warning.
  await expectVisible(txt.bubble.locator('.status[title="Delivered"]'), 'the text\'s "Delivered" mark');
  assert.equal(await warningOf(txt.bubble).count(), 0, 'no warning under the text');
  // The image keeps its warning; there is exactly one in the thread.
  assert.equal(await ib.thread.locator('.other-sender').count(), 1, 'one warning in the thread');

  // -- after a reload: built from the stored messages -------------------------------
  await page.reload();
  await expectVisible(ib.links, 'the conversation list after a reload');
  if (!(await ib.messageBox.isVisible())) await openConversation(page, 'Jordan Lee');
  const imgAgain = ib.msg(img.id);
  await expectText(warningOf(imgAgain), WARNING, { what: 'the warning after a reload' });
  await expectVisible(ib.msg(txt.id), 'the text after a reload');
  assert.equal(await warningOf(ib.msg(txt.id)).count(), 0, 'no warning under the text after a reload');

  await warningOf(imgAgain).scrollIntoViewIfNeeded();
  await screenshot(page, 'other-sender-inbox.png');

  // -- Twilio refuses an MMS for good: it goes again as a link from the
  // clinic's own number, and the warning goes away, live -------------------
  twilio.refuseNext = [21620, 'Media URL is invalid'];
  const again = await sendFromInbox(page, 'Page 2 of the sheet.', pngFile('exercises-2.png', 6));
  const relinked = await waitFor(async () => {
    const x = await t.srv.message(again.id);
    return x.route && x.route.plan === 'link' && x;
  }, { what: 'the resend as a link' });
  assert.equal(relinked.from, CLINIC, 'the link goes from the clinic number');
  assert.ok(!relinked.route.other_sender, 'no longer marked');
  assert.match(relinked.route.reason, /twilio refused the MMS for good/, 'the reason names Twilio');
  await expectText(ib.msg(again.id).locator('.route'), 'Sent as a secure link', { what: 'the caption after the resend' });
  await waitFor(async () => (await warningOf(ib.msg(again.id)).count()) === 0,
    { what: 'the warning to go once the message went as a link' });
});

h.test('axe finds no serious or critical problem in a thread with the warning, at 1280 and 360 px', async (t) => {
  // The previous test left a marked image and an unmarked text in Jordan's thread.
  const problems = [];
  for (const [vp, viewport] of [
    ['1280', DESKTOP],
    ['360', PHONE],
  ]) {
    const page = await t.newPage(await t.newContext({ viewport }), `${vp} px`);
    await signIn(page);
    await openConversation(page, 'Jordan Lee');
    const ib = inboxPage(page);
    const warning = ib.thread.locator('.other-sender');
    await expectText(warning, WARNING, { what: `the warning at ${vp} px` });
    await warning.scrollIntoViewIfNeeded();
    // The warning fits the screen: nothing cut off at the side.
    const box = await warning.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= viewport.width, `the warning fits ${vp} px: ${JSON.stringify(box)}`);
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(sideways, false, `the page does not scroll sideways at ${vp} px`);
    problems.push(...(await axeViolations(page, `/inbox, a message from another number, at ${vp} px`)));
    if (vp === '360') await screenshot(page, 'other-sender-phone.png');
  }
  assert.deepEqual(problems, [], `axe found serious/critical violations:\n${problems.join('\n')}`);
});
