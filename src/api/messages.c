#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "core/route.h"
#include "links/links.h"
#include "outbox/outbox.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"

#define IDEM_KEY_MAX 255

/* The optional "link": {"expires_days", "max_views", "check"} over the
 * clinic's defaults. Answers 400 itself and returns nonzero when bad. */
static int link_options_json(struct http_req *r, json_t *v,
                             struct link_options *o)
{
  const char *key;
  json_t *x;
  if (!v)
    return 0;
  if (!json_is_object(v))
    goto bad;
  json_object_foreach(v, key, x)
  {
    if (strcmp(key, "expires_days") == 0 && json_is_integer(x) &&
        json_integer_value(x) >= 1 && json_integer_value(x) <= 90)
      o->expiry_days = (int)json_integer_value(x);
    else if (strcmp(key, "max_views") == 0 && json_is_integer(x) &&
             json_integer_value(x) >= 0 && json_integer_value(x) <= 1000)
      o->max_views = (int)json_integer_value(x);
    else if (strcmp(key, "check") == 0 && json_is_string(x) &&
             (strcmp(json_string_value(x), "none") == 0 ||
              strcmp(json_string_value(x), "dob") == 0 ||
              strcmp(json_string_value(x), "code") == 0))
      snprintf(o->check, sizeof o->check, "%s", json_string_value(x));
    else
      goto bad;
  }
  return 0;
bad:
  http_reply_error(r, 400, "invalid_request",
                   "'link' is an object with expires_days (1 to 90), "
                   "max_views (0 to 1000, 0 for no limit) and check "
                   "(\"none\", \"dob\" or \"code\")");
  return -1;
}

void h_messages_create(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"to",       "text", "media",
                                       "delivery", "link", NULL};
  struct app *a = cls;
  const struct config *c = a->cfg;
  json_t *body = NULL, *to, *text, *media, *v, *dv;
  struct media mds[LB_MEDIA_MAX];
  struct media_variant fits[LB_MEDIA_MAX];
  const struct provider *mp;
  struct route_media rmedia[LB_MEDIA_MAX];
  struct route_input rin;
  struct route_decision plan;
  enum route_delivery delivery = DELIVERY_AUTO;
  struct link_options lopt;
  struct link link;
  int has_link = 0;
  const char *idem;
  char why[300], e164[LB_E164_SIZE], hash[LB_SHA256_HEX];
  struct message m;
  size_t i;
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
  links_defaults(c, &lopt);
  if (link_options_json(r, json_object_get(body, "link"), &lopt))
    goto out;
  dv = json_object_get(body, "delivery");
  if (dv && (!json_is_string(dv) ||
             route_delivery_parse(json_string_value(dv), &delivery))) {
    http_reply_error(r, 400, "invalid_request",
                     "'delivery' is \"auto\" (the default), \"mms\" or "
                     "\"link\"");
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
    mds[m.n_media] = md;
    rmedia[m.n_media].content_type = mds[m.n_media].content_type;
    rmedia[m.n_media].bytes = md.bytes;
    snprintf(m.media_ids[m.n_media++], LB_ID_SIZE, "%s", md.id);
  }
  /* An image that could go as MMS is judged by its fitted form: made now
   * (and kept for the outbox), so a 12 MP photo goes as MMS when it fits
   * the host's budget at a decent quality, and as a link when not. */
  if (delivery != DELIVERY_LINK && (mp = app_mms_provider(a, m.n_media)))
    for (i = 0; i < m.n_media; i++)
      if (app_fit_for_mms(a, mp, &mds[i], m.n_media, &fits[i], why,
                          sizeof why) == LB_OK) {
        rmedia[i].content_type = fits[i].content_type;
        rmedia[i].bytes = fits[i].bytes;
      }
  app_route_input(a, &rin, text && json_string_length(text) > 0, rmedia,
                  m.n_media, delivery);
  route_decide(&rin, &plan);
  if (plan.plan == ROUTE_REFUSE) {
    http_reply_error(r, 422,
                     plan.cause == CAUSE_TOO_LARGE ? "mms_too_large"
                                                   : "mms_unsupported",
                     "%s", plan.reason);
    goto out;
  }
  snprintf(m.route, sizeof m.route, "%s", route_plan_name(plan.plan));
  snprintf(m.route_reason, sizeof m.route_reason, "%s", plan.reason);
  id_new(m.id);
  if (plan.plan == ROUTE_LINK) {
    rc = links_make(a, m.id, e164, &lopt, &link, why, sizeof why);
    if (rc == LB_ENOTFOUND) {
      http_reply_error(r, 422, "dob_required", "%s", why);
      goto out;
    }
    if (rc) {
      http_reply_error(r, 503, "overloaded", "the link could not be made: %s",
                       lb_strerror(rc));
      goto out;
    }
    has_link = 1;
  }
  idem = http_header(r, "Idempotency-Key");
  if (idem && (strlen(idem) == 0 || strlen(idem) > IDEM_KEY_MAX)) {
    http_reply_error(r, 400, "invalid_request",
                     "Idempotency-Key must be 1 to %d characters",
                     IDEM_KEY_MAX);
    goto out;
  }
  crypto_sha256_hex(r->body.data ? r->body.data : "", r->body.len, hash);

  m.direction = DIR_OUTBOUND;
  snprintf(m.from, sizeof m.from, "%s", c->number);
  if (plan.other_sender) { /* allowed, marked: see route.h */
    snprintf(m.from, sizeof m.from, "%s", c->mms_from);
    snprintf(m.clinic_number, sizeof m.clinic_number, "%s", c->number);
  }
  snprintf(m.to, sizeof m.to, "%s", e164);
  m.text = strdup(text ? json_string_value(text) : "");
  if (!m.text) {
    http_reply_error(r, 503, "overloaded", "out of memory; try again");
    goto out;
  }
  m.status = ST_QUEUED;
  snprintf(m.provider, sizeof m.provider, "%s",
           plan.other_sender ? a->other.ops->name : a->host.ops->name);
  m.created_at = m.updated_at = m.next_attempt_at = clock_now_ms();

  rc = store_message_enqueue(a->store, &m, has_link ? &link : NULL, idem, hash);
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

int api_queue_text(struct app *a, const char *to, const char *text,
                   const char *reason, char id[LB_ID_SIZE])
{
  struct message m;
  int rc;
  message_init(&m);
  id_new(m.id);
  m.direction = DIR_OUTBOUND;
  snprintf(m.from, sizeof m.from, "%s", a->cfg->number);
  snprintf(m.to, sizeof m.to, "%s", to);
  m.text = strdup(text);
  if (!m.text)
    return LB_ENOMEM;
  m.status = ST_QUEUED;
  snprintf(m.provider, sizeof m.provider, "%s", a->host.ops->name);
  snprintf(m.route, sizeof m.route, "sms");
  snprintf(m.route_reason, sizeof m.route_reason, "%s", reason);
  m.created_at = m.updated_at = m.next_attempt_at = clock_now_ms();
  rc = store_message_enqueue(a->store, &m, NULL, NULL, NULL);
  if (!rc) {
    snprintf(id, LB_ID_SIZE, "%s", m.id);
    outbox_wake(a->outbox);
    app_notify_message(a, m.id);
  }
  message_release(&m);
  return rc;
}
