/* The outbox: the durable send queue.
 *
 * Worker threads claim due messages from the store (queued -> sending),
 * build the request with the host adapter, send it with libcurl and record
 * the result. Retryable failures go back to queued with exponential
 * back-off and jitter; each provider has a token-bucket rate limit. Queue
 * state lives only in the store, so a restart resumes it; see
 * docs/outbox.md for what happens to a message caught in "sending". */
#ifndef LB_OUTBOX_H
#define LB_OUTBOX_H

struct app;
struct outbox;

int outbox_start(struct app *a, struct outbox **out);
/* Something was queued: look now rather than at the next poll. */
void outbox_wake(struct outbox *o);
/* Finishes the sends in progress, then stops the workers. */
void outbox_stop(struct outbox *o);

#endif
