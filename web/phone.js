// The phone simulator: one handset on the simulated carrier, shown as an
// SMS app. It polls the carrier for what the handset got and sends replies.

import { api, pathNumber } from '/static/api.js';
import { h, setText, showAlert } from '/static/dom.js';
import { makeClock } from '/static/time.js';

const DEMO_HANDSETS = ['+61491570156', '+61491570157'];
const POLL_MS = 1500;

const $ = (id) => document.getElementById(id);
const els = {
  openForm: $('open-form'),
  handset: $('handset'),
  handsetList: $('handset-list'),
  switchedOff: $('switched-off'),
  contactName: $('contact-name'),
  contactSub: $('contact-sub'),
  offBanner: $('off-banner'),
  error: $('phone-error'),
  scroller: $('phone-scroller'),
  empty: $('phone-empty'),
  list: $('phone-messages'),
  replyForm: $('reply-form'),
  reply: $('reply'),
  photo: $('photo'),
  send: $('reply-send'),
  attachment: $('reply-attachment'),
  thumb: $('reply-thumb'),
  fileName: $('reply-file'),
  remove: $('reply-remove'),
};

const clock = makeClock(undefined); // the phone's own time zone

let handset = null;
let rendered = new Map(); // message id → li
let pollTimer = null;
let polling = false;
let pollAgain = false;
let stateVersion = 0; // bumps on each toggle, so an older poll cannot undo it
let statePending = false;
let photo = null;
let photoUrl = null;
let sending = false;

// ---- handset numbers ------------------------------------------------------

function normalise(raw) {
  const s = raw.replace(/[\s\-().]/g, '');
  if (/^\+\d{6,15}$/.test(s)) return s;
  if (/^00\d{6,15}$/.test(s)) return '+' + s.slice(2);
  if (/^04\d{8}$/.test(s)) return '+61' + s.slice(1); // demo convenience
  return null;
}

async function loadHandsets() {
  let numbers = [];
  try {
    const data = await api('/sim/handsets');
    numbers = (data && data.handsets) || [];
  } catch {
    // Older gateways have no list: the demo patients are offered anyway.
  }
  const all = [...new Set([...DEMO_HANDSETS, ...numbers])];
  els.handsetList.replaceChildren(...all.map((n) => h('option', { value: n })));
}

