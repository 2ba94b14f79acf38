// Picture messages both ways between the inbox and the phone simulator, live.
import assert from 'node:assert/strict';

import {
  DESKTOP,
  PHONE,
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
import { pngFile } from './lib/images.mjs';
import { JORDAN, PRIYA } from './lib/lyrebird.mjs';

const h = harness('messaging');

h.test('an MMS sent from the inbox is delivered and shows on the phone with its picture', async (t) => {
  const ctx = await t.newContext();
  const inbox = await t.newPage(ctx, 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');
  const ib = inboxPage(inbox);

  // An attachment can be taken back before sending.
  await ib.attach.setInputFiles(pngFile('wrong-picture.png', 7));
  await expectVisible(ib.removeAttachment, '"Remove attachment" once an image is attached');
  await ib.removeAttachment.click();
  await expectHidden(ib.removeAttachment, '"Remove attachment" after removing the attachment');

  // Attach, type, Enter.
  await ib.attach.setInputFiles(pngFile('xray.png', 1));
  await expectVisible(ib.removeAttachment, '"Remove attachment" once an image is attached');
  const text = 'Hi Jordan, here is your X-ray from today.';
  await ib.messageBox.fill(text);
  await ib.messageBox.press('Enter');

  const bubble = ib.msgWithText(text, 'outbound');
  await expectVisible(bubble, 'the outbound bubble');
  assert.equal(await bubble.count(), 1, 'one bubble for the message');
  await expectText(bubble.locator('.text'), text, { what: 'the bubble text' });
  const thumb = bubble.getByRole('button', { name: 'Open image', exact: true }).locator('img');
  const size = await expectImageLoaded(thumb, 'the thumbnail in the outbound bubble');
  assert.ok(size.naturalWidth > 0);
  const delivered = bubble.getByRole('button', { name: 'Delivered', exact: true });
  await expectVisible(delivered, 'the status mark "Delivered"');
  assert.equal(await delivered.getAttribute('title'), 'Delivered', 'the status mark\'s title');
  assert.ok(await delivered.evaluate((el) => el.classList.contains('status')), 'the status mark has class status');

  // The form is ready for the next message.
  assert.equal(await ib.messageBox.inputValue(), '', 'the Message box is emptied after sending');
  await expectHidden(ib.removeAttachment, '"Remove attachment" after sending');

  // What the server stored is what the bubble shows.
  const id = await bubble.getAttribute('data-id');
  assert.ok(id, 'the bubble has data-id');
  const m = await t.srv.message(id);
  assert.equal(m.text, text);
  assert.equal(m.direction, 'outbound');
  assert.equal(m.to, JORDAN);
  assert.equal(m.status, 'delivered');
  assert.equal(m.media.length, 1, `one picture stored: ${JSON.stringify(m.media)}`);
  assert.equal(m.media[0].content_type, 'image/png');

  // The picture opens full size in a dialog; Escape and "Close" close it.
  const openImage = bubble.getByRole('button', { name: 'Open image', exact: true });
  await openImage.click();
  await expectVisible(ib.dialog, 'the image dialog');
  await expectImageLoaded(ib.dialog.locator('img'), 'the full-size image in the dialog');
  await inbox.keyboard.press('Escape');
  await expectHidden(ib.dialog, 'the image dialog after Escape');
  await openImage.click();
  await expectVisible(ib.dialog, 'the image dialog (again)');
  await ib.dialog.getByRole('button', { name: 'Close', exact: true }).click();
  await expectHidden(ib.dialog, 'the image dialog after "Close"');

  // On Jordan's phone.
  const phone = await t.newPage(undefined, 'phone');
  const p = await openHandset(phone, JORDAN);
  const got = p.fromClinic.filter({ hasText: text });
  await expectVisible(got, 'the message on the phone (.from-clinic)');
  await expectImageLoaded(got.locator('img'), 'the picture inline on the phone');

  // Jordan answers; the inbox shows it without a reload.
  const reply = 'Thanks! Got it, see you Tuesday.';
  await p.reply.fill(reply);
  await p.send.click();
  await expectVisible(p.fromPhone.filter({ hasText: reply }), 'the reply on the phone (.from-phone)');
  const inbound = ib.msgWithText(reply, 'inbound');
  await expectVisible(inbound, 'the reply in the inbox thread');
  await expectText(inbound.locator('.text'), reply);

  // Screenshots: the phone with the MMS and the reply, the inbox thread.
  await expectImageLoaded(got.locator('img'), 'the picture on the phone');
  await phone.setViewportSize(DESKTOP);
  await screenshot(phone, 'phone-desktop.png');
  await phone.setViewportSize(PHONE);
  await expectImageLoaded(got.locator('img'), 'the picture on the phone at 360 px');
  await screenshot(phone, 'phone-phone.png');

  await expectImageLoaded(thumb, 'the thumbnail');
  await screenshot(inbox, 'inbox-desktop.png');
  await inbox.setViewportSize(PHONE);
  await expectVisible(ib.msgWithText(text, 'outbound'), 'the thread at 360 px');
  await expectImageLoaded(thumb, 'the thumbnail at 360 px');
  await screenshot(inbox, 'inbox-phone.png');
});

h.test('a photo reply from the phone appears live in the open thread, read as it arrives', async (t) => {
  const ctx = await t.newContext();
  const inbox = await t.newPage(ctx, 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Priya Sharma');
  const ib = inboxPage(inbox);
  let navigations = 0;
  inbox.on('framenavigated', (f) => {
    if (f === inbox.mainFrame()) navigations++;
  });
  await inbox.evaluate(() => {
    window.__lyrebirdNoReload = 'still here';
  });
  assert.equal(await ib.convItem('Priya Sharma').locator('.unread').count(), 0, 'no unread badge before the reply');

  const phone = await t.newPage(undefined, 'phone');
  const p = await openHandset(phone, PRIYA);
  const text = 'Here is the photo of the rash you asked for.';
  await p.reply.fill(text);
  await p.attach.setInputFiles(pngFile('rash.png', 2));
  await p.send.click();
  const sent = p.fromPhone.filter({ hasText: text });
  await expectVisible(sent, 'the reply on the phone (.from-phone)');
  await expectImageLoaded(sent.locator('img'), 'the photo on the phone');

  const bubble = ib.msgWithText(text, 'inbound');
  await expectVisible(bubble, 'the reply, live, in the open thread');
  await expectText(bubble.locator('.text'), text);
  await expectImageLoaded(
    bubble.getByRole('button', { name: 'Open image', exact: true }).locator('img'),
    'the photo in the inbound bubble',
  );
  assert.equal(await inbox.evaluate(() => window.__lyrebirdNoReload), 'still here', 'the inbox was not reloaded');
  assert.equal(navigations, 0, 'the inbox did not navigate');
  assert.ok(new URL(inbox.url()).pathname === '/inbox');

  // The inbox has the focus and the thread is on screen: read at once (with
  // the inbox in the background it stays unread: notify.test.mjs).
  const unread = ib.convItem('Priya Sharma').locator('.unread');
  await waitFor(async () => (await t.srv.conversation(PRIYA)).unread === 0 &&
    (await t.srv.conversation(PRIYA)).last_message.text === text, {
    what: 'unread = 0 on the server once the reply is on screen',
  });
  assert.equal(await unread.count(), 0, 'no unread badge for the open thread');
  const id = await bubble.getAttribute('data-id');
  const m = await t.srv.message(id);
  assert.equal(m.direction, 'inbound');
  assert.equal(m.text, text);
  assert.equal(m.media.length, 1);

  // A reply to a thread that is not open is unread until it is opened.
  await openConversation(inbox, 'Jordan Lee');
  await p.reply.fill('One more thing');
  await p.send.click();
  await expectText(unread, /^1\b/, { what: 'the unread count for Priya Sharma' });
  assert.equal((await t.srv.conversation(PRIYA)).unread, 1, 'unread on the server');
  await openConversation(inbox, 'Priya Sharma');
  await expectHidden(unread, 'the unread count once Priya Sharma\'s thread is opened');
  await waitFor(async () => (await t.srv.conversation(PRIYA)).unread === 0, {
    what: 'unread = 0 on the server after opening the thread',
  });
});

h.test('the search box filters the conversation list', async (t) => {
  const page = await t.newPage(undefined, 'inbox');
  await signIn(page);
  const ib = inboxPage(page);
  const names = async () =>
    (await ib.links.evaluateAll((els) => els.map((e) => e.textContent))).join(' | ');
  const shows = (want, not) =>
    waitFor(
      async () => {
        const text = await names();
        assert.ok(
          want.every((w) => text.includes(w)) && not.every((n) => !text.includes(n)),
          `the list shows ${JSON.stringify(text)}`,
        );
        return true;
      },
      { what: `the list to show ${JSON.stringify(want)} and not ${JSON.stringify(not)}` },
    );
  await shows(['Jordan Lee', 'Priya Sharma'], []);
  await ib.search.fill('priya');
  await shows(['Priya Sharma'], ['Jordan Lee']);
  await ib.search.fill('0491 570 156');
  await shows(['Jordan Lee'], ['Priya Sharma']);
  await ib.search.fill('no such patient');
  await waitFor(async () => (await ib.links.count()) === 0, { what: 'no conversation for a search that matches none' });
  await ib.search.fill('');
  await shows(['Jordan Lee', 'Priya Sharma'], []);
});
