// Working as a team: the list's filters (mine, unassigned, all; open, done),
// the thread's assignee and Done/Reopen, internal notes (a composer and
// their place in the thread), and the live events that change them.
// Notes are never sent: they go to /notes, never to /api/v1/messages.

import { api, pathNumber } from '/static/api.js';
import { h, setText, showAlert } from '/static/dom.js';

export const NOTE_MAX = 2000;
export const NOTE_LABEL = 'Internal note — not sent to the patient';

// A note's <li> in the thread (thread.js's Thread), by id among the
// messages (both sort by time), with a day heading when it is the first of
// its day. Returns "added", or null when it is there already.
export function upsertNote(thread, note) {
  const { ol, clock } = thread;
  if (ol.querySelector(`li.staff-note[data-id="${CSS.escape(note.id)}"]`)) return null;
  const time = h('time', { class: 'note-time', datetime: note.created_at, title: clock.full(note.created_at) },
    clock.listStamp(note.created_at));
  const li = h('li', { class: 'staff-note' },
    h('div', { class: 'note-body' },
      h('p', { class: 'note-label' }, NOTE_LABEL),
      h('p', { class: 'note-text' }, note.text),
      h('p', { class: 'note-meta' }, `${note.author} · `, time)));
  li.dataset.id = note.id;
  let before = null;
  for (let at = ol.lastElementChild; at; at = at.previousElementSibling) {
    if (at.dataset.id < note.id) break;
    before = at;
  }
  // Day headings as the thread draws them for its messages.
  li.noteEntry = { msg: note, day: null };
  ol.insertBefore(li, before);
  thread.fixDay(li);
  if (li.nextElementSibling) thread.fixDay(li.nextElementSibling);
  return 'added';
}

