// Never missing a reply: with the inbox in the background, the unread count
// in the tab title, a badge on the favicon and a desktop notification that
// names the patient but not what they wrote (unless she turns that on); a
// reply in the open conversation is read at once only while the window has
// the focus.
//
// The background is emulated: an init script makes document.hidden,
// visibilityState and hasFocus() follow window.__away, and setAway() fires
// the events a real tab switch fires. Notifications are captured by a
// stand-in for window.Notification that keeps the browser's permission.
import assert from 'node:assert/strict';

import {
  DESKTOP,
  expectHidden,
  expectText,
  expectVisible,
  harness,
  inboxPage,
  openConversation,
  signIn,
  screenshot,
  sleep,
  waitFor,
} from './lib/browser.mjs';
import { JORDAN, PRIYA } from './lib/lyrebird.mjs';

const h = harness('notify');

function background({ permission } = {}) {
  window.__away = false;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__away });
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (window.__away ? 'hidden' : 'visible'),
  });
  Document.prototype.hasFocus = () => !window.__away;

  const Real = window.Notification;
  window.__notes = [];
  window.__asked = 0;
  window.__perm = permission || null; // null: what the browser says
  window.__tones = 0;
  class Captured {
    constructor(title, options = {}) {
      this.title = title;
      this.body = options.body;
      window.__notes.push({ title, body: options.body, tag: options.tag });
      (window.__shown ||= []).push(this);
    }
    close() {}
    static get permission() {
      return window.__perm || (Real ? Real.permission : 'denied');
    }
    static async requestPermission() {
      window.__asked += 1;
      window.__perm = 'granted';
      return 'granted';
    }
  }
  window.Notification = Captured;
  // A silent WebAudio that counts the tones started.
  window.AudioContext = class {
    constructor() {
      this.state = 'running';
      this.currentTime = 0;
      this.destination = {};
    }
    resume() {}
    createOscillator() {
      return {
        type: '',
        frequency: { setValueAtTime() {} },
        connect: (x) => x,
        start: () => {
          window.__tones += 1;
        },
        stop() {},
      };
    }
    createGain() {
      return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (x) => x };
    }
  };
}

async function setAway(page, away) {
  await page.evaluate((v) => {
    window.__away = v;
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event(v ? 'blur' : 'focus'));
  }, away);
}

const favicon = (page) => page.evaluate(() => document.querySelector('link[rel="icon"]').getAttribute('href'));

// The colour at the badge's centre of the favicon on show.
async function badgePixel(page) {
  return page.evaluate(async () => {
    const img = new Image();
    img.src = document.querySelector('link[rel="icon"]').href;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 64;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0, 64, 64);
    return Array.from(g.getImageData(36, 10, 1, 1).data);
  });
}

async function inbox(t, opts) {
  const ctx = await t.newContext({ viewport: DESKTOP });
  if (opts.grant) await ctx.grantPermissions(['notifications'], { origin: t.srv.base });
  await ctx.addInitScript(background, { permission: opts.permission });
  const page = await t.newPage(ctx, 'inbox');
  await signIn(page);
  return page;
}

