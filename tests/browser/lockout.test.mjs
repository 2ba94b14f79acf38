// Wrong passwords and the account lock, on a server of its own (the lock
// lives in that process's memory) that locks after 3 failures for 4 s.
import assert from 'node:assert/strict';

import { expectText, expectVisible, harness, inboxPage, loginPage, sleep } from './lib/browser.mjs';
import { PASSWORD, USERNAME } from './lib/lyrebird.mjs';

const MAX_FAILURES = 3;
const LOCK_SECONDS = 4;
const h = harness('lockout', {
  env: {
    LYREBIRD_WEB_LOGIN_MAX_FAILURES: String(MAX_FAILURES),
    LYREBIRD_WEB_LOGIN_LOCKOUT_SECONDS: String(LOCK_SECONDS),
  },
});

/** Fills the form, presses "Sign in", returns the POST /api/v1/session response. */
async function attempt(page, password, username = USERNAME) {
  const l = loginPage(page);
  await l.username.fill(username);
  await l.password.fill(password);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/session' && r.request().method() === 'POST'),
    l.signIn.click(),
  ]);
  let body = null;
  try {
    body = await resp.json();
  } catch {
    /* not JSON */
  }
  return { status: resp.status(), body, retryAfter: resp.headers()['retry-after'] };
}

async function alertText(page, what) {
  const alert = loginPage(page).alert.filter({ hasText: /\S/ });
  await expectVisible(alert, what);
  return (await alert.first().textContent()).trim();
}

h.test('a wrong password shows an error and stays on /login', async (t) => {
  const page = await t.newPage();
  await page.goto('/login');
  // A wrong password for an account that is not the one locked below.
  const r = await attempt(page, 'not-the-password-123', 'nobody-here');
  assert.equal(r.status, 401, `wrong login -> ${r.status} ${JSON.stringify(r.body)}`);
  assert.equal(r.body?.error?.code, 'invalid_login');
  const msg = await alertText(page, 'the error after a wrong password');
  assert.ok(msg.length > 0);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal((await page.request.get('/api/v1/session')).status(), 401, 'not signed in');
});

h.test('repeated wrong passwords lock the account, even against the right one, until the lock passes', async (t) => {
  const page = await t.newPage();
  await page.goto('/login');
  let wrongMsg = null;
  for (let i = 1; i <= MAX_FAILURES; i++) {
    const r = await attempt(page, `wrong-password-${i}-xyz`);
    assert.equal(r.status, 401, `wrong password #${i} -> ${r.status} ${JSON.stringify(r.body)} (want 401)`);
    assert.equal(r.body?.error?.code, 'invalid_login');
    wrongMsg = await alertText(page, `the error after wrong password #${i}`);
    assert.equal(new URL(page.url()).pathname, '/login');
  }

  // Locked now: the next try is refused without checking the password.
  const locked = await attempt(page, 'wrong-password-again-xyz');
  assert.equal(locked.status, 429, `try #${MAX_FAILURES + 1} -> ${locked.status} ${JSON.stringify(locked.body)}`);
  assert.equal(locked.body?.error?.code, 'too_many_attempts');
  assert.match(String(locked.retryAfter), /^\d+$/, 'a 429 carries Retry-After');
  const lockedMsg = await expectText(loginPage(page).alert.filter({ hasText: /\S/ }).first(), /try again|later|too many|wait/i, {
    what: 'the error after too many tries (says to try again later)',
  }).then(() => alertText(page, 'the lock message'));
  assert.notEqual(lockedMsg, wrongMsg, 'the lock message differs from the wrong-password message');

  // The right password is refused as well while the lock lasts.
  const right = await attempt(page, PASSWORD);
  assert.equal(right.status, 429, `the right password while locked -> ${right.status} ${JSON.stringify(right.body)}`);
  assert.equal(right.body?.error?.code, 'too_many_attempts');
  assert.match(await alertText(page, 'the lock message for the right password'), /try again|later|too many|wait/i);
  assert.equal(new URL(page.url()).pathname, '/login', 'still on /login');
  assert.equal((await page.request.get('/api/v1/session')).status(), 401, 'not signed in while locked');

  // Once Retry-After has passed, the right password works.
  const wait = Number(right.retryAfter);
  assert.ok(wait >= 1 && wait <= 4 * LOCK_SECONDS, `Retry-After ${right.retryAfter} is within the configured lock`);
  await sleep(wait * 1000 + 250);
  const ok = await attempt(page, PASSWORD);
  assert.equal(ok.status, 200, `the right password after the lock -> ${ok.status} ${JSON.stringify(ok.body)}`);
  await page.waitForURL((u) => u.pathname === '/inbox');
  await expectVisible(inboxPage(page).link('Jordan Lee'), 'the inbox after the lock passed');
});
