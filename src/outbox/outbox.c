#include "outbox/outbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/client.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/ratelimit.h"

#define MAX_WORKERS 64
/* The safety net: wake-ups come through the store ("outbox" channel). */
#define POLL_MS 10000

/* One token bucket per provider of the set: the host and the second
 * sender. */
struct bucket {
  const struct provider *p;
  struct token_bucket tb;
};

struct outbox {
  struct outbox_options opt;
  pthread_t threads[MAX_WORKERS];
  int n_threads;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
  int wakeups;
  struct bucket buckets[2];
  size_t n_buckets;
  pthread_mutex_t bucket_mu;
  struct store_listener *listener;
  pthread_t keeper;
  int keeper_started;
};

struct outbox_worker {
  struct outbox *o;
  struct http_client *hc;
};

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The provider's rate across every node: a turn of the current second
 * from the store. A store that cannot answer does not stop sending (the
 * node's own bucket still holds). */
static void shared_rate_limit(struct outbox *o, const struct provider *p)
{
  char subject[64];
  int rate = p->caps.rate_per_s ? p->caps.rate_per_s : 1;
  snprintf(subject, sizeof subject, "rate:%s", p->ops->name);
  for (;;) {
    int64_t wait = 0;
    enum lb_err rc =
        store_rate_take(o->opt.store, subject, rate, clock_now_ms(), &wait);
    if (rc) {
      log_warn("outbox.rate", "cannot count %s's shared rate: %s", p->ops->name,
               lb_strerror(rc));
      return;
    }
    if (!wait)
      return;
    sleep_ms((long)wait);
  }
}

static void rate_limit(struct outbox *o, const struct provider *p)
{
  struct token_bucket *tb = NULL;
  for (size_t i = 0; i < o->n_buckets; i++)
    if (o->buckets[i].p == p)
      tb = &o->buckets[i].tb;
  if (!tb)
    return;
  for (;;) {
    long wait;
    pthread_mutex_lock(&o->bucket_mu);
    wait = bucket_take(tb, clock_mono_ms());
    pthread_mutex_unlock(&o->bucket_mu);
    if (!wait)
      break;
    sleep_ms(wait);
  }
  if (o->opt.shared_rate)
    shared_rate_limit(o, p);
}

void outbox_wait_turn(struct outbox_worker *w, const struct provider *p)
{
  rate_limit(w->o, p);
}

enum lb_err outbox_perform(struct outbox_worker *w,
                           const struct wire_request *req,
                           struct wire_response *res)
{
  return http_client_perform(w->hc, req, res) ? LB_ENOMEM : LB_OK;
}

struct claim_tx {
  const struct outbox *o;
  struct message *m;
  size_t n;
  struct event ev;
};

static enum lb_err claim_in_tx(struct store_tx *tx, void *arg)
{
  struct claim_tx *c = arg;
  enum lb_err rc;
  for (size_t i = 0; i < c->n; i++)
    message_release(&c->m[i]); /* a retried transaction starts afresh */
  c->n = 0;
  int64_t now = clock_now_ms();
  struct outbox_lease lease = {c->o->opt.node_id, now + c->o->opt.lease_ms};
  if ((rc = store_tx_outbox_claim(tx, now, &lease, c->m, 1, &c->n)) || !c->n ||
      !c->o->opt.sink)
    return rc;
  c->ev = event_of_message(c->m, CHANGE_STATUS, NULL);
  return event_sink_in_tx(c->o->opt.sink, tx, &c->ev);
}

/* Claims one due message (queued -> sending) and emits the change. */
static enum lb_err claim(struct outbox *o, struct message *m, size_t *n)
{
  struct claim_tx c = {o, m, 0, {0}};
  enum lb_err rc = store_write(o->opt.store, claim_in_tx, &c);
  if (rc) {
    for (size_t i = 0; i < c.n; i++)
      message_release(&m[i]);
    *n = 0;
    return rc;
  }
  *n = c.n;
  if (c.n && o->opt.sink)
    event_sink_committed(o->opt.sink, &c.ev);
  return LB_OK;
}

static void *worker(void *arg)
{
  struct outbox_worker w = {arg, NULL};
  struct outbox *o = w.o;
  struct message m;

  if (http_client_new(o->opt.send_timeout_ms, &w.hc)) {
    log_error("outbox.worker", "cannot create an HTTP client");
    return NULL;
  }
  message_init(&m);
  for (;;) {
    size_t n = 0;
    int64_t due = -1, now;
    enum lb_err rc;

    pthread_mutex_lock(&o->mu);
    if (o->stop) {
      pthread_mutex_unlock(&o->mu);
      break;
    }
    o->wakeups = 0;
    pthread_mutex_unlock(&o->mu);

    /* One at a time: another worker can take the next one meanwhile. */
    rc = claim(o, &m, &n);
    if (rc)
      log_error("outbox.claim", "cannot claim messages: %s", lb_strerror(rc));
    if (n) {
      o->opt.send(o->opt.arg, &w, &m);
      message_release(&m);
      continue;
    }

    /* Nothing due: sleep until the next due message, a wake-up or a
     * poll (other nodes may queue too). */
    store_outbox_next_due(o->opt.store, &due);
    now = clock_now_ms();
    pthread_mutex_lock(&o->mu);
    if (!o->stop && !o->wakeups) {
      long wait = POLL_MS;
      struct timespec ts;
      if (due >= 0 && due - now < wait)
        wait = due - now > 0 ? (long)(due - now) : 0;
      if (wait > 0) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
          ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&o->cv, &o->mu, &ts);
      }
    }
    pthread_mutex_unlock(&o->mu);
  }
  http_client_free(w.hc);
  return NULL;
}

