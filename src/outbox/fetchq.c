#include "outbox/fetchq.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/app.h"
#include "http/client.h"
#include "http/fetch.h"
#include "media/intake.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

#define FETCH_BATCH 8
#define TICK_MS 1000
#define BACKOFF_BASE_MS 2000
#define BACKOFF_MAX_MS (10 * 60 * 1000)

struct fetchq {
  struct app *a;
  struct http_client *http; /* for deletions; made on first use */
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stopping;
  int kicked;
};

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
  const struct provider *p = &q->a->host;
  struct wire_request req;
  struct wire_response res;
  int rc;
  if (!p->ops->build_media_delete)
    return;
  wire_request_init(&req);
  wire_response_init(&res);
  if ((rc = p->ops->build_media_delete(p, f->url, &req)) == LB_OK) {
    if (!q->http && http_client_new(q->a->cfg->send_timeout_ms, &q->http))
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

static void fetch_one(struct fetchq *q, struct media_fetch *f)
{
  struct app *a = q->a;
  const struct config *c = a->cfg;
  struct fetch_policy pol = {0};
  struct fetch_result res;
  struct intake_limits lim;
  struct media md;
  struct buf body;
  char why[300];
  int rc, final = 0;

  pol.hosts = a->host.caps.media_hosts;
  pol.allow_private = c->fetch_private;
  pol.require_https = !c->fetch_private;
  pol.max_bytes = (size_t)c->media_max_bytes;
  pol.timeout_ms = c->fetch_timeout_ms;
  pol.max_redirects = 3;
  pol.userpwd = a->host.caps.media_userpwd;
  buf_init(&body, (size_t)c->media_max_bytes + 1);
  intake_limits_from_config(c, &lim);

  rc = fetch_get(&pol, f->url, &body, &res);
  if (rc) {
    final = res.final;
    snprintf(why, sizeof why, "%s", res.error);
  } else if ((rc = media_intake(a->blobs, &lim, body.data, body.len, &md, why,
                                sizeof why))) {
    final = rc == LB_EMEDIATYPE || rc == LB_ETOOBIG || rc == LB_EINVAL;
  } else if ((rc = store_fetch_done(a->store, f, &md))) {
    snprintf(why, sizeof why, "the media could not be recorded: %s",
             lb_strerror(rc));
  }
  buf_release(&body);
  if (rc == LB_OK) {
    log_info("media.fetch", "media item %d of message %s fetched (%s)",
             f->position + 1, f->message_id, md.content_type);
    app_notify_message(a, f->message_id);
    delete_at_provider(q, f);
    return;
  }
  if (final || f->attempts + 1 >= c->fetch_max_attempts) {
    log_warn("media.fetch",
             "media item %d of message %s is unavailable after %d "
             "attempt(s): %s",
             f->position + 1, f->message_id, f->attempts + 1, why);
    if (store_fetch_failed(a->store, f, -1, why) == LB_OK)
      app_notify_message(a, f->message_id);
    return;
  }
  log_info("media.fetch", "media item %d of message %s: %s; trying again",
           f->position + 1, f->message_id, why);
  store_fetch_failed(a->store, f, clock_now_ms() + backoff_ms(f->attempts + 1),
                     why);
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
    pthread_mutex_lock(&q->mu);
    if (!q->kicked && !q->stopping) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += TICK_MS / 1000;
      pthread_cond_timedwait(&q->cv, &q->mu, &ts);
    }
    q->kicked = 0;
    if (q->stopping) {
      pthread_mutex_unlock(&q->mu);
      break;
    }
    pthread_mutex_unlock(&q->mu);
    if (store_fetches_due(q->a->store, clock_now_ms(), due, FETCH_BATCH, &n))
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

int fetchq_start(struct app *a, struct fetchq **out)
{
  struct fetchq *q = calloc(1, sizeof *q);
  if (!q)
    return LB_ENOMEM;
  q->a = a;
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
