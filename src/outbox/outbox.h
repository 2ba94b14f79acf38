/* The outbox: the durable send queue's machinery.
 *
 * Worker threads claim due messages from the store (queued -> sending) and
 * hand each to the handler (the gateway's gw_send), which builds the
 * provider's request, performs it through outbox_perform() and records
 * the result. outbox_perform waits for the provider's token-bucket rate
 * limit and sends with the worker's own libcurl client. Queue state lives
 * only in the store, so a restart resumes it: outbox_start first settles
 * what a crash left in "sending" (docs/outbox.md).
 *
 * Several nodes may share the store. Each claim is a lease (this node's
 * id, an expiry lease_ms ahead) that a keeper thread renews every third
 * of lease_ms while the node lives; the keeper also takes over, like a
 * restart would, any message whose lease expired (its node died). At
 * start, leases held under this node's own id are taken over at once:
 * they are an earlier run's. Workers wake on the store's "outbox"
 * channel (store_listen), so work queued on any node starts at once; a
 * slow poll remains as a safety net.
 *
 * Ownership: the outbox borrows the store, the provider set and the
 * handler's arg, which must outlive outbox_stop(). */
#ifndef LB_OUTBOX_H
#define LB_OUTBOX_H

#include "core/event.h"
#include "core/message.h"
#include "providers/set.h"
#include "store/store.h"
#include "util/err.h"
#include "util/wire.h"

struct outbox;
struct outbox_worker;

struct outbox_options {
  struct store *store;
  const struct provider_set *providers;
  int workers;
  long send_timeout_ms;
  /* Sends claimed message m (status sending) and records its result. Runs
   * on worker w; m is released after it returns. */
  void (*send)(void *arg, struct outbox_worker *w, struct message *m);
  void *arg;
  /* Hears each claim (queued -> sending), in its transaction and after.
   * May be NULL. */
  const struct event_sink *sink;
  /* This node's id (kept by the caller), and how long a claim is held
   * without renewal before another node may take it over. */
  const char *node_id;
  long lease_ms;
  /* Called by the keeper at each renewal (the node's heartbeat), with
   * beat_arg. May be NULL. */
  void (*beat)(void *beat_arg);
  void *beat_arg;
  /* Several nodes: each provider's rate is also counted in the store, so
   * the nodes together keep to it (store_rate_take). */
  int shared_rate;
};

/* Recovers what a crash left in "sending", then starts the workers. */
enum lb_err outbox_start(const struct outbox_options *opt, struct outbox **out);
/* Something was queued: look now rather than at the next poll. */
void outbox_wake(struct outbox *o);
/* Finishes the sends in progress, then stops the workers. NULL is fine. */
void outbox_stop(struct outbox *o);

/* Waits on worker w for provider p's rate limit: after it, the next
 * outbox_perform may go. */
void outbox_wait_turn(struct outbox_worker *w, const struct provider *p);
/* Performs req on worker w (after outbox_wait_turn). Transport failures
 * are in res (see http/client.h); the result is LB_OK or LB_ENOMEM. */
enum lb_err outbox_perform(struct outbox_worker *w,
                           const struct wire_request *req,
                           struct wire_response *res);

#endif