function hashHandset() {
  try {
    const raw = decodeURIComponent(location.hash.replace(/^#/, ''));
    return raw ? normalise(raw) : null;
  } catch {
    return null;
  }
}

function openHandset(number) {
  if (number === handset) {
    poll();
    return;
  }
  handset = number;
  els.handset.value = number;
  rendered = new Map();
  els.list.replaceChildren();
  showAlert(els.error, '');
  setText(els.contactName, 'Clinic');
  setText(els.contactSub, `Messages on ${number}`);
  setText(els.empty, 'Loading…');
  els.empty.hidden = false;
  clearPhoto();
  document.title = `${number} · Phone simulator`;
  updateSend();
  poll();
}

// ---- polling --------------------------------------------------------------

function schedule() {
  clearTimeout(pollTimer);
  if (handset && !document.hidden) pollTimer = setTimeout(poll, POLL_MS);
}

async function poll() {
  if (!handset) return;
  if (polling) {
    pollAgain = true;
    return;
  }
  clearTimeout(pollTimer);
  polling = true;
  const who = handset;
  const version = stateVersion;
  try {
    const data = await api(`/sim/handsets/${pathNumber(who)}/messages`);
    if (who !== handset) return;
    render((data && data.messages) || []);
    if (data && typeof data.switched_off === 'boolean' && version === stateVersion && !statePending) {
      els.switchedOff.checked = data.switched_off;
      updateOffBanner();
    }
    if (els.error.dataset.source === 'poll') showAlert(els.error, '');
  } catch (err) {
    if (who === handset) {
      showAlert(els.error, err.message);
      els.error.dataset.source = 'poll';
    }
  } finally {
    polling = false;
    if (pollAgain) {
      pollAgain = false;
      poll();
    } else if (who === handset) {
      schedule();
    }
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.hidden) clearTimeout(pollTimer);
  else poll();
});

// ---- rendering ------------------------------------------------------------

function directionOf(m) {
  if (m.direction === 'sent' || m.direction === 'received') return m.direction;
  return m.from === handset ? 'sent' : 'received';
}

function render(messages) {
  const atBottom = els.scroller.scrollHeight - els.scroller.scrollTop - els.scroller.clientHeight < 48;
  const seen = new Set();
  let added = false;
  let index = 0;
  for (const m of messages) {
    if (!m || !m.id || seen.has(m.id)) continue;
    seen.add(m.id);
    let li = rendered.get(m.id);
    if (!li) {
      li = build(m);
      rendered.set(m.id, li);
      added = true;
    }
    const at = els.list.children[index];
    if (at !== li) els.list.insertBefore(li, at || null);
    index += 1;
  }
  for (const [id, li] of rendered) {
    if (!seen.has(id)) {
      li.remove();
      rendered.delete(id);
    }
  }

  // The clinic is whoever the handset talks to.
  const last = messages[messages.length - 1];
  if (last) {
    const clinic = directionOf(last) === 'sent' ? last.to : last.from;
    if (clinic) setText(els.contactName, clinic);
  }

  els.empty.hidden = messages.length > 0;
  setText(els.empty, messages.length ? '' : 'No messages on this phone yet.');
  if (added && atBottom) els.scroller.scrollTop = els.scroller.scrollHeight;
}

function build(m) {
  const sent = directionOf(m) === 'sent';
  const li = h('li', { class: sent ? 'from-phone' : 'from-clinic' });
  li.dataset.id = m.id;
  const bubble = h('div', { class: 'phone-bubble' });
  for (const media of m.media || []) {
    if (!media || !media.url) continue;
    if (String(media.content_type || '').startsWith('image/')) {
      const img = h('img', { src: media.url, alt: sent ? 'Photo sent from this phone' : 'Picture from the clinic' });
      img.addEventListener('load', keepBottom);
      // A browser that cannot show the format (HEIC, as iPhones send) gets
      // a plain label instead of a broken picture.
      img.addEventListener('error', () => img.replaceWith(
        h('a', { class: 'phone-file', href: media.url, target: '_blank', rel: 'noopener noreferrer' },
          `Photo (${String(media.content_type).slice(6).toUpperCase()})`),
      ));
      bubble.append(img);
    } else {
      bubble.append(
        h('a', { class: 'phone-file', href: media.url, target: '_blank', rel: 'noopener noreferrer' },
          media.content_type === 'application/pdf' ? 'PDF document' : 'Attachment'),
      );
    }
  }
  if (m.text) bubble.append(h('p', { class: 'text' }, linkify(m.text)));
  if (!m.text) bubble.classList.add('media-only');
  li.append(bubble);
  const at = m.at || m.received_at;
  if (at) li.append(h('time', { datetime: at, title: clock.full(at), text: clock.time(at) }));
  return li;
}

function keepBottom() {
  const s = els.scroller;
  if (s.scrollHeight - s.scrollTop - s.clientHeight < 400) s.scrollTop = s.scrollHeight;
}

// Text with http(s) addresses turned into links, built from text nodes and
// <a> elements only.
const URL_RE = /\bhttps?:\/\/[^\s<>"]+/gi;

function count(s, c) {
  return s.split(c).length - 1;
}

function trimUrl(u) {
  for (;;) {
    const c = u[u.length - 1];
    if (".,;:!?'*".includes(c)) u = u.slice(0, -1);
    else if (c === ')' && count(u, '(') < count(u, ')')) u = u.slice(0, -1);
    else if (c === ']' && count(u, '[') < count(u, ']')) u = u.slice(0, -1);
    else return u;
  }
}

export function linkify(text) {
  const out = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const raw = trimUrl(match[0]);
    let url = null;
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) continue;
    if (match.index > last) out.push(text.slice(last, match.index));
    out.push(h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, raw));
    last = match.index + raw.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

// ---- switched off ----------------------------------------------------------

function updateOffBanner() {
  els.offBanner.hidden = !els.switchedOff.checked;
  document.body.classList.toggle('is-off', els.switchedOff.checked);
}

els.switchedOff.addEventListener('change', async () => {
  if (!handset) {
    els.switchedOff.checked = false;
    showAlert(els.error, 'Open a handset number first.');
    els.error.dataset.source = 'open';
    return;
  }
  const want = els.switchedOff.checked;
  stateVersion += 1;
  statePending = true;
  updateOffBanner();
  try {
    const data = await api(`/sim/handsets/${pathNumber(handset)}/state`, {
      method: 'POST',
      json: { switched_off: want },
    });
    if (data && typeof data.switched_off === 'boolean') els.switchedOff.checked = data.switched_off;
    if (els.error.dataset.source === 'state') showAlert(els.error, '');
  } catch (err) {
    els.switchedOff.checked = !want;
    showAlert(els.error, err.message);
    els.error.dataset.source = 'state';
  } finally {
    statePending = false;
    stateVersion += 1;
    updateOffBanner();
  }
});

// ---- replying --------------------------------------------------------------

function updateSend() {
  els.send.disabled = !handset || sending || (!els.reply.value.trim() && !photo);
  const ta = els.reply;
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight + 2, 140)}px`;
}

function setPhoto(file) {
  if (!handset) {
    showAlert(els.error, 'Open a handset number first.');
    els.error.dataset.source = 'open';
    return;
  }
  // iPhone photos are HEIC, which some systems give no MIME type for;
  // lyrebird finds the real type from the bytes either way.
  if (!file.type.startsWith('image/') && !/\.hei[cf]$/i.test(file.name || '')) {
    showAlert(els.error, 'Only photos can be attached here.');
    els.error.dataset.source = 'reply';
    return;
  }
  clearPhoto();
  photo = file;
  photoUrl = URL.createObjectURL(file);
  els.thumb.src = photoUrl;
  els.thumb.alt = 'Attached photo';
  setText(els.fileName, file.name || 'Photo');
  els.attachment.hidden = false;
  updateSend();
}

function clearPhoto() {
  photo = null;
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photoUrl = null;
  els.thumb.removeAttribute('src');
  els.attachment.hidden = true;
  updateSend();
}

async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

async function sendReply() {
  if (sending) return;
  if (!handset) {
    showAlert(els.error, 'Open a handset number first.');
    els.error.dataset.source = 'open';
    els.handset.focus();
    return;
  }
  const text = els.reply.value.trim();
  const file = photo;
  if (!text && !file) return;
  sending = true;
  updateSend();
  els.send.setAttribute('aria-busy', 'true');
  const who = handset;
  try {
    const body = {};
    if (text) body.text = text;
    if (file) body.media = [{ content_type: file.type || 'image/heic', data: await base64Of(file) }];
    await api(`/sim/handsets/${pathNumber(who)}/send`, { method: 'POST', json: body });
    if (who === handset) {
      els.reply.value = '';
      clearPhoto();
      if (els.error.dataset.source === 'reply') showAlert(els.error, '');
      els.scroller.scrollTop = els.scroller.scrollHeight;
      poll();
    }
  } catch (err) {
    showAlert(els.error, err.message);
    els.error.dataset.source = 'reply';
  } finally {
    sending = false;
    els.send.removeAttribute('aria-busy');
    updateSend();
    els.reply.focus();
  }
}

// ---- wiring ----------------------------------------------------------------

els.openForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const number = normalise(els.handset.value);
  if (!number) {
    showAlert(els.error, 'Enter the handset number in international form, for example +61491570156.');
    els.error.dataset.source = 'open';
    els.handset.focus();
    return;
  }
  if (els.error.dataset.source === 'open') showAlert(els.error, '');
  if (location.hash === `#${number}`) openHandset(number);
  else location.hash = number;
  loadHandsets();
});

window.addEventListener('hashchange', () => {
  const number = hashHandset();
  if (number) openHandset(number);
});

els.replyForm.addEventListener('submit', (e) => {
  e.preventDefault();
  sendReply();
});
els.reply.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    sendReply();
  }
});
els.reply.addEventListener('input', updateSend);
els.photo.addEventListener('change', () => {
  const file = els.photo.files && els.photo.files[0];
  if (file) setPhoto(file);
  els.photo.value = '';
});
els.remove.addEventListener('click', () => {
  clearPhoto();
  els.reply.focus();
});

loadHandsets();
updateSend();
const initial = hashHandset();
if (initial) openHandset(initial);
else els.handset.focus();
