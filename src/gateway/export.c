/* A patient's thread for the clinical record: one ZIP (libarchive) with
 *
 *   thread.json   every message with its statuses, the consent history, and
 *                 the staff's internal notes (never sent to the patient)
 *   thread.html   the same, printable and self-contained: images inline, no
 *                 script, nothing fetched
 *   media/        the media files as stored (already stripped of metadata)
 *
 * An export is audited. */
#include <errno.h>
#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/internal.h"
#include "gateway/team.h"
#include "util/clock.h"
#include "util/log.h"

#define EXPORT_MAX ((size_t)1024 * 1024 * 1024) /* one ZIP, in memory */
#define DB_PAGE 200

struct collected {
  struct message *msgs;
  size_t n, cap;
  enum lb_err rc;
};

static enum lb_err on_msg(void *arg, const struct message *m)
{
  struct collected *c = arg;
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 64;
    struct message *grown = realloc(c->msgs, ncap * sizeof *grown);
    if (!grown)
      return LB_ENOMEM;
    c->msgs = grown;
    c->cap = ncap;
  }
  c->msgs[c->n] = *m;
  if (!(c->msgs[c->n].text = strdup(m->text ? m->text : "")))
    return LB_ENOMEM;
  c->n++;
  return LB_OK;
}

/* Every message of the patient's conversation, oldest first. */
static enum lb_err collect(struct gateway *gw, const char *patient,
                           struct collected *c)
{
  struct collected page = {0};
  char before[LB_ID_SIZE] = "";
  enum lb_err rc;
  for (;;) {
    page.n = 0;
    rc = store_conversation_messages(gw->store, gw->cfg->number, patient,
                                     before[0] ? before : NULL, DB_PAGE, on_msg,
                                     &page);
    if (rc)
      break;
    if (!page.n)
      break;
    /* This page goes before what was collected so far. */
    if (c->n + page.n > c->cap) {
      size_t ncap = c->n + page.n + 64;
      struct message *grown = realloc(c->msgs, ncap * sizeof *grown);
      if (!grown) {
        rc = LB_ENOMEM;
        break;
      }
      c->msgs = grown;
      c->cap = ncap;
    }
    memmove(c->msgs + page.n, c->msgs, c->n * sizeof *c->msgs);
    memcpy(c->msgs, page.msgs, page.n * sizeof *c->msgs);
    c->n += page.n;
    snprintf(before, sizeof before, "%s", page.msgs[0].id);
    if (page.n < DB_PAGE)
      break;
  }
  free(page.msgs); /* the texts moved to c */
  return rc;
}

static void collected_release(struct collected *c)
{
  for (size_t i = 0; i < c->n; i++)
    message_release(&c->msgs[i]);
  free(c->msgs);
}

/* ---- the archive ------------------------------------------------------------
 */

static la_ssize_t to_buf(struct archive *a, void *arg, const void *data,
                         size_t len)
{
  if (buf_append(arg, data, len)) {
    archive_set_error(a, ENOMEM, "the export is larger than %zu bytes",
                      EXPORT_MAX);
    return -1;
  }
  return (la_ssize_t)len;
}

static enum lb_err add_file(struct archive *a, const char *name,
                            const void *data, size_t len, time_t when)
{
  struct archive_entry *e = archive_entry_new();
  enum lb_err rc = LB_OK;
  if (!e)
    return LB_ENOMEM;
  archive_entry_set_pathname(e, name);
  archive_entry_set_size(e, (la_int64_t)len);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0600);
  archive_entry_set_mtime(e, when, 0);
  if (archive_write_header(a, e) != ARCHIVE_OK ||
      (len && archive_write_data(a, data, len) != (la_ssize_t)len))
    rc = LB_EIO;
  archive_entry_free(e);
  return rc;
}

