// Chromium (through playwright-core), a per-file harness that owns one
// lyrebird and one browser, page watchers that fail a test on console errors,
// CSP violations and dialogs, and the pages' locators (by the roles, names and
// classes that docs/web.md promises, nothing else).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

import { PASSWORD, TEST_DIR, USERNAME, startLyrebird } from './lyrebird.mjs';

export const CHROMIUM = process.env.LYREBIRD_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };
export const TIMEOUT = 10_000;

export const SCREENSHOTS = path.resolve(
  process.env.LYREBIRD_SCREENSHOTS || path.resolve(TEST_DIR, '../../build/screenshots'),
);
const FAILURE_SHOTS = path.join(os.tmpdir(), 'lyrebird-browser-failures');

const require = createRequire(import.meta.url);
let axeSource = null;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Launches Chromium. playwright-core gives every launch a fresh temporary profile. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/**
 * Polls fn until it returns a truthy value (which is returned) without
 * throwing. On timeout throws the last error, or an AssertionError naming
 * `what` and the last value.
 */
export async function waitFor(fn, { timeout = TIMEOUT, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastErr = null;
  let last;
  for (;;) {
    try {
      last = await fn();
      lastErr = null;
      if (last) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() >= deadline) {
      if (lastErr) {
        lastErr.message = `timed out after ${timeout} ms waiting for ${what}: ${lastErr.message}`;
        throw lastErr;
      }
      throw new assert.AssertionError({
        message: `timed out after ${timeout} ms waiting for ${what}; last value: ${JSON.stringify(last)}`,
      });
    }
    await sleep(interval);
  }
}

/** Waits until the locator's (single) element's trimmed textContent satisfies want (string = equal, RegExp = match). */
export async function expectText(locator, want, { timeout = TIMEOUT, what } = {}) {
  let last = null;
  try {
    return await waitFor(
      async () => {
        last = (await locator.textContent({ timeout: 500 }))?.trim() ?? null;
        return want instanceof RegExp ? want.test(last ?? '') : last === want;
      },
      { timeout, what: what || `text ${want}` },
    );
  } catch (e) {
    throw new assert.AssertionError({
      message: `${what || String(locator)}: text never became ${want} within ${timeout} ms; last text: ${JSON.stringify(last)}`,
    });
  }
}

export async function expectVisible(locator, what, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'visible', timeout });
  } catch (e) {
    throw new assert.AssertionError({
      message: `${what || String(locator)} not visible within ${timeout} ms (${e.message.split('\n')[0]})`,
    });
  }
}

export async function expectHidden(locator, what, timeout = TIMEOUT) {
  try {
    await locator.first().waitFor({ state: 'hidden', timeout });
  } catch (e) {
    throw new assert.AssertionError({
      message: `${what || String(locator)} still visible after ${timeout} ms`,
    });
  }
}

/** Waits until img has loaded with a real picture; returns its natural size. */
export async function expectImageLoaded(img, what = 'image', timeout = TIMEOUT) {
  await expectVisible(img, what, timeout);
  let last = null;
  try {
    return await waitFor(
      async () => {
        last = await img.first().evaluate((el) => ({
          complete: el.complete,
          naturalWidth: el.naturalWidth,
          naturalHeight: el.naturalHeight,
          src: el.currentSrc || el.src,
        }));
        return last.complete && last.naturalWidth > 0 ? last : null;
      },
      { timeout, what },
    );
  } catch {
    throw new assert.AssertionError({
      message: `${what} never loaded (naturalWidth > 0) within ${timeout} ms; last: ${JSON.stringify(last)}`,
    });
  }
}

// Chromium logs every 4xx answer to fetch() as a console error; the pages get
// 401 (not signed in / wrong password), 403 (the CSRF probe) and 429 (locked)
// on purpose.
const EXPECTED_CONSOLE = [/^Failed to load resource: the server responded with a status of (401|403|429)\b/];

/** Records console errors, uncaught exceptions, CSP violations and dialogs of a page. */
export function watchPage(page, label) {
  const w = { label, page, problems: [], dialogs: [], allowed: [] };
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (EXPECTED_CONSOLE.some((re) => re.test(text))) return;
    const loc = msg.location();
    const where = loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : '';
    if (w.allowed.some((re) => re.test(`${text}${where}`))) return;
    w.problems.push(`console error on ${safeUrl(page)}: ${text}${where}`);
  });
  page.on('pageerror', (err) => {
    w.problems.push(`uncaught exception on ${safeUrl(page)}: ${err.stack || err.message}`);
  });
  page.on('dialog', async (d) => {
    w.dialogs.push(`${d.type()} dialog on ${safeUrl(page)}: ${JSON.stringify(d.message())}`);
    try {
      await d.dismiss();
    } catch {
      /* page gone */
    }
  });
  return w;
}