/* May a send caught mid-way to 'provider' be resent? Only when it is the
 * host and recognises a resend by our reference. A message queued for a
 * provider that no longer hosts the number is never resent here. */
static int provider_dedupes(void *arg, const char *provider)
{
  const struct provider *host = &((const struct provider_set *)arg)->host;
  return strcmp(provider, host->ops->name) == 0 && host->caps.dedupes_by_ref;
}

static void add_bucket(struct outbox *o, const struct provider *p)
{
  int rate = p->caps.rate_per_s ? p->caps.rate_per_s : 1;
  o->buckets[o->n_buckets].p = p;
  bucket_init(&o->buckets[o->n_buckets].tb, rate, rate, clock_mono_ms());
  o->n_buckets++;
}

#define RECOVER_BATCH 64

struct recover_tx {
  const struct outbox_options *opt;
  const struct outbox_stuck *m;
  int64_t now;
  const char *self;
  int resend, takeover, changed;
  struct message after;
  struct event ev;
};

static enum lb_err recover_in_tx(struct store_tx *tx, void *arg)
{
  struct recover_tx *r = arg;
  enum lb_err rc = store_tx_outbox_recover_one(
      tx, r->m->id, r->now, r->self, r->resend, r->takeover, &r->changed);
  if (rc || !r->changed || !r->opt->sink)
    return rc;
  if ((rc = store_tx_message_get(tx, r->m->id, &r->after)))
    return rc;
  r->ev = event_of_message(
      &r->after, r->resend ? CHANGE_STATUS : CHANGE_UPDATED,
      r->resend     ? r->takeover ? "requeued after its node stopped"
                                  : "requeued after a restart"
      : r->takeover ? "unconfirmed after its node stopped"
                    : "unconfirmed after a restart");
  return event_sink_in_tx(r->opt->sink, tx, &r->ev);
}

/* What a crash left in "sending", settled one message at a time (each
 * change emitted like any other): the messages whose lease expired, and
 * with 'self' those this node's earlier run held. A message another node
 * renews meanwhile is left to it (recover_one checks again). */
static enum lb_err recover(const struct outbox_options *opt, const char *self,
                           int *requeued, int *unconfirmed)
{
  struct outbox_stuck *stuck = calloc(RECOVER_BATCH, sizeof *stuck);
  enum lb_err rc = stuck ? LB_OK : LB_ENOMEM;
  int64_t now = clock_now_ms();
  size_t n = 0;
  while (!rc &&
         !(rc = store_outbox_stuck(opt->store, now, self, stuck, RECOVER_BATCH,
                                   &n)) &&
         n) {
    for (size_t i = 0; i < n && !rc; i++) {
      struct recover_tx r = {
          .opt = opt, .m = &stuck[i], .now = now, .self = self};
      message_init(&r.after);
      r.resend = provider_dedupes((void *)opt->providers, stuck[i].provider);
      r.takeover =
          stuck[i].lease_node[0] &&
          strcmp(stuck[i].lease_node, opt->node_id ? opt->node_id : "") != 0;
      rc = store_write(opt->store, recover_in_tx, &r);
      if (!rc && r.changed && r.takeover)
        log_warn("outbox.takeover",
                 "message %s: the lease of node %s expired while it was "
                 "sending; %s",
                 stuck[i].id, stuck[i].lease_node,
                 r.resend ? "requeued here" : "left unconfirmed");
      if (!rc && r.changed) {
        if (r.resend)
          (*requeued)++;
        else
          (*unconfirmed)++;
        if (opt->sink)
          event_sink_committed(opt->sink, &r.ev);
      }
      message_release(&r.after);
    }
  }
  free(stuck);
  return rc;
}

