// How an outbound message went (its route), and for an image sent as a
// secure link: the link's state, withdrawing it, and who opened it.
// See docs/links.md. Text always goes in with textContent.

import { api } from '/static/api.js';
import { h, icon, setText, showAlert } from '/static/dom.js';

// The caption under the bubble, per plan. Plain SMS has none.
const PLANS = {
  link: { short: 'Sent as a secure link', icon: 'lock' },
  mms: { short: 'Sent as MMS', icon: 'image' },
};

export function routeShort(msg) {
  const plan = msg && msg.route && PLANS[msg.route.plan];
  return plan ? plan.short : null;
}

const STATES = {
  active: 'Active',
  revoked: 'Withdrawn',
  expired: 'Expired',
  locked: 'Locked after wrong answers',
  used_up: 'Used up',
};

const OUTCOMES = {
  viewed: 'Viewed',
  wrong_answer: 'Refused: wrong answer',
  expired: 'Refused: expired',
  revoked: 'Refused: withdrawn',
  locked: 'Refused: locked',
  used_up: 'Refused: used up',
};

export function outcomeWords(outcome) {
  return OUTCOMES[outcome] || `Refused: ${String(outcome || 'unknown').replace(/_/g, ' ')}`;
}

const BOTS = /bot\b|bot\/|crawler|spider|preview|facebookexternalhit|whatsapp|slack|telegram|discord|skype|curl\/|wget\/|python|go-http|okhttp|java\//i;