static const char *ext_of(const char *ctype)
{
  static const struct {
    const char *ctype, *ext;
  } exts[] = {{"image/jpeg", "jpg"},     {"image/png", "png"},
              {"image/gif", "gif"},      {"image/webp", "webp"},
              {"image/heic", "heic"},    {"image/heif", "heif"},
              {"application/pdf", "pdf"}};
  for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
    if (strcmp(ctype, exts[i].ctype) == 0)
      return exts[i].ext;
  return "bin";
}

static void esc(struct buf *b, const char *s)
{
  for (; *s; s++)
    switch (*s) {
    case '&':
      buf_puts(b, "&amp;");
      break;
    case '<':
      buf_puts(b, "&lt;");
      break;
    case '>':
      buf_puts(b, "&gt;");
      break;
    case '"':
      buf_puts(b, "&quot;");
      break;
    case '\'':
      buf_puts(b, "&#39;");
      break;
    case '\n':
      buf_puts(b, "<br>");
      break;
    default:
      buf_append(b, s, 1);
    }
}

/* A time in the clinic's zone (the process runs in it), for people. */
static void local_time(int64_t ms, char *out, size_t n)
{
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  strftime(out, n, "%a %e %b %Y, %H:%M %Z", &tm);
}

static enum lb_err on_consent(void *arg, const struct consent_event *e)
{
  struct consent_event *copy;
  struct collected_consent {
    struct consent_event *items;
    size_t n, cap;
  } *c = arg;
  if (c->n == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 8;
    copy = realloc(c->items, ncap * sizeof *copy);
    if (!copy)
      return LB_ENOMEM;
    c->items = copy;
    c->cap = ncap;
  }
  c->items[c->n++] = *e;
  return LB_OK;
}

/* The notes, oldest first, a page at a time. */
struct collected_notes {
  json_t *arr;
  char last[LB_ID_SIZE];
  size_t page;
};

static enum lb_err on_note(void *arg, const struct note *n)
{
  struct collected_notes *c = arg;
  json_t *o = gw_note_json(n);
  if (!o || json_array_append_new(c->arr, o))
    return LB_ENOMEM;
  str_copy(c->last, sizeof c->last, n->id);
  c->page++;
  return LB_OK;
}

static enum lb_err collect_notes(struct gateway *gw, const char *patient,
                                 json_t *arr)
{
  struct collected_notes c = {arr, "", 0};
  enum lb_err rc;
  do {
    c.page = 0;
    rc = store_notes(gw->store, gw->cfg->number, patient,
                     c.last[0] ? c.last : NULL, NULL, DB_PAGE, on_note, &c);
  } while (!rc && c.page == DB_PAGE);
  return rc;
}

static void html_notes(struct buf *html, json_t *notes)
{
  size_t i;
  json_t *n;
  if (!json_array_size(notes))
    return;
  buf_puts(html, "<h2>Internal notes</h2><p class=\"meta\">Written by the "
                 "clinic's staff; never sent to the patient.</p>");
  json_array_foreach(notes, i, n)
  {
    buf_puts(html, "<div class=\"msg note\"><div class=\"meta\">");
    esc(html, json_string_value(json_object_get(n, "created_at")));
    buf_puts(html, " · Internal note by ");
    esc(html, json_string_value(json_object_get(n, "author")));
    buf_puts(html, "</div><p>");
    esc(html, json_string_value(json_object_get(n, "text")));
    buf_puts(html, "</p></div>");
  }
}

enum lb_err gw_export(struct gateway *gw, const char *patient,
                      const struct gw_actor *who, struct buf *zip,
                      struct gw_export_summary *sum)
{
  const struct config *c = gw->cfg;
  struct collected all = {0};
  struct {
    struct consent_event *items;
    size_t n, cap;
  } consent = {0};
  struct patient_row pr;
  struct archive *a = NULL;
  struct buf html, file;
  json_t *doc = NULL, *msgs, *cons, *notes;
  char *text = NULL, when[64], iso[LB_ISO8601_LEN];
  int64_t now = clock_now_ms();
  enum lb_err rc;