/* The keeper: every third of the lease, the node's heartbeat, its leases
 * renewed, and the expired leases of other nodes taken over. */
static void *keeper_main(void *arg)
{
  struct outbox *o = arg;
  long every = o->opt.lease_ms / 3 > 0 ? o->opt.lease_ms / 3 : 1;
  for (;;) {
    struct timespec ts;
    int requeued = 0, unconfirmed = 0;
    enum lb_err rc;
    pthread_mutex_lock(&o->mu);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += every / 1000;
    ts.tv_nsec += (every % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L)
      ts.tv_sec++, ts.tv_nsec -= 1000000000L;
    while (!o->stop)
      if (pthread_cond_timedwait(&o->cv, &o->mu, &ts))
        break;
    if (o->stop) {
      pthread_mutex_unlock(&o->mu);
      break;
    }
    pthread_mutex_unlock(&o->mu);
    if (o->opt.beat)
      o->opt.beat(o->opt.beat_arg);
    if ((rc = store_outbox_renew(o->opt.store, o->opt.node_id,
                                 clock_now_ms() + o->opt.lease_ms, NULL)))
      log_error("outbox.lease", "cannot renew this node's leases: %s",
                lb_strerror(rc));
    if ((rc = recover(&o->opt, NULL, &requeued, &unconfirmed)))
      log_error("outbox.takeover", "cannot take over expired leases: %s",
                lb_strerror(rc));
    else if (requeued || unconfirmed)
      log_warn("outbox.takeover",
               "%d message(s) of a node that stopped renewing its leases: %d "
               "requeued, %d left unconfirmed for a receipt to settle",
               requeued + unconfirmed, requeued, unconfirmed);
    if (requeued)
      outbox_wake(o);
  }
  return NULL;
}

static void on_channel(void *arg, const char *channel)
{
  (void)channel;
  outbox_wake(arg);
}

enum lb_err outbox_start(const struct outbox_options *opt, struct outbox **out)
{
  struct outbox *o;
  int requeued = 0, unconfirmed = 0;
  enum lb_err rc;

  *out = NULL;
  if ((rc = recover(opt, opt->node_id, &requeued, &unconfirmed)))
    return rc;
  if (requeued || unconfirmed)
    log_warn("outbox.recover",
             "%d message(s) were being sent when lyrebird stopped: %d "
             "requeued, %d left unconfirmed for a receipt to settle",
             requeued + unconfirmed, requeued, unconfirmed);
  if (!(o = calloc(1, sizeof *o)))
    return LB_ENOMEM;
  o->opt = *opt;
  if (o->opt.lease_ms < 3000)
    o->opt.lease_ms = 3000; /* the shortest [outbox] lease_seconds */
  pthread_mutex_init(&o->mu, NULL);
  pthread_mutex_init(&o->bucket_mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  add_bucket(o, &opt->providers->host);
  if (opt->providers->has_other)
    add_bucket(o, &opt->providers->other);
  for (int i = 0; i < opt->workers && i < MAX_WORKERS; i++) {
    if (pthread_create(&o->threads[i], NULL, worker, o))
      break;
    o->n_threads++;
  }
  o->keeper_started = pthread_create(&o->keeper, NULL, keeper_main, o) == 0;
  *out = o;
  if (store_listen(opt->store, STORE_CH_OUTBOX, on_channel, o, &o->listener))
    log_warn("outbox.wake", "cannot listen for queued work: polling only");
  return o->n_threads && o->keeper_started ? LB_OK : LB_ENOMEM;
}

void outbox_wake(struct outbox *o)
{
  if (!o)
    return;
  pthread_mutex_lock(&o->mu);
  o->wakeups++;
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

void outbox_stop(struct outbox *o)
{
  if (!o)
    return;
  store_unlisten(o->opt.store, o->listener);
  pthread_mutex_lock(&o->mu);
  o->stop = 1;
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
  for (int i = 0; i < o->n_threads; i++)
    pthread_join(o->threads[i], NULL);
  if (o->keeper_started)
    pthread_join(o->keeper, NULL);
  pthread_mutex_destroy(&o->mu);
  pthread_mutex_destroy(&o->bucket_mu);
  pthread_cond_destroy(&o->cv);
  free(o);
}
