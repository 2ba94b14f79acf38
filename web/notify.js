// Never missing a reply: while the inbox is in the background (another tab,
// another window), the unread count goes in the tab title, the favicon gets
// a badge, and, if the staff member allowed it, a desktop notification names
// the patient. The message text is only shown when she turns that on (off by
// default: a notification pops up on a screen others may see). An optional
// short tone, made with WebAudio (no audio file).
//
// The settings are this browser's, in localStorage.

import { h, setText } from '/static/dom.js';

const KEY_TEXT = 'lyrebird.notify.text';
const KEY_SOUND = 'lyrebird.notify.sound';
const KEY_DESKTOP = 'lyrebird.notify.desktop';
const ICON = '/static/favicon.svg';

function load(key, fallback) {
  try {
    const v = localStorage.getItem(key);
    return v === null ? fallback : v === '1';
  } catch {
    return fallback;
  }
}

function save(key, on) {
  try {
    localStorage.setItem(key, on ? '1' : '0');
  } catch {
    // Private mode: the setting lasts until the page closes.
  }
}

function bellIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of ['M6 16.5V11a6 6 0 0 1 12 0v5.5l1.5 2h-15z', 'M10 20.5a2 2 0 0 0 4 0']) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

const supported = () => typeof window.Notification === 'function';

export class Notifier {
  // onOpen(patient): a notification was clicked.
  constructor({ onOpen, onAttention }) {
    this.onOpen = onOpen;
    this.onAttention = onAttention;
    this.base = document.title;
    this.unread = 0;
    this.badged = -1; // the count the favicon shows (-1: the plain icon)
    this.iconImage = null;
    this.audio = null;
    this.showText = load(KEY_TEXT, false);
    this.sound = load(KEY_SOUND, false);
    this.desktop = load(KEY_DESKTOP, true);
    this.link = document.querySelector('link[rel="icon"]');
    this.build();
    const changed = () => {
      this.render();
      if (this.attentive() && this.onAttention) this.onAttention();
    };
    document.addEventListener('visibilitychange', changed);
    window.addEventListener('focus', changed);
    window.addEventListener('blur', changed);
  }

  // Someone is looking at the inbox: the tab is shown and the window focused.
  attentive() {
    return !document.hidden && document.hasFocus();
  }

  // The page's own title, without the count.
  setTitle(title) {
    this.base = title;
    this.render();
  }

  setUnread(n) {
    this.unread = Math.max(0, n | 0);
    this.render();
  }

  render() {
    const away = !this.attentive();
    const n = away ? this.unread : 0;
    const title = n > 0 ? `(${n}) ${this.base}` : this.base;
    if (document.title !== title) document.title = title;
    this.badge(n);
  }

  // ---- the favicon ------------------------------------------------------

  async badge(n) {
    if (!this.link || n === this.badged) return;
    this.badged = n;
    if (n === 0) {
      this.link.type = 'image/svg+xml';
      this.link.href = ICON;
      return;
    }
    try {
      if (!this.iconImage) {
        const img = new Image();
        img.src = ICON;
        await img.decode();
        this.iconImage = img;
      }
    } catch {
      return;
    }
    if (this.badged !== n) return; // changed meanwhile
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 64;
    const g = c.getContext('2d');
    g.drawImage(this.iconImage, 0, 0, 64, 64);
    g.beginPath();
    g.arc(46, 18, 17, 0, 2 * Math.PI);
    g.fillStyle = '#d93025';
    g.fill();
    g.lineWidth = 3;
    g.strokeStyle = '#ffffff';
    g.stroke();
    g.fillStyle = '#ffffff';
    g.font = 'bold 22px sans-serif';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(n > 9 ? '9+' : String(n), 46, 19);
    this.link.type = 'image/png';
    this.link.href = c.toDataURL('image/png');
  }

  // ---- a new message ----------------------------------------------------

  // A patient's message arrived. name: what the inbox calls the patient;
  // visible: the message is in the thread on screen.
  received({ patient, name, text, visible }) {
    const away = !this.attentive();
    if (this.sound && (away || !visible)) this.beep();
    if (!away) return;
    if (!supported() || Notification.permission !== 'granted' || !this.desktop) return;
    const who = name || patient;
    const body = this.showText && text ? text : 'Open the inbox to read it.';
    let n;
    try {
      n = new Notification(`New message from ${who}`, {
        body,
        tag: `lyrebird-${patient}`,
        icon: ICON,
        silent: true,
      });
    } catch {
      return; // some browsers allow notifications only from a service worker
    }
    n.onclick = () => {
      window.focus();
      if (this.onOpen) this.onOpen(patient);
      n.close();
    };
  }

