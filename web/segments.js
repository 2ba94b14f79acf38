// How many SMS a text takes, the way a carrier counts it.
//
// A text that uses only the GSM 03.38 alphabet is sent as GSM-7: one unit
// per character, except the extension characters, which take two (an escape
// plus the character). One SMS holds 160 units; a longer text is split into
// parts of 153, because each part carries a header. Any other character makes
// the whole text UCS-2: UTF-16 code units, 70 in one SMS, 67 per part.
// A part never ends in the middle of an escape pair or a surrogate pair.

// The GSM 03.38 default alphabet, minus the escape code itself (0x1B).
const BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅå' +
    '\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E' + // Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ
    'ÆæßÉ' +
    ' !"#¤%&\'()*+,-./' +
    '0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§' +
    '¿abcdefghijklmnopqrstuvwxyzäöñüà',
);

// The extension table: each costs two units. Form feed is in it too.
const EXTENDED = new Set('\f^{}\\[~]|€');

export const GSM_SINGLE = 160;
export const GSM_PART = 153;
export const UCS2_SINGLE = 70;
export const UCS2_PART = 67;

export function isGsm7(text) {
  for (const ch of text) {
    if (!BASIC.has(ch) && !EXTENDED.has(ch)) return false;
  }
  return true;
}

export function smsSegments(text) {
  const s = text == null ? '' : String(text);
  const gsm = isGsm7(s);
  const encoding = gsm ? 'GSM-7' : 'UCS-2';
  const single = gsm ? GSM_SINGLE : UCS2_SINGLE;
  const part = gsm ? GSM_PART : UCS2_PART;

  // Iterating a string yields code points, so a surrogate pair arrives as
  // one two-unit item and can never be split.
  const costs = [];
  let units = 0;
  for (const ch of s) {
    const cost = gsm ? (EXTENDED.has(ch) ? 2 : 1) : ch.length;
    costs.push(cost);
    units += cost;
  }

  if (units === 0) {
    return { encoding, units: 0, perSegment: single, segments: 0, remaining: single };
  }
  if (units <= single) {
    return { encoding, units, perSegment: single, segments: 1, remaining: single - units };
  }

  let segments = 1;
  let used = 0;
  for (const cost of costs) {
    if (used + cost > part) {
      segments += 1;
      used = 0;
    }
    used += cost;
  }
  return { encoding, units, perSegment: part, segments, remaining: part - used };
}
