#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "gateway/team.h"
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
  gw_team_json_set(o, row->state, row->assigned_to);
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

/* ?state=open|done|all (open when absent) and ?assigned=mine|unassigned|
 * all (all when absent): replies 400 and returns LB_EINVAL when bad. "mine"
 * is the signed-in staff member's; an API key has no "mine". */
static enum lb_err team_filter(struct http_req *r, struct conv_filter *f)
{
  const char *state = http_query(r, "state");
  const char *assigned = http_query(r, "assigned");
  f->state = "open";
  f->assigned = NULL;
  if (state && strcmp(state, "all") == 0)
    f->state = NULL;
  else if (state && strcmp(state, "open") && strcmp(state, "done")) {
    http_reply_error(r, 400, "invalid_request", "state is open, done or all");
    return LB_EINVAL;
  } else if (state)
    f->state = state;
  if (!assigned || strcmp(assigned, "all") == 0)
    return LB_OK;
  if (strcmp(assigned, "unassigned") == 0) {
    f->assigned = "";
    return LB_OK;
  }
  if (strcmp(assigned, "mine")) {
    http_reply_error(r, 400, "invalid_request",
                     "assigned is mine, unassigned or all");
    return LB_EINVAL;
  }
  if (r->who.kind != PRINCIPAL_SESSION) {
    http_reply_error(r, 400, "invalid_request",
                     "assigned=mine needs a signed-in staff member; an API "
                     "key is no one's, so ask for assigned=all or "
                     "unassigned, or filter on assigned_to yourself");
    return LB_EINVAL;
  }
  f->assigned = r->who.username;
  return LB_OK;
}

void h_conversations_list(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct list_ctx l = {a, json_array()};
  struct conv_filter f;
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
  if (team_filter(r, &f)) {
    json_decref(l.arr);
    return;
  }
  rc = store_conversations(a->store, a->cfg->number, q, &f, limit, on_conv, &l);
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

/* Puts the notes written in the span of this page of messages among them,
 * by id (both sort by time): after the page's oldest message when the page
 * is full (earlier notes come with the earlier page), before 'before'; at
 * most 200 notes a page. msgs is the caller's; on an error it may hold the
 * page without its notes. */
static enum lb_err merge_notes(struct api *a, const char *patient,
                               const char *before, int limit, json_t *msgs)
{
  size_t n = json_array_size(msgs), i = 0;
  const char *after = NULL;
  json_t *notes = json_array(), *merged = json_array();
  enum lb_err rc;
  if (!notes || !merged) {
    json_decref(notes);
    json_decref(merged);
    return LB_ENOMEM;
  }
  if (n == (size_t)limit)
    after = json_string_value(json_object_get(json_array_get(msgs, 0), "id"));
  rc = api_thread_notes(a, patient, after, before, notes);
  for (size_t k = 0; !rc && k < json_array_size(notes); k++) {
    json_t *note = json_array_get(notes, k);
    const char *nid = json_string_value(json_object_get(note, "id"));
    for (; !rc && i < n; i++) {
      json_t *m = json_array_get(msgs, i);
      if (strcmp(json_string_value(json_object_get(m, "id")), nid) > 0)
        break;
      if (json_array_append(merged, m))
        rc = LB_ENOMEM;
    }
    if (!rc && json_array_append(merged, note))
      rc = LB_ENOMEM;
  }
  for (; !rc && i < n; i++)
    if (json_array_append(merged, json_array_get(msgs, i)))
      rc = LB_ENOMEM;
  if (!rc && (json_array_clear(msgs) || json_array_extend(msgs, merged)))
    rc = LB_ENOMEM;
  json_decref(notes);
  json_decref(merged);
  return rc;
}

void h_conversation_messages(void *cls, struct http_req *r)
{
  struct api *a = cls;
  char patient[LB_E164_SIZE];
  const char *before = http_query(r, "before"), *include;
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
  include = http_query(r, "include");
  if (include && strcmp(include, "notes")) {
    http_reply_error(r, 400, "invalid_request", "include is notes (or absent)");
    return;
  }
  l.arr = json_array();
  rc = store_conversation_messages(a->store, a->cfg->number, patient, before,
                                   limit, on_msg, &l);
  if (!rc && include)
    rc = merge_notes(a, patient, before, limit, l.arr);
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
