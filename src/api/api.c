/* /healthz, /api/v1 and the webhooks: route table and shared JSON. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/handlers.h"
#include "http/sse.h"
#include "util/clock.h"
#include "util/err.h"

#define KB 1024u

json_t *api_json_object(struct http_req *r, const char *const *fields)
{
  json_error_t jerr;
  json_t *body, *v;
  const char *key;
  body = json_loadb(r->body.data ? r->body.data : "", r->body.len,
                    JSON_REJECT_DUPLICATES, &jerr);
  if (!body) {
    http_reply_error(r, 400, "invalid_json",
                     "the body is not valid JSON: %s (line %d, column %d)",
                     jerr.text, jerr.line, jerr.column);
    return NULL;
  }
  if (!json_is_object(body)) {
    json_decref(body);
    http_reply_error(r, 400, "invalid_request",
                     "the body must be a JSON object");
    return NULL;
  }
  json_object_foreach(body, key, v)
  {
    size_t i;
    char list[200] = "";
    for (i = 0; fields[i] && strcmp(fields[i], key); i++)
      ;
    if (fields[i])
      continue;
    for (i = 0; fields[i]; i++) {
      size_t n = strlen(list);
      snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", fields[i]);
    }
    http_reply_error(r, 400, "invalid_request",
                     "unknown field '%s'; the fields are %s", key, list);
    json_decref(body);
    return NULL;
  }
  return body;
}

static json_t *iso_or_null(int64_t ms)
{
  char t[LB_ISO8601_LEN];
  if (!ms)
    return json_null();
  clock_iso8601(ms, t, sizeof t);
  return json_string(t);
}

json_t *api_opted_out_json(const struct consent *c, const char *message)
{
  char words[CONSENT_REASON_MAX + 100];
  consent_describe(&c->last, words, sizeof words);
  return json_pack("{s:s, s:s, s:o, s:s, s:s}", "code", "opted_out", "message",
                   message, "since", iso_or_null(c->since), "source",
                   consent_source_name(c->last.source), "description", words);
}

void api_actor(const struct http_req *r, struct gw_actor *out)
{
  out->ip = r->remote;
  if (r->who.kind == PRINCIPAL_SESSION) {
    out->kind = "user";
    out->name = r->who.username;
  } else if (r->who.kind == PRINCIPAL_KEY) {
    /* A key by its id (names need not be unique); the [api] key by its
     * setting. */
    out->kind = "key";
    out->name = r->who.key_id[0] ? r->who.key_id : "[api] key";
  } else {
    out->kind = "system";
    out->name = NULL;
  }
}

void api_store_error(struct http_req *r, enum lb_err rc)
{
  switch (rc) {
  case LB_ENOTFOUND:
    http_reply_error(r, 404, "not_found", "not found");
    break;
  case LB_ENOMEM:
    http_reply_error(r, 503, "overloaded", "out of memory; try again");
    break;
  default:
    http_reply_error(r, 503, "store_unavailable",
                     "the database could not complete the request (%s); "
                     "nothing was changed, try again",
                     lb_strerror(rc));
  }
}

int api_cursor(const char *s, long long *out)
{
  char *end;
  long long v;
  if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 18)
    return 0;
  v = strtoll(s, &end, 10);
  *out = v;
  return 1;
}

static void h_events(void *cls, struct http_req *r)
{
  struct api *a = cls;
  const char *q = http_query(r, "cursor");
  const char *lei = http_header(r, "Last-Event-ID");
  long long after = -1;
  if (q && !api_cursor(q, &after)) {
    http_reply_error(r, 400, "invalid_cursor",
                     "cursor must be a cursor lyrebird gave (the changes "
                     "feed's, an event's id: line, or a webhook's)");
    return;
  }
  /* A reconnecting browser's Last-Event-ID wins; one that is not a seq
   * (from before this version) starts from now, after a reset. */
  if (lei && *lei && !api_cursor(lei, &after))
    after = SSE_RESET;
  gw_live_reply(a->gw, r, after);
}

static void h_health(void *cls, struct http_req *r)
{
  struct api *a = cls;
  int v = 0;
  if (store_schema_version(a->store, &v) != LB_OK) {
    http_reply_error(r, 503, "store_unavailable",
                     "the database is not readable");
    return;
  }
  http_reply_json(r, 200,
                  json_pack("{s:s, s:s, s:i}", "status", "ok", "version",
                            LYREBIRD_VERSION, "schema", v));
}

