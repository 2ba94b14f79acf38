// Secure image links (docs/links.md): on an SMS-only host an image from the
// inbox goes as an SMS with a link from the clinic's own number; the patient
// opens it on a phone; staff see how it went, who opened it, and withdraw it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

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
  openHandset,
  screenshot,
  signIn,
  waitFor,
} from './lib/browser.mjs';
import { makePng, pngFile } from './lib/images.mjs';
import { CLINIC, JORDAN, PRIYA } from './lib/lyrebird.mjs';

const CLINIC_NAME = 'WalkEasy Nexus Clinic';
const CLINIC_PHONE = '(02) 5550 1234';
// What Chromium logs for the 410 that a withdrawn or expired link must answer.
const GONE_410 = /^Failed to load resource: the server responded with a status of 410\b/;

const IPHONE = {
  viewport: { width: 390, height: 844 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 3,
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 ' +
    '(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
};

// SMS Broadcast-like: the host cannot send MMS, so images go as links.
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

const h = harness('link', { env: { LYREBIRD_SIM_MMS_OUT: 'false' } });
// The default demo host, which can send MMS (started only for its test).
const hMms = harness('link-mms', { lazy: true });

// ---- helpers ---------------------------------------------------------------

/** The inbox's parts for secure links, inside one outbound bubble. */
function routeOf(bubble, short = 'Sent as a secure link') {
  const caption = bubble.getByRole('button', { name: `How this was sent: ${short}`, exact: true });
  return {
    caption,
    reason: bubble.locator('.route-reason'),
    state: bubble.locator('.link-state'),
    whoOpened: bubble.getByRole('button', { name: 'Who opened it', exact: true }),
    withdraw: bubble.getByRole('button', { name: /^Withdraw/ }),
    audit: bubble.getByRole('list', { name: 'Who opened the link', exact: true }),
    auditNote: bubble.locator('.link-views-note'),
  };
}

/** Sends text + a picture from the open thread; returns the bubble and its message id. */
async function sendFromInbox(page, text, file, sendAs) {
  const ib = inboxPage(page);
  await ib.attach.setInputFiles(file);
  await expectVisible(ib.removeAttachment, '"Remove attachment" once an image is attached');
  if (sendAs) await ib.form.getByRole('combobox', { name: 'Send as', exact: true }).selectOption({ label: sendAs });
  await ib.messageBox.fill(text);
  await ib.messageBox.press('Enter');
  const bubble = ib.msgWithText(text, 'outbound');
  await expectVisible(bubble, `the outbound bubble "${text}"`);
  const id = await bubble.getAttribute('data-id');
  assert.ok(id, 'the bubble has data-id');
  return { bubble, id };
}

/** The stored message once its link exists (route.link is set when the SMS goes). */
async function linkedMessage(srv, id) {
  return waitFor(
    async () => {
      const m = await srv.message(id);
      return m.route && m.route.plan === 'link' && m.route.link && m.status === 'delivered' ? m : null;
    },
    { what: `message ${id} delivered with a link id` },
  );
}

/** The handset's copy of the message starting with `text` (from the carrier's log). */
async function handsetCopy(srv, e164, text) {
  return waitFor(
    async () => {
      const r = await srv.raw('GET', `/sim/handsets/${encodeURIComponent(e164)}/messages`);
      const got = (r.json.messages || []).filter((m) => m.direction === 'received' && m.text.startsWith(text));
      return got.length ? got[got.length - 1] : null;
    },
    { what: `the handset ${e164} to receive "${text}"` },
  );
}

function linkUrlIn(smsText) {
  const m = /(https?:\/\/\S+\/v\/[A-Za-z0-9_-]+)$/.exec(smsText);
  assert.ok(m, `the SMS ends with a link: ${JSON.stringify(smsText)}`);
  return m[1];
}

async function auditOf(srv, linkId) {
  return (await srv.apiOk('GET', `/api/v1/links/${linkId}/views`)).views;
}

/** Records every request a page makes (for fonts and third-party hosts). */
function recordRequests(page) {
  const seen = [];
  page.on('request', (r) => seen.push({ url: r.url(), type: r.resourceType() }));
  return seen;
}

function assertOwnAssetsOnly(seen, base, where) {
  const host = new URL(base).host;
  const fonts = seen.filter((r) => r.type === 'font' || /\.(woff2?|ttf|otf|eot)(\?|$)/i.test(r.url));
  assert.deepEqual(fonts, [], `${where}: loads no font files`);
  const foreign = seen.filter((r) => !r.url.startsWith('data:') && new URL(r.url).host !== host);
  assert.deepEqual(foreign, [], `${where}: loads nothing from another host`);
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
    bodyScrollWidth: document.body.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.equal(m.innerWidth, width, `${where}: the viewport is ${width} px`);
  assert.ok(
    m.scrollWidth <= width && m.bodyScrollWidth <= width,
    `${where}: the page scrolls sideways at ${width} px (${JSON.stringify(m)})`,
  );
}

/** Pinch-zoom stays allowed: the viewport meta does not forbid it. */
async function assertZoomAllowed(page, where) {
  const vp = (await page.locator('meta[name="viewport"]').getAttribute('content')) || '';
  assert.doesNotMatch(vp, /user-scalable\s*=\s*(no|0)|maximum-scale\s*=\s*1(\.0*)?\b/i, `${where}: viewport ${vp}`);
}

function expireLink(srv, linkId) {
  const db = path.join(srv.data, 'lyrebird.db');
  const sql = `UPDATE links SET expires_at = ${Date.now() - 1000} WHERE id = '${linkId.replace(/[^0-9A-Z]/g, '')}';`;
  execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, sql], { stdio: ['ignore', 'pipe', 'pipe'] });
}

