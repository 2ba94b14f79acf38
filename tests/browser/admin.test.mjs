// /admin: staff accounts (list, add with a generated password, reset a
// password, disable and enable, change a role) and the read-only settings;
// what a staff member sees there; axe, 360 px and screenshots.
//
// The server runs with an SMS-only-out host ([sim] mms_out = false) so that
// the settings show what the host cannot do.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

import {
  DESKTOP,
  PHONE,
  axeViolations,
  expectHidden,
  expectText,
  expectVisible,
  harness,
  inboxPage,
  loginPage,
  screenshot,
  signIn,
  waitFor,
} from './lib/browser.mjs';
import { API_KEY, BIN, PASSWORD, USERNAME, cleanEnv } from './lib/lyrebird.mjs';

const h = harness('admin', { env: { LYREBIRD_SIM_MMS_OUT: 'false' } });

const ADMIN = 'boss';
const ADMIN_NAME = 'Dr Sam Ng';
const ADMIN_PASSWORD = 'admin-browser-password-1357';

/** Adds the admin with the CLI (once per server), as an operator would. */
const admins = new WeakMap();
function ensureAdmin(srv) {
  if (!admins.has(srv)) {
    admins.set(
      srv,
      new Promise((resolve, reject) => {
        const args = ['user', 'add', ADMIN, '--role', 'admin', '--display', ADMIN_NAME, '--password-stdin',
          '--db', path.join(srv.data, 'lyrebird.db')];
        const p = spawn(BIN, args, { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (out += d));
        p.on('error', reject);
        p.on('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`${BIN} ${args.join(' ')} exited ${code}: ${out}`)),
        );
        p.stdin.end(`${ADMIN_PASSWORD}\n`);
      }),
    );
  }
  return admins.get(srv);
}

/** Signs the admin in and opens /admin from the inbox's "Staff accounts" link. */
async function openAdmin(page) {
  await signIn(page, { username: ADMIN, password: ADMIN_PASSWORD });
  const link = page.getByRole('banner').getByRole('link', { name: 'Staff accounts', exact: true });
  await expectVisible(link, 'the "Staff accounts" link in the inbox header of an admin');
  await link.click();
  await page.waitForURL((u) => u.pathname === '/admin');
  const a = adminPage(page);
  await expectVisible(a.row(ADMIN), 'the admin\'s own row in "Staff accounts"');
  return a;
}

function adminPage(page) {
  const table = page.getByRole('table', { name: 'Staff accounts' });
  const form = page.getByRole('form', { name: 'Add a staff member' });
  const dialog = page.getByRole('dialog');
  const button = (name) => page.getByRole('button', { name, exact: true });
  return {
    table,
    form,
    dialog,
    heading: (name) => page.getByRole('heading', { name, exact: true }),
    /** The table row of `username` (each row has "Reset password for <username>"). */
    row: (username) =>
      table.getByRole('row').filter({ has: button(`Reset password for ${username}`) }),
    reset: (username) => button(`Reset password for ${username}`),
    disable: (username) => button(`Disable ${username}`),
    enable: (username) => button(`Enable ${username}`),
    makeAdmin: (username) => button(`Make admin: ${username}`),
    makeStaff: (username) => button(`Make staff: ${username}`),
    username: form.getByRole('textbox', { name: 'Username', exact: true }),
    name: form.getByRole('textbox', { name: 'Name', exact: true }),
    role: form.getByRole('combobox', { name: 'Role', exact: true }),
    password: form.getByLabel('Password', { exact: true }),
    generate: form.getByRole('button', { name: 'Generate', exact: true }),
    add: form.getByRole('button', { name: 'Add', exact: true }),
    formAlert: form.getByRole('alert'),
    status: page.getByRole('status'),
    newPassword: dialog.getByLabel('New password', { exact: true }),
    dialogGenerate: dialog.getByRole('button', { name: 'Generate', exact: true }),
    save: dialog.getByRole('button', { name: 'Save', exact: true }),
    cancel: dialog.getByRole('button', { name: 'Cancel', exact: true }),
    settings: page.getByRole('region', { name: 'Settings', exact: true }),
  };
}

/** fetch() from inside the page (same origin, with the session cookie). */
function pageFetch(page, url, init = {}) {
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

/**
 * Chromium logs every 4xx answer to fetch() as a console error, and the
 * harness only expects 401/403/429. This file provokes a 422 (an invalid
 * username) and a 409 (an admin disabling themselves) on purpose: drop those
 * lines, and only those.
 */
function allowStatus(t, ...statuses) {
  const re = new RegExp(`Failed to load resource: the server responded with a status of (${statuses.join('|')})\\b`);
  for (const w of t.watchers) w.problems = w.problems.filter((p) => !re.test(p));
}

/** A fresh context that tries to sign in; returns the page, on /inbox or with the error shown. */
async function trySignIn(t, username, password, label) {
  const page = await t.newPage(undefined, label);
  await page.goto('/login');
  const l = loginPage(page);
  await l.username.fill(username);
  await l.password.fill(password);
  await l.signIn.click();
  return page;
}

async function noSideScroll(page, where) {
  const m = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.equal(m.innerWidth, PHONE.width, `${where}: the viewport is ${PHONE.width} px`);
  assert.ok(
    m.scrollWidth <= PHONE.width && m.bodyScrollWidth <= PHONE.width,
    `${where}: the page scrolls sideways at ${PHONE.width} px (${JSON.stringify(m)})`,
  );
}

// ---------------------------------------------------------------------------

h.test('a signed-out visitor to /admin goes to sign in and back; staff see "Only an admin", fetch nothing and get 403', async (t) => {
  const page = await t.newPage(undefined, 'staff');
  await page.goto('/admin');
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/admin', 'the sign-in page comes back to /admin');

  const asked = [];
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    if (p.startsWith('/api/')) asked.push(`${r.method()} ${p}`);
  });
  const l = loginPage(page);
  await l.username.fill(USERNAME);
  await l.password.fill(PASSWORD);
  await l.signIn.click();
  await page.waitForURL((u) => u.pathname === '/admin');

  await expectVisible(page.getByText('Only an admin can manage staff accounts.', { exact: true }), 'the "Only an admin" message');
  await expectVisible(page.getByRole('link', { name: 'Back to the inbox' }), 'a link back to the inbox');
  assert.equal(await adminPage(page).table.count(), 0, 'no accounts table for staff');
  assert.equal(await adminPage(page).form.count(), 0, 'no "Add a staff member" form for staff');
  assert.deepEqual(
    asked.filter((a) => /\/api\/v1\/(users|settings)/.test(a)),
    [],
    `the page asked for admin data as staff (requests: ${asked.join(', ')})`,
  );

  const users = await pageFetch(page, '/api/v1/users');
  assert.equal(users.status, 403, `GET /api/v1/users as staff -> ${users.status} ${users.text}`);
  assert.equal(users.json?.error?.code, 'forbidden', users.text);
  const settings = await pageFetch(page, '/api/v1/settings');
  assert.equal(settings.status, 403, `GET /api/v1/settings as staff -> ${settings.status} ${settings.text}`);

  // Staff have no "Staff accounts" link in the inbox header.
  await page.getByRole('link', { name: 'Back to the inbox' }).click();
  await page.waitForURL((u) => u.pathname === '/inbox');
  await expectVisible(inboxPage(page).links, 'the inbox');
  await expectVisible(inboxPage(page).signOut, 'the inbox header');
  assert.equal(
    await page.getByRole('link', { name: 'Staff accounts' }).count(),
    0,
    'a staff member sees no "Staff accounts" link',
  );
});