static void api_register(struct api *a)
{
  struct http_server *s = a->http;
  size_t media_cap = (size_t)a->cfg->media_max_bytes;
  /* Inline base64 media: 4/3 of [media] max_bytes for the whole message,
   * plus the JSON around it. Carriers cap an MMS well below this; the cap
   * is checked before the signature, so it must stay modest. */
  size_t hook_cap = media_cap / 3 * 4 + 64 * KB;
  /* A host that sends MMS media inline (MessageMedia) asks for more, and
   * says how much. */
  if (a->gw->providers.host.caps.inbound_body_max > hook_cap)
    hook_cap = a->gw->providers.host.caps.inbound_body_max;

  /* Every route and the one scope it needs (docs/api.md; the OpenAPI
   * document says the same, and a test holds the two together). */
  const struct {
    const char *method, *pattern;
    http_handler fn;
    size_t body_max;
    enum http_auth auth;
    unsigned scope;
  } routes[] = {
      {"GET", "/healthz", h_health, 0, AUTH_NONE, 0},
      {"GET", "/api/v1/openapi.json", h_openapi, 0, AUTH_NONE, 0},
      {"POST", "/api/v1/session", h_session_create, 4 * KB, AUTH_NONE, 0},
      {"GET", "/api/v1/session", h_session_get, 0, AUTH_API, 0},
      {"DELETE", "/api/v1/session", h_session_delete, 0, AUTH_API, 0},
      {"GET", "/api/v1/users", h_users_list, 0, AUTH_API, SCOPE_ADMIN},
      {"POST", "/api/v1/users", h_users_create, 4 * KB, AUTH_API, SCOPE_ADMIN},
      {"PATCH", "/api/v1/users/{username}", h_users_update, 4 * KB, AUTH_API,
       SCOPE_ADMIN},
      {"GET", "/api/v1/settings", h_settings_get, 0, AUTH_API, SCOPE_ADMIN},
      {"GET", "/api/v1/keys", h_keys_list, 0, AUTH_API, SCOPE_ADMIN},
      {"POST", "/api/v1/keys", h_keys_create, 4 * KB, AUTH_API, SCOPE_ADMIN},
      {"DELETE", "/api/v1/keys/{id}", h_keys_revoke, 0, AUTH_API, SCOPE_ADMIN},
      {"PATCH", "/api/v1/patients/{patient}", h_patients_update, 4 * KB,
       AUTH_API, SCOPE_PATIENTS_WRITE},
      {"GET", "/api/v1/patients/{patient}/consent", h_patient_consent, 0,
       AUTH_API, SCOPE_CONVERSATIONS_READ},
      {"GET", "/api/v1/patients/{patient}", h_patient_get, 0, AUTH_API,
       SCOPE_CONVERSATIONS_READ},
      {"GET", "/api/v1/conversations/{patient}/media", h_conversation_media, 0,
       AUTH_API, SCOPE_CONVERSATIONS_READ},
      {"POST", "/api/v1/patients/{patient}/opt-in", h_patient_opt_in, 4 * KB,
       AUTH_API, SCOPE_PATIENTS_WRITE},
      {"POST", "/api/v1/patients/{patient}/opt-out", h_patient_opt_out, 4 * KB,
       AUTH_API, SCOPE_PATIENTS_WRITE},
      {"GET", "/api/v1/patients/{patient}/export", h_patient_export, 0,
       AUTH_API, SCOPE_ADMIN},
      {"GET", "/api/v1/audit", h_audit_list, 0, AUTH_API, SCOPE_ADMIN},
      {"GET", "/api/v1/events", h_events, 0, AUTH_API_PASSIVE,
       SCOPE_MESSAGES_READ},
      {"POST", "/api/v1/messages", h_messages_create, 64 * KB, AUTH_API,
       SCOPE_MESSAGES_SEND},
      {"GET", "/api/v1/messages", h_messages_feed, 0, AUTH_API,
       SCOPE_MESSAGES_READ},
      {"GET", "/api/v1/messages/{id}", h_messages_get, 0, AUTH_API,
       SCOPE_MESSAGES_READ},
      /* Retry, edit and resend, templates (api/retry.c, templates.c). */
      {"POST", "/api/v1/messages/{id}/retry", h_messages_retry, 1 * KB,
       AUTH_API, SCOPE_MESSAGES_SEND},
      {"POST", "/api/v1/messages/{id}/resend", h_messages_resend, 16 * KB,
       AUTH_API, SCOPE_MESSAGES_SEND},
      {"GET", "/api/v1/templates", h_templates_list, 0, AUTH_API,
       SCOPE_MESSAGES_SEND},
      {"POST", "/api/v1/templates", h_templates_create, 16 * KB, AUTH_API,
       SCOPE_ADMIN},
      {"PATCH", "/api/v1/templates/{id}", h_templates_update, 16 * KB,
       AUTH_API, SCOPE_ADMIN},
      {"DELETE", "/api/v1/templates/{id}", h_templates_delete, 0, AUTH_API,
       SCOPE_ADMIN},
      {"POST", "/api/v1/templates/{id}/render", h_templates_render, 8 * KB,
       AUTH_API, SCOPE_MESSAGES_SEND},
      {"GET", "/api/v1/conversations", h_conversations_list, 0, AUTH_API,
       SCOPE_CONVERSATIONS_READ},
      {"GET", "/api/v1/conversations/{patient}/messages",
       h_conversation_messages, 0, AUTH_API, SCOPE_CONVERSATIONS_READ},
      {"POST", "/api/v1/conversations/{patient}/read", h_conversation_read,
       1 * KB, AUTH_API, SCOPE_CONVERSATIONS_WRITE},
      {"PATCH", "/api/v1/conversations/{patient}", h_conversation_update,
       4 * KB, AUTH_API, SCOPE_CONVERSATIONS_WRITE},
      {"GET", "/api/v1/conversations/{patient}/notes", h_notes_list, 0,
       AUTH_API, SCOPE_CONVERSATIONS_READ},
      {"POST", "/api/v1/conversations/{patient}/notes", h_notes_create, 16 * KB,
       AUTH_API, SCOPE_CONVERSATIONS_WRITE},
      {"POST", "/api/v1/media", h_media_create, media_cap, AUTH_API,
       SCOPE_MEDIA_WRITE},
      {"GET", "/api/v1/media/{id}", h_media_get, 0, AUTH_API_PASSIVE,
       SCOPE_MEDIA_READ},
      {"GET", "/api/v1/media/{id}/thumb", h_media_thumb, 0, AUTH_API_PASSIVE,
       SCOPE_MEDIA_READ},
      {"GET", "/api/v1/media/{id}/original", h_media_original, 0, AUTH_API,
       SCOPE_MEDIA_READ},
      {"GET", "/api/v1/webhook-endpoints", h_webhooks_list, 0, AUTH_API,
       SCOPE_WEBHOOKS_MANAGE},
      {"POST", "/api/v1/webhook-endpoints", h_webhooks_create, 8 * KB, AUTH_API,
       SCOPE_WEBHOOKS_MANAGE},
      {"GET", "/api/v1/webhook-endpoints/{id}", h_webhooks_get, 0, AUTH_API,
       SCOPE_WEBHOOKS_MANAGE},
      {"PATCH", "/api/v1/webhook-endpoints/{id}", h_webhooks_update, 8 * KB,
       AUTH_API, SCOPE_WEBHOOKS_MANAGE},
      {"DELETE", "/api/v1/webhook-endpoints/{id}", h_webhooks_remove, 0,
       AUTH_API, SCOPE_WEBHOOKS_MANAGE},
      {"POST", "/api/v1/webhook-endpoints/{id}/rotate-secret",
       h_webhooks_rotate, 1 * KB, AUTH_API, SCOPE_WEBHOOKS_MANAGE},
      {"GET", "/api/v1/webhook-endpoints/{id}/deliveries",
       h_webhooks_deliveries, 0, AUTH_API, SCOPE_WEBHOOKS_MANAGE},
      {"POST", "/api/v1/webhook-endpoints/{id}/replay", h_webhooks_replay,
       1 * KB, AUTH_API, SCOPE_WEBHOOKS_MANAGE},
      {"POST", "/api/v1/webhook-endpoints/{id}/test", h_webhooks_test, 1 * KB,
       AUTH_API, SCOPE_WEBHOOKS_MANAGE},
      /* Providers post (or GET) here; some can only prove themselves with
       * a secret as the last path segment (src/providers/smsbroadcast.c). */
      {"POST", "/hooks/{provider}/inbound", h_hook_inbound, hook_cap, AUTH_NONE,
       0},
      {"GET", "/hooks/{provider}/inbound", h_hook_inbound, 0, AUTH_NONE, 0},
      {"POST", "/hooks/{provider}/inbound/{secret}", h_hook_inbound, hook_cap,
       AUTH_NONE, 0},
      {"GET", "/hooks/{provider}/inbound/{secret}", h_hook_inbound, 0,
       AUTH_NONE, 0},
      {"POST", "/hooks/{provider}/status", h_hook_status, 64 * KB, AUTH_NONE,
       0},
      {"GET", "/hooks/{provider}/status", h_hook_status, 0, AUTH_NONE, 0},
      {"POST", "/hooks/{provider}/status/{secret}", h_hook_status, 64 * KB,
       AUTH_NONE, 0},
      {"GET", "/hooks/{provider}/status/{secret}", h_hook_status, 0, AUTH_NONE,
       0},
  };
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
    http_server_route(s, routes[i].method, routes[i].pattern, routes[i].fn, a,
                      routes[i].body_max, routes[i].auth, routes[i].scope);
  web_register(a);
  viewer_register(a);
  media_urls_register(a);
}

enum lb_err api_open(struct api *a, struct gateway *gw)
{
  enum lb_err rc;
  memset(a, 0, sizeof *a);
  a->gw = gw;
  a->cfg = gw->cfg;
  a->store = gw->store;
  a->blobs = gw->blobs;
  a->http = gw->http;
  if ((rc = auth_new(a, &a->auth)))
    return rc;
  http_server_set_sessions(a->http, AUTH_COOKIE, auth_session, a);
  http_server_set_keys(a->http, api_key_auth, a);
  api_register(a);
  return LB_OK;
}

void api_close(struct api *a)
{
  auth_free(a->auth);
  a->auth = NULL;
}
