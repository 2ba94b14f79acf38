#define _DEFAULT_SOURCE /* timegm */
/* GET /api/v1/audit: the audit log, for admins. ?patient= (a number),
 * ?since= (RFC 3339), ?after= (a seq, to page), ?limit= (1 to 1000). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/handlers.h"
#include "util/clock.h"
#include "util/err.h"

json_t *api_audit_json(const struct audit_entry *e)
{
  char at[LB_ISO8601_LEN];
  json_t *detail = e->detail[0] ? json_loads(e->detail, 0, NULL) : NULL;
  clock_iso8601(e->at, at, sizeof at);
  return json_pack(
      "{s:I, s:s, s:s, s:{s:s, s:o}, s:s, s:o, s:o, s:o, s:o, "
      "s:s}",
      "seq", (json_int_t)e->seq, "id", e->id, "at", at, "actor", "kind",
      e->actor_kind, "name", e->actor[0] ? json_string(e->actor) : json_null(),
      "action", e->action, "patient",
      e->patient[0] ? json_string(e->patient) : json_null(), "subject",
      e->subject[0] ? json_string(e->subject) : json_null(), "detail",
      detail ? detail : json_object(), "ip",
      e->ip[0] ? json_string(e->ip) : json_null(), "hash", e->hash);
}

static enum lb_err on_entry(void *arg, const struct audit_entry *e)
{
  return json_array_append_new(arg, api_audit_json(e)) ? LB_ENOMEM : LB_OK;
}

int64_t api_parse_time(const char *s, int *ok)
{
  return clock_parse_iso8601(s, ok);
}

void h_audit_list(void *cls, struct http_req *r)
{
  struct api *a = cls;
  const char *p = http_query(r, "patient"), *since = http_query(r, "since");
  const char *after = http_query(r, "after"), *lim = http_query(r, "limit");
  char patient[LB_E164_SIZE] = "", *end;
  int64_t t = 0, from = 0;
  long limit = 200;
  json_t *arr;
  int ok = 1;
  enum lb_err rc;

  if (p && api_patient_param(a, r, p, patient))
    return;
  if (since && (t = api_parse_time(since, &ok), !ok)) {
    http_reply_error(r, 400, "invalid_request",
                     "since is an RFC 3339 time in UTC, e.g. "
                     "2026-12-03T00:00:00Z");
    return;
  }
  if (after && ((from = strtoll(after, &end, 10)) < 0 || *end)) {
    http_reply_error(r, 400, "invalid_request", "after is a row's seq");
    return;
  }
  if (lim && ((limit = strtol(lim, &end, 10)) < 1 || limit > 1000 || *end)) {
    http_reply_error(r, 400, "invalid_request", "limit must be 1 to 1000");
    return;
  }
  arr = json_array();
  rc = store_audit_list(a->store, patient[0] ? patient : NULL, t, from,
                        (int)limit, on_entry, arr);
  if (rc) {
    json_decref(arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:o}", "entries", arr));
}