function safeUrl(page) {
  try {
    return page.url();
  } catch {
    return '?';
  }
}

/** What one test gets: the server, and pages whose errors are checked when it ends. */
export class TestCtx {
  constructor(h, name) {
    this.h = h;
    this.name = name;
    this.srv = h.srv;
    this.browser = h.browser;
    this.contexts = [];
    this.watchers = [];
  }

  async newContext(opts = {}) {
    const ctx = await this.browser.newContext({ viewport: DESKTOP, baseURL: this.srv.base, ...opts });
    ctx.setDefaultTimeout(TIMEOUT);
    ctx.setDefaultNavigationTimeout(TIMEOUT);
    this.contexts.push(ctx);
    return ctx;
  }

  /** A page in ctx (a new context when omitted), watched for errors. */
  async newPage(ctx, label) {
    ctx = ctx || (await this.newContext());
    const page = await ctx.newPage();
    this.watchers.push(watchPage(page, label || `page ${this.watchers.length + 1}`));
    return page;
  }

  /**
   * Console errors this page is expected to log, on top of the usual 401/403/429
   * (e.g. /^Failed to load resource: .* status of 410\b/ for a page that must answer 410).
   * A pattern is matched against the text followed by " (<url>:<line>)".
   */
  allowConsole(page, ...patterns) {
    const w = this.watchers.find((x) => x.page === page);
    if (!w) throw new Error('allowConsole: not a page of this test');
    w.allowed.push(...patterns);
  }

  problems() {
    const out = [];
    for (const w of this.watchers) {
      out.push(...w.problems.map((p) => `[${w.label}] ${p}`));
      out.push(...w.dialogs.map((d) => `[${w.label}] unexpected ${d}`));
    }
    return out;
  }

  dialogs() {
    return this.watchers.flatMap((w) => w.dialogs);
  }

  async close() {
    for (const c of this.contexts) {
      try {
        await c.close();
      } catch {
        /* already closed */
      }
    }
  }

  async failureShots() {
    const saved = [];
    fs.mkdirSync(FAILURE_SHOTS, { recursive: true });
    let i = 0;
    for (const w of this.watchers) {
      i++;
      try {
        if (w.page.isClosed()) continue;
        const file = path.join(
          FAILURE_SHOTS,
          `${this.h.name}-${this.name.replace(/[^a-z0-9]+/gi, '_').slice(0, 60)}-${i}.png`,
        );
        await w.page.screenshot({ path: file, fullPage: true, timeout: 3000 });
        saved.push(`${file} (${w.label}, ${w.page.url()})`);
      } catch {
        /* best effort */
      }
    }
    return saved;
  }
}

/**
 * One lyrebird and one Chromium for a test file.
 *
 *   const h = harness('messaging', { env: {...} });
 *   h.test('sends', async (t) => { const page = await t.newPage(); ... });
 *
 * Every h.test fails when one of its pages logged a console error, threw,
 * violated the CSP or opened a dialog; a failure prints the server's stderr
 * tail, those problems and screenshots of the open pages.
 */
export function harness(name, { env = {}, lazy = false } = {}) {
  const h = { name, srv: null, browser: null };
  h.setup = async () => {
    if (h.srv) return;
    h.srv = await startLyrebird({ name, env });
    h.browser = await launchBrowser();
  };
  before(async () => {
    if (!lazy) await h.setup();
  });
  after(async () => {
    if (h.browser) await h.browser.close();
    if (h.srv) await h.srv.stop();
  });
  h.test = (title, fn, opts = {}) =>
    test(title, { timeout: 90_000, ...opts }, async () => {
      await h.setup();
      const t = new TestCtx(h, title);
      try {
        await fn(t);
        const problems = t.problems();
        assert.deepEqual(problems, [], `the pages reported problems:\n${problems.join('\n')}`);
      } catch (e) {
        h.srv.keep = true; // keep its data dir and logs for a look
        const shots = await t.failureShots();
        const problems = t.problems();
        const diag = [
          problems.length ? `---- page problems ----\n${problems.join('\n')}` : '',
          shots.length ? `---- screenshots ----\n${shots.join('\n')}` : '',
          `---- lyrebird stderr (tail, ${h.srv.stderrPath}) ----\n${h.srv.stderrTail(3000)}`,
        ]
          .filter(Boolean)
          .join('\n');
        process.stderr.write(`\n#### ${name} / ${title} failed\n${diag}\n`);
        throw e;
      } finally {
        await t.close();
      }
    });
  return h;
}

