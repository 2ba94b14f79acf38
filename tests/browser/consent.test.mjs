// A patient who replies STOP: the inbox shows the opt-out on the
// conversation, live, with its date and source, and closes the compose box
// with the reason; an opt-in opens it again. And the export's thread.html,
// opened in Chromium, shows every image.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
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
import { API_KEY, JORDAN, PRIYA } from './lib/lyrebird.mjs';
import { makePng } from './lib/images.mjs';

const h = harness('consent');

h.test('STOP from the phone shows the opt-out and closes compose, live; START opens it', async (t) => {
  const inbox = await t.newPage(undefined, 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Priya Sharma');
  const ib = inboxPage(inbox);
  const banner = inbox.locator('#opt-out');
  await expectHidden(banner, 'no opt-out banner before the STOP');

  await t.srv.handsetSend(PRIYA, 'STOP');
  await expectVisible(banner, 'the opt-out banner, live');
  await expectText(banner, /Opted out/, { what: 'the banner' });
  await expectText(banner, /since .*2\d{3}/, { what: 'the banner names the date' });
  await expectText(banner, /replied STOP/, { what: 'the banner names the source' });
  const closed = inbox.locator('#compose-closed');
  await expectVisible(closed, 'the reason the compose box is closed');
  await expectText(closed, /opted out/, { what: 'the closed compose box' });
  assert.equal(await ib.messageBox.isDisabled(), true, 'the message box is disabled');
  assert.equal(await ib.send.isDisabled(), true, 'Send is disabled');
  await expectVisible(ib.convItem('Priya Sharma').getByText('Opted out'), 'the mark in the list');
  await screenshot(inbox, 'consent-opted-out.png');

  await t.srv.handsetSend(PRIYA, 'START');
  await expectHidden(banner, 'the banner goes after START');
  await waitFor(async () => !(await ib.messageBox.isDisabled()), { what: 'the box opens again' });
});

h.test("the export's thread.html shows every image, with no script", async (t) => {
  const png = makePng(40, 30, 1);
  await t.srv.send(JORDAN, 'Your scan', [png]);
  await t.srv.handsetSend(JORDAN, 'Mine', [makePng(20, 30, 2)]);
  await waitFor(async () => (await t.srv.convMessages(JORDAN)).filter((m) => m.media.length).length === 2, {
    what: 'both messages with media',
  });
  const r = await fetch(t.srv.url(`/api/v1/patients/${JORDAN}/export`), {
    headers: { Authorization: `Bearer ${API_KEY}` },
  });
  assert.equal(r.status, 200, `export -> ${r.status}`);
  const body = Buffer.from(await r.arrayBuffer());
  const dir = fs.mkdtempSync(path.join(t.srv.workdir, 'export-'));
  const zip = path.join(dir, 'thread.zip');
  fs.writeFileSync(zip, body);
  execFileSync('/usr/bin/python3', ['-m', 'zipfile', '-e', zip, dir]);
  const html = path.join(dir, 'thread.html');
  assert.ok(fs.existsSync(html), 'thread.html is in the ZIP');

  const page = await t.newPage(undefined, 'export');
  await page.goto(`file://${html}`);
  const imgs = page.locator('img');
  assert.equal(await imgs.count(), 2, 'two images');
  for (let i = 0; i < 2; i++) await expectImageLoaded(imgs.nth(i), `image ${i + 1}`);
  assert.equal(await page.locator('script').count(), 0, 'no script');
  await expectText(page.locator('h1'), /Jordan Lee/, { what: 'the heading' });
  await screenshot(page, 'consent-export.png');
});
