// axe-core on every page at desktop and phone widths, and the inbox by keyboard alone.
import assert from 'node:assert/strict';

import {
  DESKTOP,
  PHONE,
  axeViolations,
  expectImageLoaded,
  expectText,
  expectVisible,
  harness,
  inboxPage,
  loginPage,
  openConversation,
  openHandset,
  signIn,
} from './lib/browser.mjs';
import { makePng } from './lib/images.mjs';
import { JORDAN } from './lib/lyrebird.mjs';

const h = harness('a11y');

/** Gives Jordan's thread a picture each way and a failed message. */
async function seed(srv) {
  const out = await srv.send(JORDAN, 'Your X-ray, as promised.', [makePng(64, 48, 3)]);
  await srv.waitStatus(out.id, 'delivered');
  await srv.handsetSend(JORDAN, 'Thanks. Here is the photo of my ankle.', [makePng(48, 64, 4)]);
  await srv.send(JORDAN, 'See you on Tuesday at 10:15.');
}

h.test('axe finds no serious or critical problem on /login, /inbox and /sim/phone at 1280 and 360 px', async (t) => {
  await seed(t.srv);
  const problems = [];
  for (const [vpName, viewport] of [
    ['1280', DESKTOP],
    ['360', PHONE],
  ]) {
    const ctx = await t.newContext({ viewport });
    const page = await t.newPage(ctx, `${vpName} px`);

    await page.goto('/login');
    await expectVisible(loginPage(page).signIn, 'the sign-in form');
    problems.push(...(await axeViolations(page, `/login at ${vpName} px`)));

    // The error state of the sign-in page too.
    await loginPage(page).username.fill('reception');
    await loginPage(page).password.fill('not-the-password');
    await loginPage(page).signIn.click();
    await expectVisible(loginPage(page).alert.filter({ hasText: /\S/ }), 'the sign-in error');
    problems.push(...(await axeViolations(page, `/login with an error at ${vpName} px`)));

    await signIn(page);
    problems.push(...(await axeViolations(page, `/inbox (no thread open) at ${vpName} px`)));
    await openConversation(page, 'Jordan Lee');
    const ib = inboxPage(page);
    await expectImageLoaded(
      ib.msgWithText('Your X-ray', 'outbound').locator('img'),
      'the picture in the thread',
    );
    await expectVisible(ib.msgWithText('Here is the photo', 'inbound'), 'the inbound message');
    problems.push(...(await axeViolations(page, `/inbox with a thread open at ${vpName} px`)));

    await page.goto('/sim/phone');
    problems.push(...(await axeViolations(page, `/sim/phone (empty) at ${vpName} px`)));
    const p = await openHandset(page, JORDAN);
    await expectImageLoaded(p.fromClinic.locator('img'), 'the picture on the phone');
    problems.push(...(await axeViolations(page, `/sim/phone with messages at ${vpName} px`)));
    await ctx.close();
  }
  assert.deepEqual(problems, [], `axe found serious/critical violations:\n${problems.join('\n')}`);
});

/** Describes the focused element, for failure messages. */
function describeFocus(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    const label = el.getAttribute('aria-label') || (el.labels && el.labels[0] && el.labels[0].textContent) || '';
    return `${el.tagName.toLowerCase()}${el.type ? `[type=${el.type}]` : ''} "${(label || el.textContent || '').trim().slice(0, 40)}"`;
  });
}

async function focused(locator) {
  return locator.evaluateAll((els) => els.includes(document.activeElement));
}

/** Presses Tab until `target` has the focus; returns what was focused on the way. */
async function tabTo(page, target, what, max = 40) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await focused(target)) return seen;
    seen.push(await describeFocus(page));
  }
  throw new assert.AssertionError({
    message: `Tab never reached ${what} in ${max} presses; focus went: ${seen.join(' → ')}`,
  });
}

h.test('the inbox works from the keyboard: search, a conversation, Message, Send', async (t) => {
  const page = await t.newPage(undefined, 'inbox');
  await signIn(page);
  const ib = inboxPage(page);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());

  await tabTo(page, ib.search, 'the "Search conversations" box');
  await tabTo(page, ib.link('Jordan Lee'), 'the "Jordan Lee" conversation link');
  await page.keyboard.press('Enter');
  await expectText(ib.heading, 'Jordan Lee', { what: 'the thread opened with Enter on its link' });

  await tabTo(page, ib.messageBox, 'the "Message" box');
  const first = 'Typed and sent with Enter';
  await page.keyboard.type(first);
  await page.keyboard.press('Enter');
  await expectVisible(ib.msgWithText(first, 'outbound'), 'the message sent with Enter');
  assert.ok(await focused(ib.messageBox), 'the focus stays in the Message box after sending');
  assert.equal(await ib.messageBox.inputValue(), '');

  // Shift+Enter makes a new line instead of sending.
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  assert.equal(await ib.messageBox.inputValue(), 'line one\nline two', 'Shift+Enter starts a new line');
  assert.equal(await ib.msgWithText('line one').count(), 0, 'Shift+Enter did not send');

  await tabTo(page, ib.send, 'the "Send" button', 10);
  await page.keyboard.press('Enter');
  const two = ib.msgWithText('line one', 'outbound');
  await expectVisible(two, 'the two-line message sent with the Send button');
  assert.equal(await two.locator('.text').textContent(), 'line one\nline two');
});
