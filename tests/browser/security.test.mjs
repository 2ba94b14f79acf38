// CSRF tokens on cookie requests, and message text that looks like HTML.
import assert from 'node:assert/strict';

import {
  expectText,
  expectVisible,
  harness,
  inboxPage,
  openConversation,
  openHandset,
  signIn,
  sleep,
} from './lib/browser.mjs';
import { JORDAN, PRIYA } from './lib/lyrebird.mjs';

const h = harness('security');

/** fetch() from inside the page (same origin, with the session cookie). */
function pageFetch(page, url, init) {
  return page.evaluate(
    async ([u, i]) => {
      const r = await fetch(u, i);
      const text = await r.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: r.status, text, json };
    },
    [url, init],
  );
}

h.test('a cookie request without X-CSRF-Token is refused and sends nothing; with it, it is sent', async (t) => {
  const page = await t.newPage(undefined, 'inbox');
  await signIn(page);
  await openConversation(page, 'Jordan Lee');
  const ib = inboxPage(page);

  const probe = 'csrf probe without token';
  const body = JSON.stringify({ to: JORDAN, text: probe });
  const bad = await pageFetch(page, '/api/v1/messages', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body,
  });
  assert.equal(bad.status, 403, `POST without X-CSRF-Token -> ${bad.status} ${bad.text}`);
  assert.equal(bad.json?.error?.code, 'csrf_failed', `error body: ${bad.text}`);

  // A wrong token is no better.
  const wrong = await pageFetch(page, '/api/v1/messages', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'not-the-token' },
    body,
  });
  assert.equal(wrong.status, 403, `POST with a wrong X-CSRF-Token -> ${wrong.status} ${wrong.text}`);
  assert.equal(wrong.json?.error?.code, 'csrf_failed');

  // Signing out needs the token too.
  const out = await pageFetch(page, '/api/v1/session', { method: 'DELETE' });
  assert.equal(out.status, 403, `DELETE /api/v1/session without X-CSRF-Token -> ${out.status} ${out.text}`);
  const still = await pageFetch(page, '/api/v1/session', {});
  assert.equal(still.status, 200, 'still signed in');
  const token = still.json.csrf_token;
  assert.ok(typeof token === 'string' && token.length >= 16, `a CSRF token in the session: ${still.text}`);

  const good = await pageFetch(page, '/api/v1/messages', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token },
    body: JSON.stringify({ to: JORDAN, text: 'csrf probe with token' }),
  });
  assert.equal(good.status, 202, `POST with the token -> ${good.status} ${good.text}`);

  // The good one shows in the thread; the refused ones were never stored or shown.
  await expectVisible(ib.msgWithText('csrf probe with token', 'outbound'), 'the message sent with the token');
  assert.deepEqual(await t.srv.messagesWithText(JORDAN, probe), [], 'nothing stored for the refused requests');
  assert.equal(await ib.msgWithText(probe).count(), 0, 'no bubble for the refused requests');
  const handset = await t.srv.raw('GET', `/sim/handsets/${JORDAN}/messages`);
  if (handset.status === 200) {
    assert.equal(
      handset.json.messages.filter((m) => m.text === probe).length,
      0,
      'the handset never got the refused message',
    );
  }
});

const XSS = '<img src=x onerror=alert(1)>';

async function assertNoInjectedImg(page, where) {
  const n = await page.evaluate(
    () => [...document.querySelectorAll('img')].filter((i) => i.getAttribute('src') === 'x').length,
  );
  assert.equal(n, 0, `${where}: an <img src="x"> was created from message text`);
}

h.test('message text that looks like HTML is shown as text, both ways', async (t) => {
  const ctx = await t.newContext();
  const inbox = await t.newPage(ctx, 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Priya Sharma');
  const ib = inboxPage(inbox);

  // Sent from the inbox.
  await ib.messageBox.fill(XSS);
  await ib.messageBox.press('Enter');
  const out = ib.msgWithText(XSS, 'outbound');
  await expectVisible(out, 'the outbound bubble');
  assert.equal(await out.locator('.text').textContent(), XSS, 'the outbound .text is the string, exactly');
  await expectVisible(out.getByRole('button', { name: 'Delivered', exact: true }), 'Delivered');
  await assertNoInjectedImg(inbox, 'inbox after sending');

  // Received on the phone, answered from the phone.
  const phone = await t.newPage(undefined, 'phone');
  const p = await openHandset(phone, PRIYA);
  const got = p.fromClinic.filter({ hasText: XSS });
  await expectVisible(got, 'the message on the phone');
  assert.ok((await got.textContent()).includes(XSS), 'the phone shows the string as text');
  await p.reply.fill(XSS);
  await p.send.click();
  const sent = p.fromPhone.filter({ hasText: XSS });
  await expectVisible(sent, 'the reply on the phone');
  assert.ok((await sent.textContent()).includes(XSS));
  await assertNoInjectedImg(phone, 'phone page');

  const inb = ib.msgWithText(XSS, 'inbound');
  await expectVisible(inb, 'the inbound bubble in the inbox');
  assert.equal(await inb.locator('.text').textContent(), XSS, 'the inbound .text is the string, exactly');
  await assertNoInjectedImg(inbox, 'inbox after the reply');

  // A fresh load of both pages renders the stored text the same way.
  await inbox.reload();
  await openConversation(inbox, 'Priya Sharma');
  await expectVisible(ib.msgWithText(XSS, 'inbound'), 'the inbound bubble after a reload');
  assert.equal(await ib.msgWithText(XSS, 'inbound').locator('.text').textContent(), XSS);
  assert.equal(await ib.msgWithText(XSS, 'outbound').locator('.text').textContent(), XSS);
  await assertNoInjectedImg(inbox, 'inbox after a reload');
  await openHandset(phone, PRIYA);
  await expectVisible(p.fromPhone.filter({ hasText: XSS }), 'the reply on the phone after a reload');
  await assertNoInjectedImg(phone, 'phone page after a reload');

  await sleep(200); // give a would-be onerror handler its chance
  assert.deepEqual(t.dialogs(), [], 'no dialog opened');
});

h.test('a patient name that looks like HTML is shown as text', async (t) => {
  const page = await t.newPage(undefined, 'inbox');
  await signIn(page);
  await openConversation(page, 'Jordan Lee');
  const ib = inboxPage(page);
  const name = '<b onmouseover=alert(1)>Jordan</b> Lee';
  await ib.editName.click();
  await expectVisible(ib.nameBox, 'the "Patient name" box');
  await ib.nameBox.fill(name);
  await ib.saveName.click();
  await expectText(ib.heading, name, { what: 'the thread heading after renaming' });
  await expectVisible(ib.link(name), 'the renamed conversation link');
  assert.equal(
    await page.evaluate(() => document.querySelectorAll('[onmouseover]').length),
    0,
    'no element was made from the name',
  );
  const conv = await t.srv.conversation(JORDAN);
  assert.equal(conv.name, name, `stored name: ${JSON.stringify(conv)}`);
  await ib.heading.hover();
  assert.deepEqual(t.dialogs(), []);
});