// ---- the tests ---------------------------------------------------------------

h.test('an image from the inbox goes as a secure link; the patient views it on a phone; staff see the view', async (t) => {
  const inbox = await t.newPage(await t.newContext(), 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');

  const png = makePng(640, 480, 1);
  const text = 'Hi Jordan, here is your X-ray from today.';
  const { bubble, id } = await sendFromInbox(inbox, text, { name: 'xray.png', mimeType: 'image/png', buffer: png });

  // The bubble says how it went, and why when asked.
  const r = routeOf(bubble);
  await expectVisible(r.caption, 'the caption "Sent as a secure link"');
  await expectText(r.caption, 'Sent as a secure link', { what: 'the caption text' });
  await expectVisible(bubble.getByRole('button', { name: 'Delivered', exact: true }), 'the status "Delivered"');
  const m = await linkedMessage(t.srv, id);
  assert.equal(await r.caption.getAttribute('title'), m.route.reason, 'the caption\'s title is the route\'s reason');
  assert.equal(await r.caption.getAttribute('aria-expanded'), 'false');
  await expectHidden(r.reason, 'the reason before pressing the caption');
  await r.caption.click();
  assert.equal(await r.caption.getAttribute('aria-expanded'), 'true');
  await expectVisible(r.reason, '.route-reason after pressing the caption');
  const reason = (await r.reason.textContent()).trim();
  assert.equal(reason, m.route.reason, 'the panel shows the API\'s reason');
  assert.match(reason, /cannot send MMS/, `the reason says the host cannot send MMS: ${reason}`);
  assert.match(reason, /same number/, `the reason says it went from the same number: ${reason}`);
  await expectText(r.state, /^Active · Not opened yet · expires /, { what: 'the link\'s state in the panel' });

  // The patient's phone: an SMS from the clinic's number, with a tappable link.
  const sms = await handsetCopy(t.srv, JORDAN, text);
  assert.equal(sms.from, CLINIC, 'the SMS comes from the clinic\'s one number');
  assert.deepEqual(sms.media, [], 'an SMS, not an MMS');
  const url = linkUrlIn(sms.text);
  assert.ok(url.startsWith(`${t.srv.base}/v/`), `the link is the clinic's own address: ${url}`);
  const phone = await t.newPage(undefined, 'phone simulator');
  const p = await openHandset(phone, JORDAN);
  const got = p.fromClinic.filter({ hasText: text });
  await expectVisible(got, 'the SMS on the phone simulator');
  assert.equal(await got.locator('img').count(), 0, 'no picture in the SMS itself');
  const tappable = got.getByRole('link', { name: url, exact: true });
  await expectVisible(tappable, 'the link in the SMS as a real link');
  assert.equal(await tappable.getAttribute('href'), url);

  // Nobody has opened it: not in the API, not in the panel.
  const linkId = m.route.link;
  assert.deepEqual(await auditOf(t.srv, linkId), [], 'no views before the patient opens the link');
  await r.whoOpened.click();
  assert.equal(await r.whoOpened.getAttribute('aria-expanded'), 'true');
  await expectText(r.auditNote, 'Nobody has opened it yet.', { what: 'the empty audit in the panel' });

  // The link opened on an iPhone-sized screen: first the neutral page.
  const ictx = await t.newContext(IPHONE);
  const iphone = await t.newPage(ictx, 'iPhone');
  const seen = recordRequests(iphone);
  const first = await iphone.goto(url);
  assert.equal(first.status(), 200);
  assertLinkHeaders(first, 'the neutral page');
  const html = await first.body();
  assert.ok(html.length < 15 * 1024, `the neutral page is under 15 kB (${html.length} bytes)`);
  assert.doesNotMatch(html.toString(), /X-ray/, 'the neutral page shows nothing of the message');
  await expectVisible(iphone.getByText(CLINIC_NAME, { exact: true }), 'the clinic\'s name on the neutral page');
  const viewButton = iphone.getByRole('button', { name: 'View image', exact: true });
  await expectVisible(viewButton, 'the "View image" button');
  assert.equal(await iphone.locator('img').count(), 0, 'no image before "View image"');
  await assertZoomAllowed(iphone, 'the neutral page');
  await noSideScroll(iphone, IPHONE.viewport.width, 'the neutral page');
  const vb = await viewButton.boundingBox();
  assert.ok(vb.height >= 44 && vb.width >= 44, `"View image" is a comfortable tap target: ${JSON.stringify(vb)}`);
  await iphone.waitForLoadState('load');
  assertOwnAssetsOnly(seen, t.srv.base, 'the neutral page');
  await screenshot(iphone, 'link-phone-neutral.png');
  const axe = [...(await axeViolations(iphone, 'the neutral link page at 390 px'))];
  assert.deepEqual(await auditOf(t.srv, linkId), [], 'opening the page (GET) is not a view');

  // "View image": the image, full width, and "Save image".
  const [post] = await Promise.all([
    iphone.waitForResponse((res) => res.request().method() === 'POST' && res.url() === url),
    viewButton.tap(),
  ]);
  assert.equal(post.status(), 200);
  assertLinkHeaders(post, 'the image page');
  const img = iphone.getByRole('img', { name: new RegExp(CLINIC_NAME) });
  const size = await expectImageLoaded(img, 'the image on the phone');
  assert.equal(size.naturalWidth, 640);
  // The page's padding: everything between the screen's edges and the
  // content box of the page's main element (margins, borders, paddings).
  const fit = await img.evaluate((el) => {
    const main = el.closest('main') || document.body;
    const cs = getComputedStyle(main);
    const box = main.getBoundingClientRect();
    const inner = document.documentElement.clientWidth;
    const left = box.left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft);
    const right = inner - box.right + parseFloat(cs.borderRightWidth) + parseFloat(cs.paddingRight);
    return { width: el.getBoundingClientRect().width, inner, padding: left + right };
  });
  assert.ok(fit.width >= 0.9 * (fit.inner - fit.padding), `the image fills the width: ${JSON.stringify(fit)}`);
  assert.ok(fit.width <= fit.inner, `the image is not wider than the screen: ${JSON.stringify(fit)}`);
  await noSideScroll(iphone, IPHONE.viewport.width, 'the image page');
  await assertZoomAllowed(iphone, 'the image page');
  const save = iphone.getByRole('link', { name: 'Save image', exact: true });
  await expectVisible(save, 'the "Save image" link');
  await screenshot(iphone, 'link-phone-image.png');
  axe.push(...(await axeViolations(iphone, 'the image link page at 390 px')));
  const [download] = await Promise.all([iphone.waitForEvent('download'), save.tap()]);
  const file = await download.path();
  assert.ok(file, `the download finished: ${await download.failure()}`);
  // Uploads are stored cleaned (re-encoded without metadata): the saved
  // file is the stored image, byte for byte.
  const savedBytes = fs.readFileSync(file);
  assert.equal(savedBytes.length, m.media[0].bytes, 'the saved image has the stored size');
  assert.equal(sha256(savedBytes), m.media[0].sha256, 'the saved image is the stored picture');
  assertOwnAssetsOnly(seen, t.srv.base, 'the link pages');

  // The audit: one view, from the iPhone, in the API and in the panel.
  const views = await auditOf(t.srv, linkId);
  assert.deepEqual(views.map((v) => v.outcome), ['viewed'], `one view: ${JSON.stringify(views)}`);
  assert.equal(views[0].user_agent, IPHONE.userAgent);
  await r.whoOpened.click(); // closes
  assert.equal(await r.whoOpened.getAttribute('aria-expanded'), 'false');
  await r.whoOpened.click(); // opens and reads it afresh
  const row = r.audit.getByRole('listitem');
  await waitFor(async () => (await row.count()) === 1, { what: 'one row in the audit' });
  await expectText(row.locator('.link-outcome'), 'Viewed', { what: 'the outcome in words' });
  await expectText(row.locator('.link-agent'), 'Safari on iPhone', { what: 'the shortened user agent' });
  await expectText(row.locator('time'), /^Today, \d{1,2}:\d\d [ap]m$/, { what: 'the time of the view' });
  await expectText(r.state, /^Active · Viewed once · expires /, { what: 'the state after the view' });

  // The inbox at desktop size with the panel open; no problem for axe.
  await bubble.scrollIntoViewIfNeeded();
  await screenshot(inbox, 'inbox-link-desktop.png');
  axe.push(...(await axeViolations(inbox, '/inbox with a link panel open at 1280 px')));
  assert.deepEqual(axe, [], `axe found serious/critical violations:\n${axe.join('\n')}`);
});

