#include "outbox/fetchq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/client.h"
#include "http/fetch.h"
#include "media/intake.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

#define FETCH_BATCH 8
/* The safety net: wake-ups come through the store ("fetch" channel), and
 * a retry waits for its own due time. */
#define TICK_MS 10000
#define BACKOFF_BASE_MS 2000
#define BACKOFF_MAX_MS (10 * 60 * 1000)

struct fetchq {
  struct fetchq_options opt;
  struct http_client *http; /* for deletions; made on first use */
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stopping;
  int kicked;
  struct store_listener *listener;
};

static void on_fetch(void *arg, const char *channel)
{
  (void)channel;
  fetchq_kick(arg);
}

static long backoff_ms(int attempts)
{
  long d = BACKOFF_BASE_MS;
  for (int i = 1; i < attempts && d < BACKOFF_MAX_MS; i++)
    d *= 2;
  return d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS;
}

/* Once an item is safely stored, ask the provider to delete its copy
 * (Twilio keeps media until told), so patients' photos do not stay there.
 * A failure is logged, not retried: the item is ours either way. */
static void delete_at_provider(struct fetchq *q, const struct media_fetch *f)
{
  const struct provider *p = q->opt.host;
  struct wire_request req;
  struct wire_response res;
  int rc;
  if (!p->ops->build_media_delete)
    return;
  wire_request_init(&req);
  wire_response_init(&res);
  if ((rc = p->ops->build_media_delete(p, f->url, &req)) == LB_OK) {
    if (!q->http && http_client_new(q->opt.api_timeout_ms, &q->http))
      rc = LB_ENOMEM;
    else
      rc = http_client_perform(q->http, &req, &res);
    if (rc == LB_OK && (res.status < 200 || res.status > 299) &&
        res.status != 404)
      rc = LB_EPROVIDER;
    if (rc)
      log_warn("media.delete",
               "media item %d of message %s could not be deleted at %s "
               "(HTTP %ld): delete it there by hand",
               f->position + 1, f->message_id, p->ops->title, res.status);
    else
      log_info("media.delete", "media item %d of message %s deleted at %s",
               f->position + 1, f->message_id, p->ops->title);
  }
  wire_request_release(&req);
  wire_response_release(&res);
}

/* Records a fetch's end (md: the item arrived; else given up, or tried
 * again at next_at) and emits the message as it now stands. */
struct fetch_record {
  struct fetchq *q;
  const struct media_fetch *f;
  const struct media *md;
  int64_t next_at;
  const char *error;
  struct message m;
  int changed; /* the message changed: emit it after the commit */
  struct event ev;
};

static enum lb_err record_tx(struct store_tx *tx, void *arg)
{
  struct fetch_record *r = arg;
  enum lb_err rc = r->md
                       ? store_tx_fetch_done(tx, r->f, r->md)
                       : store_tx_fetch_failed(tx, r->f, r->next_at, r->error);
  r->changed = r->md || r->next_at < 0;
  if (rc || !r->changed)
    return rc;
  if ((rc = store_tx_message_get(tx, r->f->message_id, &r->m)))
    return rc;
  r->ev = event_of_message(&r->m, CHANGE_UPDATED,
                           r->md ? "media fetched" : "media fetch given up");
  return event_sink_in_tx(r->q->opt.sink, tx, &r->ev);
}

static enum lb_err record(struct fetchq *q, const struct media_fetch *f,
                          const struct media *md, int64_t next_at,
                          const char *error)
{
  struct fetch_record r = {
      .q = q, .f = f, .md = md, .next_at = next_at, .error = error};
  enum lb_err rc;
  message_init(&r.m);
  rc = store_write(q->opt.store, record_tx, &r);
  if (!rc && r.changed)
    event_sink_committed(q->opt.sink, &r.ev);
  message_release(&r.m);
  return rc;
}

