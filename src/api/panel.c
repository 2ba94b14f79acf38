/* What the inbox's patient panel reads: GET /api/v1/patients/{patient}
 * (the details on file) and GET /api/v1/conversations/{patient}/media
 * (every picture of the conversation, newest first, paged). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/id.h"

#define GALLERY_DEFAULT 30
#define GALLERY_MAX 100

void h_patient_get(void *cls, struct http_req *r)
{
  struct api *a = cls;
  char patient[LB_E164_SIZE], t[40];
  struct patient_row pr;
  enum lb_err rc;
  if (api_patient_param(a, r, r->params[0], patient))
    return;
  rc = store_patient_get(a->store, patient, &pr);
  if (rc == LB_ENOTFOUND) {
    http_reply_error(r, 404, "not_found", "lyrebird has no patient %s",
                     patient);
    return;
  }
  if (rc) {
    api_store_error(r, rc);
    return;
  }
  clock_iso8601(pr.created_at, t, sizeof t);
  http_reply_json(r, 200,
                  json_pack("{s:s, s:o, s:o, s:s}", "patient", patient, "name",
                            pr.name[0] ? json_string(pr.name) : json_null(),
                            "dob",
                            pr.dob[0] ? json_string(pr.dob) : json_null(),
                            "created_at", t));
}

/* A page's cursor is "<message id>:<position>", the last item it holds. */
static int parse_cursor(const char *s, char msg[LB_ID_SIZE], int *pos)
{
  const char *colon = s ? strchr(s, ':') : NULL;
  char *end;
  long p;
  if (!colon || (size_t)(colon - s) >= LB_ID_SIZE)
    return 0;
  memcpy(msg, s, (size_t)(colon - s));
  msg[colon - s] = '\0';
  p = strtol(colon + 1, &end, 10);
  if (!id_valid(msg) || end == colon + 1 || *end || p < 0 || p > 1000)
    return 0;
  *pos = (int)p;
  return 1;
}

struct gallery_ctx {
  struct api *a;
  json_t *arr;
  int limit;
  char last[LB_ID_SIZE + 16]; /* the cursor of the last item kept */
  int more;
};

static enum lb_err on_media(void *arg, const struct conv_media_row *m)
{
  struct gallery_ctx *g = arg;
  char t[40];
  json_t *o;
  if ((int)json_array_size(g->arr) >= g->limit) {
    g->more = 1;
    return LB_OK;
  }
  if (!(o = gw_media_json(g->a->gw, m->media_id)))
    return LB_ENOMEM;
  clock_iso8601(m->created_at, t, sizeof t);
  json_object_set_new(o, "message_id", json_string(m->message_id));
  json_object_set_new(o, "direction", json_string(m->direction));
  json_object_set_new(o, "sent_at", json_string(t));
  snprintf(g->last, sizeof g->last, "%s:%d", m->message_id, m->position);
  return json_array_append_new(g->arr, o) ? LB_ENOMEM : LB_OK;
}

void h_conversation_media(void *cls, struct http_req *r)
{
  struct api *a = cls;
  char patient[LB_E164_SIZE], before[LB_ID_SIZE] = "";
  const char *q = http_query(r, "limit"), *cur = http_query(r, "before");
  struct gallery_ctx g = {a, NULL, GALLERY_DEFAULT, "", 0};
  int pos = 0;
  enum lb_err rc;

  if (api_patient_param(a, r, r->params[0], patient))
    return;
  if (q) {
    char *end;
    long v = strtol(q, &end, 10);
    if (end == q || *end || v < 1 || v > GALLERY_MAX) {
      http_reply_error(r, 400, "invalid_request", "limit must be 1 to %d",
                       GALLERY_MAX);
      return;
    }
    g.limit = (int)v;
  }
  if (cur && !parse_cursor(cur, before, &pos)) {
    http_reply_error(r, 400, "invalid_request",
                     "before must be the 'next' cursor of an earlier page");
    return;
  }
  g.arr = json_array();
  /* One more than the page: whether there is a next one. */
  rc = store_conversation_media(a->store, a->cfg->number, patient,
                                before[0] ? before : NULL, pos, g.limit + 1,
                                on_media, &g);
  if (rc == LB_ENOTFOUND) {
    json_decref(g.arr);
    http_reply_error(r, 404, "not_found", "no conversation with %s", patient);
    return;
  }
  if (rc) {
    json_decref(g.arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200,
                  json_pack("{s:o, s:o}", "media", g.arr, "next",
                            g.more ? json_string(g.last) : json_null()));
}
