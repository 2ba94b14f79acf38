// Working as a team in the inbox: two staff members, each in their own
// browser, hand a conversation to each other and see it happen live; the
// filters; Done hides a conversation; an internal note shows in both
// inboxes, styled as internal, and never reaches the patient's handset.
import assert from 'node:assert/strict';

import {
  PHONE,
  expectHidden,
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
import { JORDAN, PRIYA, USERNAME } from './lib/lyrebird.mjs';

const h = harness('team');

const SAM = 'sam.ng';
const SAM_PASSWORD = 'sam-browser-password-97531';

const sams = new WeakMap();
async function addSam(srv) {
  if (!sams.has(srv)) {
    sams.set(srv, srv.apiOk('POST', '/api/v1/users', { username: SAM, password: SAM_PASSWORD }, 201));
  }
  return sams.get(srv);
}

function teamBar(page) {
  const main = page.getByRole('main');
  return {
    assignee: main.locator('#thread-assignee'),
    assignMe: main.getByRole('button', { name: 'Assign to me', exact: true }),
    assignTo: main.getByRole('combobox', { name: 'Assign to a colleague (username)', exact: true }),
    assign: main.getByRole('button', { name: 'Assign', exact: true }),
    unassign: main.getByRole('button', { name: 'Unassign', exact: true }),
    done: main.getByRole('button', { name: 'Done', exact: true }),
    reopen: main.getByRole('button', { name: 'Reopen', exact: true }),
    addNote: main.getByRole('button', { name: 'Add internal note', exact: true }),
    noteBox: main.getByRole('textbox', { name: 'Internal note — not sent to the patient', exact: true }),
    saveNote: main.getByRole('button', { name: 'Save note', exact: true }),
    notes: page.getByRole('list', { name: 'Messages', exact: true }).locator('li.staff-note'),
    whose: page.getByRole('combobox', { name: 'Whose conversations', exact: true }),
    state: page.getByRole('combobox', { name: 'Open or done', exact: true }),
  };
}

async function twoInboxes(t) {
  await addSam(t.srv);
  const me = await t.newPage(await t.newContext(), 'reception');
  const sam = await t.newPage(await t.newContext(), SAM);
  await signIn(me);
  await signIn(sam, { username: SAM, password: SAM_PASSWORD });
  return { me, sam };
}

h.test('a conversation handed between two staff members is seen live by the other', async (t) => {
  const { me, sam } = await twoInboxes(t);
  await openConversation(me, 'Jordan Lee');
  await openConversation(sam, 'Jordan Lee');
  const a = teamBar(me);
  const b = teamBar(sam);
  await expectText(a.assignee, 'Unassigned', { what: 'the assignee before anything' });

  // Reception takes it: Sam sees it at once, in the thread and the list.
  await a.assignMe.click();
  await expectText(a.assignee, 'Assigned to you', { what: 'reception\'s own heading' });
  await expectText(b.assignee, `Assigned to ${USERNAME}`, { what: 'Sam\'s heading, live' });
  await expectText(inboxPage(sam).convItem('Jordan Lee').locator('.conv-assignee'), `Assigned to ${USERNAME}`,
    { what: 'the assignee in Sam\'s list' });

  // Reception hands it to Sam: Sam sees it as theirs.
  await a.assignTo.fill(SAM);
  await a.assign.click();
  await expectText(b.assignee, 'Assigned to you', { what: 'Sam\'s heading after the hand-over' });
  await expectText(a.assignee, `Assigned to ${SAM}`, { what: 'reception\'s heading after the hand-over' });
  assert.equal((await t.srv.conversation(JORDAN)).assigned_to, SAM);

  // "Mine": Sam's list has Jordan, reception's has not.
  await b.whose.selectOption('mine');
  await a.whose.selectOption('mine');
  await expectVisible(inboxPage(sam).link('Jordan Lee'), 'Jordan in Sam\'s "Mine"');
  await expectHidden(inboxPage(me).link('Jordan Lee'), 'Jordan in reception\'s "Mine"');
  await expectHidden(inboxPage(sam).link('Priya Sharma'), 'Priya (unassigned) in Sam\'s "Mine"');
  await a.whose.selectOption('unassigned');
  await expectVisible(inboxPage(me).link('Priya Sharma'), 'Priya in "Unassigned"');
  await a.whose.selectOption('all');
  await expectVisible(inboxPage(me).link('Jordan Lee'), 'Jordan back in "Everyone\'s"');

  // Sam marks it done: it leaves reception's open list live, and Sam gets Reopen.
  await b.done.click();
  await expectVisible(b.reopen, '"Reopen" once done');
  await expectHidden(inboxPage(me).link('Jordan Lee'), 'Jordan in reception\'s open list once done');
  await a.state.selectOption('done');
  await expectVisible(inboxPage(me).link('Jordan Lee'), 'Jordan under "Done"');
  await a.state.selectOption('open');

  // The patient writes again: open again, in both lists.
  await t.srv.handsetSend(JORDAN, 'One more question about Friday');
  await expectVisible(inboxPage(me).link('Jordan Lee'), 'Jordan back in the open list after his reply');
  await expectVisible(b.done, '"Done" again in Sam\'s thread after the reply');
});

h.test('a note shows in both inboxes as internal and never reaches the handset', async (t) => {
  const { me, sam } = await twoInboxes(t);
  await openConversation(me, 'Priya Sharma');
  await openConversation(sam, 'Priya Sharma');
  const a = teamBar(me);
  const text = `Prefers a call after 3pm ${Date.now()}`;

  // Escape closes the note form without saving.
  await a.addNote.click();
  await a.noteBox.fill('not this one');
  await a.noteBox.press('Escape');
  await expectHidden(a.noteBox, 'the note form after Escape');
  await a.addNote.click();
  assert.equal(await a.noteBox.inputValue(), 'not this one', 'a draft is kept');
  await a.noteBox.fill(text);
  await a.saveNote.click();
  const mine = a.notes.filter({ hasText: text });
  await expectVisible(mine, 'the note in reception\'s thread');
  await expectText(mine.locator('.note-label'), 'Internal note — not sent to the patient', { what: 'the note\'s label' });
  const theirs = teamBar(sam).notes.filter({ hasText: text });
  await expectVisible(theirs, 'the note in Sam\'s thread, live');
  // Styled unlike a message: its own background, no bubble.
  const bg = await mine.locator('.note-body').evaluate((el) => getComputedStyle(el).backgroundColor);
  const bubble = await inboxPage(me).messages.first().locator('.bubble').evaluate((el) => getComputedStyle(el).backgroundColor)
    .catch(() => null);
  assert.notEqual(bg, bubble, 'a note has a background of its own');
  assert.equal(await inboxPage(me).messageBox.inputValue(), '', 'the message box is untouched');
  await screenshot(me, 'team-note.png');

  // A message sent after it reaches the handset; the note never does.
  const after = 'See you on Friday at 10.';
  await inboxPage(me).messageBox.fill(after);
  await inboxPage(me).messageBox.press('Enter');
  const phonePage = await t.newPage(await t.newContext(), 'handset');
  const phone = await openHandset(phonePage, PRIYA);
  await expectVisible(phone.fromClinic.filter({ hasText: after }), 'the message on the handset');
  assert.equal(await phone.list.filter({ hasText: text }).count(), 0, 'the note is not on the handset page');
  const got = await t.srv.raw('GET', `/sim/handsets/${encodeURIComponent(PRIYA)}/messages`);
  assert.equal(got.status, 200);
  assert.ok(got.json.messages.every((m) => !(m.text || '').includes(text)), 'the handset never received the note');

  // Still there after a reload, in its place.
  await me.reload();
  await expectVisible(teamBar(me).notes.filter({ hasText: text }), 'the note after a reload');
  await waitFor(async () => (await teamBar(me).notes.count()) === 1, { what: 'one note' });
  // One day heading for the note and the message after it, both today.
  await expectVisible(inboxPage(me).msgWithText(after, 'outbound'), 'the message after the note, after a reload');
  assert.equal(await inboxPage(me).thread.locator('.day').count(), 1, 'one "Today" heading');
});

h.test('on a phone the team controls fit and a note can be written', async (t) => {
  const ctx = await t.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  const page = await t.newPage(ctx, 'phone');
  await signIn(page);
  await openConversation(page, 'Jordan Lee');
  const b = teamBar(page);
  for (const [el, what] of [[b.done.or(b.reopen), 'Done'], [b.addNote, 'Add internal note'], [b.assign, 'Assign']]) {
    await expectVisible(el, `"${what}" on a phone`);
    const box = await el.first().boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width + 1, `"${what}" inside the screen (${JSON.stringify(box)})`);
  }
  await b.addNote.click();
  await b.noteBox.fill('Written on a phone');
  await b.saveNote.click();
  await expectVisible(b.notes.filter({ hasText: 'Written on a phone' }), 'the note on a phone');
  const m = await page.evaluate(() => ({ w: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
  assert.ok(m.w <= PHONE.width && m.body <= PHONE.width, `nothing scrolls sideways (${JSON.stringify(m)})`);
  await screenshot(page, 'team-phone.png');
});
