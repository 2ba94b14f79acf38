// Templates in the compose box: typing "/" at the start opens a searchable
// list of the clinic's templates; choosing one fills in what lyrebird knows
// (the patient's first name, the clinic's name and phone) and leaves the
// rest ({time}, or a first name the record lacks) as fields to fill in,
// highlighted. The message cannot be sent while one is still empty.

import { api } from '/static/api.js';
import { h, setText } from '/static/dom.js';

const MAX_SHOWN = 8;

// "first_name" → "First name".
function label(name) {
  const words = name.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export class TemplatePicker {
  // compose: the Compose box (its textarea, form, getPatient, update()).
  constructor({ compose }) {
    this.compose = compose;
    this.textarea = compose.textarea;
    this.templates = null; // loaded when first needed
    this.shown = [];
    this.active = -1;
    this.filling = null; // { base, fields: [{ name, input }] }
    this.ours = false; // the textarea is being changed by this code

    this.list = h('ul', { id: 'template-list', class: 'template-list', role: 'listbox', 'aria-label': 'Templates' });
    this.empty = h('p', { class: 'template-empty' });
    this.hint = h('p', { class: 'visually-hidden', role: 'status' });
    this.popup = h('div', { class: 'template-picker', hidden: true }, this.list, this.empty);
    this.fieldsNote = h('p', { class: 'template-fields-note' });
    this.fieldsRow = h('div', { class: 'template-fields', role: 'group', 'aria-label': 'Template fields', hidden: true }, this.fieldsNote);
    const row = compose.form.querySelector('.compose-row');
    compose.form.insertBefore(this.popup, row);
    compose.form.insertBefore(this.fieldsRow, row);
    compose.form.append(this.hint);

    // Capture: before the box's own Enter-to-send.
    compose.form.addEventListener('keydown', (e) => this.onKey(e), true);
    this.textarea.addEventListener('input', () => this.onInput());
    this.textarea.addEventListener('blur', () => setTimeout(() => this.close(), 150));
  }

  isOpen() {
    return !this.popup.hidden;
  }

  async load() {
    try {
      const j = await api('/api/v1/templates', { background: true });
      this.templates = j.templates || [];
    } catch {
      this.templates = [];
    }
  }

  async onInput() {
    if (this.ours) return;
    const v = this.textarea.value;
    if (this.filling) this.handEdited();
    const m = /^\/([^\n]*)$/.exec(v);
    if (!m) {
      this.close();
      return;
    }
    if (!this.templates || v === '/') await this.load();
    if (this.textarea.value !== v) return; // typed on meanwhile
    this.show(m[1].trim().toLowerCase());
  }

  show(query) {
    const all = this.templates || [];
    this.shown = all
      .filter((t) => !query || t.name.toLowerCase().includes(query) || t.body.toLowerCase().includes(query))
      .slice(0, MAX_SHOWN);
    this.list.replaceChildren(
      ...this.shown.map((t, i) =>
        h(
          'li',
          {
            id: `template-option-${i}`,
            role: 'option',
            'aria-selected': 'false',
            class: 'template-option',
            onmousedown: (e) => {
              e.preventDefault();
              this.pick(t);
            },
          },
          h('span', { class: 'template-name', text: t.name }),
          h('span', { class: 'template-body', text: t.body }),
        ),
      ),
    );
    setText(
      this.empty,
      this.shown.length ? '' : all.length ? 'No template matches.' : 'No templates yet: an admin adds them on the admin page.',
    );
    this.empty.hidden = this.shown.length > 0;
    this.popup.hidden = false;
    this.setActive(this.shown.length ? 0 : -1);
    setText(this.hint, this.shown.length ? `${this.shown.length} templates. Up and down to choose, Enter to use one.` : this.empty.textContent);
  }

  setActive(i) {
    this.active = i;
    [...this.list.children].forEach((li, k) => li.setAttribute('aria-selected', String(k === i)));
    if (i >= 0) {
      this.textarea.setAttribute('aria-activedescendant', `template-option-${i}`);
      this.list.children[i].scrollIntoView({ block: 'nearest' });
    } else this.textarea.removeAttribute('aria-activedescendant');
  }

  close() {
    if (this.popup.hidden) return;
    this.popup.hidden = true;
    this.textarea.removeAttribute('aria-activedescendant');
    setText(this.hint, '');
  }

  onKey(e) {
    if (e.target !== this.textarea || !this.isOpen()) return;
    const n = this.shown.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (n) this.setActive((this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      e.stopImmediatePropagation();
      if (this.active >= 0) this.pick(this.shown[this.active]);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.close();
    }
  }

  async pick(t) {
    this.close();
    let out;
    try {
      out = await api(`/api/v1/templates/${encodeURIComponent(t.id)}/render`, {
        method: 'POST',
        json: { patient: this.compose.getPatient() },
      });
    } catch (err) {
      this.compose.showError(`The template could not be used: ${err.message}`);
      return;
    }
    this.start(out.text, out.missing || []);
  }

  // The filled-in text in the box, and a field for each value still missing.
  start(text, missing) {
    this.reset();
    this.filling = { base: text, fields: [] };
    for (const name of missing) {
      const input = h('input', {
        type: 'text',
        class: 'template-field is-missing',
        'aria-invalid': 'true',
        maxlength: '200',
        'data-field': name,
      });
      input.addEventListener('input', () => this.fill());
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          const next = this.filling && this.filling.fields.find((f) => !f.input.value.trim());
          (next ? next.input : this.textarea).focus();
        }
      });
      const lab = h('label', { class: 'template-field-label' }, h('span', { text: label(name) }), input);
      this.filling.fields.push({ name, input, lab });
      this.fieldsRow.append(lab);
    }
    this.fieldsRow.hidden = missing.length === 0;
    this.fill();
    const first = this.filling.fields[0];
    (first ? first.input : this.textarea).focus();
  }

  // The box's text: the template with the values typed so far.
  fill() {
    const f = this.filling;
    if (!f) return;
    let text = f.base;
    for (const { name, input } of f.fields) {
      const v = input.value.trim();
      input.classList.toggle('is-missing', !v);
      input.setAttribute('aria-invalid', String(!v));
      if (v) text = text.split(`{${name}}`).join(v);
    }
    const left = this.unfilled(text);
    setText(this.fieldsNote, left.length ? `Fill in ${left.map(label).join(', ')} before sending.` : 'All filled in.');
    this.ours = true;
    this.textarea.value = text;
    this.ours = false;
    this.compose.update();
  }

  // Staff typed in the box: what they wrote is the text now; a field whose
  // placeholder they removed (or that was filled in) goes.
  handEdited() {
    const f = this.filling;
    f.base = this.textarea.value;
    f.fields = f.fields.filter((x) => {
      const keep = f.base.includes(`{${x.name}}`);
      if (!keep) x.lab.remove();
      return keep;
    });
    for (const x of f.fields) x.input.value = '';
    if (!f.fields.length) this.reset();
    else this.fill();
  }

  // The template's placeholders still in the text.
  unfilled(text = this.textarea.value) {
    if (!this.filling) return [];
    return this.filling.fields.map((x) => x.name).filter((name) => text.includes(`{${name}}`));
  }

  // Why the box's text cannot go yet, or null.
  blocking() {
    const left = this.unfilled();
    if (!left.length) return null;
    const first = this.filling.fields.find((x) => x.name === left[0]);
    if (first) first.input.focus();
    return `Fill in ${left.map(label).join(', ')} first: the patient would see ${left.map((n) => `{${n}}`).join(', ')}.`;
  }

  reset() {
    this.close();
    this.filling = null;
    this.fieldsRow.replaceChildren(this.fieldsNote);
    this.fieldsRow.hidden = true;
  }
}
