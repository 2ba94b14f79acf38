/* /api/v1/webhook-endpoints (scope webhooks:manage): thin handlers over
 * the gateway's endpoint use cases, which 'lyrebird webhook' shares. */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"

#define DELIVERIES_DEFAULT 50
#define DELIVERIES_MAX 200

/* "events": an array of type names (or ["*"]), into a list for the
 * gateway. Answers 400 itself. */
static enum lb_err events_json(struct http_req *r, json_t *v, char *out,
                               size_t n)
{
  size_t i, used = 0;
  json_t *x;
  out[0] = '\0';
  if (!json_is_array(v))
    goto bad;
  json_array_foreach(v, i, x)
  {
    int w;
    if (!json_is_string(x) || !json_string_length(x) ||
        strchr(json_string_value(x), ','))
      goto bad;
    w = snprintf(out + used, n - used, "%s%s", used ? "," : "",
                 json_string_value(x));
    if (w < 0 || (size_t)w >= n - used)
      goto bad;
    used += (size_t)w;
  }
  if (!used)
    snprintf(out, n, "*"); /* [] is every event, as is leaving it out */
  return LB_OK;
bad:
  http_reply_error(r, 400, "invalid_request",
                   "'events' is an array of event types, such as "
                   "[\"message.received\", \"message.status\"]; leave it out "
                   "for every event");
  return LB_EINVAL;
}

static void not_found(struct http_req *r)
{
  http_reply_error(r, 404, "not_found", "no webhook endpoint '%s'",
                   r->params[0]);
}

static void gw_error(struct http_req *r, enum lb_err rc, const char *why)
{
  if (rc == LB_ENOTFOUND)
    not_found(r);
  else if (rc == LB_EINVAL)
    http_reply_error(r, 400, "invalid_request", "%s", why);
  else if (rc == LB_ETOOBIG)
    http_reply_error(r, 409, "too_many_endpoints", "%s", why);
  else
    api_store_error(r, rc);
}

/* The url, checked first so that its refusal has its own code. */
static int url_ok(struct api *a, struct http_req *r, json_t *url)
{
  char why[400];
  if (!json_is_string(url)) {
    http_reply_error(r, 400, "invalid_url",
                     "'url' is required: where lyrebird posts events, such "
                     "as \"https://app.example.com/lyrebird/events\"");
    return 0;
  }
  if (gw_webhook_url_check(a->cfg, json_string_value(url), why, sizeof why)) {
    http_reply_error(r, 400, "invalid_url", "%s", why);
    return 0;
  }
  return 1;
}

static const char *opt_string(struct http_req *r, json_t *body,
                              const char *key, int *bad)
{
  json_t *v = json_object_get(body, key);
  if (!v || json_is_null(v))
    return NULL;
  if (!json_is_string(v)) {
    http_reply_error(r, 400, "invalid_request", "'%s' must be a string", key);
    *bad = 1;
    return NULL;
  }
  return json_string_value(v);
}

void h_webhooks_create(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"url", "events", "description", NULL};
  struct api *a = cls;
  json_t *body = api_json_object(r, fields), *ev;
  char events[LB_WEBHOOK_EVENTS_MAX * 2] = "*", why[400];
  struct webhook_endpoint e;
  struct gw_actor who;
  const char *desc;
  int bad = 0;
  enum lb_err rc;

  if (!body)
    return;
  if (!url_ok(a, r, json_object_get(body, "url")))
    goto out;
  ev = json_object_get(body, "events");
  if (ev && !json_is_null(ev) && events_json(r, ev, events, sizeof events))
    goto out;
  desc = opt_string(r, body, "description", &bad);
  if (bad)
    goto out;
  api_actor(r, &who);
  rc = gw_webhook_add(a->gw, &who,
                      json_string_value(json_object_get(body, "url")), events,
                      desc, &e, why, sizeof why);
  if (rc) {
    gw_error(r, rc, why);
    goto out;
  }
  http_reply_json(r, 201,
                  json_pack("{s:o, s:s}", "endpoint", gw_webhook_json(&e),
                            "secret", e.secret));
out:
  json_decref(body);
}

static enum lb_err list_one(void *arg, const struct webhook_endpoint *e)
{
  return json_array_append_new(arg, gw_webhook_json(e)) ? LB_ENOMEM : LB_OK;
}

void h_webhooks_list(void *cls, struct http_req *r)
{
  struct api *a = cls;
  json_t *arr = json_array();
  enum lb_err rc =
      arr ? store_webhook_list(a->store, list_one, arr) : LB_ENOMEM;
  if (rc) {
    json_decref(arr);
    api_store_error(r, rc);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:o}", "endpoints", arr));
}

void h_webhooks_get(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct webhook_endpoint e;
  enum lb_err rc = store_webhook_get(a->store, r->params[0], &e);
  if (rc)
    gw_error(r, rc, "");
  else
    http_reply_json(r, 200, json_pack("{s:o}", "endpoint", gw_webhook_json(&e)));
}

