#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "outbox/outbox.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"

#define IDEM_KEY_MAX 255

void h_messages_create(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"to", "text", "media", NULL};
  struct app *a = cls;
  const struct config *c = a->cfg;
  json_t *body = NULL, *to, *text, *media, *v;
  const char *idem;
  char why[300], e164[LB_E164_SIZE], hash[LB_SHA256_HEX];
  struct message m;
  size_t i;
  long total = 0;
  int rc;

  message_init(&m);
  if (!(body = api_json_object(r, fields)))
    goto out;
  to = json_object_get(body, "to");
  text = json_object_get(body, "text");
  media = json_object_get(body, "media");
  if (!json_is_string(to)) {
    http_reply_error(r, 400, "invalid_request",
                     "'to' is required: the patient's mobile number");
    goto out;
  }
  if (text && !json_is_string(text)) {
    http_reply_error(r, 400, "invalid_request", "'text' must be a string");
    goto out;
  }
  if (media && !json_is_array(media)) {
    http_reply_error(r, 400, "invalid_request",
                     "'media' must be an array of media ids from POST "
                     "/api/v1/media");
    goto out;
  }
  if (text && text_check(json_string_value(text), json_string_length(text), why,
                         sizeof why)) {
    http_reply_error(r, 400, "invalid_request", "%s", why);
    goto out;
  }
  if ((!text || json_string_length(text) == 0) && json_array_size(media) == 0) {
    http_reply_error(r, 400, "invalid_request",
                     "a message needs 'text', 'media', or both");
    goto out;
  }
  if (json_array_size(media) > (size_t)c->media_max_items) {
    http_reply_error(r, 400, "invalid_request",
                     "at most %d media items per message", c->media_max_items);
    goto out;
  }
  rc = phone_normalize(json_string_value(to), c->region, e164, why, sizeof why);
  if (rc) {
    http_reply_error(r, 422,
                     rc == LB_ENOTMOBILE ? "not_mobile" : "invalid_number",
                     "%s", why);
    goto out;
  }
  json_array_foreach(media, i, v)
  {
    if (!json_is_string(v)) {
      http_reply_error(r, 400, "invalid_request",
                       "media[%zu] must be a media id (a string)", i);
      goto out;
    }
  }
  json_array_foreach(media, i, v)
  {
    struct media md;
    if (!id_valid(json_string_value(v)) ||
        store_media_get(a->store, json_string_value(v), &md) != LB_OK) {
      http_reply_error(r, 422, "media_not_found",
                       "media[%zu] is not the id of uploaded media; upload "
                       "with POST /api/v1/media first",
                       i);
      goto out;
    }
    total += (long)md.bytes;
    snprintf(m.media_ids[m.n_media++], LB_ID_SIZE, "%s", md.id);
  }
  if (m.n_media && !a->host.caps.mms_out) {
    http_reply_error(r, 422, "mms_unsupported",
                     "%s, the host of %s, cannot send MMS; send the text "
                     "without media",
                     a->host.ops->title, c->number);
    goto out;
  }
  if (m.n_media && total > a->host.caps.mms_max_bytes) {
    http_reply_error(r, 422, "mms_too_large",
                     "the media add up to %ld bytes; %s sends MMS of at most "
                     "%ld bytes",
                     total, a->host.ops->title, a->host.caps.mms_max_bytes);
    goto out;
  }
  idem = http_header(r, "Idempotency-Key");
  if (idem && (strlen(idem) == 0 || strlen(idem) > IDEM_KEY_MAX)) {
    http_reply_error(r, 400, "invalid_request",
                     "Idempotency-Key must be 1 to %d characters",
                     IDEM_KEY_MAX);
    goto out;
  }
  crypto_sha256_hex(r->body.data ? r->body.data : "", r->body.len, hash);

  id_new(m.id);
  m.direction = DIR_OUTBOUND;
  snprintf(m.from, sizeof m.from, "%s", c->number);
  snprintf(m.to, sizeof m.to, "%s", e164);
  m.text = strdup(text ? json_string_value(text) : "");
  if (!m.text) {
    http_reply_error(r, 503, "overloaded", "out of memory; try again");
    goto out;
  }
  m.status = ST_QUEUED;
  snprintf(m.provider, sizeof m.provider, "%s", a->host.ops->name);
  m.created_at = m.updated_at = m.next_attempt_at = clock_now_ms();

  rc = store_message_enqueue(a->store, &m, idem, hash);
  if (rc == LB_ECONFLICT) {
    http_reply_error(r, 409, "idempotency_conflict",
                     "this Idempotency-Key was used for a different request "
                     "(message %s); use a new key for a new message",
                     m.id);
    goto out;
  }
  if (rc && rc != LB_EDUPLICATE) {
    api_store_error(r, rc);
    goto out;
  }
  http_reply_json(r, 202, api_message_json(a, &m, 0));
  if (rc == LB_EDUPLICATE)
    http_reply_header(r, "Idempotent-Replayed", "true");
  else {
    outbox_wake(a->outbox);
    app_notify_message(a, m.id);
  }
out:
  message_release(&m);
  json_decref(body);
}

void h_messages_get(void *cls, struct http_req *r)
{
  struct app *a = cls;
  struct message m;
  int rc;
  message_init(&m);
  if (!id_valid(r->params[0])) {
    http_reply_error(r, 404, "not_found", "no message with id '%s'",
                     r->params[0]);
    return;
  }
  rc = store_message_get(a->store, r->params[0], &m);
  if (rc == LB_ENOTFOUND)
    http_reply_error(r, 404, "not_found", "no message with id '%s'",
                     r->params[0]);
  else if (rc)
    api_store_error(r, rc);
  else
    http_reply_json(r, 200, api_message_json(a, &m, 1));
  message_release(&m);
}
