/* Domain events, and the sink that hands them to their subscribers.
 *
 * Every change a person or a program may want to hear about (a message
 * stored or changed, a conversation read or renamed) is emitted once, by
 * the code that made the change, as a struct event. Subscribers hear it
 * twice:
 *
 *   in_tx      inside the transaction that makes the change, with the
 *              transaction: a subscriber can write its own rows there (a
 *              webhook queue entry), so a crash after the commit cannot
 *              lose the event and a rolled-back change cannot emit one.
 *              Its error rolls the whole change back.
 *   committed  after the commit, with the same event: the live stream
 *              publishes it.
 *
 * The event carries the message as committed, so no subscriber re-reads
 * it. Subscribers are added before the gateway starts and never after, so
 * emitting takes no lock.
 *
 * Ownership: the sink borrows its subscribers' args; an event borrows its
 * message and strings for the duration of the call. */
#ifndef LB_EVENT_H
#define LB_EVENT_H

#include <stddef.h>

#include "core/consent.h"
#include "core/message.h"
#include "util/err.h"

enum event_type {
  EVENT_MESSAGE,      /* a message was stored, or changed (status, media) */
  EVENT_CONVERSATION, /* read, or the patient renamed */
  EVENT_PATIENT_OPTED_OUT, /* the patient's consent changed */
  EVENT_PATIENT_OPTED_IN,
};

struct event {
  enum event_type type;
  const char *patient;                 /* E.164: whose conversation */
  const struct message *message;       /* EVENT_MESSAGE: as committed */
  const struct consent_event *consent; /* EVENT_PATIENT_*: the change */
};

struct store_tx;

struct event_subscriber {
  const char *name; /* for log lines */
  /* May be NULL. */
  enum lb_err (*in_tx)(void *arg, struct store_tx *tx, const struct event *ev);
  /* May be NULL. Must not block for long: it runs on the thread that made
   * the change, which may be the store's own. */
  void (*committed)(void *arg, const struct event *ev);
  void *arg;
};

#define EVENT_SUBSCRIBERS_MAX 8

struct event_sink {
  struct event_subscriber subs[EVENT_SUBSCRIBERS_MAX];
  size_t n;
};

void event_sink_init(struct event_sink *s);
/* LB_ETOOBIG when the sink is full. Before any event is emitted only. */
enum lb_err event_sink_subscribe(struct event_sink *s,
                                 const struct event_subscriber *sub);
/* Inside the change's transaction: every subscriber's in_tx, stopping at
 * the first error (returned). */
enum lb_err event_sink_in_tx(const struct event_sink *s, struct store_tx *tx,
                             const struct event *ev);
/* After the commit: every subscriber's committed. */
void event_sink_committed(const struct event_sink *s, const struct event *ev);

/* The patient of a message: the recipient of an outbound one, the sender
 * of an inbound one. */
const char *message_patient(const struct message *m);

#endif
