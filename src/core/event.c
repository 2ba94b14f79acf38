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
                             const struct event *ev)
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
