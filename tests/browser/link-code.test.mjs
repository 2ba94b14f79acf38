// A secure image link behind a one-time code ([links] check = code,
// docs/links.md): on an SMS-only host the image goes as a link; the patient
// asks for a code on the link page, gets it by SMS from the clinic's own
// number, and sees the image only with the right code. Staff see the wrong
// answer and the view in "Who opened it".
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';

import {
  DESKTOP,
  axeViolations,
  expectImageLoaded,
  expectText,
  expectVisible,
  harness,
  inboxPage,
  openConversation,
  screenshot,
  signIn,
  sleep,
  waitFor,
} from './lib/browser.mjs';
import { pngFile } from './lib/images.mjs';
import { CLINIC, JORDAN } from './lib/lyrebird.mjs';

const CLINIC_NAME = 'WalkEasy Nexus Clinic';

const IPHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 3,
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
    '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
};

// What the link page says (src/api/viewer.c).
const CODE_SENT = 'We have texted you a code. Enter it below.';
const WAIT_A_MINUTE = 'A code was sent less than a minute ago. Please wait for it, or try again in a minute.';
// The code SMS, whole: the clinic's name, the code, how long it works.
const CODE_SMS = new RegExp(
  `^Your code to open the image from ${CLINIC_NAME}: (\\d{6})\\. It works for 10 minutes\\. Never share it\\.$`,
);
// Words that would give away why the patient sees the clinic.
const HEALTH_WORDS = /x-?ray|scan|result|diagnos|injur|pain|wound|rash|blood|pathology|medic|health|treat|condition/i;

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

const h = harness('link-code', {
  env: { LYREBIRD_SIM_MMS_OUT: 'false', LYREBIRD_LINKS_CHECK: 'code' },
});

// ---- helpers ---------------------------------------------------------------

/** Every SMS the handset has received whose text starts with `prefix` (the carrier's log). */
async function handsetReceived(srv, e164, prefix) {
  const r = await srv.raw('GET', `/sim/handsets/${encodeURIComponent(e164)}/messages`);
  assert.equal(r.status, 200, `GET /sim/handsets/${e164}/messages`);
  return (r.json.messages || []).filter((m) => m.direction === 'received' && m.text.startsWith(prefix));
}

/** Waits for the handset to have received `n` SMS starting with `prefix`; returns the last. */
async function handsetGot(srv, e164, prefix, n = 1) {
  return waitFor(
    async () => {
      const got = await handsetReceived(srv, e164, prefix);
      return got.length >= n ? got[got.length - 1] : null;
    },
    { what: `the handset ${e164} to receive ${n} SMS starting "${prefix}"` },
  );
}

function linkUrlIn(smsText) {
  const m = /(https?:\/\/\S+\/v\/[A-Za-z0-9_-]+)$/.exec(smsText);
  assert.ok(m, `the SMS ends with a link: ${JSON.stringify(smsText)}`);
  return m[1];
}

function assertLinkHeaders(resp, where) {
  const hd = resp.headers();
  assert.equal(hd['cache-control'], 'no-store', `${where}: Cache-Control`);
  assert.equal(hd['referrer-policy'], 'no-referrer', `${where}: Referrer-Policy`);
  assert.match(hd['x-robots-tag'] || '', /\bnoindex\b/, `${where}: X-Robots-Tag`);
}

async function noSideScroll(page, width, where) {
  const m = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(m.scrollWidth <= width, `${where}: the page scrolls sideways at ${width} px (${JSON.stringify(m)})`);
}

/** Presses a button that posts the link page's form; returns the POST's answer. */
async function submit(page, url, button) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === url),
    button.tap(),
  ]);
  await page.waitForLoadState('load');
  return res;
}

// ---- the test ------------------------------------------------------------------

