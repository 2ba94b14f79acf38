// A template with placeholders in the compose box: "/" opens the list,
// choosing one fills in the patient's first name and the clinic, a free
// field is highlighted and Send refuses until it is filled in, and the
// segment counter counts the filled-in text.
import assert from 'node:assert/strict';

import { expectText, expectVisible, harness, inboxPage, openConversation, signIn, waitFor } from './lib/browser.mjs';
import { JORDAN } from './lib/lyrebird.mjs';

const h = harness('templates');

h.test('"/" picks a template, the missing {time} is highlighted, filled in, counted and sent', async (t) => {
  await t.srv.apiOk('POST', '/api/v1/templates', { name: 'Appointment reminder', body: 'Hi {first_name}, see you at {time} at {clinic_name}.' }, 201);
  await t.srv.apiOk('POST', '/api/v1/templates', { name: 'Results ready', body: 'Your results are ready, {first_name}.' }, 201);
  const inbox = await t.newPage(undefined, 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');
  const ib = inboxPage(inbox);

  await ib.messageBox.fill('/');
  const list = ib.form.getByRole('listbox', { name: 'Templates' });
  await expectVisible(list, 'the template list after "/"');
  assert.equal(await list.getByRole('option').count(), 2);
  // Searchable: the rest of the line filters it.
  await ib.messageBox.pressSequentially('remind');
  await waitFor(async () => (await list.getByRole('option').count()) === 1, { what: 'one template matching "remind"' });
  await expectText(list.getByRole('option').first(), /Appointment reminder/);
  await ib.messageBox.press('Enter');

  const time = ib.form.getByRole('textbox', { name: 'Time', exact: true });
  await expectVisible(time, 'a "Time" field for {time}');
  assert.equal(await time.getAttribute('aria-invalid'), 'true', 'the missing value is marked');
  assert.match(await time.getAttribute('class'), /is-missing/);
  // The demo's clinic, and the seeded patient's first name.
  const filledIn = await ib.messageBox.inputValue();
  assert.equal(filledIn, 'Hi Jordan, see you at {time} at WalkEasy Nexus Clinic.');

  // Send refuses, and says why.
  await ib.send.click();
  await expectVisible(ib.form.getByRole('alert').filter({ hasText: /Fill in Time/ }), 'the refusal');
  assert.equal((await t.srv.convMessages(JORDAN)).filter((m) => m.text.includes('see you at')).length, 0, 'nothing sent');

  const before = await ib.segments.textContent();
  await time.fill('10:30 on Monday the 7th of December');
  const want = filledIn.replace('{time}', '10:30 on Monday the 7th of December');
  assert.equal(await ib.messageBox.inputValue(), want);
  assert.equal(await time.getAttribute('aria-invalid'), 'false');
  const units = [...want].length;
  await expectText(ib.segments, new RegExp(`^${units} / 160 · 1 SMS$`), { what: 'the counter of the filled-in text' });
  assert.notEqual(await ib.segments.textContent(), before);

  await ib.send.click();
  await expectVisible(ib.msgWithText(want, 'outbound'), 'the sent message in the thread');
  const sent = (await t.srv.convMessages(JORDAN)).filter((m) => m.text === want);
  assert.equal(sent.length, 1);
  assert.equal(await ib.messageBox.inputValue(), '');
  assert.equal(await time.count(), 0, 'the fields go with the sent text');
});
