/* Messages and media as the API shows them -- and, through the event sink,
 * the live stream and the clinic's app: one shape everywhere. */
#include <stdio.h>
#include <string.h>

#include "core/failure.h"
#include "gateway/internal.h"
#include "util/clock.h"

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

static json_t *media_json(struct gateway *gw, struct store_tx *tx,
                          const char *id)
{
  struct media md;
  char url[128], thumb[160];
  json_t *o;
  enum lb_err rc = tx ? store_tx_media_get(tx, id, &md)
                      : store_media_get(gw->store, id, &md);
  snprintf(url, sizeof url, "/api/v1/media/%s", id);
  if (rc != LB_OK)
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

json_t *gw_media_json(struct gateway *gw, const char *id)
{
  return media_json(gw, NULL, id);
}

/* The app's metadata: stored as checked compact JSON; {} when none (or,
 * never expected, unreadable). */
static json_t *metadata_json(const char *text)
{
  json_t *o = text && *text ? json_loads(text, 0, NULL) : NULL;
  if (!json_is_object(o)) {
    json_decref(o);
    o = json_object();
  }
  return o;
}

static enum lb_err on_unavailable(void *arg, const char *error)
{
  return json_array_append_new(arg, json_pack("{s:s}", "error", error))
             ? LB_ENOMEM
             : LB_OK;
}

static enum lb_err on_history(void *arg, const char *status, const char *detail,
                              int64_t at)
{
  json_t *e = json_pack("{s:s}", "status", status);
  if (!e)
    return LB_ENOMEM;
  iso(e, "at", at);
  json_object_set_new(e, "detail", str_or_null(detail));
  return json_array_append_new(arg, e) ? LB_ENOMEM : LB_OK;
}

static json_t *message_json(struct gateway *gw, struct store_tx *tx,
                            const struct message *m, int with_history)
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
  if (m->direction == DIR_OUTBOUND && status_can_retry(m->status)) {
    /* In words for staff (core/failure.h), the code kept under details. A
     * receipt without a code says undelivered, and nothing more. */
    const char *code = m->error_code[0]              ? m->error_code
                       : m->status == ST_UNDELIVERED ? "undelivered"
                                                     : "";
    const struct failure_info *f = failure_describe(code);
    json_object_set_new(o, "failure",
                        json_pack("{s:s, s:s, s:s, s:{s:o, s:o}}", "reason",
                                  f->reason, "message", f->message, "action",
                                  f->action, "details", "code",
                                  str_or_null(m->error_code), "text",
                                  str_or_null(m->error_text)));
  } else {
    json_object_set_new(o, "failure", json_null());
  }
  json_object_set_new(o, "can_retry",
                      json_boolean(m->direction == DIR_OUTBOUND &&
                                   status_can_retry(m->status)));
  json_object_set_new(o, "resend_of", str_or_null(m->resend_of));
  if (m->route != ROUTE_NONE) {
    json_t *route = json_pack("{s:s, s:s}", "plan", route_plan_name(m->route),
                              "reason", m->route_reason);
    struct link l;
    if (route && m->route == ROUTE_LINK &&
        (tx ? store_tx_link_of_message(tx, m->id, &l)
            : store_link_of_message(gw->store, m->id, &l)) == LB_OK)
      json_object_set_new(route, "link", json_string(l.id));
    /* Marked: sent from a second number ([routing] allow_other_sender). */
    if (route && m->direction == DIR_OUTBOUND &&
        strcmp(m->from, gw->cfg->number) != 0)
      json_object_set_new(route, "other_sender", json_true());
    json_object_set_new(o, "route", route);
  } else {
    json_object_set_new(o, "route", json_null());
  }
  for (size_t i = 0; i < m->n_media; i++)
    json_array_append_new(media, media_json(gw, tx, m->media_ids[i]));
  json_object_set_new(o, "media", media);
  if (m->direction == DIR_INBOUND) {
    /* Media the provider sent as links: still coming, or given up. */
    json_t *gone = json_array();
    int pending = 0;
    if (gone &&
        (tx ? store_tx_message_fetches(tx, m->id, &pending, on_unavailable,
                                       gone)
            : store_message_fetches(gw->store, m->id, &pending,
                                    on_unavailable, gone)) == LB_OK &&
        (pending || json_array_size(gone))) {
      json_object_set_new(o, "media_pending", json_integer(pending));
      json_object_set_new(o, "media_unavailable", gone);
      gone = NULL;
    }
    json_decref(gone);
  }
  json_object_set_new(o, "metadata", metadata_json(m->metadata));
  json_object_set_new(o, "client_reference", str_or_null(m->client_reference));
  iso(o, "created_at", m->created_at);
  iso(o, "updated_at", m->updated_at);
  if (with_history) {
    json_t *h = json_array();
    store_message_events(gw->store, m->id, on_history, h);
    json_object_set_new(o, "history", h);
  }
  return o;
}

json_t *gw_message_json(struct gateway *gw, const struct message *m,
                        int with_history)
{
  return message_json(gw, NULL, m, with_history);
}

json_t *gw_message_json_tx(struct gateway *gw, struct store_tx *tx,
                           const struct message *m)
{
  return message_json(gw, tx, m, 0);
}

static json_t *iso_or_null(int64_t ms)
{
  char t[LB_ISO8601_LEN];
  if (!ms)
    return json_null();
  clock_iso8601(ms, t, sizeof t);
  return json_string(t);
}

json_t *gw_consent_event_json(const struct consent_event *e)
{
  char words[CONSENT_REASON_MAX + 100];
  consent_describe(e, words, sizeof words);
  return json_pack(
      "{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "id", e->id, "state",
      consent_state_name(e->state), "source", consent_source_name(e->source),
      "at", iso_or_null(e->at), "by", str_or_null(e->actor), "reason",
      str_or_null(e->reason), "message", str_or_null(e->message_id), "provider",
      str_or_null(e->provider), "description", words);
}

json_t *gw_consent_json(const struct consent *c)
{
  char words[CONSENT_REASON_MAX + 100];
  if (!c->opted_out)
    return json_null();
  consent_describe(&c->last, words, sizeof words);
  return json_pack("{s:b, s:o, s:s, s:s, s:o}", "opted_out", 1, "since",
                   iso_or_null(c->since), "source",
                   consent_source_name(c->last.source), "description", words,
                   "event",
                   c->last.id[0] ? json_string(c->last.id) : json_null());
}

json_t *gw_link_json(const struct link *l)
{
  char t[LB_ISO8601_LEN], x[LB_ISO8601_LEN];
  enum link_outcome o = gw_link_barrier(l, clock_now_ms());
  /* The refusals' audit names double as the states. */
  const char *state = o == LINK_VIEWED ? "active" : link_outcome_name(o);
  clock_iso8601(l->created_at, t, sizeof t);
  clock_iso8601(l->expires_at, x, sizeof x);
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:i}", "id",
                   l->id, "message", l->message_id, "patient", l->patient,
                   "state", state, "created_at", t, "expires_at", x, "views",
                   l->views, "max_views", l->max_views, "check", l->check,
                   "failures", l->failures);
}
