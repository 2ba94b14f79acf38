// The messages of one conversation, as an <ol> of bubbles keyed by message
// id. A message that changes (a status update) is patched in place.

import { h, icon, setText } from '/static/dom.js';
import { RouteInfo } from '/static/links.js';
import { FailureActions } from '/static/retry.js';
import { upsertNote } from '/static/team.js';

const STATUS = {
  queued: { words: 'Queued', icon: 'clock' },
  sending: { words: 'Sending', icon: 'clock' },
  sent: { words: 'Sent', icon: 'check' },
  delivered: { words: 'Delivered', icon: 'checks' },
  undelivered: { words: 'Not delivered', icon: 'alert', visible: 'Not delivered' },
  failed: { words: 'Failed', icon: 'alert', visible: 'Failed' },
};

const RANK = { queued: 0, sending: 1, sent: 2, delivered: 3, undelivered: 3, failed: 3, received: 3 };

// The status mark's name, e.g. "Not delivered: The handset is switched off".
export function statusWords(msg) {
  const s = STATUS[msg.status];
  if (!s) return msg.status || '';
  const err = msg.error;
  if (msg.status === 'sending' && err && err.code === 'unconfirmed') return 'Sending (unconfirmed)';
  if ((msg.status === 'undelivered' || msg.status === 'failed') && err && err.message) {
    return `${s.words}: ${err.message}`;
  }
  return s.words;
}

// Whether b is a later state of the same message than a.
export function isNewer(b, a) {
  const tb = b.updated_at || '';
  const ta = a.updated_at || '';
  if (tb !== ta) return tb > ta;
  return (RANK[b.status] ?? 0) >= (RANK[a.status] ?? 0);
}

// What an inbound message's media looks like, to tell when to redraw it.
function mediaState(msg) {
  return `${(msg.media || []).length}/${msg.media_pending || 0}/${(msg.media_unavailable || []).length}`;
}

export class Thread {
  constructor({ ol, clock, onOpenImage }) {
    this.ol = ol;
    this.clock = clock;
    this.onOpenImage = onOpenImage;
    this.byId = new Map(); // id → { li, msg, ... }
  }

  clear() {
    this.byId.clear();
    this.ol.replaceChildren();
  }

  get size() {
    return this.byId.size;
  }

  oldestId() {
    const first = this.ol.firstElementChild;
    return first ? first.dataset.id : null;
  }

  newestId() {
    const last = this.ol.lastElementChild;
    return last ? last.dataset.id : null;
  }

  // Adds a message, or updates the one with the same id. Returns "added",
  // "updated" or null (nothing changed).
  upsert(msg) {
    if (msg.kind === 'note') return upsertNote(this, msg);
    const known = this.byId.get(msg.id);
    if (known) {
      if (!isNewer(msg, known.msg)) return null;
      if (msg.direction === 'inbound' && mediaState(msg) !== mediaState(known.msg)) {
        // Linked media arrived (or was given up): draw the message again.
        const fresh = this.build(msg);
        known.li.replaceWith(fresh.li);
        this.byId.set(msg.id, fresh);
        this.fixDay(fresh.li);
        return 'updated';
      }
      known.msg = msg;
      this.patch(known);
      return 'updated';
    }
    const entry = this.build(msg);
    this.byId.set(msg.id, entry);
    // Ids sort by creation time; new messages almost always go last.
    let before = null;
    for (let li = this.ol.lastElementChild; li; li = li.previousElementSibling) {
      if (li.dataset.id < msg.id) break;
      before = li;
    }
    this.ol.insertBefore(entry.li, before);
    this.fixDay(entry.li);
    if (entry.li.nextElementSibling) this.fixDay(entry.li.nextElementSibling);
    return 'added';
  }

  // Shows a day heading on the first message of each day, in the clinic's zone.
  fixDay(li) {
    const entry = this.byId.get(li.dataset.id) || li.noteEntry; // a note: team.js
    if (!entry) return;
    const prev = li.previousElementSibling;
    const key = this.clock.dayKey(entry.msg.created_at);
    const first = !prev || prev.dataset.day !== key;
    li.dataset.day = key;
    if (first) {
      const label = this.clock.dayLabel(entry.msg.created_at);
      if (!entry.day) {
        entry.day = h('p', { class: 'day' });
        li.prepend(entry.day);
      }
      setText(entry.day, label);
    } else if (entry.day) {
      entry.day.remove();
      entry.day = null;
    }
  }

  // Recomputes every day heading, e.g. after midnight or a batch of older messages.
  fixAllDays() {
    for (let li = this.ol.firstElementChild; li; li = li.nextElementSibling) this.fixDay(li);
  }

