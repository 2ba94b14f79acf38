// A message to a switched-off phone reads as a sentence staff can act on,
// with the carrier's code under "Details"; Retry sends it again once the
// phone is on, as the same message, its history kept; Edit and resend sends
// a corrected text as a new message.
import assert from 'node:assert/strict';

import { axeViolations, expectHidden, expectVisible, harness, inboxPage, openConversation, signIn } from './lib/browser.mjs';
import { JORDAN } from './lib/lyrebird.mjs';

const h = harness('retry');

async function phoneOff(t, off) {
  const r = await t.srv.raw('POST', `/sim/handsets/${JORDAN}/state`, { switched_off: off });
  assert.equal(r.status, 200, r.text);
}

h.test('a failed message shows the plain sentence, Retry delivers it, and its history is kept', async (t) => {
  await phoneOff(t, true);
  const inbox = await t.newPage(undefined, 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');
  const ib = inboxPage(inbox);
  const text = 'Your results are ready: please call us.';
  await ib.messageBox.fill(text);
  await ib.messageBox.press('Enter');
  const bubble = ib.msgWithText(text, 'outbound');
  const failure = bubble.getByRole('group', { name: 'Not delivered' });
  await expectVisible(failure, 'the failure panel under the message');
  await expectVisible(
    failure.getByText("The patient's phone was off or out of range", { exact: false }),
    'the plain sentence',
  );
  await expectVisible(failure.getByText('call them', { exact: false }), 'the suggested action');
  // The carrier's code is there, but only under Details.
  const code = failure.locator('.failure-code');
  assert.equal(await code.isVisible(), false, 'the code is folded away');
  await failure.getByText('Details', { exact: true }).click();
  await expectVisible(code.filter({ hasText: 'absent_subscriber' }), 'the code under Details');

  assert.deepEqual(await axeViolations(inbox, 'the inbox with a failed message'), []);

  const id = await bubble.getAttribute('data-id');
  await phoneOff(t, false);
  await failure.getByRole('button', { name: 'Retry', exact: true }).click();
  await expectVisible(
    bubble.getByRole('button', { name: 'Delivered', exact: true }),
    'the same bubble reaching "Delivered"',
  );
  await expectHidden(failure, 'the failure panel once delivered');
  assert.equal(await ib.msgWithText(text, 'outbound').count(), 1, 'one bubble for the message');
  const m = await t.srv.message(id);
  assert.equal(m.status, 'delivered');
  const hist = m.history.map((x) => x.status);
  assert.ok(hist.includes('undelivered'), `the failed attempt is kept: ${hist}`);
  assert.equal(hist.at(-1), 'delivered', `${hist}`);
  assert.ok(m.history.some((x) => /^retried by user reception/.test(x.detail || '')), JSON.stringify(m.history));
});

h.test('Edit and resend sends the corrected text as a new message', async (t) => {
  await phoneOff(t, true);
  const inbox = await t.newPage(undefined, 'inbox');
  await signIn(inbox);
  await openConversation(inbox, 'Jordan Lee');
  const ib = inboxPage(inbox);
  const text = 'See you on Mondya at 10.';
  await ib.messageBox.fill(text);
  await ib.messageBox.press('Enter');
  const failure = ib.msgWithText(text, 'outbound').getByRole('group', { name: 'Not delivered' });
  await expectVisible(failure, 'the failure panel');
  await phoneOff(t, false);
  await failure.getByRole('button', { name: 'Edit and resend', exact: true }).click();
  const editor = failure.getByRole('textbox', { name: 'Edited text to send', exact: true });
  assert.equal(await editor.inputValue(), text, 'the editor starts with the text');
  const fixed = 'See you on Monday at 10.';
  await editor.fill(fixed);
  await failure.getByRole('button', { name: 'Send edited text', exact: true }).click();
  await expectVisible(
    ib.msgWithText(fixed, 'outbound').getByRole('button', { name: 'Delivered', exact: true }),
    'the corrected message delivered',
  );
  // The first stays, not delivered, in the thread.
  await expectVisible(ib.msgWithText(text, 'outbound'), 'the original message');
});