h.test('an admin lists, adds, resets, disables, enables and promotes accounts', async (t) => {
  await ensureAdmin(t.srv);

  // Reception is signed in elsewhere before anything changes.
  const reception = await t.newPage(undefined, 'reception elsewhere');
  await signIn(reception);

  const page = await t.newPage(undefined, 'admin');
  const a = await openAdmin(page);
  assert.equal(await page.title(), 'Staff accounts · WalkEasy Nexus Clinic');
  await expectVisible(a.heading('Staff accounts'), 'the "Staff accounts" heading');
  await expectVisible(page.getByRole('link', { name: 'Inbox', exact: true }), 'the "Inbox" link back');
  await expectVisible(page.getByRole('button', { name: 'Sign out', exact: true }), '"Sign out"');
  await expectVisible(page.getByRole('banner').getByText(ADMIN_NAME, { exact: true }), 'the admin\'s name in the header');

  // The list: reception, and the admin as "you" with no way to lock themselves out.
  const recRow = a.row(USERNAME);
  await expectVisible(recRow, 'reception in the list');
  const headers = (await a.table.getByRole('columnheader').allTextContents()).map((s) => s.trim());
  assert.deepEqual(headers.slice(0, 5), ['Username', 'Name', 'Role', 'Status', 'Added'], `columns: ${headers}`);
  const cells = (await recRow.getByRole('cell').allTextContents()).map((s) => s.trim());
  const listed = (await t.srv.apiOk('GET', '/api/v1/users')).users;
  const recCreated = listed.find((u) => u.username === USERNAME).created_at;
  const added = new Intl.DateTimeFormat('en-AU', {
    day: 'numeric', month: 'short', year: 'numeric', timeZone: 'Australia/Sydney',
  }).format(new Date(recCreated));
  assert.deepEqual(cells.slice(0, 5), [USERNAME, 'Reception', 'Staff', 'Active', added], `reception's row: ${cells}`);
  await expectVisible(a.disable(USERNAME), `"Disable ${USERNAME}"`);
  await expectVisible(a.makeAdmin(USERNAME), `"Make admin: ${USERNAME}"`);

  const own = a.row(ADMIN);
  await expectText(own.getByRole('cell').first(), /^boss\s*you$/, { what: 'the admin\'s own row marked "you"' });
  assert.equal(await a.disable(ADMIN).count(), 0, 'the admin\'s own row offers no Disable');
  assert.equal(await a.makeStaff(ADMIN).count(), 0, 'the admin\'s own row offers no "Make staff"');
  assert.equal(await own.getByRole('button', { name: /disable|make staff/i }).count(), 0);
  // And the API refuses it anyway.
  const token = (await pageFetch(page, '/api/v1/session')).json.csrf_token;
  const self = await pageFetch(page, `/api/v1/users/${ADMIN}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token },
    body: JSON.stringify({ disabled: true }),
  });
  assert.equal(self.status, 409, `an admin disabling themselves -> ${self.status} ${self.text}`);
  assert.equal(self.json?.error?.code, 'own_account');

  // Add "podiatrist" with a generated password.
  await a.username.fill('podiatrist');
  await a.name.fill('Alex Chen');
  await a.role.selectOption('staff');
  await a.generate.click();
  const generated = await a.password.inputValue();
  assert.ok(generated.length >= 16, `a generated password of 16+ characters: ${JSON.stringify(generated)}`);
  assert.equal(await a.password.getAttribute('type'), 'text', 'the generated password is shown');
  await a.add.click();
  await expectVisible(a.status.filter({ hasText: 'Added podiatrist' }), '"Added podiatrist" in the status region');
  const podRow = a.row('podiatrist');
  await expectVisible(podRow, 'the new row');
  const podCells = (await podRow.getByRole('cell').allTextContents()).map((s) => s.trim());
  assert.deepEqual(podCells.slice(1, 4), ['Alex Chen', 'Staff', 'Active'], `podiatrist's row: ${podCells}`);
  const shown = page.getByRole('group', { name: 'Password for podiatrist' });
  await expectVisible(shown, 'the password to hand over');
  assert.ok((await shown.textContent()).includes(generated), 'the handed-over password is the generated one');
  assert.equal(await a.password.inputValue(), '', 'the form is empty for the next one');
  const stored = (await t.srv.apiOk('GET', '/api/v1/users')).users.find((u) => u.username === 'podiatrist');
  assert.deepEqual(
    { name: stored?.name, role: stored?.role, disabled: stored?.disabled },
    { name: 'Alex Chen', role: 'staff', disabled: false },
  );

  // The new person signs in with the password shown.
  const pod = await t.newPage(undefined, 'podiatrist');
  await signIn(pod, { username: 'podiatrist', password: generated });

  // Reset reception's password: their open session ends.
  await a.reset(USERNAME).click();
  await expectVisible(a.dialog, 'the reset dialog');
  await expectText(a.dialog.getByRole('heading'), `Reset password for ${USERNAME}`);
  // Escape closes it and gives the focus back.
  await page.keyboard.press('Escape');
  await expectHidden(a.dialog, 'the reset dialog after Escape');
  assert.ok(await a.reset(USERNAME).evaluate((el) => el === document.activeElement), 'the focus is back on the button');
  await a.reset(USERNAME).click();
  await expectVisible(a.newPassword, 'the "New password" box');
  await a.dialogGenerate.click();
  const fresh = await a.newPassword.inputValue();
  assert.ok(fresh.length >= 16, `a generated password: ${JSON.stringify(fresh)}`);
  await a.save.click();
  await expectHidden(a.dialog, 'the reset dialog after Save');
  await expectVisible(
    a.status.filter({ hasText: `New password saved for ${USERNAME}. They were signed out everywhere.` }),
    'the note that reception was signed out everywhere',
  );
  await expectVisible(page.getByRole('group', { name: `Password for ${USERNAME}` }).getByText(fresh), 'the new password to hand over');

  // Reception's next action sends them to sign in.
  await inboxPage(reception).link('Jordan Lee').first().click();
  await reception.waitForURL((u) => u.pathname === '/login');
  await reception.reload();
  await expectVisible(loginPage(reception).username, 'the sign-in form for reception');
  await signIn(reception, { password: fresh });

  // Disable podiatrist: signed out, and cannot sign in.
  await a.disable('podiatrist').click();
  await expectVisible(a.enable('podiatrist'), '"Enable podiatrist" after disabling');
  assert.ok(await a.enable('podiatrist').evaluate((el) => el === document.activeElement), 'the focus stays on the toggled button');
  await expectText(podRow.getByRole('cell').nth(3), 'Disabled');
  await expectVisible(a.status.filter({ hasText: 'Disabled podiatrist' }), '"Disabled podiatrist"');
  await pod.reload();
  await pod.waitForURL((u) => u.pathname === '/login');
  const refused = await trySignIn(t, 'podiatrist', generated, 'podiatrist while disabled');
  await expectText(loginPage(refused).alert, 'Wrong username or password.', { what: 'the sign-in error for a disabled account' });
  assert.equal(new URL(refused.url()).pathname, '/login');

  // Enable again: they can sign in.
  await a.enable('podiatrist').click();
  await expectVisible(a.disable('podiatrist'), '"Disable podiatrist" after enabling');
  await expectText(podRow.getByRole('cell').nth(3), 'Active');
  await signIn(pod, { username: 'podiatrist', password: generated });

  // Roles.
  await a.makeAdmin('podiatrist').click();
  await expectVisible(a.makeStaff('podiatrist'), '"Make staff: podiatrist"');
  await expectText(podRow.getByRole('cell').nth(2), 'Admin');
  await expectVisible(a.status.filter({ hasText: 'podiatrist is now an admin.' }), 'the role change announced');
  assert.equal((await t.srv.apiOk('GET', '/api/v1/users')).users.find((u) => u.username === 'podiatrist').role, 'admin');
  await pod.reload();
  await expectVisible(pod.getByRole('link', { name: 'Staff accounts', exact: true }), 'the link for the new admin');
  await a.makeStaff('podiatrist').click();
  await expectVisible(a.makeAdmin('podiatrist'), '"Make admin: podiatrist" again');
  await expectText(podRow.getByRole('cell').nth(2), 'Staff');

  // An invalid username: the server's own words in the alert.
  const bad = 'Bad Name';
  const want = await t.srv.api('POST', '/api/v1/users', { username: bad, password: 'long-enough-password' });
  assert.equal(want.status, 422, want.text);
  assert.equal(want.json.error.code, 'invalid_username');
  await a.username.fill(bad);
  await a.generate.click();
  await a.add.click();
  const alert = a.formAlert.filter({ hasText: /\S/ });
  await expectVisible(alert, 'the error for an invalid username');
  const shownMsg = (await alert.textContent()).trim().toLowerCase().replace(/\.$/, '');
  assert.equal(shownMsg, want.json.error.message.toLowerCase().replace(/\.$/, ''), 'the alert shows the server\'s message');
  assert.ok(await a.username.evaluate((el) => el === document.activeElement), 'the focus is on "Username"');
  assert.equal(await a.row(bad).count(), 0, 'no row for the invalid username');

  allowStatus(t, 409, 422);
  // Put reception's password back for the other tests.
  await t.srv.apiOk('PATCH', `/api/v1/users/${USERNAME}`, { password: PASSWORD });
});

h.test('the settings are shown read-only, with where to change them and no secret', async (t) => {
  await ensureAdmin(t.srv);
  const page = await t.newPage(undefined, 'admin');
  const a = await openAdmin(page);
  await expectVisible(a.heading('Settings'), 'the "Settings" heading');
  const s = a.settings;
  const value = (term) => s.getByRole('term').filter({ hasText: new RegExp(`^${term}$`) }).locator('xpath=following-sibling::dd[1]');
  await expectText(value('Name'), 'WalkEasy Nexus Clinic');
  await expectText(value('Number'), '+61488868772');
  await expectText(value('Time zone'), 'Australia/Sydney');
  await expectText(value('Provider'), 'sim');
  await expectText(value('What it can do'), 'SMS out, SMS in, MMS in; MMS out: no');
  await expectText(value('Session ends'), 'after 30 minutes without use, or 12 hours after signing in');
  await expectText(value('Account lock'), /after 5 failed sign-ins in a row, for 1 minute/);
  await expectText(value('Largest file'), '10.0 MB');
  await expectText(value('Files per message'), '10');
  const text = await s.textContent();
  assert.match(text, /lyrebird check-config/, 'says how settings are checked');
  assert.match(text, /without a configuration file/, 'the demo has no configuration file');
  assert.ok(!text.includes(API_KEY), 'the API key is not shown');
  assert.equal(await s.getByRole('textbox').count(), 0, 'nothing to edit');
});

h.test('axe finds no serious or critical problem on /admin at 1280 and 360 px; no sideways scroll at 360 px (screenshots)', async (t) => {
  await ensureAdmin(t.srv);
  // A few more accounts, one of them disabled, for a fuller table.
  for (const [username, name, role] of [
    ['nurse.kim', 'Kim Nguyen', 'staff'],
    ['practice.manager', 'Jo Alvarez-Whitfield', 'admin'],
  ]) {
    const r = await t.srv.api('POST', '/api/v1/users', { username, name, role, password: 'long-enough-password' });
    assert.ok(r.status === 201 || r.status === 409, `add ${username} -> ${r.status} ${r.text}`);
  }
  await t.srv.apiOk('PATCH', '/api/v1/users/nurse.kim', { disabled: true });

  const problems = [];
  for (const [vpName, viewport, shot] of [
    ['1280', DESKTOP, 'admin-desktop.png'],
    ['360', PHONE, 'admin-phone.png'],
  ]) {
    const ctx = await t.newContext({ viewport });
    const page = await t.newPage(ctx, `${vpName} px`);
    const a = await openAdmin(page);
    await expectVisible(a.row('nurse.kim'), 'nurse.kim in the list');
    await expectVisible(a.settings.getByRole('term').first(), 'the settings');
    problems.push(...(await axeViolations(page, `/admin at ${vpName} px`)));
    if (viewport === PHONE) {
      await noSideScroll(page, '/admin');
      // Every row's buttons are on screen (the rows are not cut off).
      for (const b of await a.table.getByRole('button').all()) {
        const box = await b.boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width, `${await b.getAttribute('aria-label')} fits in 360 px`);
      }
    }
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, shot);

    // With an error in the form.
    await a.username.fill('Not Valid!');
    await a.password.fill('long-enough-password');
    await a.add.click();
    await expectVisible(a.formAlert.filter({ hasText: /\S/ }), 'the error for an invalid username');
    problems.push(...(await axeViolations(page, `/admin with a form error at ${vpName} px`)));
    if (viewport === PHONE) await noSideScroll(page, '/admin with a form error');

    // With the reset dialog open.
    await a.reset('nurse.kim').click();
    await expectVisible(a.newPassword, 'the "New password" box');
    await a.dialogGenerate.click();
    problems.push(...(await axeViolations(page, `/admin with the reset dialog at ${vpName} px`)));
    if (viewport === PHONE) await noSideScroll(page, '/admin with the reset dialog');
    await a.cancel.click();
    await expectHidden(a.dialog, 'the reset dialog after Cancel');

    // What staff see.
    const staffCtx = await t.newContext({ viewport });
    const staff = await t.newPage(staffCtx, `staff at ${vpName} px`);
    await signIn(staff);
    await staff.goto('/admin');
    await expectVisible(staff.getByText('Only an admin can manage staff accounts.'), 'the "Only an admin" message');
    problems.push(...(await axeViolations(staff, `/admin as staff at ${vpName} px`)));
    if (viewport === PHONE) await noSideScroll(staff, '/admin as staff');
    await ctx.close();
    await staffCtx.close();
  }
  allowStatus(t, 422);
  assert.deepEqual(problems, [], `axe found serious/critical violations:\n${problems.join('\n')}`);
});

h.test('the "Staff accounts" link also fits the inbox header at 360 px', async (t) => {
  await ensureAdmin(t.srv);
  const ctx = await t.newContext({ viewport: PHONE, hasTouch: true, isMobile: true });
  const page = await t.newPage(ctx, 'admin phone');
  await signIn(page, { username: ADMIN, password: ADMIN_PASSWORD });
  const link = page.getByRole('banner').getByRole('link', { name: 'Staff accounts', exact: true });
  await expectVisible(link, 'the "Staff accounts" link at 360 px');
  const box = await link.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, `the link is on screen: ${JSON.stringify(box)}`);
  await noSideScroll(page, '/inbox as an admin');
  await waitFor(async () => (await page.getByRole('button', { name: 'Sign out', exact: true }).boundingBox())?.width > 0);
  await link.tap();
  await page.waitForURL((u) => u.pathname === '/admin');
  await noSideScroll(page, '/admin');
});
