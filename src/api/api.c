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
    out->kind = "key";
    out->name = "api-key";
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

static void h_events(void *cls, struct http_req *r)
{
  struct api *a = cls;
  sse_reply(a->gw->live, r);
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

  http_server_route(s, "GET", "/healthz", h_health, a, 0, AUTH_NONE);
  http_server_route(s, "POST", "/api/v1/session", h_session_create, a, 4 * KB,
                    AUTH_NONE);
  http_server_route(s, "GET", "/api/v1/session", h_session_get, a, 0, AUTH_API);
  http_server_route(s, "DELETE", "/api/v1/session", h_session_delete, a, 0,
                    AUTH_API);
  http_server_route(s, "GET", "/api/v1/users", h_users_list, a, 0, AUTH_ADMIN);
  http_server_route(s, "POST", "/api/v1/users", h_users_create, a, 4 * KB,
                    AUTH_ADMIN);
  http_server_route(s, "PATCH", "/api/v1/users/{username}", h_users_update, a,
                    4 * KB, AUTH_ADMIN);
  http_server_route(s, "GET", "/api/v1/settings", h_settings_get, a, 0,
                    AUTH_ADMIN);
  http_server_route(s, "PATCH", "/api/v1/patients/{patient}", h_patients_update,
                    a, 4 * KB, AUTH_API);
  http_server_route(s, "GET", "/api/v1/patients/{patient}/consent",
                    h_patient_consent, a, 0, AUTH_API);
  http_server_route(s, "POST", "/api/v1/patients/{patient}/opt-in",
                    h_patient_opt_in, a, 4 * KB, AUTH_API);
  http_server_route(s, "POST", "/api/v1/patients/{patient}/opt-out",
                    h_patient_opt_out, a, 4 * KB, AUTH_API);
  http_server_route(s, "GET", "/api/v1/patients/{patient}/export",
                    h_patient_export, a, 0, AUTH_ADMIN);
  http_server_route(s, "GET", "/api/v1/audit", h_audit_list, a, 0, AUTH_ADMIN);
  http_server_route(s, "GET", "/api/v1/events", h_events, a, 0,
                    AUTH_API_PASSIVE);
  http_server_route(s, "POST", "/api/v1/messages", h_messages_create, a,
                    64 * KB, AUTH_API);
  http_server_route(s, "GET", "/api/v1/messages/{id}", h_messages_get, a, 0,
                    AUTH_API);
  http_server_route(s, "GET", "/api/v1/conversations", h_conversations_list, a,
                    0, AUTH_API);
  http_server_route(s, "GET", "/api/v1/conversations/{patient}/messages",
                    h_conversation_messages, a, 0, AUTH_API);
  http_server_route(s, "POST", "/api/v1/conversations/{patient}/read",
                    h_conversation_read, a, 1 * KB, AUTH_API);
  http_server_route(s, "POST", "/api/v1/media", h_media_create, a, media_cap,
                    AUTH_API);
  http_server_route(s, "GET", "/api/v1/media/{id}", h_media_get, a, 0,
                    AUTH_API_PASSIVE);
  http_server_route(s, "GET", "/api/v1/media/{id}/thumb", h_media_thumb, a, 0,
                    AUTH_API_PASSIVE);
  http_server_route(s, "GET", "/api/v1/media/{id}/original", h_media_original,
                    a, 0, AUTH_API);
  /* Providers post (or GET) here; some can only prove themselves with a
   * secret as the last path segment (src/providers/smsbroadcast.c). */
  http_server_route(s, "POST", "/hooks/{provider}/inbound", h_hook_inbound, a,
                    hook_cap, AUTH_NONE);
  http_server_route(s, "GET", "/hooks/{provider}/inbound", h_hook_inbound, a, 0,
                    AUTH_NONE);
  http_server_route(s, "POST", "/hooks/{provider}/inbound/{secret}",
                    h_hook_inbound, a, hook_cap, AUTH_NONE);
  http_server_route(s, "GET", "/hooks/{provider}/inbound/{secret}",
                    h_hook_inbound, a, 0, AUTH_NONE);
  http_server_route(s, "POST", "/hooks/{provider}/status", h_hook_status, a,
                    64 * KB, AUTH_NONE);
  http_server_route(s, "GET", "/hooks/{provider}/status", h_hook_status, a, 0,
                    AUTH_NONE);
  http_server_route(s, "POST", "/hooks/{provider}/status/{secret}",
                    h_hook_status, a, 64 * KB, AUTH_NONE);
  http_server_route(s, "GET", "/hooks/{provider}/status/{secret}",
                    h_hook_status, a, 0, AUTH_NONE);
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
  api_register(a);
  return LB_OK;
}

void api_close(struct api *a)
{
  auth_free(a->auth);
  a->auth = NULL;
}
