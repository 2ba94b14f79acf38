// A message the carrier cannot deliver shows why.
import assert from 'node:assert/strict';

import {
  expectVisible,
  harness,
  inboxPage,
  openConversation,
  openHandset,
  signIn,
  waitFor,
} from './lib/browser.mjs';
import { JORDAN } from './lib/lyrebird.mjs';

const h = harness('failure');

h.test('a message to a switched-off phone shows "Not delivered" and its reason', async (t) => {
  const phone = await t.newPage(undefined, 'phone');
  let p = await openHandset(phone, JORDAN);
  await p.switchedOff.check();
  assert.equal(await p.switchedOff.isChecked(), true);
  // The switch is the carrier's, not the page's: it survives a reload.
  await waitFor(
    async () => {
      await phone.reload();
      p = await openHandset(phone, JORDAN);
      return p.switchedOff.isChecked();
    },
    { what: '"Switched off" still ticked after a reload', timeout: 5000, interval: 250 },
  );

  const inbox = await t.newPage(undefined, 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');
  const ib = inboxPage(inbox);
  const text = 'Reminder: your appointment is tomorrow at 9:30.';
  await ib.messageBox.fill(text);
  await ib.messageBox.press('Enter');
  const bubble = ib.msgWithText(text, 'outbound');
  await expectVisible(bubble, 'the outbound bubble');

  const mark = bubble.getByRole('button', { name: /^(Not delivered|Failed): \S/ });
  await expectVisible(mark, 'a status mark named "Not delivered: <reason>"');
  const id = await bubble.getAttribute('data-id');
  const m = await t.srv.message(id);
  assert.ok(['undelivered', 'failed'].includes(m.status), `stored status: ${JSON.stringify(m)}`);
  assert.ok(m.error && m.error.message, `the API gives a reason: ${JSON.stringify(m.error)}`);
  assert.match(JSON.stringify(m.error), /absent_subscriber/, 'the carrier\'s cause is kept');

  const name = await mark.evaluate((el) => el.getAttribute('aria-label') || el.textContent);
  const title = await mark.getAttribute('title');
  assert.match(title || '', /^(Not delivered|Failed): \S/, `the status mark's title: ${title}`);
  assert.ok(
    (title || '').includes(m.error.message) || (title || '').includes(m.error.code),
    `the status mark (${title}) names the cause (${JSON.stringify(m.error)}); name ${name}`,
  );

  await mark.click();
  const reason = inbox.locator('.error-reason').filter({ hasText: /\S/ });
  await expectVisible(reason, '.error-reason after pressing the status mark');
  const reasonText = (await reason.first().textContent()).trim();
  assert.ok(reasonText.length > 0, '.error-reason is not empty');
  assert.ok(
    reasonText.includes(m.error.message),
    `.error-reason ${JSON.stringify(reasonText)} gives the API's error.message ${JSON.stringify(m.error.message)}`,
  );

  // Switched on again, the next message is delivered.
  await p.switchedOff.uncheck();
  await waitFor(
    async () => {
      await phone.reload();
      p = await openHandset(phone, JORDAN);
      return !(await p.switchedOff.isChecked());
    },
    { what: '"Switched off" unticked after a reload', timeout: 5000, interval: 250 },
  );
  const again = 'Reminder (again): your appointment is tomorrow at 9:30.';
  await ib.messageBox.fill(again);
  await ib.messageBox.press('Enter');
  await expectVisible(
    ib.msgWithText(again, 'outbound').getByRole('button', { name: 'Delivered', exact: true }),
    'the next message reaches "Delivered"',
  );
  await expectVisible(p.fromClinic.filter({ hasText: again }), 'the next message on the phone');
});