h.test('a link withdrawn from the inbox (by keyboard) and an expired link show why and the clinic phone', async (t) => {
  // Sent through the API: the same route as from the inbox.
  const text = 'Your scan results, as discussed.';
  const sent = await t.srv.send(JORDAN, text, [makePng(320, 240, 2)]);
  assert.equal(sent.route.plan, 'link', `the API answer's route: ${JSON.stringify(sent.route)}`);
  const m = await linkedMessage(t.srv, sent.id);
  const url = linkUrlIn((await handsetCopy(t.srv, JORDAN, text)).text);

  const inbox = await t.newPage(await t.newContext(), 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');
  const ib = inboxPage(inbox);
  const bubble = ib.msg(sent.id);
  const r = routeOf(bubble);
  await expectVisible(r.caption, 'the caption of the message sent through the API');

  // Keyboard only: the caption, then Withdraw, then Withdraw again.
  await r.caption.focus();
  await inbox.keyboard.press('Enter');
  await expectText(r.state, /^Active · Not opened yet/, { what: 'the link\'s state' });
  await inbox.keyboard.press('Tab');
  assert.ok(await r.whoOpened.evaluate((el) => el === document.activeElement), 'Tab reaches "Who opened it"');
  await inbox.keyboard.press('Tab');
  const withdraw = bubble.getByRole('button', { name: 'Withdraw link', exact: true });
  assert.ok(await withdraw.evaluate((el) => el === document.activeElement), 'Tab reaches "Withdraw link"');
  await inbox.keyboard.press('Enter');
  const sure = bubble.getByRole('button', { name: 'Withdraw — are you sure?', exact: true });
  await expectVisible(sure, 'the second press asks "Withdraw — are you sure?"');
  // Escape takes it back; nothing was withdrawn.
  await inbox.keyboard.press('Escape');
  await expectVisible(withdraw, '"Withdraw link" again after Escape');
  assert.equal((await t.srv.apiOk('GET', `/api/v1/links/${m.route.link}`)).state, 'active');
  await inbox.keyboard.press('Enter');
  await expectVisible(sure, '"Withdraw — are you sure?"');
  await inbox.keyboard.press('Enter');
  await expectText(r.state, /^Withdrawn\b/, { what: 'the state once withdrawn' });
  await expectHidden(r.withdraw, 'the withdraw button once withdrawn');
  const link = await t.srv.apiOk('GET', `/api/v1/links/${m.route.link}`);
  assert.equal(link.state, 'revoked', `the gateway has it withdrawn: ${JSON.stringify(link)}`);
  // The live event that follows keeps it so.
  await inbox.waitForTimeout(300);
  await expectText(r.state, /^Withdrawn\b/, { what: 'the state after the live event' });

  // The patient opens it again: withdrawn, with the clinic's phone.
  const ictx = await t.newContext(IPHONE);
  const iphone = await t.newPage(ictx, 'iPhone');
  t.allowConsole(iphone, GONE_410);
  const seen = recordRequests(iphone);
  const gone = await iphone.goto(url);
  assert.equal(gone.status(), 410);
  assertLinkHeaders(gone, 'the withdrawn page');
  await expectVisible(iphone.getByRole('heading', { name: /withdrawn/ }), 'the "withdrawn" heading');
  const call = iphone.getByRole('link', { name: CLINIC_PHONE, exact: true });
  await expectVisible(call, 'the clinic\'s phone as a link');
  assert.match(await call.getAttribute('href'), /^tel:\+?\d+$/);
  assert.equal(await iphone.locator('img').count(), 0, 'no image on the withdrawn page');
  await noSideScroll(iphone, IPHONE.viewport.width, 'the withdrawn page');
  await iphone.waitForLoadState('load');
  assertOwnAssetsOnly(seen, t.srv.base, 'the withdrawn page');
  await screenshot(iphone, 'link-phone-withdrawn.png');
  const axe = await axeViolations(iphone, 'the withdrawn link page at 390 px');
  assert.deepEqual(axe, [], `axe found serious/critical violations:\n${axe.join('\n')}`);

  // A second link, made to expire.
  const text2 = 'Your dressing instructions.';
  const sent2 = await t.srv.send(JORDAN, text2, [makePng(320, 240, 3)]);
  const m2 = await linkedMessage(t.srv, sent2.id);
  const url2 = linkUrlIn((await handsetCopy(t.srv, JORDAN, text2)).text);
  expireLink(t.srv, m2.route.link);
  assert.equal((await t.srv.apiOk('GET', `/api/v1/links/${m2.route.link}`)).state, 'expired');
  const old = await iphone.goto(url2);
  assert.equal(old.status(), 410);
  assertLinkHeaders(old, 'the expired page');
  await expectVisible(iphone.getByRole('heading', { name: /expired/ }), 'the "expired" heading');
  await expectVisible(iphone.getByRole('link', { name: CLINIC_PHONE, exact: true }), 'the clinic\'s phone');
  assert.equal(await iphone.locator('img').count(), 0);

  // The inbox says so too, and offers no withdrawal.
  const r2 = routeOf(ib.msg(sent2.id));
  await r2.caption.click();
  await expectText(r2.state, /^Expired · Not opened yet · since /, { what: 'the expired link\'s state' });
  assert.equal(await r2.withdraw.count(), 0, 'an expired link cannot be withdrawn');
});

h.test('"Send as": MMS is refused on an SMS-only host and nothing is sent; the choice fits at 360 px', async (t) => {
  const ctx = await t.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  const page = await t.newPage(ctx, 'inbox at 360 px');
  // Chromium logs the 422 refusal that this test asks for.
  t.allowConsole(page, /^Failed to load resource: the server responded with a status of 422\b/);
  await signIn(page);
  await openConversation(page, 'Priya Sharma');
  const ib = inboxPage(page);
  const sendAs = ib.form.getByRole('combobox', { name: 'Send as', exact: true });
  assert.equal(await sendAs.count(), 0, 'no "Send as" without an attachment');

  await ib.attach.setInputFiles(pngFile('rash-check.png', 4, 320, 240));
  await expectVisible(sendAs, '"Send as" once an image is attached');
  assert.equal(await sendAs.inputValue(), 'auto', '"Automatic" is the default');
  const options = await sendAs.locator('option').evaluateAll((els) => els.map((o) => [o.value, o.textContent.trim()]));
  assert.deepEqual(options, [
    ['auto', 'Automatic'],
    ['mms', 'Picture message (MMS)'],
    ['link', 'Secure link'],
  ]);
  await noSideScroll(page, PHONE.width, '/inbox with "Send as" shown');
  const box = await sendAs.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `"Send as" fits at 360 px: ${JSON.stringify(box)}`);
  // By keyboard: Tab from "Remove attachment" reaches it.
  await ib.removeAttachment.focus();
  await page.keyboard.press('Tab');
  assert.ok(await sendAs.evaluate((el) => el === document.activeElement), 'Tab reaches "Send as"');
  const axe = await axeViolations(page, '/inbox with "Send as" at 360 px');

  // "Picture message (MMS)" from an SMS-only host: the gateway says no.
  const before = (await t.srv.convMessages(PRIYA)).length;
  await sendAs.selectOption({ label: 'Picture message (MMS)' });
  const text = 'Please compare with the photo from last week.';
  await ib.messageBox.fill(text);
  const [answer] = await Promise.all([
    page.waitForResponse((res) => res.request().method() === 'POST' && new URL(res.url()).pathname === '/api/v1/messages'),
    ib.send.tap(),
  ]);
  assert.equal(answer.status(), 422);
  assert.equal(JSON.parse(answer.request().postData()).delivery, 'mms', 'the choice goes as "delivery"');
  const refusal = (await answer.json()).error.message;
  const alert = ib.form.getByRole('alert');
  await expectText(alert, refusal, { what: 'the gateway\'s refusal in the alert' });
  assert.match(refusal, /MMS/);
  assert.equal(await ib.msgWithText(text).count(), 0, 'no bubble for a refused message');
  assert.equal((await t.srv.convMessages(PRIYA)).length, before, 'nothing was stored');
  const handset = await t.srv.raw('GET', `/sim/handsets/${encodeURIComponent(PRIYA)}/messages`);
  assert.ok(!(handset.json.messages || []).some((x) => x.text.startsWith(text)), 'nothing reached the phone');
  assert.equal(await ib.messageBox.inputValue(), text, 'the text stays for another try');
  await expectVisible(ib.removeAttachment, 'the picture stays attached');

  // "Secure link" then sends it.
  await sendAs.selectOption({ label: 'Secure link' });
  const [ok] = await Promise.all([
    page.waitForResponse((res) => res.request().method() === 'POST' && new URL(res.url()).pathname === '/api/v1/messages'),
    ib.send.tap(),
  ]);
  assert.equal(ok.status(), 202);
  assert.equal(JSON.parse(ok.request().postData()).delivery, 'link');
  const bubble = ib.msgWithText(text, 'outbound');
  await expectVisible(bubble, 'the message sent as a link');
  await expectHidden(alert, 'the alert once the message is sent');
  await expectHidden(sendAs, '"Send as" once the picture is sent');
  const r = routeOf(bubble);
  await r.caption.tap();
  await expectVisible(r.reason, 'the reason at 360 px');
  await expectText(r.state, /^Active\b/, { what: 'the link\'s state at 360 px' });
  await r.whoOpened.tap();
  await expectText(r.auditNote, 'Nobody has opened it yet.');
  await noSideScroll(page, PHONE.width, '/inbox with a link panel open');
  const panel = await bubble.locator('.route-panel').boundingBox();
  assert.ok(panel.x >= 0 && panel.x + panel.width <= PHONE.width, `the panel fits: ${JSON.stringify(panel)}`);
  axe.push(...(await axeViolations(page, '/inbox with a link panel open at 360 px')));
  assert.deepEqual(axe, [], `axe found serious/critical violations:\n${axe.join('\n')}`);
});

