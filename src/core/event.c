#include "core/event.h"

#include <string.h>

#include "util/err.h"

void event_sink_init(struct event_sink *s)
{
  memset(s, 0, sizeof *s);
}

enum lb_err event_sink_subscribe(struct event_sink *s,
                                 const struct event_subscriber *sub)
{
  if (s->n == EVENT_SUBSCRIBERS_MAX)
    return LB_ETOOBIG;
  s->subs[s->n++] = *sub;
  return LB_OK;
}

enum lb_err event_sink_in_tx(const struct event_sink *s, struct store_tx *tx,
                             struct event *ev)
{
  enum lb_err rc = LB_OK;
  for (size_t i = 0; i < s->n && !rc; i++)
    if (s->subs[i].in_tx)
      rc = s->subs[i].in_tx(s->subs[i].arg, tx, ev);
  return rc;
}

void event_sink_committed(const struct event_sink *s, const struct event *ev)
{
  for (size_t i = 0; i < s->n; i++)
    if (s->subs[i].committed)
      s->subs[i].committed(s->subs[i].arg, ev);
}

const char *message_patient(const struct message *m)
{
  return m->direction == DIR_OUTBOUND ? m->to : m->from;
}

struct event event_of_message(const struct message *m, enum event_change change,
                              const char *detail)
{
  struct event ev;
  memset(&ev, 0, sizeof ev);
  ev.type = EVENT_MESSAGE;
  ev.change = change;
  ev.patient = message_patient(m);
  ev.message = m;
  ev.detail = detail;
  return ev;
}

const char *const event_type_names[] = {
    "message.received",
    "message.status",
    "message.updated",
    "conversation.read",
    "conversation.updated",
    "patient.opted_out",
    "patient.opted_in",
    "link.viewed",
    "conversation.assigned",
    "conversation.state_changed",
    "note.created",
    "ping",
    NULL,
};

const char *event_type_name(const struct event *ev)
{
  switch (ev->type) {
  case EVENT_MESSAGE:
    if (ev->change == CHANGE_UPDATED)
      return "message.updated";
    if (ev->change == CHANGE_CREATED && ev->message &&
        ev->message->direction == DIR_INBOUND)
      return "message.received";
    return "message.status"; /* an outbound message queued, or moved */
  case EVENT_CONVERSATION:
    return "conversation.updated";
  case EVENT_CONVERSATION_READ:
    return "conversation.read";
  case EVENT_PATIENT_OPTED_OUT:
    return "patient.opted_out";
  case EVENT_PATIENT_OPTED_IN:
    return "patient.opted_in";
  case EVENT_LINK_VIEWED:
    return "link.viewed";
  case EVENT_CONVERSATION_ASSIGNED:
    return "conversation.assigned";
  case EVENT_CONVERSATION_STATE:
    return "conversation.state_changed";
  case EVENT_NOTE_CREATED:
    return "note.created";
  }
  return "unknown";
}

int event_type_known(const char *name)
{
  for (size_t i = 0; event_type_names[i]; i++)
    if (strcmp(event_type_names[i], name) == 0)
      return 1;
  return 0;
}
