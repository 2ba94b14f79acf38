// The patient panel beside the thread (desktop) and as a full-screen sheet
// (phone): details, consent history, the pictures opening the viewer,
// editing the name and date of birth; and the inbox's keyboard shortcuts.
import assert from 'node:assert/strict';

import {
  DESKTOP,
  axeViolations,
  PHONE,
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
import { JORDAN, PRIYA } from './lib/lyrebird.mjs';

const h = harness('panel');

function panelOf(page) {
  const panel = page.getByRole('complementary', { name: 'Patient details' });
  return {
    panel,
    toggle: page.getByRole('button', { name: 'Patient details', exact: true }),
    close: panel.getByRole('button', { name: 'Close', exact: true }),
    name: panel.locator('#panel-name'),
    number: panel.locator('#panel-number'),
    dob: panel.locator('#panel-dob'),
    edit: panel.getByRole('button', { name: 'Edit details', exact: true }),
    nameBox: panel.getByRole('textbox', { name: 'Name', exact: true }),
    dobBox: panel.getByLabel('Date of birth', { exact: true }),
    save: panel.getByRole('button', { name: 'Save details', exact: true }),
    consent: panel.locator('#panel-consent-state'),
    history: panel.getByRole('list', { name: 'Consent history' }).getByRole('listitem'),
    pictures: panel.getByRole('list', { name: 'Pictures' }).getByRole('button'),
    alert: panel.getByRole('alert'),
  };
}

const png = (name, seed) => makePng(64, 48, seed);

h.test('the panel beside the thread shows the patient, their consent and their pictures', async (t) => {
  // A picture each way, and a consent change with a reason.
  await t.srv.send(JORDAN, 'Your X-ray', [png('xray.png', 3)]);
  await t.srv.handsetSend(JORDAN, 'Here is my foot', [{ data: png('foot.png', 4) }]);
  await waitFor(async () => (await t.srv.convMessages(JORDAN)).filter((m) => m.media.length).length === 2, {
    what: 'both pictures stored',
  });
  await t.srv.apiOk('POST', `/api/v1/patients/${JORDAN}/opt-out`, { reason: 'asked at the desk on 3 Dec' });
  await t.srv.apiOk('POST', `/api/v1/patients/${JORDAN}/opt-in`, { reason: 'signed the consent form' });

  const ctx = await t.newContext({ viewport: DESKTOP });
  const page = await t.newPage(ctx, 'inbox');
  await signIn(page);
  await openConversation(page, 'Jordan Lee');
  const ib = inboxPage(page);
  const p = panelOf(page);

  // Open by default on a wide screen, beside (not over) the thread.
  await expectVisible(p.panel, 'the patient panel');
  assert.equal(await p.toggle.getAttribute('aria-expanded'), 'true');
  await expectText(p.name, 'Jordan Lee');
  await expectText(p.number, JORDAN);
  await expectText(p.dob, /^7 March 1984 \(age \d+\)$/, { what: 'the date of birth' });
  const box = await p.panel.boundingBox();
  const thread = await ib.heading.boundingBox();
  assert.ok(box.x > thread.x + thread.width, `the panel is right of the thread (${JSON.stringify({ box, thread })})`);

  await expectText(p.consent, 'Receives messages.');
  await waitFor(async () => (await p.history.count()) === 2, { what: 'two consent events' });
  await expectText(p.history.nth(0), /^Opted in · .*signed the consent form/, { what: 'the newest event first' });
  await expectText(p.history.nth(1), /^Opted out · .*asked at the desk on 3 Dec/);

  await waitFor(async () => (await p.pictures.count()) === 2, { what: 'two pictures in the gallery' });
  const first = p.pictures.nth(0);
  assert.match(await first.getAttribute('aria-label'), /^Open picture from the patient, /);
  await expectImageLoaded(first.locator('img'), 'the newest thumbnail');
  assert.match(await first.locator('img').getAttribute('src'), /^\/api\/v1\/media\/[0-9A-Z]{26}\/thumb$/);
  await first.click();
  await expectVisible(ib.dialog, 'the image viewer');
  await expectImageLoaded(ib.dialog.locator('img'), 'the picture in the viewer');
  await page.keyboard.press('Escape');
  await expectHidden(ib.dialog, 'the viewer after Escape');
  await expectVisible(p.panel, 'the panel stays open after the viewer closes');
  assert.equal(await first.evaluate((el) => el === document.activeElement), true, 'the focus returns to the thumbnail');

  // A new picture from the patient shows up live.
  await t.srv.handsetSend(JORDAN, 'And another', [{ data: png('another.png', 5) }]);
  await waitFor(async () => (await p.pictures.count()) === 3, { what: 'the new picture, live' });

  // Opting out is shown as it happens.
  await t.srv.apiOk('POST', `/api/v1/patients/${JORDAN}/opt-out`, { reason: 'moved interstate' });
  await expectText(p.consent, /^Opted out since /, { what: 'the opt-out, live' });
  await screenshot(page, 'panel-desktop.png');
  await page.getByText('Alerts', { exact: true }).click();
  assert.deepEqual(await axeViolations(page, 'the inbox with the panel and Alerts open'), []);
  await page.keyboard.press('Escape');

  // Closed, it stays closed for the next conversation (this browser remembers).
  await p.close.click();
  await expectHidden(p.panel, 'the panel after Close');
  assert.equal(await p.toggle.evaluate((el) => el === document.activeElement), true, 'focus back on the toggle');
  await openConversation(page, 'Priya Sharma');
  assert.equal(await p.panel.isVisible(), false, 'still closed for Priya');
  await p.toggle.click();
  await expectText(p.name, 'Priya Sharma');
  await expectText(p.consent, 'Receives messages.');
  await expectVisible(p.panel.getByText('No pictures yet.'), 'the empty gallery');
});

h.test('the name and date of birth are edited in the panel, and a bad date is refused', async (t) => {
  const page = await t.newPage(await t.newContext({ viewport: DESKTOP }), 'inbox');
  await signIn(page);
  await openConversation(page, 'Priya Sharma');
  const ib = inboxPage(page);
  const p = panelOf(page);
  await expectVisible(p.panel, 'the panel, open beside the thread');
  await expectText(p.dob, /^2 November 1990/);

  await p.edit.click();
  assert.equal(await p.nameBox.inputValue(), 'Priya Sharma');
  assert.equal(await p.dobBox.inputValue(), '1990-11-02');
  // The future is refused before anything is sent.
  await p.dobBox.fill('2999-01-01');
  await p.save.click();
  await expectText(p.alert, 'A date of birth cannot be in the future.');
  assert.equal((await t.srv.apiOk('GET', `/api/v1/patients/${PRIYA}`)).dob, '1990-11-02');

  await p.nameBox.fill('Priya K. Sharma');
  await p.dobBox.fill('1988-02-29');
  await p.save.click();
  await expectText(p.name, 'Priya K. Sharma');
  await expectText(p.dob, /^29 February 1988/);
  // The thread heading and the list follow.
  await expectText(ib.heading, 'Priya K. Sharma');
  await expectVisible(ib.link('Priya K. Sharma'), 'the renamed conversation in the list');
  const saved = await t.srv.apiOk('GET', `/api/v1/patients/${PRIYA}`);
  assert.equal(saved.name, 'Priya K. Sharma');
  assert.equal(saved.dob, '1988-02-29');
  const audit = await t.srv.apiOk('GET', `/api/v1/audit?patient=${encodeURIComponent(PRIYA)}`);
  const rows = audit.entries.filter((e) => e.action === 'patient.updated');
  assert.equal(rows.length, 1, JSON.stringify(rows));
  assert.deepEqual(rows[0].actor, { kind: 'user', name: 'reception' });
  assert.deepEqual(rows[0].detail, { fields: 'name,dob' });

  // Clearing the date of birth.
  await p.edit.click();
  await p.dobBox.fill('');
  await p.save.click();
  await expectText(p.dob, 'Not on file');
  assert.equal((await t.srv.apiOk('GET', `/api/v1/patients/${PRIYA}`)).dob, null);

  // The old "Edit name" in the header shows in the panel too.
  await ib.editName.click();
  await ib.nameBox.fill('Priya Sharma');
  await ib.saveName.click();
  await expectText(p.name, 'Priya Sharma');
});

h.test('on a phone the panel is a full-screen sheet opened from the thread header', async (t) => {
  await t.srv.send(PRIYA, 'Your referral', [png('referral.png', 8)]);
  const page = await t.newPage(await t.newContext({ viewport: PHONE, hasTouch: true, isMobile: true }), 'phone inbox');
  await signIn(page);
  await openConversation(page, 'Priya Sharma');
  const ib = inboxPage(page);
  const p = panelOf(page);
  assert.equal(await p.panel.isVisible(), false, 'closed until asked for on a phone');
  await expectVisible(p.toggle, 'the "Patient details" button in the thread header');
  await screenshot(page, 'panel-phone-thread.png');
  await p.toggle.click();
  await expectVisible(p.panel, 'the sheet');
  const box = await p.panel.boundingBox();
  assert.ok(box.x <= 0.5 && box.y <= 0.5 && box.width >= PHONE.width - 1 && box.height >= PHONE.height - 1,
    `the sheet covers the screen: ${JSON.stringify(box)}`);
  await expectText(p.name, /^Priya/);
  await waitFor(async () => (await p.pictures.count()) >= 1, { what: 'the picture in the sheet' });
  await p.pictures.nth(0).click();
  await expectVisible(ib.dialog, 'the viewer over the sheet');
  await ib.dialog.getByRole('button', { name: 'Close', exact: true }).click();
  await expectHidden(ib.dialog, 'the viewer closed');
  await screenshot(page, 'panel-phone.png');
  assert.deepEqual(await axeViolations(page, 'the panel as a sheet at 360 px'), []);
  // Esc closes the sheet, back to the thread.
  await page.keyboard.press('Escape');
  await expectHidden(p.panel, 'the sheet after Escape');
  await expectVisible(ib.messageBox, 'the thread again');
  // And Close does too.
  await p.toggle.click();
  await expectVisible(p.panel, 'the sheet again');
  await p.close.click();
  await expectHidden(p.panel, 'the sheet after Close');
});

h.test('j/k and the arrows move between conversations, / searches, never while typing', async (t) => {
  const page = await t.newPage(await t.newContext({ viewport: DESKTOP }), 'inbox');
  await signIn(page);
  const ib = inboxPage(page);
  const order = await ib.links.evaluateAll((els) => els.map((e) => e.querySelector('.conv-name').textContent));
  assert.ok(order.length >= 2, `two conversations: ${order}`);
  await page.evaluate(() => document.activeElement && document.activeElement.blur());

  await page.keyboard.press('j');
  await expectText(ib.heading, order[0], { what: 'j opens the first conversation' });
  await page.keyboard.press('j');
  await expectText(ib.heading, order[1], { what: 'j again: the next one' });
  assert.equal(await ib.messageBox.inputValue(), '', 'j was not typed into the compose box');
  await page.keyboard.press('k');
  await expectText(ib.heading, order[0], { what: 'k: back up' });
  await page.keyboard.press('ArrowDown');
  await expectText(ib.heading, order[1], { what: 'ArrowDown: down' });
  await page.keyboard.press('ArrowUp');
  await expectText(ib.heading, order[0], { what: 'ArrowUp: up' });

  // Typing in the compose box is typing.
  await ib.messageBox.click();
  await page.keyboard.type('jk/');
  assert.equal(await ib.messageBox.inputValue(), 'jk/');
  await expectText(ib.heading, order[0], { what: 'still the same conversation' });
  await ib.messageBox.fill('');

  // / goes to the search box; typing there is a search.
  await ib.heading.focus();
  await page.keyboard.press('/');
  assert.equal(await ib.search.evaluate((el) => el === document.activeElement), true, '/ focuses the search');
  await page.keyboard.type('jor');
  assert.equal(await ib.search.inputValue(), 'jor');
  await waitFor(async () => (await ib.links.count()) === 1, { what: 'the search narrows the list' });
  await page.keyboard.press('Escape');
  assert.equal(await ib.search.inputValue(), '', 'Esc clears the search');

  // Esc closes the panel.
  const p = panelOf(page);
  await expectVisible(p.panel, 'the panel (open on a wide screen)');
  await ib.heading.focus();
  await page.keyboard.press('Escape');
  await expectHidden(p.panel, 'the panel after Esc');
});
