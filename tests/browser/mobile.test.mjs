// The pages on a 360 px wide phone: nothing scrolls sideways, and the inbox
// goes list → thread → back.
import assert from 'node:assert/strict';

import {
  PHONE,
  expectImageLoaded,
  expectText,
  expectVisible,
  harness,
  inboxPage,
  loginPage,
  openHandset,
  signIn,
  waitFor,
} from './lib/browser.mjs';
import { makePng } from './lib/images.mjs';
import { JORDAN } from './lib/lyrebird.mjs';

const h = harness('mobile');

const LONG_LINK = `https://results.example.org/r/${'Z'.repeat(90)}`;

async function noSideScroll(page, where) {
  const m = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.equal(m.innerWidth, PHONE.width, `${where}: the viewport is ${PHONE.width} px`);
  assert.ok(
    m.scrollWidth <= PHONE.width && m.bodyScrollWidth <= PHONE.width,
    `${where}: the page scrolls sideways at ${PHONE.width} px (${JSON.stringify(m)})`,
  );
}

/** True when the element's box lies (at least mostly) inside the viewport. */
async function onScreen(locator) {
  const box = await locator.first().boundingBox();
  if (!box || box.width === 0 || box.height === 0) return false;
  return box.x >= -1 && box.x + box.width <= PHONE.width + 1 && box.y < PHONE.height && box.y + box.height > 0;
}

async function expectOnScreen(locator, what) {
  await expectVisible(locator, what);
  await waitFor(() => onScreen(locator), { what: `${what} on screen at ${PHONE.width} px` });
}

async function expectOffScreen(locator, what) {
  await waitFor(async () => !(await locator.first().isVisible()) || !(await onScreen(locator)), {
    what: `${what} out of the way at ${PHONE.width} px`,
  });
}

h.test('at 360 px nothing scrolls sideways and the inbox goes list → thread → back', async (t) => {
  const out = await t.srv.send(JORDAN, `Your results are ready: ${LONG_LINK}`, [makePng(640, 480, 5)]);
  await t.srv.waitStatus(out.id, 'delivered');
  await t.srv.handsetSend(JORDAN, `Thanks!${'!'.repeat(60)} Areallylongwordwithoutanyspacesthatmustwrapsomehowinsteadofoverflowing`);

  const ctx = await t.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  const page = await t.newPage(ctx, 'phone-width');

  await page.goto('/login');
  await expectVisible(loginPage(page).signIn, 'the sign-in form');
  await noSideScroll(page, '/login');

  await signIn(page);
  const ib = inboxPage(page);
  await expectOnScreen(ib.link('Jordan Lee'), 'the conversation list');
  await noSideScroll(page, '/inbox (list)');

  await ib.link('Jordan Lee').first().click();
  await expectText(ib.heading, 'Jordan Lee', { what: 'the thread heading' });
  await expectOnScreen(ib.heading, 'the thread heading');
  await expectOnScreen(ib.messageBox, 'the Message box');
  await expectOnScreen(ib.send, 'the Send button');
  await expectImageLoaded(ib.msgWithText('Your results', 'outbound').locator('img'), 'the picture in the thread');
  await expectOffScreen(ib.link('Priya Sharma'), 'the conversation list, while a thread is open,');
  await noSideScroll(page, '/inbox (thread with a long link, a long word and a 640 px picture)');

  // Back (the browser's, or the phone's) returns to the list.
  await page.goBack();
  await expectOnScreen(ib.link('Priya Sharma'), 'the conversation list after going back');
  assert.equal(new URL(page.url()).pathname, '/inbox', 'still in the inbox after going back');
  await noSideScroll(page, '/inbox (list, after going back)');

  await ib.link('Priya Sharma').first().click();
  await expectText(ib.heading, 'Priya Sharma', { what: 'the second thread heading' });
  await expectOnScreen(ib.messageBox, 'the Message box');
  const text = 'Sent from a phone-sized inbox';
  await ib.messageBox.fill(text);
  await ib.send.tap();
  await expectVisible(ib.msgWithText(text, 'outbound'), 'the message sent with a tap on Send');
  await noSideScroll(page, '/inbox (second thread)');

  await page.goto('/sim/phone');
  await noSideScroll(page, '/sim/phone (empty)');
  const p = await openHandset(page, JORDAN);
  await expectImageLoaded(p.fromClinic.locator('img'), 'the picture on the phone');
  await expectOnScreen(p.reply, 'the Reply box');
  await noSideScroll(page, '/sim/phone (messages with a long link and a 640 px picture)');
});