h.test('in the background: the count in the title, a favicon badge, a notification naming the patient only', async (t) => {
  const page = await inbox(t, { grant: true });
  const ib = inboxPage(page);
  await openConversation(page, 'Jordan Lee');
  const alerts = page.getByText('Alerts', { exact: true });
  await alerts.click();
  await expectText(page.locator('#notify-status'), 'Desktop notifications are allowed in this browser.');
  await expectHidden(page.getByRole('button', { name: 'Turn on notifications' }), 'no prompt button once allowed');
  const showText = page.getByRole('checkbox', { name: 'Show the message text in notifications' });
  assert.equal(await showText.isChecked(), false, 'the text is off by default');
  assert.match(await showText.evaluate((el) => document.getElementById(el.getAttribute('aria-describedby')).textContent),
    /other people may read it/, 'the reason is given');
  await screenshot(page, 'alerts-desktop.png');
  const sound = page.getByRole('checkbox', { name: 'Play a sound for new messages' });
  assert.equal(await sound.isChecked(), false, 'the sound is off by default');
  await page.keyboard.press('Escape');
  const title = await page.title();
  assert.equal(title, 'Jordan Lee · Inbox');
  assert.equal(await favicon(page), '/static/favicon.svg');

  // Another tab takes over; Priya writes.
  await setAway(page, true);
  const secret = 'My test results were positive for something private';
  await t.srv.handsetSend(PRIYA, secret);
  await waitFor(async () => (await page.title()) === `(1) ${title}`, { what: 'the count in the title' });
  await waitFor(async () => (await favicon(page)).startsWith('data:image/png'), { what: 'the badged favicon' });
  const [r, g, b] = await badgePixel(page);
  assert.ok(r > 180 && g < 90 && b < 90, `the badge is red: ${[r, g, b]}`);
  const notes = await waitFor(async () => {
    const n = await page.evaluate(() => window.__notes);
    return n.length ? n : null;
  }, { what: 'a notification' });
  assert.equal(notes.length, 1, JSON.stringify(notes));
  assert.equal(notes[0].title, 'New message from Priya Sharma');
  assert.ok(!JSON.stringify(notes).includes('positive'), `no message text: ${JSON.stringify(notes)}`);

  // Back: the title and the icon are the page's own again, the list still says unread.
  await setAway(page, false);
  await waitFor(async () => (await page.title()) === title, { what: 'the plain title' });
  await waitFor(async () => (await favicon(page)) === '/static/favicon.svg', { what: 'the plain favicon' });
  await expectText(ib.convItem('Priya Sharma').locator('.unread'), /^1\b/);

  // Clicking a notification opens the patient's conversation.
  await setAway(page, true);
  await page.evaluate(() => window.__shown[0].onclick());
  await setAway(page, false);
  await expectText(ib.heading, 'Priya Sharma', { what: 'the conversation the notification named' });
  await openConversation(page, 'Jordan Lee');

  // She chooses to see the text, and a sound; kept for the next visit.
  await alerts.click();
  await showText.check();
  await sound.check();
  assert.ok((await page.evaluate(() => window.__tones)) >= 1, 'a sample tone on turning the sound on');
  await page.keyboard.press('Escape');
  const tones = await page.evaluate(() => window.__tones);
  await setAway(page, true);
  await t.srv.handsetSend(PRIYA, 'Can I come at 3?');
  await waitFor(async () => (await page.title()) === `(1) ${title}`, { what: 'one unread (the first was read)' });
  const second = await waitFor(async () => (await page.evaluate(() => window.__notes))[1], { what: 'a second notification' });
  assert.deepEqual([second.title, second.body], ['New message from Priya Sharma', 'Can I come at 3?']);
  assert.ok((await page.evaluate(() => window.__tones)) > tones, 'a tone for the new message');
  await setAway(page, false);
  await page.reload();
  await expectVisible(ib.links, 'the list after a reload');
  await alerts.click();
  assert.equal(await showText.isChecked(), true, 'the choice is remembered');
  assert.equal(await sound.isChecked(), true);

  // A notification that is not allowed never shows: no count is lost though.
  await page.evaluate(() => {
    window.__perm = 'denied';
  });
  await setAway(page, true);
  await t.srv.handsetSend(JORDAN, 'Running late');
  await waitFor(async () => /^\(\d\) /.test(await page.title()), { what: 'the count with notifications blocked' });
  await sleep(300);
  assert.equal((await page.evaluate(() => window.__notes)).length, 0, 'no notification when the browser says no');
  await setAway(page, false);
});

h.test('notifications are asked for only with the button', async (t) => {
  const page = await inbox(t, { permission: 'default' });
  await sleep(300);
  assert.equal(await page.evaluate(() => window.__asked), 0, 'no prompt when the inbox opens');
  await page.getByText('Alerts', { exact: true }).click();
  await expectText(page.locator('#notify-status'), 'Desktop notifications are off.');
  const turnOn = page.getByRole('button', { name: 'Turn on notifications', exact: true });
  await turnOn.click();
  assert.equal(await page.evaluate(() => window.__asked), 1, 'asked once, on the click');
  await expectText(page.locator('#notify-status'), 'Desktop notifications are allowed in this browser.');
  await expectHidden(turnOn, 'the button once allowed');
  await expectVisible(page.getByRole('checkbox', { name: 'Desktop notifications' }), 'the on/off switch');
});

h.test('a reply in the open conversation is read while the window has focus, and waits while it has not', async (t) => {
  const page = await inbox(t, { grant: true });
  const ib = inboxPage(page);
  await openConversation(page, 'Priya Sharma');
  const unread = async () => (await t.srv.conversation(PRIYA)).unread;
  await waitFor(async () => (await unread()) === 0, { what: 'nothing unread to start' });

  // Away: shown in the thread, but still unread, and counted in the title.
  await setAway(page, true);
  await t.srv.handsetSend(PRIYA, 'Sent while you were away');
  await expectVisible(ib.msgWithText('Sent while you were away', 'inbound'), 'the reply in the open thread');
  await waitFor(async () => (await page.title()) === '(1) Priya Sharma · Inbox', { what: 'the count in the title' });
  await sleep(500);
  assert.equal(await unread(), 1, 'unread on the server while nobody looks');

  // Back: read.
  await setAway(page, false);
  await waitFor(async () => (await unread()) === 0, { what: 'read once the window has the focus again' });
  await waitFor(async () => (await page.title()) === 'Priya Sharma · Inbox', { what: 'no count' });

  // With the focus: read as it arrives, without a click.
  await t.srv.handsetSend(PRIYA, 'Sent while you were looking');
  await expectVisible(ib.msgWithText('Sent while you were looking', 'inbound'), 'the second reply');
  await waitFor(async () => {
    const c = await t.srv.conversation(PRIYA);
    return c.last_message.text === 'Sent while you were looking' && c.unread === 0;
  }, { what: 'read at once with the focus' });
  assert.equal((await page.evaluate(() => window.__notes)).length, 1, 'a notification only for the one while away');
});
