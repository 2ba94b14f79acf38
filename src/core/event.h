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
 * it. The caller keeps one struct event for both calls: the first
 * subscriber (the event log) gives it its place in commit order inside the
 * transaction, and the others hear that after the commit. Subscribers are
 * added before the gateway starts and never after, so emitting takes no
 * lock.
 *
 * Ownership: the sink borrows its subscribers' args; an event borrows its
 * message and strings for the duration of the call. */
#ifndef LB_EVENT_H
#define LB_EVENT_H

#include <stddef.h>

#include "core/consent.h"
#include "core/message.h"
#include "core/team.h"
#include "util/err.h"

enum event_type {
  EVENT_MESSAGE,           /* a message was stored, or changed */
  EVENT_CONVERSATION,      /* the patient renamed, or their birth date */
  EVENT_CONVERSATION_READ, /* staff read the conversation */
  EVENT_PATIENT_OPTED_OUT, /* the patient's consent changed */
  EVENT_PATIENT_OPTED_IN,
  EVENT_LINK_VIEWED,           /* a patient opened a secure image link */
  EVENT_CONVERSATION_ASSIGNED, /* staff assigned it, or unassigned it */
  EVENT_CONVERSATION_STATE,    /* marked done, or open again */
  EVENT_NOTE_CREATED,          /* staff left an internal note */
};

struct link;

/* What happened to the message of an EVENT_MESSAGE. */
enum event_change {
  CHANGE_CREATED, /* stored: received, or queued */
  CHANGE_STATUS,  /* its status moved */
  CHANGE_UPDATED, /* anything else: media fetched, a link revoked */
};

#define EVENT_ID_SIZE 32 /* "evt_" + 26 sortable characters + NUL */

struct event {
  enum event_type type;
  enum event_change change;
  const char *patient;                 /* E.164: whose conversation */
  const struct message *message;       /* EVENT_MESSAGE: as committed */
  const struct consent_event *consent; /* EVENT_PATIENT_*: the change */
  const struct link *link;             /* EVENT_LINK_VIEWED: after it */
  const struct conv_team *team;        /* EVENT_CONVERSATION_ASSIGNED, _STATE */
  const struct note *note;             /* EVENT_NOTE_CREATED */
  const char *detail;                  /* CHANGE_STATUS: why; may be NULL */
  /* Set by the event log inside the transaction: the event's place in
   * commit order (0 when no log subscribes) and its stable id. */
  long long seq;
  char id[EVENT_ID_SIZE];
};

struct store_tx;

struct event_subscriber {
  const char *name; /* for log lines */
  /* May be NULL. */
  enum lb_err (*in_tx)(void *arg, struct store_tx *tx, struct event *ev);
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
                             struct event *ev);
/* After the commit: every subscriber's committed. */
void event_sink_committed(const struct event_sink *s, const struct event *ev);

/* The patient of a message: the recipient of an outbound one, the sender
 * of an inbound one. */
const char *message_patient(const struct message *m);

/* The name the clinic's app knows the event by: message.received,
 * message.status, message.updated, conversation.read,
 * conversation.updated, patient.opted_out, patient.opted_in,
 * link.viewed, conversation.assigned, conversation.state_changed,
 * note.created. */
const char *event_type_name(const struct event *ev);
/* Every name an endpoint may subscribe to (the above, and "ping"),
 * NULL-terminated. */
extern const char *const event_type_names[];
/* 1 if name is one of them. */
int event_type_known(const char *name);

/* An EVENT_MESSAGE event about m (borrowed), with detail (may be NULL). */
struct event event_of_message(const struct message *m, enum event_change change,
                              const char *detail);

#endif