h.test('on a phone, the one-time code check: the code comes by SMS, a wrong one says so, the right one shows and saves the image', async (t) => {
  // Staff send an image from the inbox.
  const inbox = await t.newPage(await t.newContext({ viewport: DESKTOP }), 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');
  const ib = inboxPage(inbox);
  const text = 'Your photo from today, behind a code.';
  await ib.attach.setInputFiles(pngFile('photo-code.png', 11, 320, 240));
  await expectVisible(ib.removeAttachment, '"Remove attachment" once an image is attached');
  await ib.messageBox.fill(text);
  await ib.messageBox.press('Enter');
  const bubble = ib.msgWithText(text, 'outbound');
  await expectVisible(bubble, `the outbound bubble "${text}"`);
  const id = await bubble.getAttribute('data-id');
  assert.ok(id, 'the bubble has data-id');
  const m = await waitFor(
    async () => {
      const x = await t.srv.message(id);
      return x.route && x.route.plan === 'link' && x.route.link && x.status === 'delivered' ? x : null;
    },
    { what: `message ${id} delivered as a link` },
  );
  const linkId = m.route.link;
  assert.equal((await t.srv.apiOk('GET', `/api/v1/links/${linkId}`)).check, 'code', 'the link asks for a code');

  // The patient's phone has the link, from the clinic's number.
  const sms = await handsetGot(t.srv, JORDAN, text);
  assert.equal(sms.from, CLINIC, 'the link comes from the clinic\'s number');
  assert.deepEqual(sms.media, [], 'an SMS, not an MMS');
  const url = linkUrlIn(sms.text);
  assert.deepEqual(await handsetReceived(t.srv, JORDAN, 'Your code'), [], 'no code before the patient asks');

  // Opened on an iPhone-sized screen: nothing of the image, a button to ask for a code.
  const iphone = await t.newPage(await t.newContext(IPHONE), 'iPhone');
  const first = await iphone.goto(url);
  assert.equal(first.status(), 200);
  assertLinkHeaders(first, 'the link page');
  assert.equal(await iphone.locator('img').count(), 0, 'no image before the check');
  assert.equal(await iphone.getByRole('button', { name: 'View image', exact: true }).count(), 0,
    'no "View image" before a code was sent');
  const ask = iphone.getByRole('button', { name: 'Text me a code', exact: true });
  await expectVisible(ask, 'the "Text me a code" button');
  const ab = await ask.boundingBox();
  assert.ok(ab.height >= 44, `"Text me a code" is a comfortable tap target: ${JSON.stringify(ab)}`);
  await noSideScroll(iphone, IPHONE.viewport.width, 'the page before the code');
  const axe = [...(await axeViolations(iphone, 'the "Text me a code" page at 390 px'))];
  assert.deepEqual(await handsetReceived(t.srv, JORDAN, 'Your code'), [], 'opening the page sends no code');

  // "Text me a code": the code box, and the code by SMS on the same handset.
  const sent = await submit(iphone, url, ask);
  assert.equal(sent.status(), 200);
  assertLinkHeaders(sent, 'the code page');
  await expectText(iphone.getByRole('status'), CODE_SENT, { what: 'the "code sent" note' });
  assert.equal(await iphone.getByRole('alert').count(), 0, 'news, not an error: no alert');
  const gap = await iphone.evaluate(() => {
    const box = document.querySelector('input[name="code"]').getBoundingClientRect();
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent === 'View image');
    return button.getBoundingClientRect().top - box.bottom;
  });
  assert.ok(gap >= 8, `room between the code box and "View image": ${gap}px`);
  const codeBox = iphone.getByRole('textbox', { name: 'Code from the text message', exact: true });
  await expectVisible(codeBox, 'the code box');
  assert.equal(await codeBox.getAttribute('autocomplete'), 'one-time-code', 'the phone may offer the code itself');
  assert.equal(await codeBox.getAttribute('inputmode'), 'numeric', 'a number pad for the code');
  await expectVisible(iphone.getByRole('button', { name: 'View image', exact: true }), '"View image"');
  await expectVisible(iphone.getByRole('button', { name: 'Text me a new code', exact: true }), '"Text me a new code"');
  assert.equal(await iphone.locator('img').count(), 0, 'no image once the code is sent');
  await noSideScroll(iphone, IPHONE.viewport.width, 'the code page');
  await screenshot(iphone, 'link-code-ask.png');
  axe.push(...(await axeViolations(iphone, 'the code page at 390 px')));

  const codeSms = await handsetGot(t.srv, JORDAN, 'Your code');
  assert.equal(codeSms.from, CLINIC, 'the code comes from the clinic\'s number');
  assert.deepEqual(codeSms.media, [], 'the code is a plain SMS');
  const cm = CODE_SMS.exec(codeSms.text);
  assert.ok(cm, `the code SMS says only whose code it is and for how long: ${JSON.stringify(codeSms.text)}`);
  const code = cm[1];
  assert.doesNotMatch(codeSms.text, HEALTH_WORDS, 'the code SMS says nothing about health');
  assert.ok(!codeSms.text.includes(text) && !/https?:/.test(codeSms.text), 'no message text or link in the code SMS');

  // A wrong code: said plainly, with the tries left, and no image.
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  await codeBox.fill(wrong);
  const bad = await submit(iphone, url, iphone.getByRole('button', { name: 'View image', exact: true }));
  assert.equal(bad.status(), 200);
  await expectText(iphone.getByRole('alert'), 'That code does not match. 4 more tries before the link locks.',
    { what: 'the wrong-code message' });
  assert.equal(await iphone.locator('img').count(), 0, 'no image after a wrong code');
  await expectVisible(codeBox, 'the code box again after a wrong code');
  await screenshot(iphone, 'link-code-wrong.png');

  // The right code: the image, and it saves.
  await codeBox.fill(code);
  const good = await submit(iphone, url, iphone.getByRole('button', { name: 'View image', exact: true }));
  assert.equal(good.status(), 200);
  assertLinkHeaders(good, 'the image page');
  const img = iphone.getByRole('img', { name: new RegExp(CLINIC_NAME) });
  const size = await expectImageLoaded(img, 'the image after the right code');
  assert.equal(size.naturalWidth, 320);
  await noSideScroll(iphone, IPHONE.viewport.width, 'the image page');
  await screenshot(iphone, 'link-code-image.png');
  const [download] = await Promise.all([
    iphone.waitForEvent('download'),
    iphone.getByRole('link', { name: 'Save image', exact: true }).tap(),
  ]);
  assert.match(download.suggestedFilename(), /\.png$/, 'saved with its extension');
  const saved = fs.readFileSync(await download.path());
  assert.equal(sha256(saved), m.media[0].sha256, 'the saved file is the image sent, as stored');

  // Another code at once: refused, and nothing more is texted.
  await iphone.goto(url);
  const again = iphone.getByRole('button', { name: 'Text me a new code', exact: true });
  await expectVisible(again, '"Text me a new code" on the link page again');
  const refused = await submit(iphone, url, again);
  assert.equal(refused.status(), 200);
  await expectText(iphone.getByRole('alert'), WAIT_A_MINUTE, { what: 'the "wait a minute" message' });
  assert.equal(await iphone.locator('img').count(), 0, 'no image with the refusal');
  const stored = (await t.srv.convMessages(JORDAN)).filter((x) => CODE_SMS.test(x.text || ''));
  assert.equal(stored.length, 1, 'one code SMS in the conversation');
  await sleep(500);
  assert.equal((await handsetReceived(t.srv, JORDAN, 'Your code')).length, 1, 'one code on the handset');

  // Staff: the code shows in the conversation as a plain SMS (no route caption).
  const codeBubble = ib.msgWithText(codeSms.text, 'outbound');
  await expectVisible(codeBubble, 'the code SMS in the staff\'s thread');
  assert.equal(await codeBubble.getByRole('button', { name: /^How this was sent/ }).count(), 0,
    'the code SMS has no route caption');

  // Staff: "Who opened it" lists the wrong answer and the view, from the iPhone.
  assert.deepEqual(
    (await t.srv.apiOk('GET', `/api/v1/links/${linkId}/views`)).views.map((v) => v.outcome),
    ['wrong_answer', 'viewed'],
    'the audit has the wrong answer and the view',
  );
  await bubble.getByRole('button', { name: 'How this was sent: Sent as a secure link', exact: true }).click();
  const whoOpened = bubble.getByRole('button', { name: 'Who opened it', exact: true });
  await expectVisible(whoOpened, '"Who opened it"');
  await whoOpened.click();
  const rows = bubble.getByRole('list', { name: 'Who opened the link', exact: true }).getByRole('listitem');
  await waitFor(async () => (await rows.count()) === 2, { what: 'two rows in "Who opened it"' });
  await expectText(rows.nth(0).locator('.link-outcome'), 'Refused: wrong answer', { what: 'the first row' });
  await expectText(rows.nth(1).locator('.link-outcome'), 'Viewed', { what: 'the second row' });
  for (let i = 0; i < 2; i++) {
    await expectText(rows.nth(i).locator('.link-agent'), 'Safari on iPhone', { what: `row ${i + 1}'s browser` });
  }
  await expectText(bubble.locator('.link-state'), /^Active · Viewed once · expires /, { what: 'the link\'s state' });

  assert.deepEqual(axe, [], `axe found serious/critical violations:\n${axe.join('\n')}`);
});