  memset(sum, 0, sizeof *sum);
  buf_init(&html, EXPORT_MAX);
  buf_init(&file, (size_t)c->media_max_bytes * 2 + 1);
  if ((rc = collect(gw, patient, &all)))
    goto out;
  if (!all.n) {
    rc = LB_ENOTFOUND;
    goto out;
  }
  if ((rc = store_patient_get(gw->store, patient, &pr)) ||
      (rc = store_consent_history(gw->store, patient, on_consent, &consent)))
    goto out;

  /* thread.json */
  clock_iso8601(now, iso, sizeof iso);
  msgs = json_array();
  cons = json_array();
  doc = json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:o, s:o}, s:o, s:o}",
                  "exported_at", iso, "clinic", "name", c->clinic_name,
                  "number", c->number, "patient", "number", patient, "name",
                  pr.name[0] ? json_string(pr.name) : json_null(), "dob",
                  pr.dob[0] ? json_string(pr.dob) : json_null(), "consent",
                  cons, "messages", msgs);
  if (!doc) {
    rc = LB_ENOMEM;
    goto out;
  }
  notes = json_array();
  if (!notes || json_object_set_new(doc, "notes", notes)) {
    rc = LB_ENOMEM;
    goto out;
  }
  if ((rc = collect_notes(gw, patient, notes)))
    goto out;
  for (size_t i = 0; i < consent.n; i++)
    json_array_append_new(cons, gw_consent_event_json(&consent.items[i]));
  for (size_t i = 0; i < all.n; i++)
    json_array_append_new(msgs, gw_message_json(gw, &all.msgs[i], 1));

  /* thread.html: printable, no script, images inline. */
  buf_puts(&html, "<!doctype html><html lang=\"en-AU\"><head><meta "
                  "charset=\"utf-8\"><meta http-equiv=\"Content-Security-"
                  "Policy\" content=\"default-src 'none'; img-src data:; "
                  "style-src 'unsafe-inline'\"><title>Messages with ");
  esc(&html, pr.name[0] ? pr.name : patient);
  buf_puts(&html, " · ");
  esc(&html, c->clinic_name);
  buf_puts(&html,
           "</title><style>body{font:15px/1.45 system-ui,sans-serif;"
           "margin:2em auto;max-width:46em;color:#111}h1{font-size:1.4em}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
           "padding:.3em .5em;text-align:left;vertical-align:top}"
           ".msg{border:1px solid #ccc;border-radius:.4em;padding:.6em .8em;"
           "margin:.8em 0;break-inside:avoid}.in{background:#f4f6f8}"
           ".out{background:#eef6ee}.note{background:#fff8e1}"
           ".meta{color:#444;font-size:.85em}"
           "img{max-width:100%;height:auto;display:block;margin:.4em 0}"
           "</style></head><body><h1>Messages between ");
  esc(&html, c->clinic_name);
  buf_puts(&html, " and ");
  esc(&html, pr.name[0] ? pr.name : patient);
  buf_puts(&html, "</h1><p>Patient: ");
  esc(&html, patient);
  if (pr.dob[0]) {
    buf_puts(&html, ", born ");
    esc(&html, pr.dob);
  }
  local_time(now, when, sizeof when);
  buf_puts(&html, ". Exported ");
  esc(&html, when);
  buf_printf(&html, "; %zu message(s).</p>", all.n);
  if (consent.n) {
    buf_puts(&html, "<h2>Consent</h2><table><tr><th>When</th><th>Change</th>"
                    "<th>How</th></tr>");
    for (size_t i = 0; i < consent.n; i++) {
      char how[CONSENT_REASON_MAX + 100];
      consent_describe(&consent.items[i], how, sizeof how);
      local_time(consent.items[i].at, when, sizeof when);
      buf_puts(&html, "<tr><td>");
      esc(&html, when);
      buf_puts(&html, "</td><td>");
      esc(&html, consent.items[i].state == CONSENT_OPTED_OUT ? "Opted out"
                                                             : "Opted in");
      buf_puts(&html, "</td><td>");
      esc(&html, how);
      buf_puts(&html, "</td></tr>");
    }
    buf_puts(&html, "</table>");
  }
  buf_puts(&html, "<h2>Messages</h2>");

  a = archive_write_new();
  if (!a || archive_write_set_format_zip(a) != ARCHIVE_OK ||
      archive_write_open2(a, zip, NULL, to_buf, NULL, NULL) != ARCHIVE_OK) {
    rc = LB_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < all.n; i++) {
    const struct message *m = &all.msgs[i];
    int in = m->direction == DIR_INBOUND;
    local_time(m->created_at, when, sizeof when);
    buf_printf(&html, "<div class=\"msg %s\"><div class=\"meta\">",
               in ? "in" : "out");
    esc(&html, when);
    buf_puts(&html, " · ");
    esc(&html, in ? "From the patient" : "From the clinic");
    buf_puts(&html, " · ");
    esc(&html, status_name(m->status));
    if (m->error_text[0]) {
      buf_puts(&html, " (");
      esc(&html, m->error_text);
      buf_puts(&html, ")");
    }
    buf_puts(&html, "</div><p>");
    esc(&html, m->text ? m->text : "");
    buf_puts(&html, "</p>");
    for (size_t k = 0; k < m->n_media; k++) {
      struct media md;
      char name[128];
      if (store_media_get(gw->store, m->media_ids[k], &md) != LB_OK)
        continue;
      buf_reset(&file);
      if ((rc = blob_get(gw->blobs, md.blob_key, &file)))
        goto out;
      snprintf(name, sizeof name, "media/%s.%s", md.id,
               ext_of(md.content_type));
      if ((rc = add_file(a, name, file.data, file.len,
                         (time_t)(m->created_at / 1000))))
        goto out;
      sum->media++;
      if (strncmp(md.content_type, "image/", 6) == 0) {
        size_t b64 =
            sodium_base64_ENCODED_LEN(file.len, sodium_base64_VARIANT_ORIGINAL);
        char *enc = malloc(b64);
        if (!enc) {
          rc = LB_ENOMEM;
          goto out;
        }
        sodium_bin2base64(enc, b64, (const unsigned char *)file.data, file.len,
                          sodium_base64_VARIANT_ORIGINAL);
        buf_printf(&html,
                   "<img alt=\"Image %zu of this message\" src=\"data:", k + 1);
        esc(&html, md.content_type);
        buf_puts(&html, ";base64,");
        buf_puts(&html, enc);
        buf_puts(&html, "\">");
        free(enc);
      } else {
        buf_puts(&html, "<p class=\"meta\">Attached file: ");
        esc(&html, name);
        buf_puts(&html, "</p>");
      }
    }
    buf_puts(&html, "</div>");
  }
  html_notes(&html, notes);
  buf_puts(&html, "</body></html>");
  sum->messages = all.n;
  text = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);
  if (!text || html.len >= EXPORT_MAX) {
    rc = LB_ETOOBIG;
    goto out;
  }
  if ((rc = add_file(a, "thread.json", text, strlen(text),
                     (time_t)(now / 1000))) ||
      (rc = add_file(a, "thread.html", html.data, html.len,
                     (time_t)(now / 1000))))
    goto out;
  if (archive_write_close(a) != ARCHIVE_OK) {
    rc = LB_ETOOBIG;
    goto out;
  }
  {
    json_t *d = json_pack(
        "{s:I, s:I, s:I}", "messages", (json_int_t)sum->messages, "media",
        (json_int_t)sum->media, "notes", (json_int_t)json_array_size(notes));
    gw_audit(gw, who, "export", patient, NULL, d);
    json_decref(d);
  }
out:
  if (a)
    archive_write_free(a);
  free(text);
  json_decref(doc);
  buf_release(&html);
  buf_release(&file);
  free(consent.items);
  collected_release(&all);
  return rc;
}
