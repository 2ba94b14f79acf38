#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "util/clock.h"
#include "util/err.h"

enum lb_err api_patient_param(struct api *a, struct http_req *r, const char *in,
                              char out[LB_E164_SIZE])
{
  char why[300];
  enum lb_err rc = gw_patient_number(a->gw, in, out, why, sizeof why);
  if (rc)
    http_reply_error(r, 422, "invalid_number", "%s", why);
  return rc;
}

struct list_ctx {
  struct api *a;
  json_t *arr;
};

/* A search match's snippet as parts: [{"text": ..., "hit": bool}], the
 * matched words as their own parts, so a client shows them marked without
 * parsing markup. */
static json_t *snippet_parts(const struct conversation_match *m)
{
  json_t *parts = json_array();
  const char *p = m->snippet;
  int hit = 0;
  /* Unmarked (the text itself holds a marker byte): plain parts only, the
   * marker bytes dropped. */
  while (parts && *p) {
    size_t len = strcspn(p, "\x01\x02");
    if (len) {
      json_t *t = json_stringn(p, len);
      if (!t || json_array_append_new(
                    parts, json_pack("{s:o, s:b}", "text", t, "hit", hit))) {
        json_decref(parts);
        return NULL;
      }
    }
    p += len;
    if (*p) {
      hit = m->marked && *p == STORE_HIT_START;
      p++;
    }
  }
  return parts;
}

static json_t *match_json(const struct conversation_row *row)
{
  char at[LB_ISO8601_LEN];
  json_t *parts;
  if (!row->has_match)
    return json_null();
  if (!(parts = snippet_parts(&row->match)))
    return NULL;
  clock_iso8601(row->match.created_at, at, sizeof at);
  return json_pack("{s:s, s:s, s:s, s:i, s:o}", "message_id",
                   row->match.message_id, "direction", row->match.direction,
                   "created_at", at, "count", row->match.count, "snippet",
                   parts);
}

static enum lb_err on_conv(void *arg, const struct conversation_row *row)
{
  struct list_ctx *l = arg;
  json_t *o = json_pack("{s:s, s:o, s:s, s:i}", "patient", row->patient, "name",
                        row->has_name ? json_string(row->name) : json_null(),
                        "number", row->number, "unread", row->unread);
  if (!o)
    return LB_ENOMEM;
  if (row->opted_out_at) {
    char since[LB_ISO8601_LEN];
    clock_iso8601(row->opted_out_at, since, sizeof since);
    json_object_set_new(o, "opt_out",
                        json_pack("{s:s, s:s}", "since", since, "description",
                                  row->opt_out_words));
  } else {
    json_object_set_new(o, "opt_out", json_null());
  }
  json_object_set_new(o, "last_message",
                      row->has_last ? gw_message_json(l->a->gw, &row->last, 0)
                                    : json_null());
  json_object_set_new(o, "match", match_json(row));
  json_array_append_new(l->arr, o);
  return LB_OK;
}

/* ?limit=, 1 to 200, or 'def' when absent: LB_EINVAL otherwise. */
static enum lb_err limit_param(struct http_req *r, int def, int *out)
{
  const char *q = http_query(r, "limit");
  long v;
  char *end;
  *out = def;
  if (!q)
    return LB_OK;
  v = strtol(q, &end, 10);
  if (*end || end == q || v < 1 || v > 200)
    return LB_EINVAL;
  *out = (int)v;
  return LB_OK;
}

/* A search as the store wants it: a number-like query ("0491 570",
 * "+61 491") becomes its digits, less a local leading 0, so it matches
 * inside the E.164 form; anything else is matched against names. */
static enum lb_err search_param(struct http_req *r, char *out, size_t n)
{
  const char *q = http_query(r, "q");
  size_t j = 0, digits = 0, len;
  int numeric = 1;
  out[0] = '\0';
  if (!q)
    return LB_OK;
  len = strlen(q);
  if (len >= n)
    return LB_ETOOBIG;
  for (const char *p = q; *p; p++) {
    if (*p >= '0' && *p <= '9')
      digits++;
    else if (!strchr(" +-()", *p))
      numeric = 0;
  }
  if (!numeric || !digits) {
    /* trim spaces */
    while (*q == ' ')
      q++;
    snprintf(out, n, "%s", q);
    for (j = strlen(out); j && out[j - 1] == ' ';)
      out[--j] = '\0';
    return LB_OK;
  }
  for (const char *p = q; *p; p++)
    if (*p >= '0' && *p <= '9' && !(j == 0 && *p == '0'))
      out[j++] = *p;
  out[j] = '\0';
  return LB_OK;
}

void h_conversations_list(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct list_ctx l = {a, json_array()};
  char q[101];
  int limit;
  enum lb_err rc, bad_limit = limit_param(r, 100, &limit);
  if (search_param(r, q, sizeof q)) {
    json_decref(l.arr);
    http_reply_error(r, 400, "invalid_request", "q is at most %zu characters",
                     sizeof q - 1);
    return;
  }
  if (bad_limit) {
    json_decref(l.arr);
    http_reply_error(r, 400, "invalid_request", "limit must be 1 to 200");
    return;
  }
  rc = store_conversations(a->store, a->cfg->number, q, limit, on_conv, &l);
  if (rc) {
    json_decref(l.arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:o}", "conversations", l.arr));
}

static enum lb_err on_msg(void *arg, const struct message *m)
{
  struct list_ctx *l = arg;
  return json_array_append_new(l->arr, gw_message_json(l->a->gw, m, 0))
             ? LB_ENOMEM
             : LB_OK;
}

void h_conversation_messages(void *cls, struct http_req *r)
{
  struct api *a = cls;
  char patient[LB_E164_SIZE];
  const char *before = http_query(r, "before");
  struct list_ctx l = {a, NULL};
  int limit;
  enum lb_err rc, bad_limit = limit_param(r, 50, &limit);

  if (api_patient_param(a, r, r->params[0], patient))
    return;
  if (bad_limit) {
    http_reply_error(r, 400, "invalid_request", "limit must be 1 to 200");
    return;
  }
  if (before && !id_valid(before)) {
    http_reply_error(r, 400, "invalid_request", "before must be a message id");
    return;
  }
  l.arr = json_array();
  rc = store_conversation_messages(a->store, a->cfg->number, patient, before,
                                   limit, on_msg, &l);
  if (rc == LB_ENOTFOUND) {
    json_decref(l.arr);
    http_reply_error(r, 404, "not_found", "no conversation with %s", patient);
    return;
  }
  if (rc) {
    json_decref(l.arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:o}", "messages", l.arr));
}

void h_conversation_read(void *cls, struct http_req *r)
{
  struct api *a = cls;
  char patient[LB_E164_SIZE];
  int rc;
  if (api_patient_param(a, r, r->params[0], patient))
    return;
  rc = gw_conversation_read(a->gw, patient);
  if (rc == LB_ENOTFOUND)
    http_reply_error(r, 404, "not_found", "no conversation with %s", patient);
  else if (rc)
    api_store_error(r, rc);
  else {
    http_reply_json(r, 200,
                    json_pack("{s:s, s:i}", "patient", patient, "unread", 0));
  }
}
