// The admin page's message templates: list, add, change, delete, through
// /api/v1/templates (the gateway checks each one and says what is wrong).

import { api } from '/static/api.js';
import { h, setText, showAlert } from '/static/dom.js';

const $ = (id) => document.getElementById(id);

export class TemplatesAdmin {
  constructor() {
    this.list = $('templates');
    this.empty = $('templates-empty');
    this.error = $('templates-error');
    this.announce = $('templates-announce');
    this.form = $('template-form');
    this.title = $('template-form-title');
    this.formError = $('template-form-error');
    this.name = $('template-name');
    this.body = $('template-body');
    this.save = $('template-save');
    this.cancel = $('template-cancel');
    this.editing = null; // the template being changed, or null: a new one
    this.templates = [];
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!this.save.disabled) this.submit();
    });
    this.cancel.addEventListener('click', () => this.edit(null));
  }

  async load() {
    try {
      const j = await api('/api/v1/templates');
      this.templates = j.templates || [];
      this.render();
      showAlert(this.error, '');
    } catch (err) {
      if (err.status !== 401) showAlert(this.error, err.message);
    }
  }

  render() {
    this.list.replaceChildren(
      ...this.templates.map((t) =>
        h(
          'li',
          { class: 'template-admin' },
          h('h3', { class: 'template-admin-name', text: t.name }),
          h('p', { class: 'template-admin-body', text: t.body }),
          h(
            'div',
            { class: 'form-actions' },
            h('button', { type: 'button', class: 'button button-quiet button-small', 'aria-label': `Edit ${t.name}`, text: 'Edit', onclick: () => this.edit(t) }),
            h('button', { type: 'button', class: 'button button-danger button-small', 'aria-label': `Delete ${t.name}`, text: 'Delete', onclick: (e) => this.remove(t, e.currentTarget) }),
          ),
        ),
      ),
    );
    this.empty.hidden = this.templates.length > 0;
  }

  edit(t) {
    this.editing = t;
    this.name.value = t ? t.name : '';
    this.body.value = t ? t.body : '';
    setText(this.title, t ? `Change "${t.name}"` : 'Add a template');
    setText(this.save, t ? 'Save template' : 'Add template');
    this.cancel.hidden = !t;
    showAlert(this.formError, '');
    if (t) this.name.focus();
  }

  async submit() {
    const json = { name: this.name.value.trim(), body: this.body.value };
    this.save.disabled = true;
    showAlert(this.formError, '');
    try {
      const t = this.editing
        ? await api(`/api/v1/templates/${encodeURIComponent(this.editing.id)}`, { method: 'PATCH', json })
        : await api('/api/v1/templates', { method: 'POST', json });
      setText(this.announce, this.editing ? `Saved "${t.name}".` : `Added "${t.name}".`);
      this.edit(null);
      await this.load();
    } catch (err) {
      showAlert(this.formError, err.message);
    } finally {
      this.save.disabled = false;
    }
  }

  async remove(t, button) {
    button.disabled = true;
    try {
      await api(`/api/v1/templates/${encodeURIComponent(t.id)}`, { method: 'DELETE' });
      setText(this.announce, `Deleted "${t.name}".`);
      if (this.editing && this.editing.id === t.id) this.edit(null);
      await this.load();
    } catch (err) {
      showAlert(this.error, err.message);
      button.disabled = false;
    }
  }
}
