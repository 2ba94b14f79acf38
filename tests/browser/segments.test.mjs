// The segment counter: web/segments.js on its own (GSM-7 160/153, UCS-2
// 70/67, two-unit extension characters and surrogate pairs never split), and
// the counter under the inbox's "Message" box.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { expectText, expectVisible, harness, inboxPage, openConversation, signIn } from './lib/browser.mjs';
import { TEST_DIR } from './lib/lyrebird.mjs';

const SEGMENTS_JS = path.resolve(TEST_DIR, '../../web/segments.js');
let mod;
async function smsSegments(text) {
  mod ??= await import(pathToFileURL(SEGMENTS_JS).href);
  assert.equal(typeof mod.smsSegments, 'function', 'web/segments.js exports smsSegments');
  return mod.smsSegments(text);
}

const a = (n) => 'a'.repeat(n);
const EXTENSION = ['€', '[', ']', '{', '}', '~', '^', '|', '\\'];
// GSM 03.38 basic character set (one unit each), less LF/CR which are tested apart.
const GSM_BASIC =
  '@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

async function check(text, want, label) {
  const got = await smsSegments(text);
  const picked = Object.fromEntries(Object.keys(want).map((k) => [k, got[k]]));
  assert.deepEqual(picked, want, `${label}: smsSegments gave ${JSON.stringify(got)}`);
}

describe('smsSegments (web/segments.js)', () => {
  test('empty text is no SMS', async () => {
    await check('', { segments: 0, units: 0 }, 'empty');
  });

  test('GSM-7: 160 in one SMS, then 153 per part', async () => {
    await check('a', { encoding: 'GSM-7', units: 1, perSegment: 160, segments: 1, remaining: 159 }, '1 a');
    await check(a(160), { encoding: 'GSM-7', units: 160, perSegment: 160, segments: 1, remaining: 0 }, '160 a');
    await check(a(161), { encoding: 'GSM-7', units: 161, perSegment: 153, segments: 2, remaining: 145 }, '161 a');
    await check(a(306), { encoding: 'GSM-7', units: 306, perSegment: 153, segments: 2, remaining: 0 }, '306 a');
    await check(a(307), { encoding: 'GSM-7', units: 307, perSegment: 153, segments: 3, remaining: 152 }, '307 a');
    await check(a(459), { encoding: 'GSM-7', segments: 3, remaining: 0 }, '459 a');
    await check(a(460), { encoding: 'GSM-7', segments: 4 }, '460 a');
  });

  test('GSM-7 basic set and line breaks count one unit each', async () => {
    await check(GSM_BASIC, { encoding: 'GSM-7', units: [...GSM_BASIC].length }, 'basic set');
    await check('line one\nline two\r', { encoding: 'GSM-7', units: 18 }, 'LF and CR');
  });

  test('extension characters count two units', async () => {
    for (const ch of EXTENSION) {
      await check(ch, { encoding: 'GSM-7', units: 2, segments: 1 }, `one ${JSON.stringify(ch)}`);
      await check(a(158) + ch, { encoding: 'GSM-7', units: 160, segments: 1, remaining: 0 }, `158 a + ${ch}`);
      await check(a(159) + ch, { encoding: 'GSM-7', units: 161, segments: 2 }, `159 a + ${ch}`);
    }
    await check('€'.repeat(80), { encoding: 'GSM-7', units: 160, segments: 1 }, '80 €');
    await check('€'.repeat(81), { encoding: 'GSM-7', units: 162, segments: 2 }, '81 €');
  });

  test('an extension character is not split across a 153 boundary', async () => {
    // 152 + 2 + 152 = 306 units would fit in two parts, but the € cannot
    // start in the last unit of part 1: part 1 = 152 a, part 2 = € + 151 a,
    // part 3 = the last a.
    await check(a(152) + '€' + a(152), { encoding: 'GSM-7', segments: 3 }, '152 a + € + 152 a');
    // The same with the € moved one place earlier fits in two.
    await check(a(151) + '€' + a(153), { encoding: 'GSM-7', units: 306, segments: 2 }, '151 a + € + 153 a');
    for (const ch of ['[', '\\', '~']) {
      await check(a(152) + ch + a(152), { segments: 3 }, `152 a + ${ch} + 152 a`);
    }
  });

  test('one character outside GSM-7 switches to UCS-2: 70, then 67 per part', async () => {
    const u = (n) => 'ā' + a(n - 1);
    await check('ā', { encoding: 'UCS-2', units: 1, perSegment: 70, segments: 1, remaining: 69 }, 'ā');
    await check(u(70), { encoding: 'UCS-2', units: 70, perSegment: 70, segments: 1, remaining: 0 }, 'ā + 69 a');
    await check(u(71), { encoding: 'UCS-2', units: 71, perSegment: 67, segments: 2, remaining: 63 }, 'ā + 70 a');
    await check(u(134), { encoding: 'UCS-2', units: 134, perSegment: 67, segments: 2, remaining: 0 }, 'ā + 133 a');
    await check(u(135), { encoding: 'UCS-2', units: 135, perSegment: 67, segments: 3 }, 'ā + 134 a');
    // Extension characters are single UTF-16 units in UCS-2.
    await check('ā€' + a(68), { encoding: 'UCS-2', units: 70, segments: 1 }, 'ā + € + 68 a');
    await check(a(200) + 'ā', { encoding: 'UCS-2', units: 201, segments: 3 }, '200 a + ā');
  });

  test('an emoji counts two UTF-16 units and is never split', async () => {
    const e = '😀';
    await check(e, { encoding: 'UCS-2', units: 2, segments: 1 }, 'one emoji');
    await check(a(68) + e, { encoding: 'UCS-2', units: 70, segments: 1, remaining: 0 }, '68 a + emoji');
    await check(a(69) + e, { encoding: 'UCS-2', units: 71, segments: 2 }, '69 a + emoji');
    await check(e.repeat(35), { encoding: 'UCS-2', units: 70, segments: 1 }, '35 emoji');
    await check(e.repeat(36), { encoding: 'UCS-2', units: 72, segments: 2 }, '36 emoji');
    // 66 + 2 + 66 = 134 units would fit in two parts; the pair cannot
    // straddle the 67 boundary, so it takes three.
    await check(a(66) + e + a(66), { encoding: 'UCS-2', segments: 3 }, '66 a + emoji + 66 a');
    await check(a(65) + e + a(67), { encoding: 'UCS-2', units: 134, segments: 2 }, '65 a + emoji + 67 a');
  });
});

describe('segment counter in the inbox', () => {
  const h = harness('segments', { lazy: true });

  h.test('typing 161 characters into "Message" shows 2 SMS', async (t) => {
    const page = await t.newPage();
    await signIn(page);
    await openConversation(page, 'Jordan Lee');
    const ib = inboxPage(page);
    await expectVisible(ib.segments, 'the segment counter .segments');
    await ib.messageBox.fill(a(159));
    await ib.messageBox.press('a');
    await expectText(ib.segments, /\b1 SMS\b/, { what: '.segments at 160 characters' });
    await ib.messageBox.press('a');
    await expectText(ib.segments, /\b2 SMS\b/, { what: '.segments at 161 characters' });
    // Deleting one goes back to one SMS.
    await ib.messageBox.press('Backspace');
    await expectText(ib.segments, /\b1 SMS\b/, { what: '.segments back at 160 characters' });
  });
});
