/* The live event stream (/api/v1/events): a thread tails the event log
 * and publishes each event to every open stream, in seq order, with the
 * seq as its SSE id and its data as the webhooks carry it. So a client
 * that reconnects with Last-Event-ID (or a cursor from the changes feed
 * or a webhook) misses nothing, and an event committed by another
 * process or node reaches the stream too: the tail listens on the store's
 * "events" channel, which every commit of an event on any node notifies
 * (SQLite: the writer sees other processes' commits; PostgreSQL:
 * LISTEN/NOTIFY), and reads the rows after its last seq. A slow poll is
 * the safety net. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/internal.h"
#include "http/sse.h"
#include "util/log.h"

#define TAIL_BATCH 256
#define TAIL_POLL_MS 10000
/* Most events a reconnecting stream is sent from the log; past it the
 * stream starts with "reset" and the client should read the feed. */
#define BACKFILL_EVENTS 2000

struct live_tail {
  struct gateway *gw;
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop, wakeups;
  long long last;
  struct store_listener *listener;
};

static void on_events(void *arg, const char *channel)
{
  (void)channel;
  gw_live_wake(arg);
}

static enum lb_err on_row(void *arg, const struct event_row *e)
{
  struct live_tail *t = arg;
  sse_publish(t->gw->live, e->seq, e->type, e->payload);
  t->last = e->seq;
  return LB_OK;
}

static void *tail_main(void *arg)
{
  struct live_tail *t = arg;
  for (;;) {
    long long before = t->last;
    struct timespec ts;
    enum lb_err rc =
        store_events_after(t->gw->store, t->last, TAIL_BATCH, on_row, t);
    if (rc)
      log_warn("live.tail", "cannot read the event log: %s", lb_strerror(rc));
    pthread_mutex_lock(&t->mu);
    if (t->stop) {
      pthread_mutex_unlock(&t->mu);
      break;
    }
    if (!rc && t->last - before >= TAIL_BATCH) { /* more waiting */
      pthread_mutex_unlock(&t->mu);
      continue;
    }
    if (!t->wakeups) {
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += TAIL_POLL_MS * 1000000L;
      ts.tv_sec += ts.tv_nsec / 1000000000L;
      ts.tv_nsec %= 1000000000L;
      pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
    t->wakeups = 0;
    pthread_mutex_unlock(&t->mu);
  }
  return NULL;
}

enum lb_err gw_live_start(struct gateway *gw)
{
  struct live_tail *t = calloc(1, sizeof *t);
  if (!t)
    return LB_ENOMEM;
  t->gw = gw;
  t->last = sse_last_seq(gw->live);
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->cv, NULL);
  if (pthread_create(&t->th, NULL, tail_main, t)) {
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
    return LB_ENOMEM;
  }
  gw->tail = t;
  if (store_listen(gw->store, STORE_CH_EVENTS, on_events, gw, &t->listener))
    log_warn("live.tail", "cannot listen for events: polling only");
  return LB_OK;
}

void gw_live_wake(struct gateway *gw)
{
  struct live_tail *t = gw->tail;
  if (!t)
    return;
  pthread_mutex_lock(&t->mu);
  t->wakeups++;
  pthread_cond_signal(&t->cv);
  pthread_mutex_unlock(&t->mu);
}

void gw_live_stop(struct gateway *gw)
{
  struct live_tail *t = gw->tail;
  if (!t)
    return;
  store_unlisten(gw->store, t->listener);
  pthread_mutex_lock(&t->mu);
  t->stop = 1;
  pthread_cond_signal(&t->cv);
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->th, NULL);
  pthread_cond_destroy(&t->cv);
  pthread_mutex_destroy(&t->mu);
  free(t);
  gw->tail = NULL;
}

struct backfill {
  struct buf *out;
  long long upto, seen;
  int n;
};

static enum lb_err backfill_row(void *arg, const struct event_row *e)
{
  struct backfill *b = arg;
  if (e->seq > b->upto)
    return LB_ECONFLICT; /* the rest is in the ring */
  if (++b->n > BACKFILL_EVENTS)
    return LB_ETOOBIG;
  b->seen = e->seq;
  return sse_frame(b->out, e->seq, e->type, e->payload);
}

/* The events after 'after' up to 'upto', from the log (sse_backfill_fn). */
static enum lb_err backfill(void *arg, long long after, long long upto,
                            struct buf *out)
{
  struct gateway *gw = arg;
  struct backfill b = {out, upto, after, 0};
  while (b.seen < upto) {
    long long from = b.seen;
    enum lb_err rc =
        store_events_after(gw->store, from, TAIL_BATCH, backfill_row, &b);
    if (rc == LB_ECONFLICT)
      break;
    if (rc)
      return rc;
    if (b.seen == from)
      break; /* nothing more (pruned) */
  }
  return LB_OK;
}

void gw_live_reply(struct gateway *gw, struct http_req *r, long long after)
{
  sse_reply(gw->live, r, after, backfill, gw);
}
