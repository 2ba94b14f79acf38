// The conversation list. Items are keyed by patient number and updated in
// place, so a refresh never rebuilds the list or loses keyboard focus.

import { h, setText } from '/static/dom.js';
import { matchHash, showMatch } from '/static/search.js';

export function threadHash(patient) {
  return '#/c/' + encodeURIComponent(patient);
}

export function previewOf(message) {
  if (!message) return 'No messages yet';
  const text = (message.text || '').replace(/\s+/g, ' ').trim();
  let body = text;
  if (!body) {
    const media = message.media || [];
    if (media.length && media.every((m) => !String(m.content_type || '').startsWith('image/'))) {
      body = '📄 Document';
    } else {
      body = media.length ? '📷 Photo' : '(empty message)';
    }
  }
  return message.direction === 'outbound' ? `You: ${body}` : body;
}

export class ConversationList {
  constructor(ul, emptyEl, clock) {
    this.ul = ul;
    this.emptyEl = emptyEl;
    this.clock = clock;
    this.items = new Map(); // patient → { li, link, ... }
    this.selected = null;
  }

  render(conversations, query) {
    // Moving a node takes the focus off it; give it back afterwards.
    const active = this.ul.contains(document.activeElement) ? document.activeElement : null;
    const seen = new Set();
    let index = 0;
    for (const conv of conversations) {
      if (seen.has(conv.patient)) continue;
      seen.add(conv.patient);
      let item = this.items.get(conv.patient);
      if (!item) {
        item = this.create(conv.patient);
        this.items.set(conv.patient, item);
      }
      this.update(item, conv);
      // Move only what is out of place.
      const at = this.ul.children[index];
      if (at !== item.li) this.ul.insertBefore(item.li, at || null);
      index += 1;
    }
    for (const [patient, item] of this.items) {
      if (!seen.has(patient)) {
        item.li.remove();
        this.items.delete(patient);
      }
    }
    if (active && active.isConnected && document.activeElement !== active) active.focus({ preventScroll: true });
    if (conversations.length === 0) {
      this.emptyEl.textContent = query ? `No conversations match “${query}”.` : 'No conversations yet.';
      this.emptyEl.hidden = false;
    } else {
      this.emptyEl.hidden = true;
    }
  }

  // The link is named by its content: patient, time, last message and the
  // unread count, in that order, so it reads as it looks.
  create(patient) {
    const name = h('span', { class: 'conv-name' });
    const time = h('time', { class: 'conv-time' });
    const failed = h('span', { class: 'conv-failed', hidden: true }, 'Not delivered · ');
    const optedOut = h('span', { class: 'conv-opted-out', hidden: true }, 'Opted out · ');
    const preview = h('span', { class: 'conv-preview' }, optedOut, failed);
    const previewText = document.createTextNode('');
    preview.append(previewText);
    const details = h('span', { class: 'conv-bottom' }, preview);
    const assignee = h('span', { class: 'conv-assignee', hidden: true });
    const link = h('a', { class: 'conv-link', href: threadHash(patient) }, h('span', { class: 'conv-top' }, name, time), details, assignee);
    const li = h('li', { class: 'conv' }, link);
    li.dataset.patient = patient;
    if (patient === this.selected) link.setAttribute('aria-current', 'page');
    return { li, link, name, time, assignee, preview, previewText, failed, optedOut, details, badge: null, badgeWords: null, unread: 0 };
  }

  update(item, conv) {
    setText(item.name, conv.name || conv.patient);
    const last = conv.last_message;
    // A search that found the conversation by its text shows that message.
    const matched = showMatch(item, conv.match);
    setText(item.previewText, matched ? '' : previewOf(last));
    item.link.setAttribute('href', matched ? matchHash(conv.patient, conv.match.message_id) : threadHash(conv.patient));
    const failed = !!last && last.direction === 'outbound' && (last.status === 'undelivered' || last.status === 'failed');
    item.failed.hidden = !failed;
    item.optedOut.hidden = !conv.opt_out;
    if (last && last.created_at) {
      setText(item.time, this.clock.listStamp(last.created_at));
      item.time.setAttribute('datetime', last.created_at);
      item.time.title = this.clock.full(last.created_at);
    } else {
      setText(item.time, '');
      item.time.removeAttribute('datetime');
      item.time.removeAttribute('title');
    }
    this.setUnread(item, conv.unread || 0);
    setText(item.assignee, conv.assigned_to ? `Assigned to ${conv.assigned_to}` : '');
    item.assignee.hidden = !conv.assigned_to;
    item.li.classList.toggle('is-done', conv.state === 'done');
  }

  // The badge exists only while there is something unread.
  setUnread(item, n) {
    item.unread = n;
    item.li.classList.toggle('has-unread', n > 0);
    if (n > 0) {
      if (!item.badge) {
        item.badge = h('span', { class: 'unread' });
        item.badgeWords = h('span', { class: 'visually-hidden' }, ' unread');
        item.details.append(item.badge, item.badgeWords);
      }
      setText(item.badge, String(n));
    } else if (item.badge) {
      item.badge.remove();
      item.badgeWords.remove();
      item.badge = null;
      item.badgeWords = null;
    }
  }

  unreadOf(patient) {
    const item = this.items.get(patient);
    return item ? item.unread : 0;
  }

  clearUnread(patient) {
    const item = this.items.get(patient);
    if (item) this.setUnread(item, 0);
  }

  setSelected(patient) {
    this.selected = patient;
    for (const [p, item] of this.items) {
      if (p === patient) item.link.setAttribute('aria-current', 'page');
      else item.link.removeAttribute('aria-current');
    }
  }

  focus(patient) {
    const item = this.items.get(patient);
    if (item) item.link.focus();
  }
}