static void fetch_one(struct fetchq *q, struct media_fetch *f)
{
  const struct fetchq_options *o = &q->opt;
  struct fetch_policy pol = {0};
  struct fetch_result res;
  struct media md;
  struct buf body;
  char why[300];
  enum lb_err rc;
  int final = 0;

  pol.hosts = o->host->caps.media_hosts;
  pol.allow_private = o->allow_private;
  pol.require_https = !o->allow_private;
  pol.max_bytes = o->limits.max_bytes;
  pol.timeout_ms = o->timeout_ms;
  pol.max_redirects = 3;
  pol.userpwd = o->host->caps.media_userpwd;
  buf_init(&body, o->limits.max_bytes + 1);

  rc = fetch_get(&pol, f->url, &body, &res);
  if (rc) {
    final = res.final;
    snprintf(why, sizeof why, "%s", res.error);
  } else if ((rc = media_intake(o->blobs, &o->limits, body.data, body.len, &md,
                                why, sizeof why))) {
    final = rc == LB_EMEDIATYPE || rc == LB_ETOOBIG || rc == LB_EINVAL;
  } else if ((rc = record(q, f, &md, 0, NULL))) {
    snprintf(why, sizeof why, "the media could not be recorded: %s",
             lb_strerror(rc));
  }
  buf_release(&body);
  if (rc == LB_OK) {
    log_info("media.fetch", "media item %d of message %s fetched (%s)",
             f->position + 1, f->message_id, md.content_type);
    delete_at_provider(q, f);
    return;
  }
  if (final || f->attempts + 1 >= o->max_attempts) {
    log_warn("media.fetch",
             "media item %d of message %s is unavailable after %d "
             "attempt(s): %s",
             f->position + 1, f->message_id, f->attempts + 1, why);
    record(q, f, NULL, -1, why);
    return;
  }
  log_info("media.fetch", "media item %d of message %s: %s; trying again",
           f->position + 1, f->message_id, why);
  record(q, f, NULL, clock_now_ms() + backoff_ms(f->attempts + 1), why);
}

static void *run(void *arg)
{
  struct fetchq *q = arg;
  struct media_fetch *due = calloc(FETCH_BATCH, sizeof *due);
  if (!due) {
    log_error("media.fetch", "out of memory: inbound media links will not "
                             "be fetched until restart");
    return NULL;
  }
  for (;;) {
    size_t n = 0;
    int64_t next = -1, wait = TICK_MS;
    store_fetches_next_due(q->opt.store, &next);
    if (next >= 0 && next - clock_now_ms() < wait)
      wait = next - clock_now_ms();
    pthread_mutex_lock(&q->mu);
    if (!q->kicked && !q->stopping && wait > 0) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += wait / 1000;
      ts.tv_nsec += (wait % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
      pthread_cond_timedwait(&q->cv, &q->mu, &ts);
    }
    q->kicked = 0;
    if (q->stopping) {
      pthread_mutex_unlock(&q->mu);
      break;
    }
    pthread_mutex_unlock(&q->mu);
    if (store_fetches_due(q->opt.store, clock_now_ms(), due, FETCH_BATCH, &n))
      continue;
    for (size_t i = 0; i < n; i++) {
      pthread_mutex_lock(&q->mu);
      int stop = q->stopping;
      pthread_mutex_unlock(&q->mu);
      if (stop)
        break;
      fetch_one(q, &due[i]);
    }
    if (n == FETCH_BATCH)
      fetchq_kick(q); /* more may be due */
  }
  free(due);
  return NULL;
}

enum lb_err fetchq_start(const struct fetchq_options *opt, struct fetchq **out)
{
  struct fetchq *q = calloc(1, sizeof *q);
  if (!q)
    return LB_ENOMEM;
  q->opt = *opt;
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cv, NULL);
  q->kicked = 1; /* what was left from before a restart */
  if (pthread_create(&q->thread, NULL, run, q)) {
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
    return LB_EIO;
  }
  *out = q;
  if (store_listen(opt->store, STORE_CH_FETCH, on_fetch, q, &q->listener))
    log_warn("media.fetch", "cannot listen for new fetches: polling only");
  return LB_OK;
}

void fetchq_kick(struct fetchq *q)
{
  if (!q)
    return;
  pthread_mutex_lock(&q->mu);
  q->kicked = 1;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
}

void fetchq_stop(struct fetchq *q)
{
  if (!q)
    return;
  store_unlisten(q->opt.store, q->listener);
  pthread_mutex_lock(&q->mu);
  q->stopping = 1;
  pthread_cond_signal(&q->cv);
  pthread_mutex_unlock(&q->mu);
  pthread_join(q->thread, NULL);
  http_client_free(q->http);
  pthread_cond_destroy(&q->cv);
  pthread_mutex_destroy(&q->mu);
  free(q);
}
