// A message that did not reach the patient: why, in a sentence staff can act
// on, the carrier's code under "Details", and two ways to send it again:
// Retry (the same message, a new attempt) and Edit and resend (a new message
// with the text changed, linked to the first). The gateway decides whether a
// message may go again (msg.can_retry); this only shows what it says.

import { api } from '/static/api.js';
import { h, setText, showAlert } from '/static/dom.js';

export class FailureActions {
  // onChange(msg): a message the gateway answered with (the retried one, or
  // the new one from Edit and resend), for the thread to show at once.
  constructor({ onChange }) {
    this.onChange = onChange;
    this.msg = null;
    this.sentence = h('p', { class: 'failure-message' });
    this.action = h('p', { class: 'failure-action' });
    this.code = h('p', { class: 'failure-code' });
    this.details = h('details', { class: 'failure-details' }, h('summary', { text: 'Details' }), this.code);
    this.retryBtn = h('button', { type: 'button', class: 'button button-primary button-small', text: 'Retry', onclick: () => this.retry() });
    this.editBtn = h('button', { type: 'button', class: 'button button-quiet button-small', text: 'Edit and resend', onclick: () => this.openEditor() });
    this.alert = h('p', { class: 'failure-alert', role: 'alert', hidden: true });
    this.editor = h('textarea', { class: 'failure-editor', rows: '3', 'aria-label': 'Edited text to send' });
    this.sendEdited = h('button', { type: 'button', class: 'button button-primary button-small', text: 'Send edited text', onclick: () => this.resend() });
    this.cancelEdit = h('button', { type: 'button', class: 'button button-quiet button-small', text: 'Cancel', onclick: () => this.closeEditor() });
    this.editRow = h('div', { class: 'failure-edit', hidden: true }, this.editor, h('div', { class: 'failure-buttons' }, this.sendEdited, this.cancelEdit));
    this.el = h(
      'div',
      { class: 'failure', role: 'group', 'aria-label': 'Not delivered', hidden: true },
      this.sentence,
      this.action,
      this.details,
      h('div', { class: 'failure-buttons' }, this.retryBtn, this.editBtn),
      this.editRow,
      this.alert,
    );
  }

  update(msg) {
    this.msg = msg;
    const f = msg.failure;
    this.el.hidden = !f;
    if (!f) {
      this.closeEditor();
      showAlert(this.alert, '');
      return;
    }
    setText(this.sentence, f.message);
    setText(this.action, f.action);
    const d = f.details || {};
    setText(this.code, [d.code, d.text].filter(Boolean).join(': ') || 'No code given');
    this.retryBtn.hidden = !msg.can_retry;
    this.editBtn.hidden = !msg.can_retry;
  }

  async retry() {
    if (!this.msg) return;
    this.retryBtn.disabled = true;
    showAlert(this.alert, '');
    try {
      const m = await api(`/api/v1/messages/${encodeURIComponent(this.msg.id)}/retry`, { method: 'POST' });
      this.onChange(m);
    } catch (err) {
      showAlert(this.alert, `Not sent again: ${err.message}`);
    } finally {
      this.retryBtn.disabled = false;
    }
  }

  openEditor() {
    this.editor.value = this.msg ? this.msg.text || '' : '';
    this.editRow.hidden = false;
    this.editor.focus();
  }

  closeEditor() {
    this.editRow.hidden = true;
  }

  async resend() {
    if (!this.msg) return;
    this.sendEdited.disabled = true;
    showAlert(this.alert, '');
    try {
      const m = await api(`/api/v1/messages/${encodeURIComponent(this.msg.id)}/resend`, {
        method: 'POST',
        json: { text: this.editor.value },
      });
      this.closeEditor();
      this.onChange(m);
    } catch (err) {
      showAlert(this.alert, `Not sent: ${err.message}`);
    } finally {
      this.sendEdited.disabled = false;
    }
  }
}