void h_webhooks_update(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"url", "events", "description",
                                       "enabled", NULL};
  struct api *a = cls;
  json_t *body = api_json_object(r, fields), *url, *ev, *en;
  char events[LB_WEBHOOK_EVENTS_MAX * 2], why[400];
  struct webhook_endpoint e;
  struct gw_actor who;
  const char *desc;
  int bad = 0, enabled = -1;
  enum lb_err rc;

  if (!body)
    return;
  url = json_object_get(body, "url");
  if (url && !url_ok(a, r, url))
    goto out;
  ev = json_object_get(body, "events");
  if (ev && events_json(r, ev, events, sizeof events))
    goto out;
  desc = opt_string(r, body, "description", &bad);
  if (bad)
    goto out;
  en = json_object_get(body, "enabled");
  if (en) {
    if (!json_is_boolean(en)) {
      http_reply_error(r, 400, "invalid_request",
                       "'enabled' must be true or false");
      goto out;
    }
    enabled = json_is_true(en);
  }
  api_actor(r, &who);
  rc = gw_webhook_update(a->gw, &who, r->params[0],
                         url ? json_string_value(url) : NULL,
                         ev ? events : NULL, desc, enabled, &e, why,
                         sizeof why);
  if (rc)
    gw_error(r, rc, why);
  else
    http_reply_json(r, 200, json_pack("{s:o}", "endpoint", gw_webhook_json(&e)));
out:
  json_decref(body);
}

void h_webhooks_remove(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct gw_actor who;
  enum lb_err rc;
  api_actor(r, &who);
  if ((rc = gw_webhook_remove(a->gw, &who, r->params[0])))
    gw_error(r, rc, "");
  else
    http_reply_static(r, 204, "text/plain", "", 0);
}

void h_webhooks_rotate(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct webhook_endpoint e;
  struct gw_actor who;
  enum lb_err rc;
  api_actor(r, &who);
  if ((rc = gw_webhook_rotate(a->gw, &who, r->params[0], &e))) {
    gw_error(r, rc, "");
    return;
  }
  http_reply_json(r, 200,
                  json_pack("{s:o, s:s}", "endpoint", gw_webhook_json(&e),
                            "secret", e.secret));
}

static enum lb_err attempt_one(void *arg, const struct webhook_attempt *at)
{
  return json_array_append_new(arg, gw_webhook_attempt_json(at)) ? LB_ENOMEM
                                                                 : LB_OK;
}

void h_webhooks_deliveries(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct webhook_endpoint e;
  const char *lim = http_query(r, "limit");
  long limit = DELIVERIES_DEFAULT;
  json_t *arr;
  char *end;
  enum lb_err rc;
  if (lim) {
    limit = strtol(lim, &end, 10);
    if (*end || end == lim || limit < 1 || limit > DELIVERIES_MAX) {
      http_reply_error(r, 400, "invalid_request",
                       "limit must be a whole number from 1 to %d",
                       DELIVERIES_MAX);
      return;
    }
  }
  if ((rc = store_webhook_get(a->store, r->params[0], &e))) {
    gw_error(r, rc, "");
    return;
  }
  if (!(arr = json_array()) ||
      (rc = store_webhook_attempts(a->store, e.id, (int)limit, attempt_one,
                                   arr))) {
    json_decref(arr);
    api_store_error(r, arr ? rc : LB_ENOMEM);
    return;
  }
  http_reply_json(r, 200, json_pack("{s:s, s:o}", "endpoint", e.id,
                                    "deliveries", arr));
}

void h_webhooks_replay(void *cls, struct http_req *r)
{
  static const char *const fields[] = {"since", NULL};
  struct api *a = cls;
  json_t *body = api_json_object(r, fields), *since;
  struct gw_actor who;
  long long from = 0;
  int64_t at;
  int ok = 0;
  char cur[24];
  enum lb_err rc;

  if (!body)
    return;
  since = json_object_get(body, "since");
  at = json_is_string(since) ? api_parse_time(json_string_value(since), &ok)
                             : 0;
  if (!ok) {
    http_reply_error(r, 400, "invalid_request",
                     "'since' is required: an RFC 3339 time such as "
                     "\"2026-12-01T00:00:00Z\"; every event from then on is "
                     "sent again, with its own webhook-id");
    goto out;
  }
  api_actor(r, &who);
  if ((rc = gw_webhook_replay(a->gw, &who, r->params[0], at, &from))) {
    gw_error(r, rc, "");
    goto out;
  }
  snprintf(cur, sizeof cur, "%lld", from);
  http_reply_json(r, 202,
                  json_pack("{s:s, s:O, s:s}", "endpoint", r->params[0],
                            "since", since, "from_cursor", cur));
out:
  json_decref(body);
}

void h_webhooks_test(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct webhook_attempt at;
  enum lb_err rc = gw_webhook_test(a->gw, r->params[0], &at);
  if (rc)
    gw_error(r, rc, "");
  else
    http_reply_json(r, 200,
                    json_pack("{s:o}", "delivery", gw_webhook_attempt_json(&at)));
}
