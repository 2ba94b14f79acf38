/* Webhook endpoints: the clinic's app as a receiver of events. One
 * implementation behind 'lyrebird webhook ...' and
 * /api/v1/webhook-endpoints. Delivery is delivery.c's. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gateway/internal.h"
#include "util/clock.h"
#include "util/id.h"
#include "util/netaddr.h"
#include "util/stdwebhook.h"

enum lb_err gw_webhook_url_check(const struct config *c, const char *url,
                                 char *why, size_t n)
{
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL, *user = NULL;
  enum lb_err rc = LB_EINVAL;
  int allow = c->events_allow_private_urls;

  if (!u)
    return LB_ENOMEM;
  if (!url || !*url) {
    snprintf(why, n, "the url is required");
    goto out;
  }
  if (strlen(url) >= LB_WEBHOOK_URL_MAX) {
    snprintf(why, n, "the url is longer than %d bytes",
             LB_WEBHOOK_URL_MAX - 1);
    goto out;
  }
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    snprintf(why, n, "'%.200s' is not an absolute URL such as "
                     "https://app.example.com/lyrebird/events",
             url);
    goto out;
  }
  if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
    snprintf(why, n, "the url must not carry a user name or password; the "
                     "signature proves each delivery");
    goto out;
  }
  if (strcmp(scheme, "https") != 0 && !(allow && strcmp(scheme, "http") == 0)) {
    snprintf(why, n,
             "the url must be https:// (not %s://): events carry patients' "
             "messages%s",
             scheme,
             allow ? "" : "; [events] allow_private_urls allows http:// in a "
                          "test setup");
    goto out;
  }
  if (!allow && (netaddr_literal_private(host) ||
                 strcasecmp(host, "localhost") == 0 ||
                 (strlen(host) > 10 &&
                  strcasecmp(host + strlen(host) - 10, ".localhost") == 0))) {
    snprintf(why, n,
             "the url's host %s is a loopback, private or link-local address; "
             "receivers must be reachable on the internet ([events] "
             "allow_private_urls lifts this in a test setup)",
             host);
    goto out;
  }
  rc = LB_OK;
out:
  curl_free(scheme);
  curl_free(host);
  curl_free(user);
  curl_url_cleanup(u);
  return rc;
}

enum lb_err gw_webhook_events_norm(const char *list, char *out, size_t n,
                                   char *why, size_t wn)
{
  const char *p = list ? list : "";
  size_t used = 0;
  out[0] = '\0';
  while (*p == ' ')
    p++;
  if (!*p || strcmp(p, "*") == 0) {
    snprintf(out, n, "*");
    return LB_OK;
  }
  while (*p) {
    char name[LB_EVENT_TYPE_MAX + 1];
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    while (len && p[len - 1] == ' ')
      len--;
    if (len == 0 || len >= sizeof name) {
      snprintf(why, wn, "an empty or overlong event type in '%.100s'", list);
      return LB_EINVAL;
    }
    memcpy(name, p, len);
    name[len] = '\0';
    if (!event_type_known(name)) {
      size_t k = (size_t)snprintf(why, wn, "unknown event type '%s'; the "
                                           "types are",
                                  name);
      for (size_t i = 0; event_type_names[i] && k < wn; i++)
        k += (size_t)snprintf(why + k, wn - k, "%s %s", i ? "," : "",
                              event_type_names[i]);
      return LB_EINVAL;
    }
    if (!gw_webhook_wants(out, name)) {
      int w = snprintf(out + used, n - used, "%s%s", used ? "," : "", name);
      if (w < 0 || (size_t)w >= n - used) {
        snprintf(why, wn, "too many event types");
        return LB_EINVAL;
      }
      used += (size_t)w;
    }
    if (!end)
      break;
    p = end + 1;
    while (*p == ' ')
      p++;
  }
  return LB_OK;
}

int gw_webhook_wants(const char *events, const char *type)
{
  size_t len = strlen(type);
  const char *p = events;
  if (strcmp(events, "*") == 0)
    return 1;
  while (p && *p) {
    const char *end = strchr(p, ',');
    size_t k = end ? (size_t)(end - p) : strlen(p);
    if (k == len && memcmp(p, type, len) == 0)
      return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

static json_t *iso_or_null(int64_t ms)
{
  char t[LB_ISO8601_LEN];
  if (!ms)
    return json_null();
  clock_iso8601(ms, t, sizeof t);
  return json_string(t);
}

json_t *gw_webhook_json(const struct webhook_endpoint *e)
{
  json_t *types = json_array();
  const char *p = e->events;
  while (types && p && *p) {
    const char *end = strchr(p, ',');
    size_t k = end ? (size_t)(end - p) : strlen(p);
    json_array_append_new(types, json_stringn(p, k));
    p = end ? end + 1 : NULL;
  }
  return json_pack(
      "{s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "id", e->id,
      "url", e->url, "description", e->description, "events", types,
      "enabled", e->enabled, "disabled_reason",
      e->enabled || !e->disabled_reason[0] ? json_null()
                                            : json_string(e->disabled_reason),
      "failing_since", iso_or_null(e->failing_since), "next_attempt_at",
      iso_or_null(e->attempts ? e->next_at : 0), "previous_secret_until",
      iso_or_null(e->old_secret[0] ? e->old_secret_until : 0), "created_at",
      iso_or_null(e->created_at), "updated_at", iso_or_null(e->updated_at));
}

json_t *gw_webhook_attempt_json(const struct webhook_attempt *a)
{
  return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:i, s:s}", "id",
                   a->id, "event_id", a->event_id, "event_type",
                   a->event_type, "attempt", a->attempt, "at",
                   iso_or_null(a->at), "status",
                   a->status ? json_integer(a->status) : json_null(), "error",
                   a->error[0] ? json_string(a->error) : json_null(),
                   "duration_ms", a->duration_ms, "outcome", a->outcome);
}

static enum lb_err count_one(void *arg, const struct webhook_endpoint *e)
{
  (void)e;
  (*(int *)arg)++;
  return LB_OK;
}

static void audit_endpoint(struct gateway *gw, const struct gw_actor *who,
                           const char *action,
                           const struct webhook_endpoint *e)
{
  json_t *d = json_pack("{s:s, s:s, s:b}", "url", e->url, "events", e->events,
                        "enabled", e->enabled);
  gw_audit(gw, who, action, NULL, e->id, d);
  json_decref(d);
}

enum lb_err gw_webhook_add(struct gateway *gw, const struct gw_actor *who,
                           const char *url, const char *events,
                           const char *description,
                           struct webhook_endpoint *out, char *why, size_t wn)
{
  char id[LB_ID_SIZE];
  int n = 0;
  enum lb_err rc;

  memset(out, 0, sizeof *out);
  if ((rc = gw_webhook_url_check(gw->cfg, url, why, wn)) ||
      (rc = gw_webhook_events_norm(events, out->events, sizeof out->events,
                                   why, wn)))
    return rc;
  if (description && strlen(description) >= sizeof out->description) {
    snprintf(why, wn, "the description is longer than %zu bytes",
             sizeof out->description - 1);
    return LB_EINVAL;
  }
  if ((rc = store_webhook_list(gw->store, count_one, &n)))
    return rc;
  if (n >= GW_WEBHOOKS_MAX) {
    snprintf(why, wn, "there are already %d endpoints, the most lyrebird "
                      "keeps; remove one first",
             n);
    return LB_ETOOBIG;
  }
  id_new(id);
  snprintf(out->id, sizeof out->id, "we_%s", id);
  str_copy(out->url, sizeof out->url, url);
  str_copy(out->description, sizeof out->description,
           description ? description : "");
  out->enabled = 1;
  stdwh_secret_new(out->secret);
  out->created_at = out->updated_at = clock_now_ms();
  if ((rc = store_webhook_add(gw->store, out)))
    return rc;
  audit_endpoint(gw, who, "webhook.created", out);
  gw_webhooks_edited(gw);
  return store_webhook_get(gw->store, out->id, out) == LB_OK ? LB_OK : rc;
}

enum lb_err gw_webhook_update(struct gateway *gw, const struct gw_actor *who,
                              const char *id, const char *url,
                              const char *events, const char *description,
                              int enabled, struct webhook_endpoint *out,
                              char *why, size_t wn)
{
  enum lb_err rc = store_webhook_get(gw->store, id, out);
  if (rc)
    return rc;
  if (url) {
    if ((rc = gw_webhook_url_check(gw->cfg, url, why, wn)))
      return rc;
    str_copy(out->url, sizeof out->url, url);
  }
  if (events &&
      (rc = gw_webhook_events_norm(events, out->events, sizeof out->events,
                                   why, wn)))
    return rc;
  if (description) {
    if (strlen(description) >= sizeof out->description) {
      snprintf(why, wn, "the description is longer than %zu bytes",
               sizeof out->description - 1);
      return LB_EINVAL;
    }
    str_copy(out->description, sizeof out->description, description);
  }
  if (enabled >= 0) {
    if (!enabled && out->enabled)
      snprintf(out->disabled_reason, sizeof out->disabled_reason,
               "disabled by %s", who && who->name ? who->name : "staff");
    out->enabled = enabled;
  }
  if ((rc = store_webhook_update(gw->store, out)))
    return rc;
  audit_endpoint(gw, who, "webhook.changed", out);
  gw_webhooks_edited(gw);
  return store_webhook_get(gw->store, id, out);
}

enum lb_err gw_webhook_rotate(struct gateway *gw, const struct gw_actor *who,
                              const char *id, struct webhook_endpoint *out)
{
  char secret[STDWH_SECRET_MAX];
  enum lb_err rc;
  stdwh_secret_new(secret);
  if ((rc = store_webhook_rotate(gw->store, id, secret,
                                 clock_now_ms() +
                                     gw->cfg->events_rotation_overlap_ms)) ||
      (rc = store_webhook_get(gw->store, id, out)))
    return rc;
  audit_endpoint(gw, who, "webhook.secret_rotated", out);
  gw_webhooks_edited(gw);
  return LB_OK;
}

enum lb_err gw_webhook_remove(struct gateway *gw, const struct gw_actor *who,
                              const char *id)
{
  struct webhook_endpoint e;
  enum lb_err rc;
  if ((rc = store_webhook_get(gw->store, id, &e)) ||
      (rc = store_webhook_remove(gw->store, id, clock_now_ms())))
    return rc;
  audit_endpoint(gw, who, "webhook.removed", &e);
  gw_webhooks_edited(gw);
  return LB_OK;
}

enum lb_err gw_webhook_replay(struct gateway *gw, const struct gw_actor *who,
                              const char *id, int64_t since,
                              long long *from_seq)
{
  struct webhook_endpoint e;
  enum lb_err rc;
  json_t *d;
  char t[LB_ISO8601_LEN];
  if ((rc = store_webhook_get(gw->store, id, &e)) ||
      (rc = store_event_seq_before(gw->store, since, from_seq)) ||
      (rc = store_webhook_rewind(gw->store, id, *from_seq)))
    return rc;
  clock_iso8601(since, t, sizeof t);
  d = json_pack("{s:s, s:I}", "since", t, "from_seq", (json_int_t)*from_seq);
  gw_audit(gw, who, "webhook.replayed", NULL, id, d);
  json_decref(d);
  gw_webhooks_edited(gw);
  return LB_OK;
}
