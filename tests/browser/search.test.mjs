// Search in what patients wrote: a word from an old message, typed in the
// search box, shows that message in its conversation with the word marked;
// clicking it opens the thread at that message, highlighted, even when it is
// older than the first page the thread loads.
import assert from 'node:assert/strict';

import { PHONE, expectText, expectVisible, harness, inboxPage, screenshot, signIn, waitFor } from './lib/browser.mjs';
import { JORDAN, PRIYA } from './lib/lyrebird.mjs';

const h = harness('search');

h.test('a word a patient wrote finds the message; clicking it shows it highlighted in its thread', async (t) => {
  const word = 'physiotherapy';
  // Looks like markup on purpose: it must show as text.
  const text = `Is the ${word} on Friday still on? <img src=x onerror=alert(1)> <b>thanks</b>`;
  const old = await t.srv.handsetSend(JORDAN, text);
  assert.ok(old);
  await waitFor(async () => (await t.srv.messagesWithText(JORDAN, text)).length === 1, {
    what: 'the patient\'s message stored',
  });
  const target = (await t.srv.messagesWithText(JORDAN, text))[0];
  // Newer messages after it, more than the thread's first page (50).
  for (let i = 0; i < 60; i += 1) await t.srv.send(JORDAN, `Reminder number ${i} about your visit`);
  await waitFor(async () => (await t.srv.convMessages(JORDAN)).length >= 61, {
    what: 'the newer messages stored',
  });

  const page = await t.newPage(undefined, 'inbox');
  await signIn(page);
  const ib = inboxPage(page);
  await ib.search.fill('physio');

  // The list shows Jordan's conversation with the matching message.
  const item = ib.convItem('Jordan Lee');
  await waitFor(async () => (await ib.links.count()) === 1, { what: 'one conversation for the word' });
  const match = item.locator('.conv-match');
  await expectVisible(match, 'the matching message in the list');
  await expectText(match.locator('mark'), word, { what: 'the matched word, marked' });
  const shown = await match.textContent();
  assert.ok(shown.includes('<img src=x onerror=alert(1)>'), `the snippet shows the text as text: ${shown}`);
  assert.equal(await item.locator('img').count(), 0, 'no element made from the message text');
  const link = ib.link('Jordan Lee');
  assert.ok((await link.textContent()).includes(word), 'the link reads the matching message');
  await screenshot(page, 'search-result.png');

  // Clicking opens the thread at that message, highlighted.
  await link.click();
  await expectText(ib.heading, 'Jordan Lee', { what: 'the thread heading' });
  const bubble = ib.msg(target.id);
  await expectVisible(bubble, 'the old message in the thread');
  await waitFor(async () => bubble.evaluate((el) => el.classList.contains('found')), {
    what: 'the message highlighted',
  });
  await expectText(bubble.locator('.text'), text, { what: 'the highlighted message\'s text' });
  assert.ok((await ib.messages.count()) > 50, 'older messages were loaded to reach it');
  const inView = await bubble.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const s = document.getElementById('scroller').getBoundingClientRect();
    return r.bottom > s.top && r.top < s.bottom;
  });
  assert.ok(inView, 'the highlighted message is scrolled into view');
  assert.equal(await bubble.getAttribute('aria-current'), 'true', 'the message is marked current for assistive tech');
  await screenshot(page, 'search-jump.png');

  // Clearing the search shows the list as before, with the plain preview.
  await ib.search.fill('');
  await waitFor(async () => (await ib.links.count()) >= 2, { what: 'every conversation again' });
  assert.equal(await ib.nav.locator('.conv-match').count(), 0, 'no match shown without a search');
  assert.equal(await link.getAttribute('href'), `#/c/${encodeURIComponent(JORDAN)}`, 'the plain link again');
});

h.test('on a phone, a search result opens the thread at the message', async (t) => {
  const text = 'The bandage came loose overnight, should I come in?';
  await t.srv.handsetSend(PRIYA, text);
  await waitFor(async () => (await t.srv.messagesWithText(PRIYA, text)).length === 1, { what: 'the message stored' });
  const target = (await t.srv.messagesWithText(PRIYA, text))[0];
  await t.srv.send(PRIYA, 'Yes, please come in at 3.');

  const ctx = await t.newContext({ viewport: PHONE });
  const page = await t.newPage(ctx, 'inbox (phone)');
  await signIn(page);
  const ib = inboxPage(page);
  await ib.search.fill('bandage overni');
  await waitFor(async () => (await ib.links.count()) === 1, { what: 'one conversation for the words' });
  const marks = await ib.convItem('Priya Sharma').locator('.conv-match mark').allTextContents();
  assert.deepEqual(marks, ['bandage', 'overnight'], 'both matched words marked');
  await ib.link('Priya Sharma').click();
  await expectText(ib.heading, 'Priya Sharma', { what: 'the thread heading' });
  const bubble = ib.msg(target.id);
  await expectVisible(bubble, 'the message in the thread');
  await waitFor(async () => bubble.evaluate((el) => el.classList.contains('found')), { what: 'the message highlighted' });
  await screenshot(page, 'search-jump-phone.png');
});
