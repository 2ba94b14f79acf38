// The compose box: text, one attachment, the SMS counter and sending.

import { api, newUuid } from '/static/api.js';
import { showAlert } from '/static/dom.js';
import { smsSegments } from '/static/segments.js';
import { TemplatePicker } from '/static/templates.js';

export const MAX_CHARS = 1600;
const ACCEPTED = /^(image\/|application\/pdf$)/;

export class Compose {
  // getPatient() → the open conversation's number; onSent(message) after a
  // 202; onInteract() whenever someone works in the box.
  constructor({ form, getPatient, onSent, onInteract }) {
    this.form = form;
    this.getPatient = getPatient;
    this.onSent = onSent;
    this.onInteract = onInteract;
    this.textarea = form.querySelector('#message');
    this.fileInput = form.querySelector('#attach');
    this.sendButton = form.querySelector('#send');
    this.counter = form.querySelector('#segments');
    this.errorBox = form.querySelector('#compose-error');
    this.preview = form.querySelector('#attachment');
    this.previewImg = form.querySelector('#attachment-thumb');
    this.previewDoc = form.querySelector('#attachment-doc');
    this.previewName = form.querySelector('#attachment-name');
    this.removeButton = form.querySelector('#attachment-remove');
    this.sendAsRow = form.querySelector('#send-as-row');
    this.sendAs = form.querySelector('#send-as');
    this.closedNote = form.querySelector('#compose-closed');
    this.closed = null; // why nothing can be sent to this patient, or null

    this.file = null;
    this.objectUrl = null;
    this.sending = false;
    this.attempt = null; // { patient, text, file, key, mediaId }
    this.drafts = new Map(); // patient → unsent text

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    this.textarea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        this.send();
      }
    });
    this.textarea.addEventListener('input', () => {
      this.update();
      this.onInteract();
    });
    this.textarea.addEventListener('paste', (e) => {
      const file = Array.from(e.clipboardData ? e.clipboardData.files : []).find((f) => ACCEPTED.test(f.type));
      if (file) {
        e.preventDefault();
        this.attach(file);
      }
    });
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files && this.fileInput.files[0];
      if (file) this.attach(file);
      this.fileInput.value = '';
    });
    this.removeButton.addEventListener('click', () => {
      this.detach();
      this.textarea.focus();
    });
    // "/" at the start: the clinic's templates (templates.js).
    this.templates = new TemplatePicker({ compose: this });
    this.update();
  }

  showError(msg) {
    showAlert(this.errorBox, msg);
  }

  attach(file) {
    if (!ACCEPTED.test(file.type)) {
      showAlert(this.errorBox, `${file.name || 'That file'} cannot be sent: attach a picture (JPEG, PNG, GIF, WebP, HEIC) or a PDF.`);
      return;
    }
    showAlert(this.errorBox, '');
    this.detach();
    this.file = file;
    const isImage = file.type.startsWith('image/');
    if (isImage) {
      this.objectUrl = URL.createObjectURL(file);
      this.previewImg.src = this.objectUrl;
      this.previewImg.alt = 'Attached picture';
    }
    this.previewImg.hidden = !isImage;
    this.previewDoc.hidden = isImage;
    // How an image goes (docs/links.md): only offered for a picture.
    this.sendAs.value = 'auto';
    this.sendAsRow.hidden = !isImage;
    this.previewName.textContent = file.name || (isImage ? 'Pasted picture' : 'Document');
    this.preview.hidden = false;
    this.onInteract();
    this.update();
  }

  detach() {
    this.file = null;
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
    this.previewImg.removeAttribute('src');
    this.preview.hidden = true;
    this.sendAsRow.hidden = true;
    this.sendAs.value = 'auto';
    this.update();
  }

  // Called when the open conversation changes: keep a text draft per
  // patient, but never carry an attachment over to someone else.
  switchTo(oldPatient, newPatient) {
    if (oldPatient) {
      if (this.textarea.value) this.drafts.set(oldPatient, this.textarea.value);
      else this.drafts.delete(oldPatient);
    }
    this.detach();
    this.attempt = null;
    this.templates.reset();
    showAlert(this.errorBox, '');
    this.textarea.value = (newPatient && this.drafts.get(newPatient)) || '';
    this.update();
  }

  // A patient who opted out gets nothing: the box is closed, and says why
  // (null opens it again).
  setClosed(why) {
    this.closed = why || null;
    this.closedNote.textContent = this.closed || '';
    this.closedNote.hidden = !this.closed;
    this.textarea.disabled = !!this.closed;
    this.fileInput.disabled = !!this.closed;
    this.form.classList.toggle('is-closed', !!this.closed);
    this.update();
  }

  // Counter, Send button and the box's height.
  update() {
    const text = this.textarea.value;
    const chars = [...text].length;
    const over = chars > MAX_CHARS;
    if (over) {
      this.counter.textContent = `${chars.toLocaleString('en-AU')} / ${MAX_CHARS}`;
      this.counter.title = `Too long: at most ${MAX_CHARS} characters`;
    } else {
      const s = smsSegments(text);
      const capacity = s.segments > 1 ? s.segments * s.perSegment : s.perSegment;
      this.counter.textContent = `${s.units} / ${capacity} · ${s.segments} SMS`;
      this.counter.title =
        s.encoding === 'UCS-2'
          ? 'Contains characters outside the GSM alphabet, so each SMS holds fewer characters'
          : '';
    }
    this.counter.classList.toggle('over', over);
    this.sendButton.disabled = !!this.closed || this.sending || over || (!text.trim() && !this.file);

    const ta = this.textarea;
    ta.style.height = 'auto';
    ta.style.height = `${Math.min(ta.scrollHeight + 2, 168)}px`;
  }

  async send() {
    if (this.sending) return;
    const patient = this.getPatient();
    const text = this.textarea.value.trim();
    const file = this.file;
    if (!patient || (!text && !file)) return;
    if ([...text].length > MAX_CHARS) return;
    // A template's field still empty: say so, and send nothing.
    const unfilled = this.templates.blocking();
    if (unfilled) {
      showAlert(this.errorBox, unfilled);
      return;
    }
    const delivery = file && !this.sendAsRow.hidden ? this.sendAs.value : null;

    // One idempotency key per attempt at this exact message: a retry after a
    // network error reuses it (and the uploaded media), an edit starts afresh.
    const a = this.attempt;
    if (!a || a.patient !== patient || a.text !== text || a.file !== file) {
      this.attempt = { patient, text, file, delivery, key: newUuid(), mediaId: null };
    } else if (a.delivery !== delivery) {
      // Another "Send as": the same upload, but a new message.
      this.attempt = { ...a, delivery, key: newUuid() };
    }
    const attempt = this.attempt;

    this.sending = true;
    this.sendButton.setAttribute('aria-busy', 'true');
    this.update();
    showAlert(this.errorBox, '');
    try {
      if (file && !attempt.mediaId) {
        const media = await api('/api/v1/media', {
          method: 'POST',
          body: file,
          headers: { 'Content-Type': file.type || 'application/octet-stream' },
        });
        attempt.mediaId = media.id;
      }
      const body = { to: patient };
      if (text) body.text = text;
      if (attempt.mediaId) body.media = [attempt.mediaId];
      if (attempt.mediaId && attempt.delivery) body.delivery = attempt.delivery;
      const message = await api('/api/v1/messages', {
        method: 'POST',
        json: body,
        headers: { 'Idempotency-Key': attempt.key },
      });
      this.attempt = null;
      if (this.getPatient() === patient) {
        this.textarea.value = '';
        this.templates.reset();
        this.detach();
        this.drafts.delete(patient);
      }
      this.onSent(message, patient);
    } catch (err) {
      if (this.getPatient() === patient) showAlert(this.errorBox, err.message || 'The message was not sent.');
    } finally {
      this.sending = false;
      this.sendButton.removeAttribute('aria-busy');
      this.update();
      if (this.getPatient() === patient) this.textarea.focus();
    }
  }
}