hMms.test('on a host that can send MMS, "Automatic" sends MMS and "Secure link" sends a link', async (t) => {
  const inbox = await t.newPage(await t.newContext({ viewport: DESKTOP }), 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');

  const auto = 'Your X-ray, as a picture message.';
  const a = await sendFromInbox(inbox, auto, pngFile('xray-mms.png', 5));
  const ra = routeOf(a.bubble, 'Sent as MMS');
  await expectVisible(ra.caption, 'the caption "Sent as MMS"');
  await ra.caption.click();
  await expectVisible(ra.reason, 'the MMS route\'s reason');
  assert.equal(await a.bubble.locator('.link-panel').count(), 0, 'no link panel for MMS');
  const ma = await t.srv.message(a.id);
  assert.equal(ma.route.plan, 'mms');
  assert.equal((await ra.reason.textContent()).trim(), ma.route.reason);
  const gotMms = await handsetCopy(t.srv, JORDAN, auto);
  assert.equal(gotMms.media.length, 1, 'the phone got the picture itself');

  const asLink = 'Your X-ray, as a secure link.';
  const b = await sendFromInbox(inbox, asLink, pngFile('xray-link.png', 6), 'Secure link');
  const rb = routeOf(b.bubble);
  await expectVisible(rb.caption, 'the caption "Sent as a secure link"');
  const mb = await linkedMessage(t.srv, b.id);
  assert.equal(mb.route.plan, 'link');
  const gotLink = await handsetCopy(t.srv, JORDAN, asLink);
  assert.deepEqual(gotLink.media, [], 'an SMS, not an MMS');
  assert.equal(gotLink.from, CLINIC);
  linkUrlIn(gotLink.text);

  // A text-only message shows no route caption at all.
  const plain = 'See you on Tuesday.';
  const ib = inboxPage(inbox);
  await ib.messageBox.fill(plain);
  await ib.messageBox.press('Enter');
  const pb = ib.msgWithText(plain, 'outbound');
  await expectVisible(pb.getByRole('button', { name: 'Delivered', exact: true }), 'the plain SMS delivered');
  assert.equal(await pb.getByRole('button', { name: /^How this was sent/ }).count(), 0, 'no caption for plain SMS');
});

// A link that asks for the date of birth first ([links] check = dob).
const hDob = harness('link-dob', {
  lazy: true,
  env: { LYREBIRD_SIM_MMS_OUT: 'false', LYREBIRD_LINKS_CHECK: 'dob', LYREBIRD_LINKS_MAX_FAILURES: '3' },
});

hDob.test('on a phone, the date-of-birth check: a wrong answer says so, the right one shows and saves the image', async (t) => {
  await t.srv.apiOk('PATCH', `/api/v1/patients/${encodeURIComponent(JORDAN)}`, { dob: '1984-03-07' });
  const inbox = await t.newPage(await t.newContext({ viewport: DESKTOP }), 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');
  const text = 'Your scan, behind a check.';
  const file = pngFile('scan-dob.png', 9);
  const sent = await sendFromInbox(inbox, text, file);
  const m = await linkedMessage(t.srv, sent.id);
  const url = linkUrlIn((await handsetCopy(t.srv, JORDAN, text)).text);

  const iphone = await t.newPage(await t.newContext(IPHONE), 'iPhone');
  t.allowConsole(iphone, GONE_410);
  await iphone.goto(url);
  const group = iphone.getByRole('group', { name: /date of birth/ });
  await expectVisible(group, 'the date-of-birth question');
  assert.equal(await iphone.locator('img').count(), 0, 'no image before the check');
  const day = iphone.getByRole('textbox', { name: 'Day', exact: true });
  const month = iphone.getByRole('textbox', { name: 'Month', exact: true });
  const year = iphone.getByRole('textbox', { name: 'Year', exact: true });
  await noSideScroll(iphone, IPHONE.viewport.width, 'the check');
  assert.deepEqual(await axeViolations(iphone, 'the date-of-birth page at 390 px'), []);

  // Wrong: said plainly, with the tries left, and no image.
  await day.fill('8');
  await month.fill('3');
  await year.fill('1984');
  await iphone.getByRole('button', { name: 'View image', exact: true }).tap();
  await expectText(iphone.getByRole('alert'), /does not match\. 2 more tries/, { what: 'the wrong-answer message' });
  assert.equal(await iphone.locator('img').count(), 0, 'no image after a wrong answer');
  await screenshot(iphone, 'link-phone-check.png');

  // Right: the image, and it saves.
  await iphone.getByRole('textbox', { name: 'Day', exact: true }).fill('7');
  await iphone.getByRole('textbox', { name: 'Month', exact: true }).fill('3');
  await iphone.getByRole('textbox', { name: 'Year', exact: true }).fill('1984');
  await iphone.getByRole('button', { name: 'View image', exact: true }).tap();
  const img = iphone.locator('figure img');
  await expectImageLoaded(img, 'the image after the right date of birth');
  const [download] = await Promise.all([
    iphone.waitForEvent('download'),
    iphone.getByRole('link', { name: 'Save image' }).tap(),
  ]);
  assert.match(download.suggestedFilename(), /\.png$/, 'saved with its extension');
  const saved = fs.readFileSync(await download.path());
  assert.equal(sha256(saved), m.media[0].sha256, 'the saved file is the image sent, as stored');
  assert.deepEqual(
    (await auditOf(t.srv, m.route.link)).map((v) => v.outcome),
    ['wrong_answer', 'viewed'],
    'the audit has the wrong answer and the view',
  );
});