  beep() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      this.audio = this.audio || new Ctx();
      const a = this.audio;
      if (a.state === 'suspended') a.resume();
      const t = a.currentTime;
      const osc = a.createOscillator();
      const gain = a.createGain();
      osc.type = 'sine';
      osc.frequency.setValueAtTime(880, t);
      osc.frequency.setValueAtTime(660, t + 0.12);
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
      osc.connect(gain).connect(a.destination);
      osc.start(t);
      osc.stop(t + 0.32);
    } catch {
      // No sound is no reason to miss the message: the rest still shows.
    }
  }

  // ---- the settings -----------------------------------------------------

  build() {
    const actions = document.querySelector('.topbar-actions');
    if (!actions) return;
    this.status = h('p', { class: 'notify-status', id: 'notify-status' });
    this.enable = h('button', { type: 'button', class: 'button button-primary', id: 'notify-enable' },
      'Turn on notifications');
    this.enable.addEventListener('click', () => this.ask());
    const box = (id, label, hint, checked, onchange) => {
      const input = h('input', { type: 'checkbox', id });
      input.checked = checked;
      input.addEventListener('change', () => onchange(input.checked));
      const hintEl = hint ? h('span', { class: 'notify-hint', id: `${id}-hint` }, hint) : null;
      if (hintEl) input.setAttribute('aria-describedby', hintEl.id);
      return { input, row: h('div', { class: 'notify-option' }, input, h('label', { for: id }, label), hintEl) };
    };
    this.desktopBox = box('notify-desktop', 'Desktop notifications', null, this.desktop, (on) => {
      this.desktop = on;
      save(KEY_DESKTOP, on);
    });
    this.textBox = box('notify-text', 'Show the message text in notifications',
      'Off unless you turn it on: a notification appears on top of whatever is on screen, where patients or other people may read it.',
      this.showText, (on) => {
        this.showText = on;
        save(KEY_TEXT, on);
      });
    this.soundBox = box('notify-sound', 'Play a sound for new messages', null, this.sound, (on) => {
      this.sound = on;
      save(KEY_SOUND, on);
      if (on) this.beep(); // a sample, and it unlocks audio (a click)
    });
    const panel = h('div', { class: 'notify-panel' },
      h('p', { class: 'notify-about' },
        'While the inbox is in the background, the tab shows how many messages are unread.'),
      this.status, this.enable, this.desktopBox.row, this.textBox.row, this.soundBox.row);
    const summary = h('summary', { class: 'button button-quiet notify-summary' }, bellIcon(),
      h('span', { class: 'notify-summary-text' }, 'Alerts'));
    this.details = h('details', { class: 'notify', id: 'notify' }, summary, panel);
    this.details.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.details.open) {
        this.details.open = false;
        summary.focus();
        e.stopPropagation();
      }
    });
    // A click elsewhere closes it, as a menu would.
    document.addEventListener('pointerdown', (e) => {
      if (this.details.open && !this.details.contains(e.target)) this.details.open = false;
    });
    const before = document.getElementById('user-name');
    actions.insertBefore(this.details, before && before.parentNode === actions ? before : null);
    this.showPermission();
  }

  close() {
    if (this.details && this.details.open) {
      this.details.open = false;
      return true;
    }
    return false;
  }

  showPermission() {
    if (!this.status) return;
    let say = '';
    let ask = false;
    if (!supported()) {
      say = 'This browser cannot show desktop notifications.';
    } else if (Notification.permission === 'granted') {
      say = 'Desktop notifications are allowed in this browser.';
    } else if (Notification.permission === 'denied') {
      say = 'This browser blocks notifications from the inbox: allow them in the site settings (the padlock by the address).';
    } else {
      say = 'Desktop notifications are off.';
      ask = true;
    }
    setText(this.status, say);
    this.enable.hidden = !ask;
    this.desktopBox.row.hidden = !supported() || Notification.permission !== 'granted';
    this.textBox.row.hidden = this.desktopBox.row.hidden;
  }

  // Asked only from the button: browsers refuse a prompt without a click.
  async ask() {
    if (!supported()) return;
    try {
      await Notification.requestPermission();
    } catch {
      // An old browser's callback form: the state shows below either way.
    }
    this.showPermission();
    if (Notification.permission === 'granted') this.desktopBox.input.focus();
  }
}
