// The patient panel beside the thread: who the patient is (name, number,
// date of birth), whether they may be messaged and how that came about, and
// every picture of the conversation. The name and date of birth are edited
// here. On a wide screen it sits beside the thread; on a narrower one it is
// a sheet over the inbox, opened from the thread header.
//
// It also holds the inbox's keyboard shortcuts (j/k or the arrows between
// conversations, / to search, Esc to close), which are off while someone
// types in a field.

import { api, pathNumber } from '/static/api.js';
import { h, setText, showAlert } from '/static/dom.js';

const GALLERY_PAGE = 30;
const KEY_OPEN = 'lyrebird.panel';
const wide = window.matchMedia('(min-width: 1100px)');

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

// "7 March 1984 (age 42)", from "1984-03-07".
export function formatDob(dob, today = new Date()) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dob || '');
  if (!m) return '';
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = today.getFullYear() - y;
  if (today.getMonth() + 1 < mo || (today.getMonth() + 1 === mo && today.getDate() < d)) age -= 1;
  return `${d} ${MONTHS[mo - 1]} ${y}${age >= 0 ? ` (age ${age})` : ''}`;
}

function todayIso() {
  const t = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}`;
}

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode: remembered until the page closes.
  }
}

function infoIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of ['M21 12a9 9 0 1 1-18 0a9 9 0 1 1 18 0', 'M12 11v5.5', 'M12 7.5v.01']) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

export class Panel {
  // clock: the clinic's clock (time.js); onOpenImage(url, alt, opener): the
  // inbox's viewer; onSaved(patient, {name, dob}): after an edit;
  // exists(patient): lyrebird has a conversation with the number (a number
  // nobody has written to yet has nothing on file, so nothing is asked).
  constructor({ layout, header, clock, onOpenImage, onSaved, exists }) {
    this.layout = layout;
    this.exists = exists || (() => true);
    this.clock = clock;
    this.onOpenImage = onOpenImage;
    this.onSaved = onSaved;
    this.patient = null;
    this.seq = 0;
    this.next = null;
    this.details = null;
    this.wanted = stored(KEY_OPEN) !== 'closed'; // beside the thread, on a wide screen
    this.build(header);
    wide.addEventListener('change', () => this.place());
  }

  build(header) {
    this.toggle = h('button', {
      type: 'button',
      class: 'button button-quiet panel-toggle',
      id: 'panel-toggle',
      'aria-controls': 'panel',
      'aria-expanded': 'false',
    }, infoIcon(), h('span', { class: 'panel-toggle-text' }, 'Patient details'));
    this.toggle.addEventListener('click', () => (this.isOpen() ? this.close(true) : this.open(true)));
    header.append(this.toggle);

    this.title = h('h2', { id: 'panel-title', tabindex: '-1' }, 'Patient details');
    this.closeButton = h('button', { type: 'button', class: 'button button-quiet', id: 'panel-close' }, 'Close');
    this.closeButton.addEventListener('click', () => this.close(true));

    // Details.
    this.nameEl = h('dd', { id: 'panel-name' });
    this.numberEl = h('dd', { id: 'panel-number' });
    this.dobEl = h('dd', { id: 'panel-dob' });
    this.edit = h('button', { type: 'button', class: 'button button-quiet button-small', id: 'panel-edit' }, 'Edit details');
    this.edit.addEventListener('click', () => this.openForm());
    this.list = h('dl', { class: 'patient-panel-facts' },
      h('dt', {}, 'Name'), this.nameEl,
      h('dt', {}, 'Mobile'), this.numberEl,
      h('dt', {}, 'Date of birth'), this.dobEl);

    // The edit form.
    this.nameInput = h('input', { type: 'text', id: 'panel-name-input', maxlength: '127', autocomplete: 'off' });
    this.dobInput = h('input', { type: 'date', id: 'panel-dob-input', min: '1900-01-01' });
    this.formError = h('p', { class: 'field-error', role: 'alert', hidden: true });
    this.save = h('button', { type: 'submit', class: 'button button-primary' }, 'Save details');
    const cancel = h('button', { type: 'button', class: 'button button-quiet' }, 'Cancel');
    cancel.addEventListener('click', () => this.closeForm(true));
    this.form = h('form', { class: 'patient-panel-form', id: 'panel-form', novalidate: true, hidden: true, 'aria-label': 'Edit patient details' },
      h('label', { for: 'panel-name-input' }, 'Name'), this.nameInput,
      h('label', { for: 'panel-dob-input' }, 'Date of birth'), this.dobInput,
      this.formError,
      h('div', { class: 'patient-panel-form-row' }, this.save, cancel));
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        this.closeForm(true);
      }
    });

    // Consent.
    this.consentState = h('p', { class: 'patient-panel-consent-state', id: 'panel-consent-state' });
    this.history = h('ol', { class: 'patient-panel-history', 'aria-label': 'Consent history' });
    this.noHistory = h('p', { class: 'subtle', hidden: true }, 'No changes recorded.');

    // Pictures.
    this.gallery = h('ul', { class: 'patient-panel-gallery', 'aria-label': 'Pictures' });
    this.galleryEmpty = h('p', { class: 'subtle', hidden: true }, 'No pictures yet.');
    this.more = h('button', { type: 'button', class: 'button button-quiet button-small', hidden: true }, 'More pictures');
    this.more.addEventListener('click', () => this.loadGallery(false));
    this.error = h('p', { class: 'field-error', role: 'alert', hidden: true });

    this.el = h('aside', { class: 'patient-panel', id: 'panel', 'aria-labelledby': 'panel-title', hidden: true },
      h('div', { class: 'patient-panel-head' }, this.title, this.closeButton),
      h('div', { class: 'patient-panel-body' },
        this.error,
        h('section', { class: 'patient-panel-section', 'aria-labelledby': 'panel-about' },
          h('div', { class: 'patient-panel-section-head' }, h('h3', { id: 'panel-about' }, 'About'), this.edit),
          this.list, this.form),
        h('section', { class: 'patient-panel-section', 'aria-labelledby': 'panel-consent' },
          h('h3', { id: 'panel-consent' }, 'Messages'), this.consentState, this.history, this.noHistory),
        h('section', { class: 'patient-panel-section', 'aria-labelledby': 'panel-pictures' },
          h('h3', { id: 'panel-pictures' }, 'Pictures'), this.gallery, this.galleryEmpty, this.more)));
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.stopPropagation();
        this.close(true);
      }
    });
    this.layout.append(this.el);
  }

  isOpen() {
    return !this.el.hidden;
  }

  // A sheet over the inbox (narrow screens), rather than a column beside it.
  isSheet() {
    return !wide.matches;
  }

  // ---- which patient ------------------------------------------------------

  show(patient) {
    if (patient === this.patient) return;
    this.patient = patient;
    this.seq += 1;
    this.details = null;
    this.closeForm(false);
    this.clear();
    this.toggle.hidden = !patient;
    if (patient && this.wanted && !this.isSheet()) this.open(false);
    else this.close(false);
    if (patient && this.isOpen()) this.refresh();
  }

  hide() {
    this.show(null);
  }

  clear() {
    setText(this.nameEl, '');
    setText(this.numberEl, this.patient || '');
    setText(this.dobEl, '');
    setText(this.consentState, '');
    this.history.replaceChildren();
    this.gallery.replaceChildren();
    this.galleryEmpty.hidden = true;
    this.noHistory.hidden = true;
    this.more.hidden = true;
    this.next = null;
    showAlert(this.error, '');
  }

  open(byUser) {
    if (!this.patient) return;
    const was = this.isOpen();
    this.el.hidden = false;
    this.toggle.setAttribute('aria-expanded', 'true');
    this.place();
    if (byUser) {
      if (!this.isSheet()) {
        this.wanted = true;
        store(KEY_OPEN, 'open');
      }
      this.title.focus({ preventScroll: true });
    }
    if (!was) this.refresh();
  }

  close(byUser) {
    const was = this.isOpen();
    this.el.hidden = true;
    this.toggle.setAttribute('aria-expanded', 'false');
    this.place();
    if (byUser && was) {
      if (!this.isSheet()) {
        this.wanted = false;
        store(KEY_OPEN, 'closed');
      }
      if (!this.toggle.hidden) this.toggle.focus();
    }
  }

  place() {
    const open = this.isOpen();
    this.layout.classList.toggle('with-patient-panel', open && !this.isSheet());
    this.el.classList.toggle('patient-panel-sheet', this.isSheet());
    document.body.classList.toggle('sheet-open', open && this.isSheet());
  }

  // Something about the open patient changed (a live event): read it again.
  changed(what = 'all') {
    if (!this.patient || !this.isOpen()) return;
    if (what === 'media') this.loadGallery(true);
    else this.refresh();
  }

  // ---- loading ------------------------------------------------------------

  async refresh() {
    const patient = this.patient;
    const seq = this.seq;
    if (!patient) return;
    if (!this.exists(patient)) {
      this.details = { patient, name: null, dob: null };
      this.renderDetails();
      this.renderConsent({ opt_out: null, history: [] });
      this.galleryEmpty.hidden = false;
      return;
    }
    const p = pathNumber(patient);
    const [who, consent] = await Promise.allSettled([
      api(`/api/v1/patients/${p}`, { background: true }),
      api(`/api/v1/patients/${p}/consent`, { background: true }),
    ]);
    if (seq !== this.seq) return;
    if (who.status === 'fulfilled') {
      this.details = who.value;
      this.renderDetails();
    } else if (who.reason && who.reason.status === 404) {
      // Nobody has written yet: nothing on file.
      this.details = { patient, name: null, dob: null };
      this.renderDetails();
    } else {
      showAlert(this.error, who.reason ? who.reason.message : 'Could not load the patient.');
    }
    if (consent.status === 'fulfilled') this.renderConsent(consent.value);
    else this.renderConsent({ opt_out: null, history: [] });
    this.loadGallery(true);
  }

  renderDetails() {
    const d = this.details || {};
    setText(this.nameEl, d.name || 'Not on file');
    this.nameEl.classList.toggle('subtle', !d.name);
    setText(this.numberEl, this.patient || '');
    setText(this.dobEl, d.dob ? formatDob(d.dob) : 'Not on file');
    this.dobEl.classList.toggle('subtle', !d.dob);
    if (d.dob) this.dobEl.dataset.dob = d.dob;
    else delete this.dobEl.dataset.dob;
  }

  renderConsent(c) {
    const out = c && c.opt_out;
    if (out) {
      setText(this.consentState, `Opted out since ${this.clock.stamp(out.since)}`);
      this.consentState.classList.add('opted-out');
    } else {
      setText(this.consentState, 'Receives messages.');
      this.consentState.classList.remove('opted-out');
    }
    const items = ((c && c.history) || []).slice().reverse(); // newest first
    this.history.replaceChildren(...items.map((e) => {
      const what = e.state === 'opted_out' ? 'Opted out' : 'Opted in';
      const time = h('time', { datetime: e.at || '' }, e.at ? this.clock.stamp(e.at) : '');
      return h('li', { class: `patient-panel-event ${e.state}` },
        h('strong', {}, what), ' · ', time,
        h('span', { class: 'patient-panel-event-why' }, e.description || e.reason || ''));
    }));
    this.noHistory.hidden = items.length > 0;
  }

  async loadGallery(fresh) {
    const patient = this.patient;
    const seq = this.seq;
    if (!patient) return;
    if (fresh) this.next = null;
    let url = `/api/v1/conversations/${pathNumber(patient)}/media?limit=${GALLERY_PAGE}`;
    if (!fresh && this.next) url += `&before=${encodeURIComponent(this.next)}`;
    let data;
    try {
      data = await api(url, { background: true });
    } catch (err) {
      if (seq !== this.seq) return;
      if (err.status === 404) data = { media: [], next: null }; // no conversation yet
      else {
        showAlert(this.error, err.message);
        return;
      }
    }
    if (seq !== this.seq) return;
    const items = (data.media || []).map((m) => this.thumb(m));
    if (fresh) this.gallery.replaceChildren(...items);
    else this.gallery.append(...items);
    this.next = data.next || null;
    this.more.hidden = !this.next;
    this.galleryEmpty.hidden = this.gallery.children.length > 0;
  }

  thumb(m) {
    const when = m.sent_at ? this.clock.stamp(m.sent_at) : '';
    const from = m.direction === 'inbound' ? 'from the patient' : 'sent to the patient';
    const alt = `Picture ${from}`;
    const img = h('img', { src: m.thumb_url || m.url, alt: '', loading: 'lazy', decoding: 'async' });
    const button = h('button', {
      type: 'button',
      class: 'patient-panel-thumb',
      'aria-label': `Open picture ${from}${when ? `, ${when}` : ''}`,
      'data-id': m.id,
    }, img);
    button.addEventListener('click', () => this.onOpenImage(m.url, alt, button));
    return h('li', {}, button);
  }

  // ---- editing --------------------------------------------------------------

  openForm() {
    const d = this.details || {};
    this.nameInput.value = d.name || '';
    this.dobInput.value = d.dob || '';
    this.dobInput.max = todayIso();
    showAlert(this.formError, '');
    this.form.hidden = false;
    this.list.hidden = true;
    this.edit.hidden = true;
    this.nameInput.focus();
  }

  closeForm(returnFocus) {
    this.form.hidden = true;
    this.list.hidden = false;
    this.edit.hidden = false;
    showAlert(this.formError, '');
    if (returnFocus) this.edit.focus();
  }

  async submit() {
    const patient = this.patient;
    const name = this.nameInput.value.trim();
    // A date input holds "" both when empty and when half typed.
    if (this.dobInput.validity && this.dobInput.validity.badInput) {
      showAlert(this.formError, 'Enter the whole date of birth: day, month and year.');
      this.dobInput.focus();
      return;
    }
    const dob = this.dobInput.value;
    if (dob && dob > todayIso()) {
      showAlert(this.formError, 'A date of birth cannot be in the future.');
      this.dobInput.focus();
      return;
    }
    const body = {};
    const d = this.details || {};
    if (name !== (d.name || '')) body.name = name || null;
    if (dob !== (d.dob || '')) body.dob = dob || null;
    if (!Object.keys(body).length) {
      this.closeForm(true);
      return;
    }
    this.save.disabled = true;
    try {
      const data = await api(`/api/v1/patients/${pathNumber(patient)}`, { method: 'PATCH', json: body });
      if (patient !== this.patient) return;
      this.details = { ...d, ...data };
      this.renderDetails();
      this.closeForm(true);
      if (this.onSaved) this.onSaved(patient, this.details);
    } catch (err) {
      if (err.status === 404) showAlert(this.formError, 'Send this patient a first message, then you can save their details.');
      else showAlert(this.formError, err.message);
    } finally {
      this.save.disabled = false;
    }
  }
}

// ---- keyboard shortcuts -----------------------------------------------------

function typing(el) {
  if (!el) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  return !['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'image'].includes(el.type);
}

// j/k and the arrows move between conversations, / goes to search, Esc
// closes the newest thing open (the viewer closes itself). go(step) moves
// by step in the list; escape() answers whether it closed something.
export function installShortcuts({ list, search, scroller, go, escape }) {
  // Escape, once the forms and the search box had their say (they close or
  // clear themselves).
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    if (document.querySelector('dialog[open]')) return;
    const t = e.target;
    if (t === search || (t.closest && t.closest('form'))) return;
    if (escape()) e.preventDefault();
  });
  // The others before anything else sees them (a letter typed while the
  // thread's heading has the focus goes to the compose box, see inbox.js).
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.key === 'Escape') return;
    if (document.querySelector('dialog[open]')) return;
    const t = e.target;
    if (typing(t)) return;
    let step = 0;
    if (e.key === 'j') step = 1;
    else if (e.key === 'k') step = -1;
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      // The arrows scroll a thread or a panel that has the focus.
      if (scroller.contains(t) || (t.closest && t.closest('.patient-panel'))) return;
      if (!(list.contains(t) || t === document.body || t.tagName === 'H2')) return;
      step = e.key === 'ArrowDown' ? 1 : -1;
    } else if (e.key === '/') {
      e.preventDefault();
      e.stopPropagation();
      search.focus();
      search.select();
      return;
    } else {
      return;
    }
    e.preventDefault();
    e.stopPropagation(); // not a letter for the compose box (inbox.js)
    go(step);
  }, true);
}
