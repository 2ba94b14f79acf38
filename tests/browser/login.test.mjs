// Signing in and out through the pages.
import assert from 'node:assert/strict';

import {
  DESKTOP,
  PHONE,
  expectText,
  expectVisible,
  harness,
  inboxPage,
  loginPage,
  openConversation,
  screenshot,
  signIn,
} from './lib/browser.mjs';

const h = harness('login');
const path = (page) => new URL(page.url()).pathname;

h.test('the sign-in page shows its form (screenshots)', async (t) => {
  const page = await t.newPage();
  const resp = await page.goto('/login');
  assert.equal(resp.status(), 200, 'GET /login');
  const l = loginPage(page);
  await expectVisible(l.username, 'the "Username" box');
  await expectVisible(l.password, 'the "Password" box');
  await expectVisible(l.signIn, 'the "Sign in" button');
  assert.equal(await l.password.getAttribute('type'), 'password', '"Password" is a password box');
  assert.equal(await l.alert.filter({ hasText: /\S/ }).count(), 0, 'no error shown before trying');
  await screenshot(page, 'login-desktop.png');
  await page.setViewportSize(PHONE);
  await expectVisible(l.signIn, 'the "Sign in" button at 360 px');
  await screenshot(page, 'login-phone.png');
  await page.setViewportSize(DESKTOP);
});

h.test('/ and /inbox send a signed-out visitor to /login', async (t) => {
  const page = await t.newPage();
  await page.goto('/inbox');
  await page.waitForURL((u) => u.pathname === '/login');
  await expectVisible(loginPage(page).username, 'the sign-in form');
  await page.goto('/');
  await page.waitForURL((u) => u.pathname === '/login');
});

h.test('sign in, sign out, /inbox goes to /login, sign in again', async (t) => {
  const ctx = await t.newContext();
  const page = await t.newPage(ctx, 'inbox');
  await signIn(page);
  const ib = inboxPage(page);
  await expectVisible(ib.link('Jordan Lee'), 'Jordan Lee in the conversation list');
  await expectVisible(ib.link('Priya Sharma'), 'Priya Sharma in the conversation list');
  await openConversation(page, 'Jordan Lee');

  const cookies = await ctx.cookies();
  const session = cookies.find((c) => c.name === 'lyrebird_session');
  assert.ok(session, `a lyrebird_session cookie is set (cookies: ${cookies.map((c) => c.name).join(', ')})`);
  assert.equal(session.httpOnly, true, 'the session cookie is HttpOnly');
  assert.equal(session.sameSite, 'Lax', 'the session cookie is SameSite=Lax');
  assert.equal(
    await page.evaluate(() => document.cookie.includes('lyrebird_session')),
    false,
    'page scripts cannot read the session cookie',
  );

  await ib.signOut.click();
  await page.waitForURL((u) => u.pathname === '/login');
  await expectVisible(loginPage(page).username, 'the sign-in form after signing out');

  // The session is gone on the server, not only in this tab.
  const r = await page.request.get('/api/v1/session');
  assert.equal(r.status(), 401, `GET /api/v1/session after sign-out -> ${r.status()} ${await r.text()}`);

  await page.goto('/inbox');
  await page.waitForURL((u) => u.pathname === '/login');
  assert.equal(path(page), '/login');
  await expectVisible(loginPage(page).username, 'the sign-in form');

  await signIn(page);
  await openConversation(page, 'Priya Sharma');
  await expectText(ib.heading, 'Priya Sharma');
});

h.test('a second tab shares the session and is signed out with it', async (t) => {
  const ctx = await t.newContext();
  const a = await t.newPage(ctx, 'tab A');
  await signIn(a);
  const b = await t.newPage(ctx, 'tab B');
  await b.goto('/inbox');
  await expectVisible(inboxPage(b).link('Jordan Lee'), 'the inbox in a second tab');
  assert.equal(path(b), '/inbox');
  await inboxPage(a).signOut.click();
  await a.waitForURL((u) => u.pathname === '/login');
  await b.goto('/inbox');
  await b.waitForURL((u) => u.pathname === '/login');
});
