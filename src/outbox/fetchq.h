/* The inbound media fetch queue: media that a provider sent as links
 * (media_fetches rows, stored with their message) is fetched here, after
 * the message is safely stored and answered.
 *
 * Each item goes through the SSRF-guarded fetcher (http/fetch.h) with the
 * host provider's media hosts as the allow-list, then through media intake
 * like any upload. A failure is retried with back-off; after [media]
 * fetch_max_attempts, or at once for a refusal that retrying cannot change
 * (a private address, a host off the list, too large, not an image), the
 * item is marked unavailable on its message, with the reason. The message
 * itself is never dropped. Rows survive restarts, so nothing is lost.
 *
 * Each change to a message (an item arrived, or was given up) is made in
 * one transaction and emitted through the sink.
 *
 * Ownership: fetchq_start() returns a queue that fetchq_stop() frees. */
#ifndef LB_FETCHQ_H
#define LB_FETCHQ_H

#include "core/event.h"
#include "media/blob.h"
#include "media/intake.h"
#include "providers/provider.h"
#include "store/store.h"
#include "util/err.h"

struct fetchq;

/* What the queue needs; everything is borrowed and must outlive it. */
struct fetchq_options {
  struct store *store;
  struct blob_store *blobs;
  const struct provider *host;   /* media hosts, credentials, deletion */
  const struct event_sink *sink; /* hears the message change */
  struct intake_limits limits;
  int allow_private;   /* [media] fetch_private */
  long timeout_ms;     /* [media] fetch_timeout_ms */
  int max_attempts;    /* [media] fetch_max_attempts */
  long api_timeout_ms; /* for the provider's deletion call */
};

enum lb_err fetchq_start(const struct fetchq_options *opt, struct fetchq **out);
/* Something was queued: look now rather than at the next tick. */
void fetchq_kick(struct fetchq *q);
/* Finishes the fetch in progress, then stops. NULL is fine. */
void fetchq_stop(struct fetchq *q);

#endif