// A user agent in a few words: "Safari on iPhone", "Chrome on Android",
// "Link preview (WhatsApp/2.23)".
export function shortAgent(ua) {
  const s = String(ua || '').trim();
  if (!s) return 'Unknown browser';
  if (BOTS.test(s)) {
    const first = s.split(/\s+/)[0].slice(0, 40);
    return `Link preview or program (${first})`;
  }
  let os = null;
  if (/\biPhone\b/.test(s)) os = 'iPhone';
  else if (/\biPad\b/.test(s)) os = 'iPad';
  else if (/\bAndroid\b/.test(s)) os = 'Android';
  else if (/\bWindows\b/.test(s)) os = 'Windows';
  else if (/\bCrOS\b/.test(s)) os = 'ChromeOS';
  else if (/\bMac OS X\b|\bMacintosh\b/.test(s)) os = 'Mac';
  else if (/\bLinux\b/.test(s)) os = 'Linux';

  let browser = null;
  if (/\bEdg(?:e|A|iOS)?\//.test(s)) browser = 'Edge';
  else if (/\bSamsungBrowser\//.test(s)) browser = 'Samsung Internet';
  else if (/\b(?:OPR|Opera)\//.test(s)) browser = 'Opera';
  else if (/\b(?:Firefox|FxiOS)\//.test(s)) browser = 'Firefox';
  else if (/\bHeadlessChrome\//.test(s)) browser = 'Headless Chrome';
  else if (/\b(?:Chrome|CriOS|Chromium)\//.test(s)) browser = 'Chrome';
  else if (/\bVersion\/[\d.]+.*\bSafari\//.test(s)) browser = 'Safari';
  else if (/\bAppleWebKit\//.test(s) && (os === 'iPhone' || os === 'iPad')) browser = 'An app’s browser';

  if (browser && os) return `${browser} on ${os}`;
  if (browser || os) return browser || `A browser on ${os}`;
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

function viewsWords(link) {
  const n = Number(link.views) || 0;
  const max = Number(link.max_views) || 0;
  if (max > 0) return `Viewed ${n} of ${max} time${max === 1 ? '' : 's'}`;
  if (n === 0) return 'Not opened yet';
  return n === 1 ? 'Viewed once' : `Viewed ${n} times`;
}

let panelSeq = 0;

// The link part of the "How this was sent" panel of one message.
export class LinkPanel {
  constructor({ clock }) {
    this.clock = clock;
    this.linkId = null;
    this.link = null;
    this.seq = 0; // drops answers to older requests
    this.viewsSeq = 0;
    this.armed = false;
    this.armTimer = null;
    this.busy = false;

    const n = ++panelSeq;
    const viewsId = `link-views-${n}`;
    this.state = h('p', { class: 'link-state', role: 'status', tabindex: '-1' });
    this.viewsButton = h('button', {
      type: 'button',
      class: 'button button-quiet button-small',
      'aria-expanded': 'false',
      'aria-controls': viewsId,
      text: 'Who opened it',
      onclick: () => this.toggleViews(),
    });
    this.withdrawButton = h('button', {
      type: 'button',
      class: 'button button-danger button-small',
      text: 'Withdraw link',
      onclick: () => this.onWithdraw(),
      onkeydown: (e) => {
        if (e.key === 'Escape' && this.armed) {
          e.stopPropagation();
          this.disarm();
        }
      },
    });
    this.keepButton = h('button', {
      type: 'button',
      class: 'button button-quiet button-small',
      text: 'Keep link',
      hidden: true,
      onclick: () => {
        this.disarm();
        this.withdrawButton.focus();
      },
    });
    this.error = h('p', { class: 'field-error link-error', role: 'alert', hidden: true });
    this.viewsList = h('ol', { class: 'link-views-list', 'aria-label': 'Who opened the link' });
    this.viewsNote = h('p', { class: 'link-views-note' });
    this.views = h('div', { class: 'link-views', id: viewsId, hidden: true }, this.viewsNote, this.viewsList);
    this.actions = h('div', { class: 'link-actions' }, this.viewsButton, this.withdrawButton, this.keepButton);
    this.el = h('div', { class: 'link-panel' }, this.state, this.actions, this.error, this.views);
    this.actions.hidden = true;
  }

  // The message's link id (null while the link is still being made).
  setLink(linkId) {
    if (linkId === this.linkId) return;
    this.linkId = linkId || null;
    this.link = null;
    this.render();
  }

  // Fetches the link's state (when the panel opens, or after an event).
  async refresh({ background = false } = {}) {
    if (!this.linkId) {
      this.render();
      return;
    }
    const id = this.linkId;
    const seq = ++this.seq;
    if (!this.link) setText(this.state, 'Checking the link…');
    try {
      const link = await api(`/api/v1/links/${encodeURIComponent(id)}`, { background });
      if (seq !== this.seq || id !== this.linkId) return;
      this.link = link;
      if (!background) showAlert(this.error, '');
      this.render();
    } catch (err) {
      if (seq !== this.seq || err.status === 401) return;
      if (!this.link) setText(this.state, 'The link’s state could not be read.');
      if (!background) showAlert(this.error, err.message);
    }
    if (!this.views.hidden) this.loadViews(background);
  }

  render() {
    const link = this.link;
    if (!this.linkId) {
      setText(this.state, 'The link is made when the message goes out.');
      this.actions.hidden = true;
      return;
    }
    if (!link) {
      this.actions.hidden = true;
      return;
    }
    const words = [STATES[link.state] || link.state, viewsWords(link)];
    if (link.state === 'active' && link.expires_at) words.push(`expires ${this.lower(this.clock.stamp(link.expires_at))}`);
    if (link.state === 'expired' && link.expires_at) words.push(`since ${this.lower(this.clock.stamp(link.expires_at))}`);
    setText(this.state, words.join(' · '));
    this.state.dataset.state = link.state;
    this.actions.hidden = false;
    const canWithdraw = link.state === 'active' || link.state === 'locked' || link.state === 'used_up';
    this.withdrawButton.hidden = !canWithdraw;
    if (!canWithdraw) this.disarm();
  }

  lower(s) {
    return s.replace(/^(Today|Yesterday|Tomorrow)\b/, (w) => w.toLowerCase());
  }

  // ---- withdrawing: a first press asks, a second press withdraws ----------

  onWithdraw() {
    if (this.busy) return;
    if (!this.armed) {
      this.armed = true;
      setText(this.withdrawButton, 'Withdraw — are you sure?');
      this.withdrawButton.classList.add('armed');
      this.keepButton.hidden = false;
      clearTimeout(this.armTimer);
      this.armTimer = setTimeout(() => this.disarm(), 8000);
      return;
    }
    this.withdraw();
  }

  disarm() {
    clearTimeout(this.armTimer);
    this.armTimer = null;
    this.armed = false;
    setText(this.withdrawButton, 'Withdraw link');
    this.withdrawButton.classList.remove('armed');
    this.keepButton.hidden = true;
  }

  async withdraw() {
    const id = this.linkId;
    if (!id) return;
    clearTimeout(this.armTimer);
    this.busy = true;
    this.withdrawButton.disabled = true;
    this.withdrawButton.setAttribute('aria-busy', 'true');
    this.keepButton.hidden = true;
    showAlert(this.error, '');
    try {
      const link = await api(`/api/v1/links/${encodeURIComponent(id)}`, { method: 'DELETE' });
      this.seq += 1; // an older GET must not undo this
      if (id !== this.linkId) return;
      this.link = link;
      const hadFocus = this.el.contains(document.activeElement);
      this.disarm();
      this.render();
      if (hadFocus) this.state.focus();
      if (!this.views.hidden) this.loadViews();
    } catch (err) {
      this.disarm();
      if (err.status !== 401) showAlert(this.error, `The link was not withdrawn: ${err.message}`);
    } finally {
      this.busy = false;
      this.withdrawButton.disabled = false;
      this.withdrawButton.removeAttribute('aria-busy');
    }
  }

  // ---- the audit ------------------------------------------------------------

  toggleViews() {
    const open = this.views.hidden;
    this.views.hidden = !open;
    this.viewsButton.setAttribute('aria-expanded', String(open));
    // The state (its count of views) and the list, both afresh.
    if (open) this.refresh();
  }

  async loadViews(background = false) {
    const id = this.linkId;
    if (!id) return;
    const seq = ++this.viewsSeq;
    if (!this.viewsList.childElementCount) setText(this.viewsNote, 'Loading…');
    this.viewsNote.hidden = false;
    try {
      const data = await api(`/api/v1/links/${encodeURIComponent(id)}/views`, { background });
      if (seq !== this.viewsSeq || id !== this.linkId) return;
      const views = (data && data.views) || [];
      this.viewsList.replaceChildren(...views.map((v) => this.viewItem(v)));
      this.viewsList.hidden = !views.length;
      setText(this.viewsNote, views.length ? '' : 'Nobody has opened it yet.');
      this.viewsNote.hidden = !!views.length;
    } catch (err) {
      if (seq !== this.viewsSeq || err.status === 401) return;
      setText(this.viewsNote, `Could not load who opened it: ${err.message}`);
      this.viewsNote.hidden = false;
    }
  }

  viewItem(v) {
    const outcome = outcomeWords(v.outcome);
    const agent = shortAgent(v.user_agent);
    const details = [v.user_agent || 'No user agent', v.ip ? `from ${v.ip}` : ''].filter(Boolean).join(' ');
    return h(
      'li',
      { class: `link-view ${v.outcome === 'viewed' ? 'is-viewed' : 'is-refused'}` },
      h('time', { datetime: v.at, title: this.clock.full(v.at), text: this.clock.stamp(v.at) }),
      h('span', { class: 'link-outcome', text: outcome }),
      h('span', { class: 'link-agent', title: details, text: agent }),
    );
  }
}

// The caption button and its panel for one outbound message: plan mms or
// link shows "Sent as …", pressing it shows the reason (and the link).
export class RouteInfo {
  constructor({ msgId, clock }) {
    this.clock = clock;
    this.plan = null;
    const panelId = `route-${msgId}`;
    this.button = h('button', {
      type: 'button',
      class: 'route',
      'aria-expanded': 'false',
      'aria-controls': panelId,
      hidden: true,
      onclick: () => this.toggle(),
    });
    this.reason = h('p', { class: 'route-reason' });
    this.panel = h('div', { class: 'route-panel', id: panelId, hidden: true }, this.reason);
    this.link = null;
  }

  get open() {
    return !this.panel.hidden;
  }

  // Brings the caption (and the panel, while open) up to date with msg.
  update(msg) {
    const route = msg.route || null;
    const plan = route && PLANS[route.plan] ? route.plan : null;
    const reason = (route && route.reason) || '';
    this.button.hidden = !plan;
    if (!plan) {
      if (this.open) this.toggle();
      this.plan = null;
      return;
    }
    const p = PLANS[plan];
    const key = `${plan}|${reason}`;
    if (this.button.dataset.key !== key) {
      this.button.dataset.key = key;
      this.button.className = `route route-${plan}`;
      this.button.title = reason || p.short;
      this.button.setAttribute('aria-label', `How this was sent: ${p.short}`);
      this.button.replaceChildren(icon(p.icon), h('span', { text: p.short }));
    }
    this.plan = plan;
    if (this.open) setText(this.reason, reason || p.short);
    if (plan === 'link') {
      if (!this.link) {
        this.link = new LinkPanel({ clock: this.clock });
        this.panel.append(this.link.el);
      }
      const before = this.link.linkId;
      this.link.setLink(route.link || null);
      // A withdrawal (or anything else) announced for this message: fetch the
      // link's state again while its panel is open.
      if (this.open && (before !== this.link.linkId || !this.link.busy)) this.link.refresh({ background: true });
    } else if (this.link) {
      this.link.el.remove();
      this.link = null;
    }
    this.lastReason = reason || p.short;
  }

  toggle() {
    const open = this.panel.hidden;
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    setText(this.reason, open ? this.lastReason || '' : '');
    if (open) {
      if (this.link) this.link.refresh();
      this.panel.scrollIntoView({ block: 'nearest' });
    }
  }
}
