#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "util/clock.h"
#include "util/crypto.h"
#include "util/err.h"
#include "util/log.h"

#define IDEM_KEY_MAX 255

/* The optional "link": {"expires_days", "max_views", "check"} over the
 * clinic's defaults. Answers 400 itself and returns LB_EINVAL when bad. */
static enum lb_err link_options_json(struct http_req *r, json_t *v,
                                     struct link_options *o)
{
  const char *key;
  json_t *x;
  if (!v)
    return LB_OK;
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
  return LB_OK;
bad:
  http_reply_error(r, 400, "invalid_request",
                   "'link' is an object with expires_days (1 to 90), "
                   "max_views (0 to 1000, 0 for no limit) and check "
                   "(\"none\", \"dob\" or \"code\")");
  return LB_EINVAL;
}

/* The HTTP status for a refusal of gw_queue. */
static int refusal_status(const char *code)
{
  static const struct {
    const char *code;
    int status;
  } map[] = {{"invalid_request", 400},  {"invalid_number", 422},
             {"not_mobile", 422},       {"media_not_found", 422},
             {"mms_too_large", 422},    {"mms_unsupported", 422},
             {"dob_required", 422},     {"idempotency_conflict", 409},
             {"link_unavailable", 503}, {"opted_out", 409}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(code, map[i].code) == 0)
      return map[i].status;
  return 400;
}

/* "metadata": an object of at most LB_METADATA_KEYS string values (keys
 * up to LB_METADATA_KEY_MAX bytes, values up to LB_METADATA_VALUE_MAX),
 * LB_METADATA_MAX bytes as compact JSON, into out. Answers 400 itself. */
static enum lb_err metadata_json(struct http_req *r, json_t *v, char *out,
                                 size_t n)
{
  const char *key;
  json_t *x;
  char *text;
  out[0] = '\0';
  if (!v || json_is_null(v))
    return LB_OK;
  if (!json_is_object(v) || json_object_size(v) > LB_METADATA_KEYS)
    goto bad;
  json_object_foreach(v, key, x)
  {
    if (!*key || strlen(key) > LB_METADATA_KEY_MAX || !json_is_string(x) ||
        json_string_length(x) > LB_METADATA_VALUE_MAX)
      goto bad;
  }
  text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text || strlen(text) >= n || strlen(text) > LB_METADATA_MAX) {
    free(text);
    goto bad;
  }
  memcpy(out, text, strlen(text) + 1);
  free(text);
  return LB_OK;
bad:
  http_reply_error(r, 400, "invalid_request",
                   "'metadata' is an object of up to %d string values (keys "
                   "of 1 to %d bytes, values up to %d), %d bytes in all as "
                   "JSON",
                   LB_METADATA_KEYS, LB_METADATA_KEY_MAX,
                   LB_METADATA_VALUE_MAX, LB_METADATA_MAX);
  return LB_EINVAL;
}