export class Team {
  // listHead: where the filters go (before it); header: the thread header
  // (the bar goes after it); compose: the message form (the note composer
  // goes before it); getPatient() → the open conversation; onFilter() when
  // a filter changes; onChanged(conv) after a change made here; onNote(note)
  // when a note is saved.
  constructor({ session, listHead, header, compose, getPatient, onFilter, onChanged, onNote }) {
    this.me = (session.user && session.user.username) || '';
    this.getPatient = getPatient;
    this.onFilter = onFilter;
    this.onChanged = onChanged;
    this.onNote = onNote;
    this.staff = new Set(this.me ? [this.me] : []);

    // ---- filters
    this.assigned = h('select', { id: 'filter-assigned', 'aria-label': 'Whose conversations' },
      h('option', { value: 'all' }, 'Everyone’s'),
      h('option', { value: 'mine' }, 'Mine'),
      h('option', { value: 'unassigned' }, 'Unassigned'));
    this.state = h('select', { id: 'filter-state', 'aria-label': 'Open or done' },
      h('option', { value: 'open' }, 'Open'),
      h('option', { value: 'done' }, 'Done'),
      h('option', { value: 'all' }, 'Open and done'));
    for (const s of [this.assigned, this.state]) s.addEventListener('change', () => this.onFilter());
    listHead.before(h('div', { class: 'team-filters', role: 'group', 'aria-label': 'Show' }, this.assigned, this.state));

    // ---- the thread's bar
    this.who = h('span', { id: 'thread-assignee', class: 'team-assignee' });
    this.staffList = h('datalist', { id: 'team-staff' });
    this.assignInput = h('input', { id: 'assign-to', type: 'text', list: 'team-staff', autocomplete: 'off',
      spellcheck: 'false', placeholder: 'username', 'aria-label': 'Assign to a colleague (username)' });
    this.assignForm = h('form', { class: 'team-assign', novalidate: true },
      this.assignInput, this.staffList,
      h('button', { type: 'submit', class: 'button button-quiet', id: 'assign' }, 'Assign'));
    this.meButton = h('button', { type: 'button', class: 'button button-quiet', id: 'assign-me' }, 'Assign to me');
    this.unassignButton = h('button', { type: 'button', class: 'button button-quiet', id: 'unassign' }, 'Unassign');
    this.doneButton = h('button', { type: 'button', class: 'button button-quiet', id: 'mark-done' }, 'Done');
    this.error = h('p', { class: 'field-error', role: 'alert', hidden: true });
    this.bar = h('div', { class: 'team-bar', id: 'team-bar' },
      this.who, this.meButton, this.assignForm, this.unassignButton, this.doneButton, this.error);
    header.after(this.bar);
    this.meButton.addEventListener('click', () => this.change({ assigned_to: this.me }));
    this.unassignButton.addEventListener('click', () => this.change({ assigned_to: null }));
    this.doneButton.addEventListener('click', () =>
      this.change({ state: this.conv && this.conv.state === 'done' ? 'open' : 'done' }));
    this.assignForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const who = this.assignInput.value.trim().toLowerCase();
      if (who) this.change({ assigned_to: who });
    });

    // ---- the note composer
    this.noteText = h('textarea', { id: 'note-text', rows: '2', maxlength: String(NOTE_MAX),
      placeholder: 'Only staff see this' });
    this.noteError = h('p', { class: 'field-error', role: 'alert', hidden: true });
    this.noteForm = h('form', { class: 'note-form', id: 'note-form', hidden: true, novalidate: true },
      h('label', { for: 'note-text', class: 'note-label' }, NOTE_LABEL),
      this.noteText, this.noteError,
      h('div', { class: 'note-actions' },
        h('button', { type: 'submit', class: 'button button-primary', id: 'save-note' }, 'Save note'),
        h('button', { type: 'button', class: 'button button-quiet', onclick: () => this.toggleNote(false) }, 'Cancel')));
    this.noteButton = h('button', { type: 'button', class: 'button button-quiet note-toggle', id: 'add-note',
      'aria-expanded': 'false', 'aria-controls': 'note-form' }, 'Add internal note');
    this.noteButton.addEventListener('click', () => this.toggleNote(this.noteForm.hidden));
    this.noteForm.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.stopPropagation();
      this.toggleNote(false);
      this.noteButton.focus();
    });
    this.noteForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.saveNote();
    });
    compose.before(this.noteButton, this.noteForm);

    this.conv = null;
    if (session.user && session.user.role === 'admin') this.loadStaff();
  }

  // The list's query parameters.
  listParams() {
    const p = {};
    if (this.assigned.value !== 'all') p.assigned = this.assigned.value;
    if (this.state.value !== 'open') p.state = this.state.value;
    return p;
  }

  // Whether a filter hides some conversations (for the empty list's words).
  filtered() {
    return this.assigned.value !== 'all' || this.state.value !== 'open';
  }

  async loadStaff() {
    try {
      const data = await api('/api/v1/users', { background: true });
      for (const u of (data && data.users) || []) if (!u.disabled) this.staff.add(u.username);
      this.fillStaff();
    } catch {
      // Staff who are not admins type a colleague's username.
    }
  }

  fillStaff() {
    this.staffList.replaceChildren(...[...this.staff].sort().map((u) => h('option', { value: u })));
  }

  // Shows the open conversation's assignee and state (conv may be unknown).
  showThread(conv) {
    this.conv = conv || null;
    const assigned = conv && conv.assigned_to;
    if (assigned && !this.staff.has(assigned)) {
      this.staff.add(assigned);
      this.fillStaff();
    }
    setText(this.who, assigned ? `Assigned to ${assigned === this.me ? 'you' : assigned}` : 'Unassigned');
    this.meButton.hidden = !this.me || assigned === this.me;
    this.unassignButton.hidden = !assigned;
    const done = !!conv && conv.state === 'done';
    setText(this.doneButton, done ? 'Reopen' : 'Done');
    this.doneButton.title = done ? 'Show it in the open conversations again' : 'Dealt with: hide it until the patient writes again';
    this.bar.hidden = !conv;
    this.noteButton.hidden = !conv;
    if (!conv) this.toggleNote(false);
    showAlert(this.error, '');
  }

  async change(body) {
    const patient = this.getPatient();
    if (!patient) return;
    showAlert(this.error, '');
    try {
      const conv = await api(`/api/v1/conversations/${pathNumber(patient)}`, { method: 'PATCH', json: body });
      this.assignInput.value = '';
      if (patient === this.getPatient()) this.onChanged(conv);
    } catch (err) {
      if (err.status !== 401) showAlert(this.error, err.message);
    }
  }

  toggleNote(open) {
    this.noteForm.hidden = !open;
    this.noteButton.setAttribute('aria-expanded', String(open));
    showAlert(this.noteError, '');
    if (open) this.noteText.focus();
  }

  async saveNote() {
    const patient = this.getPatient();
    const text = this.noteText.value.trim();
    if (!patient) return;
    if (!text) {
      showAlert(this.noteError, 'Write the note first.');
      return;
    }
    try {
      const note = await api(`/api/v1/conversations/${pathNumber(patient)}/notes`, { method: 'POST', json: { text } });
      this.noteText.value = '';
      this.toggleNote(false);
      this.noteButton.focus();
      if (patient === this.getPatient()) this.onNote(note);
    } catch (err) {
      if (err.status !== 401) showAlert(this.noteError, err.message);
    }
  }
}
