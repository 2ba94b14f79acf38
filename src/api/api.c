/* /healthz, /api/v1 and the webhooks: route table and shared JSON. */
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/auth.h"
#include "api/handlers.h"
#include "api/media_urls.h"
#include "util/clock.h"
#include "util/err.h"

#define KB 1024u

static void iso(json_t *o, const char *key, int64_t ms)
{
  char t[LB_ISO8601_LEN];
  clock_iso8601(ms, t, sizeof t);
  json_object_set_new(o, key, json_string(t));
}

static json_t *str_or_null(const char *s)
{
  return s && *s ? json_string(s) : json_null();
}

json_t *api_media_json(struct app *a, const char *id)
{
  struct media md;
  char url[128], thumb[160];
  json_t *o;
  snprintf(url, sizeof url, "/api/v1/media/%s", id);
  if (store_media_get(a->store, id, &md) != LB_OK)
    return json_pack("{s:s, s:n, s:n, s:s}", "id", id, "content_type", "bytes",
                     "url", url);
  o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", id, "content_type",
                md.content_type, "bytes", (json_int_t)md.bytes, "sha256",
                md.sha256, "url", url);
  if (o && md.width > 0) {
    snprintf(thumb, sizeof thumb, "%s/thumb", url);
    json_object_set_new(o, "width", json_integer(md.width));
    json_object_set_new(o, "height", json_integer(md.height));
    json_object_set_new(o, "thumb_url", json_string(thumb));
  }
  return o;
}

static int on_unavailable(void *arg, const char *error)
{
  return json_array_append_new(arg, json_pack("{s:s}", "error", error))
             ? LB_ENOMEM
             : LB_OK;
}

struct history_ctx {
  json_t *arr;
};

static int on_event(void *arg, const char *status, const char *detail,
                    int64_t at)
{
  struct history_ctx *h = arg;
  json_t *e = json_pack("{s:s}", "status", status);
  if (!e)
    return LB_ENOMEM;
  iso(e, "at", at);
  json_object_set_new(e, "detail", str_or_null(detail));
  json_array_append_new(h->arr, e);
  return LB_OK;
}

json_t *api_message_json(struct app *a, const struct message *m,
                         int with_history)
{
  json_t *o = json_object(), *media = json_array();
  if (!o || !media) {
    json_decref(o);
    json_decref(media);
    return NULL;
  }
  json_object_set_new(o, "id", json_string(m->id));
  json_object_set_new(o, "direction",
                      json_string(direction_name(m->direction)));
  json_object_set_new(o, "from", json_string(m->from));
  json_object_set_new(o, "to", json_string(m->to));
  json_object_set_new(o, "text", json_string(m->text ? m->text : ""));
  json_object_set_new(o, "status", json_string(status_name(m->status)));
  json_object_set_new(o, "provider", json_string(m->provider));
  json_object_set_new(o, "provider_message_id",
                      str_or_null(m->provider_msg_id));
  if (m->error_code[0] || m->error_text[0])
    json_object_set_new(o, "error",
                        json_pack("{s:s, s:s, s:b}", "code", m->error_code,
                                  "message", m->error_text, "retryable",
                                  m->error_retryable));
  else
    json_object_set_new(o, "error", json_null());
  json_object_set_new(o, "attempts", json_integer(m->attempts));
  if (m->route[0]) {
    json_t *route =
        json_pack("{s:s, s:s}", "plan", m->route, "reason", m->route_reason);
    struct link l;
    if (route && strcmp(m->route, "link") == 0 &&
        store_link_of_message(a->store, m->id, &l) == LB_OK)
      json_object_set_new(route, "link", json_string(l.id));
    /* Marked: sent from a second number ([routing] allow_other_sender). */
    if (route && m->direction == DIR_OUTBOUND &&
        strcmp(m->from, a->cfg->number) != 0)
      json_object_set_new(route, "other_sender", json_true());
    json_object_set_new(o, "route", route);
  } else {
    json_object_set_new(o, "route", json_null());
  }
  for (size_t i = 0; i < m->n_media; i++)
    json_array_append_new(media, api_media_json(a, m->media_ids[i]));
  json_object_set_new(o, "media", media);
  if (m->direction == DIR_INBOUND) {
    /* Media the provider sent as links: still coming, or given up. */
    json_t *gone = json_array();
    int pending = 0;
    if (gone &&
        store_message_fetches(a->store, m->id, &pending, on_unavailable,
                              gone) == LB_OK &&
        (pending || json_array_size(gone))) {
      json_object_set_new(o, "media_pending", json_integer(pending));
      json_object_set_new(o, "media_unavailable", gone);
      gone = NULL;
    }
    json_decref(gone);
  }
  iso(o, "created_at", m->created_at);
  iso(o, "updated_at", m->updated_at);
  if (with_history) {
    struct history_ctx h = {json_array()};
    store_message_events(a->store, m->id, on_event, &h);
    json_object_set_new(o, "history", h.arr);
  }
  return o;
}

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

void api_store_error(struct http_req *r, int rc)
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

static void h_health(void *cls, struct http_req *r)
{
  struct app *a = cls;
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

void api_register(struct app *a)
{
  struct http_server *s = a->http;
  size_t media_cap = (size_t)a->cfg->media_max_bytes;
  /* Inline base64 media: 4/3 of [media] max_bytes for the whole message,
   * plus the JSON around it. Carriers cap an MMS well below this; the cap
   * is checked before the signature, so it must stay modest. */
  size_t hook_cap = media_cap / 3 * 4 + 64 * KB;
  /* A host that sends MMS media inline (MessageMedia) asks for more, and
   * says how much. */
  if (a->host.caps.inbound_body_max > hook_cap)
    hook_cap = a->host.caps.inbound_body_max;

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
