// The page a patient opens from a secure link says, on every page of a
// working link (not only when it has stopped working), until when the link
// works and the clinic's number to call (docs/links.md).
import assert from 'node:assert/strict';

import { PHONE, axeViolations, expectImageLoaded, expectText, expectVisible, harness, screenshot, waitFor } from './lib/browser.mjs';
import { makePng } from './lib/images.mjs';
import { JORDAN } from './lib/lyrebird.mjs';

const CLINIC_NAME = 'WalkEasy Nexus Clinic';
const CLINIC_PHONE = '(02) 5550 1234'; // the demo's [clinic] phone

// An SMS-only host, so images go as links; each link may be opened 3 times.
const h = harness('link-details', { env: { LYREBIRD_SIM_MMS_OUT: 'false', LYREBIRD_LINKS_MAX_VIEWS: '3' } });

/** The link's URL in the SMS the handset got, and the link as the API has it. */
async function sendLink(srv, text) {
  const sent = await srv.send(JORDAN, text, [makePng(320, 240, 4)]);
  const m = await waitFor(
    async () => {
      const x = await srv.message(sent.id);
      return x.route && x.route.link && x.status === 'delivered' ? x : null;
    },
    { what: 'the message delivered as a link' },
  );
  const sms = await waitFor(
    async () => {
      const r = await srv.raw('GET', `/sim/handsets/${encodeURIComponent(JORDAN)}/messages`);
      return (r.json.messages || []).find((x) => x.direction === 'received' && x.text.startsWith(text)) || null;
    },
    { what: 'the SMS on the handset' },
  );
  const url = /(https?:\/\/\S+\/v\/[A-Za-z0-9_-]+)$/.exec(sms.text);
  assert.ok(url, `the SMS ends with a link: ${sms.text}`);
  return { url: url[1], link: await srv.apiOk('GET', `/api/v1/links/${m.route.link}`) };
}

/** The expiry as the clinic says it, in its time zone: "Thursday 10 December 2026 at 2:05 pm". */
function clinicTime(iso) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-AU', {
      timeZone: 'Australia/Sydney',
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      hour12: true,
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.weekday} ${parts.day} ${parts.month} ${parts.year} at ${parts.hour}:${parts.minute} ${parts.dayPeriod.toLowerCase()}`;
}

async function expectDetails(page, link, where) {
  const expires = page.locator('.details.expires');
  await expectVisible(expires, `${where}: until when the link works`);
  const when = expires.locator('time');
  const at = await when.getAttribute('datetime');
  assert.ok(Math.abs(Date.parse(at) - Date.parse(link.expires_at)) < 1000, `${where}: <time datetime> ${at} is the link's expiry ${link.expires_at}`);
  await expectText(expires, `This link works until ${clinicTime(link.expires_at)}, for at most 3 views.`, { what: `${where}: the expiry in words` });

  const call = page.locator('.details.call');
  await expectVisible(call, `${where}: the clinic's number`);
  await expectText(call, `Questions? Call ${CLINIC_NAME} on ${CLINIC_PHONE}.`, { what: `${where}: whom to call` });
  const tel = call.getByRole('link', { name: CLINIC_PHONE, exact: true });
  await expectVisible(tel, `${where}: the number as a link`);
  assert.equal(await tel.getAttribute('href'), 'tel:0255501234', `${where}: a tel: link`);

  const sideways = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(sideways, false, `${where}: no sideways scroll at ${PHONE.width} px`);
}

h.test('the link page shows the expiry and the clinic phone before and after "View image"', async (t) => {
  const { url, link } = await sendLink(t.srv, 'Your X-ray from today.');
  assert.equal(link.state, 'active');

  const ctx = await t.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const page = await t.newPage(ctx, 'phone');
  const first = await page.goto(url);
  assert.equal(first.status(), 200);
  await expectVisible(page.getByRole('button', { name: 'View image', exact: true }), 'the "View image" button');
  await expectDetails(page, link, 'the neutral page');
  await screenshot(page, 'link-details-neutral.png');
  const axe = [...(await axeViolations(page, 'the neutral link page with its details'))];

  await page.getByRole('button', { name: 'View image', exact: true }).tap();
  await expectImageLoaded(page.getByRole('img', { name: new RegExp(CLINIC_NAME) }), 'the image');
  await expectDetails(page, link, 'the image page');
  await screenshot(page, 'link-details-image.png');
  axe.push(...(await axeViolations(page, 'the image link page with its details')));
  assert.deepEqual(axe, [], `axe found serious/critical violations:\n${axe.join('\n')}`);
});