/** Saves a PNG under build/screenshots (or $LYREBIRD_SCREENSHOTS). */
export async function screenshot(page, file) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const p = path.join(SCREENSHOTS, file);
  await page.screenshot({ path: p, fullPage: false });
  return p;
}

// -- axe -----------------------------------------------------------------------

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, which
 * the page's CSP does not govern) and returns the serious and critical
 * violations, formatted.
 */
export async function axeViolations(page, label) {
  axeSource ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const res = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  return res.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${label}: [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes
          .slice(0, 8)
          .map((n) => `    ${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ')}`)
          .join('\n'),
    );
}

// -- the pages -------------------------------------------------------------------

export function loginPage(page) {
  return {
    username: page.getByRole('textbox', { name: 'Username', exact: true }),
    password: page.getByLabel('Password', { exact: true }),
    signIn: page.getByRole('button', { name: 'Sign in', exact: true }),
    alert: page.getByRole('alert'),
  };
}

export function inboxPage(page) {
  const nav = page.getByRole('navigation', { name: 'Conversations' });
  const main = page.getByRole('main');
  const thread = page.getByRole('list', { name: 'Messages', exact: true });
  const form = page.getByRole('form', { name: 'Send a message' });
  return {
    nav,
    main,
    thread,
    form,
    signOut: page.getByRole('button', { name: 'Sign out', exact: true }),
    search: nav.getByRole('searchbox', { name: 'Search conversations' }),
    links: nav.getByRole('link'),
    link: (name) => nav.getByRole('link', { name }),
    /** The list item of the conversation list that holds the link to `name`. */
    convItem: (name) => nav.getByRole('listitem').filter({ has: page.getByRole('link', { name }) }),
    heading: main.getByRole('heading', { level: 2 }),
    editName: main.getByRole('button', { name: 'Edit name', exact: true }),
    nameBox: main.getByRole('textbox', { name: 'Patient name', exact: true }),
    saveName: main.getByRole('button', { name: 'Save', exact: true }),
    messages: thread.locator('li.msg'),
    msg: (id) => thread.locator(`li.msg[data-id="${id}"]`),
    msgWithText: (text, dir) =>
      thread.locator(`li.msg${dir ? '.' + dir : ''}`).filter({
        has: page.locator('.text').filter({ hasText: text }),
      }),
    messageBox: form.getByRole('textbox', { name: 'Message', exact: true }),
    attach: form.getByLabel('Attach image', { exact: true }),
    removeAttachment: form.getByRole('button', { name: 'Remove attachment', exact: true }),
    segments: form.locator('.segments'),
    send: form.getByRole('button', { name: 'Send', exact: true }),
    dialog: page.getByRole('dialog'),
  };
}

export function phonePage(page) {
  const list = page.getByRole('list', { name: 'Messages on this phone' });
  return {
    number: page.getByRole('textbox', { name: 'Handset number', exact: true }),
    open: page.getByRole('button', { name: 'Open', exact: true }),
    list,
    fromClinic: list.locator('.from-clinic'),
    fromPhone: list.locator('.from-phone'),
    reply: page.getByRole('textbox', { name: 'Reply', exact: true }),
    attach: page.getByLabel('Attach photo', { exact: true }),
    send: page.getByRole('button', { name: 'Send', exact: true }),
    switchedOff: page.getByRole('checkbox', { name: 'Switched off', exact: true }),
  };
}

/** Signs in through /login and waits for the inbox's conversation list. */
export async function signIn(page, { username = USERNAME, password = PASSWORD } = {}) {
  await page.goto('/login');
  const l = loginPage(page);
  await l.username.fill(username);
  await l.password.fill(password);
  await l.signIn.click();
  await page.waitForURL((u) => u.pathname === '/inbox', { timeout: TIMEOUT });
  await expectVisible(inboxPage(page).links, 'a conversation link in the inbox');
}

/** Opens the conversation named `name` in the inbox and waits for its heading. */
export async function openConversation(page, name) {
  const ib = inboxPage(page);
  await ib.link(name).first().click();
  await expectText(ib.heading, name, { what: 'the thread heading' });
  await expectVisible(ib.messageBox, 'the "Message" box');
}

/** Opens the phone simulator for a handset number. */
export async function openHandset(page, e164) {
  await page.goto('/sim/phone');
  const p = phonePage(page);
  await p.number.fill(e164);
  await p.open.click();
  await expectVisible(p.reply, 'the "Reply" box');
  return p;
}
