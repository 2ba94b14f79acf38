/* The live event stream (/api/v1/events), a subscriber of the sink: each
 * committed change is published to every open stream, as the API shows
 * it. */
#include <stdlib.h>

#include "gateway/internal.h"
#include "http/sse.h"
#include "util/log.h"

static void publish(struct gateway *gw, const char *event, json_t *data)
{
  char *text;
  if (!data)
    return;
  text = json_dumps(data, JSON_COMPACT);
  json_decref(data);
  if (text)
    sse_publish(gw->live, event, text);
  free(text);
}

static void live_committed(void *arg, const struct event *ev)
{
  struct gateway *gw = arg;
  json_t *mj;
  switch (ev->type) {
  case EVENT_MESSAGE:
    if ((mj = gw_message_json(gw, ev->message, 0)))
      publish(gw, "message",
              json_pack("{s:s, s:o}", "patient", ev->patient, "message", mj));
    break;
  case EVENT_CONVERSATION:
    publish(gw, "conversation", json_pack("{s:s}", "patient", ev->patient));
    break;
  case EVENT_PATIENT_OPTED_OUT:
  case EVENT_PATIENT_OPTED_IN:
    /* The inbox re-reads the conversation: its opt-out shows, or goes. */
    publish(gw, "conversation",
            json_pack("{s:s, s:s}", "patient", ev->patient, "consent",
                      consent_state_name(ev->consent->state)));
    break;
  }
}

enum lb_err gw_live_subscribe(struct gateway *gw)
{
  struct event_subscriber sub = {"live", NULL, live_committed, gw};
  return event_sink_subscribe(&gw->sink, &sub);
}

enum lb_err gw_emit_message_in_tx(struct gateway *gw, struct store_tx *tx,
                                  const struct message *m)
{
  struct event ev = {EVENT_MESSAGE, message_patient(m), m, NULL};
  return gw_emit_in_tx(gw, tx, &ev);
}

void gw_emit_message_committed(struct gateway *gw, const struct message *m)
{
  struct event ev = {EVENT_MESSAGE, message_patient(m), m, NULL};
  gw_emit_committed(gw, &ev);
}
