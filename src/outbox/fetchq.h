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
 * Ownership: fetchq_start() returns a queue that fetchq_stop() frees. */
#ifndef LB_FETCHQ_H
#define LB_FETCHQ_H

struct app;
struct fetchq;

int fetchq_start(struct app *a, struct fetchq **out);
/* Something was queued: look now rather than at the next tick. */
void fetchq_kick(struct fetchq *q);
/* Finishes the fetch in progress, then stops. NULL is fine. */
void fetchq_stop(struct fetchq *q);

#endif