  build(msg) {
    const outbound = msg.direction === 'outbound';
    const li = h('li', { class: `msg ${outbound ? 'outbound' : 'inbound'}` });
    li.dataset.id = msg.id;

    const bubble = h('div', { class: 'bubble' });
    const media = (msg.media || []).filter((m) => m && m.url);
    if (media.length) {
      bubble.append(h('div', { class: 'media' }, media.map((m) => this.mediaItem(m, outbound))));
    }
    if (msg.text) bubble.append(h('p', { class: 'text', text: msg.text }));
    else bubble.classList.add('media-only');
    li.append(bubble);

    const time = h('time', {
      datetime: msg.created_at,
      title: this.clock.full(msg.created_at),
      text: this.clock.time(msg.created_at),
    });
    const meta = h('div', { class: 'meta' }, time);
    li.append(meta);

    const entry = { li, msg, meta, day: null };
    if (outbound) {
      const reasonId = `reason-${msg.id}`;
      entry.status = h('button', {
        type: 'button',
        class: 'status',
        'aria-expanded': 'false',
        'aria-controls': reasonId,
        onclick: () => this.toggleReason(entry),
      });
      entry.reason = h('p', { class: 'error-reason', id: reasonId, hidden: true });
      // How it went when it was not plain SMS: "Sent as a secure link". It
      // shows first in the row (CSS order) but comes last in the DOM, so that
      // Tab goes from it straight into the panel it opens.
      entry.route = new RouteInfo({ msgId: msg.id, clock: this.clock });
      meta.append(entry.status, entry.route.button);
      li.append(entry.reason, entry.route.panel);
      // Why it did not arrive, in words, with Retry (retry.js).
      entry.failure = new FailureActions({ onChange: (m) => this.upsert(m) });
      li.append(entry.failure.el);
    }
    if (!outbound && msg.media_pending) {
      const n = msg.media_pending;
      li.append(h('p', { class: 'note', role: 'status', text: `Fetching ${n === 1 ? 'a picture' : `${n} pictures`} from the provider…` }));
    }
    for (const gone of (!outbound && msg.media_unavailable) || []) {
      li.append(h('p', { class: 'note', role: 'status', text: `Picture unavailable: ${gone.error}` }));
    }
    if (!outbound && msg.error && msg.error.message) {
      li.append(h('p', { class: 'note', text: `Attachment not shown: ${msg.error.message}` }));
    }
    this.patch(entry);
    return entry;
  }

  mediaItem(m, outbound) {
    const type = String(m.content_type || '');
    if (type.startsWith('image/')) {
      const img = h('img', {
        src: m.thumb_url || m.url,
        alt: outbound ? 'Picture sent to the patient' : 'Picture from the patient',
        loading: 'lazy',
        decoding: 'async',
      });
      return h('button', {
        type: 'button',
        class: 'thumb',
        'aria-label': 'Open image',
        onclick: (e) => this.onOpenImage(m.url, img.alt, e.currentTarget),
      }, img);
    }
    const words = type === 'application/pdf' ? 'Open PDF' : 'Open attachment';
    return h('a', { class: 'doc-link', href: m.url, target: '_blank', rel: 'noopener' }, icon('file'), words);
  }

  // Brings the status mark and reason of an outbound message up to date.
  patch(entry) {
    if (!entry.status) return;
    const msg = entry.msg;
    entry.route.update(msg);
    entry.failure.update(msg);
    this.patchOtherSender(entry);
    const s = STATUS[msg.status] || { words: msg.status, icon: 'clock' };
    const words = statusWords(msg);
    const btn = entry.status;
    if (btn.dataset.state !== `${msg.status}|${words}`) {
      btn.dataset.state = `${msg.status}|${words}`;
      btn.className = `status status-${msg.status}`;
      btn.title = words;
      btn.setAttribute('aria-label', words);
      btn.replaceChildren(icon(s.icon));
      if (s.visible) btn.append(h('span', { text: s.visible }));
      else if (words === 'Sending (unconfirmed)') btn.append(h('span', { text: 'unconfirmed' }));
    }
    entry.reason.classList.toggle('is-error', msg.status === 'undelivered' || msg.status === 'failed');
    // The reason has text only while it is shown.
    setText(entry.reason, entry.reason.hidden ? '' : this.reasonText(msg));
  }

  // The warning under an image sent from a second number ([routing]
  // allow_other_sender); it goes when the message is resent as a link from
  // the clinic's own number.
  patchOtherSender(entry) {
    const msg = entry.msg;
    const other = Boolean(msg.route && msg.route.other_sender);
    const text = other
      ? `Sent from another number, ${msg.from}: the patient sees a second number, and a reply to it will not reach this inbox.`
      : '';
    if (other && !entry.otherSender) {
      entry.otherSender = h('p', { class: 'other-sender' });
      entry.li.append(entry.otherSender);
    }
    if (entry.otherSender) {
      if (other) setText(entry.otherSender, text);
      else {
        entry.otherSender.remove();
        entry.otherSender = null;
      }
    }
  }

  reasonText(msg) {
    const err = msg.error;
    const words = statusWords(msg);
    if (err && (err.message || err.code)) {
      const why = err.message || 'No reason given';
      return err.code ? `${why} (${err.code})` : why;
    }
    const at = msg.updated_at ? ` · ${this.clock.time(msg.updated_at)}` : '';
    return `${words}${at}`;
  }

  toggleReason(entry) {
    const open = entry.reason.hidden;
    entry.reason.hidden = !open;
    setText(entry.reason, open ? this.reasonText(entry.msg) : '');
    entry.status.setAttribute('aria-expanded', String(open));
    if (open) entry.reason.scrollIntoView({ block: 'nearest' });
  }
}