void h_messages_create(void *cls, struct http_req *r)
{
  static const char *const fields[] = {
      "to",   "text",     "media",            "delivery",
      "link", "metadata", "client_reference", NULL};
  char meta[LB_METADATA_MAX + 1];
  json_t *cref;
  struct api *a = cls;
  json_t *body = NULL, *to, *text, *media, *v, *dv;
  const char *ids[LB_MEDIA_MAX];
  struct send_request req = {0};
  struct link_options lopt;
  struct gw_refusal why;
  char hash[LB_SHA256_HEX];
  struct message m;
  size_t i;
  enum lb_err rc;

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
  if (json_array_size(media) > LB_MEDIA_MAX) {
    http_reply_error(r, 400, "invalid_request",
                     "at most %d media items per message",
                     a->cfg->media_max_items);
    goto out;
  }
  links_defaults(a->cfg, &lopt);
  if (link_options_json(r, json_object_get(body, "link"), &lopt))
    goto out;
  if (metadata_json(r, json_object_get(body, "metadata"), meta, sizeof meta))
    goto out;
  cref = json_object_get(body, "client_reference");
  if (cref && !json_is_null(cref) &&
      (!json_is_string(cref) || json_string_length(cref) == 0 ||
       json_string_length(cref) > LB_CLIENT_REF_MAX)) {
    http_reply_error(r, 400, "invalid_request",
                     "'client_reference' is a string of 1 to %d bytes: "
                     "your own id for the message",
                     LB_CLIENT_REF_MAX);
    goto out;
  }
  dv = json_object_get(body, "delivery");
  if (dv && (!json_is_string(dv) ||
             route_delivery_parse(json_string_value(dv), &req.delivery))) {
    http_reply_error(r, 400, "invalid_request",
                     "'delivery' is \"auto\" (the default), \"mms\" or "
                     "\"link\"");
    goto out;
  }
  json_array_foreach(media, i, v)
  {
    if (!json_is_string(v)) {
      http_reply_error(r, 400, "invalid_request",
                       "media[%zu] must be a media id (a string)", i);
      goto out;
    }
    ids[i] = json_string_value(v);
  }
  req.idempotency_key = http_header(r, "Idempotency-Key");
  if (req.idempotency_key && (strlen(req.idempotency_key) == 0 ||
                              strlen(req.idempotency_key) > IDEM_KEY_MAX)) {
    http_reply_error(r, 400, "invalid_request",
                     "Idempotency-Key must be 1 to %d characters",
                     IDEM_KEY_MAX);
    goto out;
  }
  crypto_sha256_hex(r->body.data ? r->body.data : "", r->body.len, hash);
  req.to = json_string_value(to);
  req.text = text ? json_string_value(text) : NULL;
  req.text_len = text ? json_string_length(text) : 0;
  req.media_ids = ids;
  req.n_media = json_array_size(media);
  req.link = &lopt;
  req.request_hash = hash;
  req.metadata = meta[0] ? meta : NULL;
  req.client_reference = json_is_string(cref) ? json_string_value(cref) : NULL;

  rc = gw_queue(a->gw, &req, &m, &why);
  if (rc && rc != LB_EDUPLICATE) {
    if (strcmp(why.code, "opted_out") == 0) {
      snprintf(r->error_code, sizeof r->error_code, "opted_out");
      http_reply_json(r, 409,
                      json_pack("{s:o}", "error",
                                api_opted_out_json(&why.consent, why.message)));
    } else if (why.code[0])
      http_reply_error(r, refusal_status(why.code), why.code, "%s",
                       why.message);
    else
      api_store_error(r, rc);
    goto out;
  }
  http_reply_json(r, 202, gw_message_json(a->gw, &m, 0));
  if (rc == LB_EDUPLICATE)
    http_reply_header(r, "Idempotent-Replayed", "true");
out:
  message_release(&m);
  json_decref(body);
}

void h_messages_get(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct message m;
  enum lb_err rc;
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
    http_reply_json(r, 200, gw_message_json(a->gw, &m, 1));
  message_release(&m);
}

#define FEED_MAX 500

struct feed {
  struct api *a;
  json_t *arr;
  long long seqs[FEED_MAX + 1];
  size_t n;
};

static enum lb_err feed_one(void *arg, const struct message *m,
                            long long seq)
{
  struct feed *f = arg;
  json_t *o;
  if (f->n > FEED_MAX)
    return LB_ETOOBIG;
  if (!(o = gw_message_json(f->a->gw, m, 0)))
    return LB_ENOMEM;
  f->seqs[f->n++] = seq;
  return json_array_append_new(f->arr, o) ? LB_ENOMEM : LB_OK;
}

/* GET /api/v1/messages?updated_since=CURSOR&limit=N: every message whose
 * latest change comes after the cursor, in commit order, each once, with
 * the cursor to ask from next. */
void h_messages_feed(void *cls, struct http_req *r)
{
  struct api *a = cls;
  const char *since = http_query(r, "updated_since");
  const char *lim = http_query(r, "limit");
  struct feed *f = calloc(1, sizeof *f);
  long long after = 0;
  long limit = 100;
  int more;
  enum lb_err rc;
  char *end, cur[24];

  if (!f || !(f->arr = json_array())) {
    http_reply_error(r, 503, "overloaded", "out of memory");
    goto out;
  }
  f->a = a;
  if (since && !api_cursor(since, &after)) {
    http_reply_error(r, 400, "invalid_cursor",
                     "updated_since must be a cursor from an earlier answer "
                     "(its \"cursor\"), an event stream id or a webhook's; "
                     "leave it out to start from the beginning");
    goto out;
  }
  if (lim) {
    limit = strtol(lim, &end, 10);
    if (*end || end == lim || limit < 1 || limit > FEED_MAX) {
      http_reply_error(r, 400, "invalid_request",
                       "limit must be a whole number from 1 to %d", FEED_MAX);
      goto out;
    }
  }
  if ((rc = store_messages_changed(a->store, after, (int)limit + 1, feed_one,
                                   f))) {
    api_store_error(r, rc);
    goto out;
  }
  /* One more than asked says there is more; it is the next page's. */
  if ((more = f->n > (size_t)limit)) {
    json_array_remove(f->arr, (size_t)limit);
    f->n = (size_t)limit;
  }
  snprintf(cur, sizeof cur, "%lld", f->n ? f->seqs[f->n - 1] : after);
  http_reply_json(r, 200,
                  json_pack("{s:O, s:s, s:b}", "messages", f->arr, "cursor",
                            cur, "has_more", more));
out:
  if (f)
    json_decref(f->arr);
  free(f);
}
