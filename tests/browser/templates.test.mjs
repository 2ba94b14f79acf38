// A template with placeholders in the compose box: "/" opens the list,
// choosing one fills in the patient's first name and the clinic, a free
// field is highlighted and Send refuses until it is filled in, and the
// segment counter counts the filled-in text.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

import { axeViolations, expectHidden, expectText, expectVisible, harness, inboxPage, openConversation, signIn, waitFor } from './lib/browser.mjs';
import { BIN, JORDAN, cleanEnv } from './lib/lyrebird.mjs';

const h = harness('templates');

// The demo seeds a few templates into a new data directory; the tests
// start from none.
async function noDemoTemplates(t) {
  for (const x of (await t.srv.apiOk('GET', '/api/v1/templates')).templates)
    await t.srv.apiOk('DELETE', '/api/v1/templates/' + x.id, undefined, 200);
}

h.test('"/" picks a template, the missing {time} is highlighted, filled in, counted and sent', async (t) => {
  await noDemoTemplates(t);
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
  assert.deepEqual(await axeViolations(inbox, 'the inbox with the template list open'), []);
  await ib.messageBox.press('Enter');

  const time = ib.form.getByRole('textbox', { name: 'Time', exact: true });
  await expectVisible(time, 'a "Time" field for {time}');
  assert.equal(await time.getAttribute('aria-invalid'), 'true', 'the missing value is marked');
  assert.match(await time.getAttribute('class'), /is-missing/);
  // The demo's clinic, and the seeded patient's first name.
  const filledIn = await ib.messageBox.inputValue();
  assert.equal(filledIn, 'Hi Jordan, see you at {time} at WalkEasy Nexus Clinic.');

  assert.deepEqual(await axeViolations(inbox, 'the inbox with a template field to fill in'), []);
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

const ADMIN = 'boss';
const ADMIN_PASSWORD = 'admin-browser-password-1357';

function addAdmin(srv) {
  return new Promise((resolve, reject) => {
    const args = ['user', 'add', ADMIN, '--role', 'admin', '--password-stdin', '--db', path.join(srv.data, 'lyrebird.db')];
    const p = spawn(BIN, args, { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`user add exited ${code}: ${out}`))));
    p.stdin.end(`${ADMIN_PASSWORD}\n`);
  });
}

h.test('an admin adds, changes and deletes a template on the admin page, and a bad one says why', async (t) => {
  await addAdmin(t.srv);
  const page = await t.newPage(undefined, 'admin');
  t.allowConsole(page, /status of 422 .*\/api\/v1\/templates/);
  await signIn(page, { username: ADMIN, password: ADMIN_PASSWORD });
  await page.goto('/admin');
  const list = page.getByRole('list', { name: 'Templates' });
  const form = page.getByRole('form', { name: 'Add a template' });
  await expectVisible(form, 'the "Add a template" form');
  await form.getByRole('textbox', { name: 'Name', exact: true }).fill('Recall');
  await form.getByRole('textbox', { name: 'Text', exact: true }).fill('Hi {first_name, time for your check-up.');
  await form.getByRole('button', { name: 'Add template', exact: true }).click();
  await expectVisible(form.getByRole('alert').filter({ hasText: /\{\{/ }), 'the reason a stray brace is refused');

  await form.getByRole('textbox', { name: 'Text', exact: true }).fill('Hi {first_name}, time for your check-up. Call {clinic_phone}.');
  await form.getByRole('button', { name: 'Add template', exact: true }).click();
  await expectVisible(list.getByRole('heading', { name: 'Recall', exact: true }), 'the new template in the list');
  // The server is shared with the other test: look for ours by name.
  const names = async () => (await t.srv.apiOk('GET', '/api/v1/templates')).templates;
  const recall = (await names()).find((x) => x.name === 'Recall');
  assert.deepEqual(recall.fields, ['first_name', 'clinic_phone']);

  await list.getByRole('button', { name: 'Edit Recall', exact: true }).click();
  const edit = page.getByRole('form', { name: 'Change "Recall"' });
  await edit.getByRole('textbox', { name: 'Name', exact: true }).fill('Annual recall');
  await edit.getByRole('button', { name: 'Save template', exact: true }).click();
  await expectVisible(list.getByRole('heading', { name: 'Annual recall', exact: true }), 'the renamed template');
  const renamed = (await names()).filter((x) => x.id === recall.id);
  assert.deepEqual(renamed.map((x) => x.name), ['Annual recall']);

  await list.getByRole('button', { name: 'Delete Annual recall', exact: true }).click();
  await expectHidden(list.getByRole('heading', { name: 'Annual recall', exact: true }), 'the deleted template');
  assert.equal((await names()).filter((x) => x.id === recall.id).length, 0);
  const audit = (await t.srv.apiOk('GET', '/api/v1/audit')).entries.map((e) => e.action);
  for (const a of ['template.created', 'template.updated', 'template.deleted']) assert.ok(audit.includes(a), `${a} in ${audit}`);
});
