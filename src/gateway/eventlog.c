/* The event log, the sink's first subscriber: every event is written as a
 * row of the events table inside the transaction of the change that
 * causes it (store_tx_event_append), with its data as the clinic's app
 * sees it -- the same objects as the API. That row is the event: the
 * webhook worker and the live stream read the table in seq order, and
 * the changes feed reads the messages it marks. A crash after the commit
 * cannot lose an event, and a rolled-back change cannot emit one.
 *
 * After the commit it only wakes the readers. */
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"
#include "gateway/team.h"
#include "util/log.h"

static json_t *message_data(struct gateway *gw, struct store_tx *tx,
                            const struct event *ev)
{
  const struct message *m = ev->message;
  json_t *mj = gw_message_json_tx(gw, tx, m), *d;
  if (!mj)
    return NULL;
  d = json_pack("{s:s, s:o}", "patient", ev->patient ? ev->patient : "",
                "message", mj);
  if (d && ev->change != CHANGE_UPDATED && m->direction == DIR_OUTBOUND) {
    const char *reason = ev->detail && *ev->detail ? ev->detail
                         : m->error_text[0]        ? m->error_text
                         : m->status == ST_QUEUED  ? m->route_reason
                                                   : NULL;
    json_object_set_new(d, "status", json_string(status_name(m->status)));
    json_object_set_new(d, "reason",
                        reason && *reason ? json_string(reason) : json_null());
    json_object_set_new(d, "final", json_boolean(status_is_final(m->status)));
  } else if (d && ev->change == CHANGE_UPDATED) {
    /* What changed: "media fetched", "link revoked", ... */
    json_object_set_new(d, "reason",
                        ev->detail && *ev->detail ? json_string(ev->detail)
                                                  : json_null());
  }
  return d;
}

json_t *gw_event_data(struct gateway *gw, struct store_tx *tx,
                      const struct event *ev)
{
  const char *patient = ev->patient ? ev->patient : "";
  switch (ev->type) {
  case EVENT_MESSAGE:
    return message_data(gw, tx, ev);
  case EVENT_CONVERSATION:
  case EVENT_CONVERSATION_READ:
    return json_pack("{s:s}", "patient", patient);
  case EVENT_PATIENT_OPTED_OUT:
  case EVENT_PATIENT_OPTED_IN:
    return json_pack("{s:s, s:o}", "patient", patient, "consent",
                     gw_consent_event_json(ev->consent));
  case EVENT_LINK_VIEWED:
    return json_pack("{s:s, s:o}", "patient", patient, "link",
                     gw_link_json(ev->link));
  case EVENT_CONVERSATION_ASSIGNED:
  case EVENT_CONVERSATION_STATE: {
    json_t *d =
        json_pack("{s:s, s:o}", "patient", patient, "by",
                  ev->team->changed_by[0] ? json_string(ev->team->changed_by)
                                          : json_null());
    if (d)
      gw_team_json_set(d, ev->team->state, ev->team->assigned_to);
    return d;
  }
  case EVENT_NOTE_CREATED:
    return json_pack("{s:s, s:o}", "patient", patient, "note",
                     gw_note_json(ev->note));
  }
  return NULL;
}

static enum lb_err log_in_tx(void *arg, struct store_tx *tx, struct event *ev)
{
  struct gateway *gw = arg;
  struct event_row row;
  json_t *data = gw_event_data(gw, tx, ev);
  enum lb_err rc;

  memset(&row, 0, sizeof row);
  if (!data || !(row.payload = json_dumps(data, JSON_COMPACT))) {
    json_decref(data);
    return LB_ENOMEM;
  }
  json_decref(data);
  str_copy(row.type, sizeof row.type, event_type_name(ev));
  str_copy(row.patient, sizeof row.patient, ev->patient ? ev->patient : "");
  if (ev->type == EVENT_MESSAGE) {
    str_copy(row.message_id, sizeof row.message_id, ev->message->id);
    str_copy(row.subject, sizeof row.subject, status_name(ev->message->status));
  } else if (ev->type == EVENT_LINK_VIEWED) {
    /* Not the message's change: the feed shows messages, not views. */
    str_copy(row.subject, sizeof row.subject, ev->link->id);
  } else if (ev->type == EVENT_NOTE_CREATED) {
    str_copy(row.subject, sizeof row.subject, ev->note->id);
  } else if (ev->consent) {
    str_copy(row.subject, sizeof row.subject, ev->consent->id);
  }
  rc = store_tx_event_append(tx, &row);
  if (!rc) {
    ev->seq = row.seq;
    str_copy(ev->id, sizeof ev->id, row.id);
  }
  event_row_release(&row);
  return rc;
}

static void log_committed(void *arg, const struct event *ev)
{
  struct gateway *gw = arg;
  (void)ev;
  /* The live tail hears it through the store, as it hears other nodes'. */
  store_notify(gw->store, STORE_CH_EVENTS);
  gw_webhooks_wake(gw);
}

enum lb_err gw_eventlog_subscribe(struct gateway *gw)
{
  struct event_subscriber sub = {"eventlog", log_in_tx, log_committed, gw};
  return event_sink_subscribe(&gw->sink, &sub);
}
