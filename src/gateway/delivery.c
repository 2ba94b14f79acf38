/* The webhook worker: delivers the event log to every enabled endpoint,
 * in seq (commit) order, one event in flight per endpoint, all endpoints
 * at once on one thread (http/multi.c), so a slow or failing receiver
 * delays only itself.
 *
 * An endpoint's state is in the store (its cursor, the attempts on the
 * next event, when to try again, since when it fails); the worker keeps
 * a copy and a read-ahead of the log for each. It writes attempts with
 * the state after them in batches, off its own thread (see "writing
 * progress" below) -- a state only while the endpoint's rewinds count is
 * still the one it read, so a replay made meanwhile wins.
 *
 * An attempt: the envelope {"type", "timestamp", "data"} with short-lived
 * signed URLs for the media, signed as Standard Webhooks v1 with the
 * endpoint's secret (and the previous one while a rotation overlaps).
 * 2xx is delivered. 410 disables the endpoint. Anything else, or no answer
 * within [events] timeout_seconds, is tried again after the next wait of
 * [events] retry_schedule (with jitter, and at least what Retry-After
 * asked); after the last, the event is dead-lettered (kept, replayable)
 * and the next one goes. An endpoint whose every attempt has failed for
 * [events] disable_after is disabled with the reason. */
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"
#include "http/multi.h"
#include "media/urls.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stdwebhook.h"

#define AHEAD 64       /* events read ahead per endpoint */
#define RELOAD_MS 1000 /* endpoints re-read (other processes edit them) */
#define POLL_MS 1000   /* the log re-read (other processes append) */
#define BODY_MAX (512u * 1024)
#define BATCH_MAX 1024    /* attempts written in one transaction */
#define FLUSH_MS 50       /* delivered attempts wait at most this long */
#define RESPONSE_MAX 4096 /* bytes of a receiver's answer read */
#define STOP_WAIT_MS 2000 /* a clean stop waits this long for answers */

struct job;

struct ep_run {
  int used;  /* the slot holds an endpoint */
  int seen;  /* in the latest list */
  int busy;  /* an attempt is in flight */
  int idle;  /* caught up: nothing to send until new events */
  int dirty; /* its progress is not written yet */
  int gone;  /* removed while in flight */
  int has_later;
  char disabling[256];   /* why it was disabled: written with the progress */
  long long disable_job; /* the job that writes it */
  struct webhook_endpoint ep, later; /* later: edited while in flight */
  struct event_row cur;              /* in flight: payload owned */
  int64_t started;                   /* ms */
  struct event_row ahead[AHEAD];
  size_t n_ahead, pos;
};

struct webhooks {
  struct gateway *gw;
  pthread_t th;
  atomic_int stop, events, edits;
  struct http_multi *hm;
  struct ep_run eps[GW_WEBHOOKS_MAX];
  int64_t reloaded_at, polled_at, flushed_at;
  int shared; /* [server] nodes > 1: one node delivers, under a lease */
  int leader; /* this node holds the "webhooks" lease (or is alone) */
  struct job *pending; /* attempts not yet sent to the store */
  pthread_mutex_t mu;  /* in_flight */
  pthread_cond_t cv;
  int in_flight;          /* batches sent, not yet committed */
  long long jobs;         /* batches sent (the worker's) */
  atomic_llong committed; /* the last batch committed */
};

/* ---- one attempt's request (also lyrebird webhook test) ---------------- */

/* Adds "download_url" and "download_expires_at" to each media item of
 * data.message: signed, short-lived, fetchable without a key. */
static void add_media_urls(struct gateway *gw, json_t *data, int64_t now)
{
  json_t *media = json_object_get(json_object_get(data, "message"), "media");
  size_t i;
  json_t *item;
  char t[LB_ISO8601_LEN];
  clock_iso8601(now + gw->cfg->media_url_ttl * 1000LL, t, sizeof t);
  json_array_foreach(media, i, item)
  {
    const char *id = json_string_value(json_object_get(item, "id"));
    char url[MEDIA_URL_MAX];
    if (!id || !json_is_string(json_object_get(item, "content_type")) ||
        media_url_make(gw->cfg, id, "clean", now / 1000, url, sizeof url))
      continue;
    json_object_set_new(item, "download_url", json_string(url));
    json_object_set_new(item, "download_expires_at", json_string(t));
  }
}

static enum lb_err envelope(struct gateway *gw, const struct event_row *e,
                            int64_t now, struct buf *out)
{
  char t[LB_ISO8601_LEN];
  json_t *data;
  char *text = NULL;
  enum lb_err rc;
  clock_iso8601(e->at, t, sizeof t);
  if (!strstr(e->payload, "\"media\":[{"))
    return buf_printf(out, "{\"type\":\"%s\",\"timestamp\":\"%s\",\"data\":%s}",
                      e->type, t, e->payload)
               ? LB_ETOOBIG
               : LB_OK;
  if (!(data = json_loads(e->payload, 0, NULL)))
    return LB_EINVAL;
  add_media_urls(gw, data, now);
  text = json_dumps(data, JSON_COMPACT);
  json_decref(data);
  if (!text)
    return LB_ENOMEM;
  rc = buf_printf(out, "{\"type\":\"%s\",\"timestamp\":\"%s\",\"data\":%s}",
                  e->type, t, text)
           ? LB_ETOOBIG
           : LB_OK;
  free(text);
  return rc;
}

enum lb_err gw_webhook_request(struct gateway *gw,
                               const struct webhook_endpoint *ep,
                               const struct event_row *e, int64_t now,
                               struct wire_request *req)
{
  char sig[STDWH_SIG_MAX], old[STDWH_SIG_MAX], ts[24], hdr[160];
  long long secs = (long long)(now / 1000);
  enum lb_err rc;

  req->method = "POST";
  str_copy(req->url, sizeof req->url, ep->url);
  buf_init(&req->body, BODY_MAX);
  if ((rc = envelope(gw, e, now, &req->body)) ||
      (rc = stdwh_sign(ep->secret, e->id, secs, req->body.data, req->body.len,
                       sig)))
    return rc;
  snprintf(ts, sizeof ts, "%lld", secs);
  if (ep->old_secret[0] && ep->old_secret_until > now &&
      stdwh_sign(ep->old_secret, e->id, secs, req->body.data, req->body.len,
                 old) == LB_OK)
    snprintf(hdr, sizeof hdr, "%s %s", sig, old);
  else
    snprintf(hdr, sizeof hdr, "%s", sig);
  if ((rc = wire_request_header(req, "Content-Type", "application/json")) ||
      (rc = wire_request_header(req, "webhook-id", e->id)) ||
      (rc = wire_request_header(req, "webhook-timestamp", ts)) ||
      (rc = wire_request_header(req, "webhook-signature", hdr)))
    return rc;
  if (e->seq > 0) { /* the feed's and the stream's cursor (not ping's) */
    char cur[24];
    snprintf(cur, sizeof cur, "%lld", e->seq);
    if ((rc = wire_request_header(req, "lyrebird-cursor", cur)))
      return rc;
  }
  sodium_memzero(sig, sizeof sig);
  sodium_memzero(old, sizeof old);
  return LB_OK;
}

/* ---- the worker --------------------------------------------------------- */

static void row_copy(struct event_row *dst, const struct event_row *src)
{
  *dst = *src;
  dst->payload = strdup(src->payload ? src->payload : "{}");
}

static void ahead_drop(struct ep_run *r)
{
  for (size_t i = 0; i < r->n_ahead; i++)
    event_row_release(&r->ahead[i]);
  r->n_ahead = r->pos = 0;
}

static void run_release(struct ep_run *r)
{
  ahead_drop(r);
  event_row_release(&r->cur);
  memset(r, 0, sizeof *r);
}

static enum lb_err on_ahead(void *arg, const struct event_row *e)
{
  struct ep_run *r = arg;
  if (r->n_ahead == AHEAD)
    return LB_ETOOBIG;
  row_copy(&r->ahead[r->n_ahead], e);
  if (!r->ahead[r->n_ahead].payload)
    return LB_ENOMEM;
  r->n_ahead++;
  return LB_OK;
}

/* Takes what people change from the stored row; the delivery state only
 * when it was replayed (rewinds moved) or enabled again. The worker's own
 * progress may be ahead of the row (it is written in batches). */
static void adopt(struct webhooks *w, struct ep_run *r,
                  const struct webhook_endpoint *e)
{
  struct webhook_endpoint keep = r->ep;
  int enabled_again = e->enabled && !keep.enabled;
  if (enabled_again && r->disable_job > atomic_load(&w->committed))
    return; /* our own disabling is not written yet: the row is behind */
  r->ep = *e;
  if (e->rewinds == keep.rewinds && !enabled_again) {
    r->ep.cursor = keep.cursor;
    r->ep.attempts = keep.attempts;
    r->ep.next_at = keep.next_at;
    r->ep.failing_since = keep.failing_since;
  } else {
    ahead_drop(r);
  }
  r->idle = 0;
}

static enum lb_err reload_one(void *arg, const struct webhook_endpoint *e)
{
  struct webhooks *w = arg;
  struct ep_run *r = NULL, *free_slot = NULL;
  for (int i = 0; i < GW_WEBHOOKS_MAX && !r; i++) {
    if (w->eps[i].used && strcmp(w->eps[i].ep.id, e->id) == 0)
      r = &w->eps[i];
    else if (!w->eps[i].used && !free_slot)
      free_slot = &w->eps[i];
  }
  if (!r) {
    if (!(r = free_slot))
      return LB_OK;
    r->used = 1;
    r->ep = *e;
  }
  r->seen = 1;
  if (r->busy) { /* taken when its attempt ends */
    r->later = *e;
    r->has_later = 1;
    return LB_OK;
  }
  adopt(w, r, e);
  return LB_OK;
}

static void reload(struct webhooks *w)
{
  enum lb_err rc;
  for (int i = 0; i < GW_WEBHOOKS_MAX; i++)
    w->eps[i].seen = 0;
  if ((rc = store_webhook_list(w->gw->store, reload_one, w))) {
    log_warn("webhook.load", "cannot read the endpoints: %s", lb_strerror(rc));
    return;
  }
  for (int i = 0; i < GW_WEBHOOKS_MAX; i++)
    if (w->eps[i].used && !w->eps[i].seen) {
      if (w->eps[i].busy)
        w->eps[i].gone = 1; /* removed: dropped when its attempt ends */
      else
        run_release(&w->eps[i]);
    }
}

/* ---- writing progress --------------------------------------------------
 *
 * Delivered events are written in batches, without waiting for the commit:
 * the next event goes at once, and one transaction carries many attempts.
 * After a crash the stored cursor may lag by a batch: those events are sent
 * again, with their ids (receivers dedupe on webhook-id). Failures and
 * disablings are written at once, and in order behind the batches. */

static void progress_of(const struct ep_run *r, struct webhook_progress *p)
{
  memset(p, 0, sizeof *p);
  str_copy(p->endpoint_id, sizeof p->endpoint_id, r->ep.id);
  p->rewinds = r->ep.rewinds;
  p->cursor = r->ep.cursor;
  p->attempts = r->ep.attempts;
  p->next_at = r->ep.next_at;
  p->failing_since = r->ep.failing_since;
}

/* A batch on its way to the store. */
struct job {
  struct webhook_batch b;
  struct webhooks *w;
  long long seq; /* jobs commit in the order they are sent */
};

static enum lb_err batch_tx(struct store_tx *tx, void *arg)
{
  struct job *j = arg;
  return store_tx_webhook_batch(tx, &j->b);
}

static void job_free(struct job *j)
{
  free(j->b.attempts);
  free(j->b.progress);
  free(j);
}

static void batch_done(void *arg, enum lb_err rc)
{
  struct job *j = arg;
  struct webhooks *w = j->w;
  if (rc)
    log_error("webhook.record",
              "cannot record %zu delivery attempts: %s; their events may be "
              "sent again after a restart",
              j->b.n_attempts, lb_strerror(rc));
  if (rc || j->b.stale)
    atomic_store(&w->edits, 1); /* read the endpoints again */
  atomic_store(&w->committed, j->seq);
  job_free(j);
  http_multi_wakeup(w->hm);
  /* The last touch of w: a stop waits for in_flight to reach 0, and then
   * frees it. */
  pthread_mutex_lock(&w->mu);
  w->in_flight--;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

/* The batch being filled, made when there is none. NULL: out of memory. */
static struct job *pending(struct webhooks *w)
{
  struct job *j = w->pending;
  if (j)
    return j;
  if (!(j = calloc(1, sizeof *j)) ||
      !(j->b.attempts = calloc(BATCH_MAX, sizeof *j->b.attempts)) ||
      !(j->b.progress = calloc(GW_WEBHOOKS_MAX, sizeof *j->b.progress))) {
    if (j)
      job_free(j);
    log_error("webhook.record", "out of memory: attempts go unrecorded");
    return NULL;
  }
  j->w = w;
  w->pending = j;
  return j;
}

static void flush(struct webhooks *w, int wait);

/* Queues attempt a for the next batch (a full batch is sent first). */
static void note_attempt(struct webhooks *w, const struct webhook_attempt *a)
{
  struct job *j = pending(w);
  if (j && j->b.n_attempts == BATCH_MAX) {
    flush(w, 0);
    j = pending(w);
  }
  if (j)
    j->b.attempts[j->b.n_attempts++] = *a;
}

/* A batch that never reached the store: its endpoints' state is written
 * with the next one (the attempts themselves are lost, and logged). */
static void unsent(struct webhooks *w, const struct job *j)
{
  for (size_t k = 0; k < j->b.n_progress; k++) {
    const struct webhook_progress *p = &j->b.progress[k];
    for (int i = 0; i < GW_WEBHOOKS_MAX; i++) {
      struct ep_run *r = &w->eps[i];
      if (!r->used || strcmp(r->ep.id, p->endpoint_id) != 0)
        continue;
      r->dirty = 1;
      if (p->disable_reason[0] && !r->disabling[0])
        str_copy(r->disabling, sizeof r->disabling, p->disable_reason);
    }
  }
}

/* Sends the pending batch: the attempts, and the state of every endpoint
 * whose progress is not yet written (with its disabling, if any). 'wait':
 * until everything sent so far has committed. */
static void flush(struct webhooks *w, int wait)
{
  struct job *j = w->pending;
  enum lb_err rc;
  for (int i = 0; i < GW_WEBHOOKS_MAX; i++) {
    struct ep_run *r = &w->eps[i];
    struct webhook_progress *p;
    if (!r->used || !r->dirty || (!j && !(j = pending(w))))
      continue;
    p = &j->b.progress[j->b.n_progress++];
    progress_of(r, p);
    str_copy(p->disable_reason, sizeof p->disable_reason, r->disabling);
    if (r->disabling[0])
      r->disable_job = w->jobs + 1; /* this job, numbered below */
    r->disabling[0] = '\0';
    r->dirty = 0;
  }
  if (j) {
    j->seq = ++w->jobs;
    w->pending = NULL;
    pthread_mutex_lock(&w->mu);
    w->in_flight++;
    pthread_mutex_unlock(&w->mu);
    if ((rc = store_write_async(w->gw->store, batch_tx, j, batch_done, j))) {
      log_error("webhook.record",
                "cannot record %zu delivery attempts: %s; their events may "
                "be sent again after a restart",
                j->b.n_attempts, lb_strerror(rc));
      unsent(w, j);
      job_free(j);
      pthread_mutex_lock(&w->mu);
      w->in_flight--;
      pthread_mutex_unlock(&w->mu);
    }
  }
  w->flushed_at = clock_mono_ms();
  if (wait) {
    pthread_mutex_lock(&w->mu);
    while (w->in_flight)
      pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
  }
}

/* The next event r wants: 1 with *out (borrowed from the read-ahead); 0
 * when there is none yet; -1 when there may be more to look at. Events it
 * does not want are passed: the cursor moves over them. */
static int next_event(struct webhooks *w, struct ep_run *r,
                      const struct event_row **out)
{
  int more = 0;
  for (int round = 0; round < 4; round++) {
    while (r->pos < r->n_ahead) {
      struct event_row *e = &r->ahead[r->pos];
      if (e->seq <= r->ep.cursor) {
        r->pos++;
        continue;
      }
      if (gw_webhook_wants(r->ep.events, e->type)) {
        *out = e;
        return 1;
      }
      r->ep.cursor = e->seq; /* not wanted: passed over */
      r->dirty = 1;
      r->pos++;
    }
    ahead_drop(r);
    {
      enum lb_err rc =
          store_events_after(w->gw->store, r->ep.cursor, AHEAD, on_ahead, r);
      if (rc && rc != LB_ETOOBIG) {
        log_warn("webhook.read", "cannot read the event log: %s",
                 lb_strerror(rc));
        ahead_drop(r);
        return 0;
      }
      if (!r->n_ahead)
        break;
      more = r->n_ahead == AHEAD;
    }
  }
  return more ? -1 : 0;
}

static void start_next(struct webhooks *w, struct ep_run *r, int64_t now)
{
  const struct event_row *e = NULL;
  struct wire_request req;
  enum lb_err rc;
  int found = next_event(w, r, &e);
  if (found <= 0) {
    r->idle = found == 0;
    return;
  }
  event_row_release(&r->cur);
  row_copy(&r->cur, e);
  if (!r->cur.payload)
    return;
  wire_request_init(&req);
  rc = gw_webhook_request(w->gw, &r->ep, &r->cur, now, &req);
  if (!rc)
    rc = http_multi_add(w->hm, &req, r);
  wire_request_release(&req);
  if (rc) {
    log_error("webhook.send", "cannot send event %s to %s: %s", r->cur.id,
              r->ep.id, lb_strerror(rc));
    r->ep.next_at = now + 5000; /* a local failure: try again soon */
    return;
  }
  r->busy = 1;
  r->started = now;
}

/* The wait before attempt number 'failed' + 1, with jitter of +-20%. */
static int64_t backoff(const struct config *c, int failed, long retry_after_s)
{
  int64_t base = c->events_retry_ms[failed - 1];
  int64_t jit = base / 5;
  int64_t wait =
      base - jit +
      (jit ? (int64_t)randombytes_uniform(
                 (uint32_t)(2 * jit > 0xffffffffLL ? 0xffffffffLL : 2 * jit))
           : 0);
  if (retry_after_s > 0 && retry_after_s * 1000 > wait)
    wait = retry_after_s * 1000 > 24LL * 3600 * 1000 ? 24LL * 3600 * 1000
                                                     : retry_after_s * 1000;
  return wait;
}

static void on_done(void *arg, const struct http_multi_result *res)
{
  struct webhooks *w = arg;
  struct ep_run *r = res->tag;
  const struct config *c = w->gw->cfg;
  struct webhook_attempt a;
  char reason[256] = "", t[LB_ISO8601_LEN];
  int64_t now = clock_now_ms();
  int ok = res->err == LB_OK && res->status >= 200 && res->status < 300;

  memset(&a, 0, sizeof a);
  str_copy(a.endpoint_id, sizeof a.endpoint_id, r->ep.id);
  str_copy(a.event_id, sizeof a.event_id, r->cur.id);
  str_copy(a.event_type, sizeof a.event_type, r->cur.type);
  a.attempt = r->ep.attempts + 1;
  a.at = r->started;
  a.status = (int)res->status;
  a.duration_ms = (int)res->duration_ms;
  if (res->err)
    str_copy(a.error, sizeof a.error, res->error);
  else if (!ok)
    snprintf(a.error, sizeof a.error, "HTTP %ld%s", res->status,
             res->status >= 300 && res->status < 400
                 ? ": redirects are not followed; set the endpoint's url to "
                   "where it points"
                 : "");
  r->busy = 0;
  if (ok) {
    str_copy(a.outcome, sizeof a.outcome, "delivered");
    r->ep.cursor = r->cur.seq;
    r->ep.attempts = 0;
    r->ep.next_at = 0;
    r->ep.failing_since = 0;
  } else if (res->err == LB_OK && res->status == 410) {
    str_copy(a.outcome, sizeof a.outcome, "disabled");
    clock_iso8601(now, t, sizeof t);
    snprintf(reason, sizeof reason,
             "the receiver answered 410 Gone at %s: it asked for no more "
             "events",
             t);
    if (!r->ep.failing_since)
      r->ep.failing_since = now;
  } else {
    int failed = r->ep.attempts + 1;
    if (!r->ep.failing_since)
      r->ep.failing_since = r->started;
    if (now - r->ep.failing_since >= c->events_disable_after_ms) {
      clock_iso8601(r->ep.failing_since, t, sizeof t);
      snprintf(reason, sizeof reason,
               "every delivery has failed since %s (the last: %.120s)", t,
               a.error);
      str_copy(a.outcome, sizeof a.outcome, "disabled");
      r->ep.attempts = failed;
      r->ep.next_at = now;
    } else if ((size_t)failed > c->events_retry_n) {
      str_copy(a.outcome, sizeof a.outcome, "dead");
      r->ep.cursor = r->cur.seq; /* dead-lettered: the next one goes */
      r->ep.attempts = 0;
      r->ep.next_at = now;
    } else {
      str_copy(a.outcome, sizeof a.outcome, "retrying");
      r->ep.attempts = failed;
      r->ep.next_at = now + backoff(c, failed, res->retry_after_s);
    }
  }
  if (!ok)
    log_warn("webhook.attempt", "event %s to endpoint %s: %s (%s)", r->cur.id,
             r->ep.id, a.error, a.outcome);
  note_attempt(w, &a);
  r->dirty = 1;
  if (reason[0]) {
    r->ep.enabled = 0;
    str_copy(r->disabling, sizeof r->disabling, reason);
    log_warn("webhook.disabled", "endpoint %s: %s", r->ep.id, reason);
  }
  if (!ok)
    flush(w, 0);      /* failures are rare: written at once, in order */
  if (r->has_later) { /* edited while in flight */
    r->has_later = 0;
    adopt(w, r, &r->later);
  }
  if (r->gone)
    run_release(r);
}

/* Several nodes: only the holder of the "webhooks" lease delivers, so an
 * event reaches an endpoint from one node, in order. A node that loses
 * the lease (it stalled past it) forgets what it knew of the endpoints:
 * the next holder goes on from the stored cursors, and this one, should it
 * hold the lease again, starts from them too. */
static void lead(struct webhooks *w, int64_t now)
{
  const struct config *c = w->gw->cfg;
  int held = 0;
  enum lb_err rc;
  if (!w->shared)
    return;
  rc = store_lease_take(w->gw->store, "webhooks", w->gw->node_id, now,
                        now + c->lease_seconds * 1000LL, &held);
  if (rc)
    log_warn("webhook.lease", "cannot renew the delivery lease: %s",
             lb_strerror(rc));
  if (held && !w->leader)
    log_info("webhook.lease", "this node delivers the webhook events now");
  if (!held && w->leader) {
    log_info("webhook.lease", "another node delivers the webhook events now");
    flush(w, 1);
    for (int i = 0; i < GW_WEBHOOKS_MAX; i++)
      if (w->eps[i].used && !w->eps[i].busy)
        run_release(&w->eps[i]);
  }
  w->leader = held;
}

static void *worker_main(void *arg)
{
  struct webhooks *w = arg;
  while (!atomic_load(&w->stop)) {
    int64_t now = clock_now_ms(), wait = RELOAD_MS;
    int fresh = atomic_exchange(&w->events, 0);
    if (atomic_exchange(&w->edits, 0) || now - w->reloaded_at >= RELOAD_MS) {
      lead(w, now);
      if (w->leader)
        reload(w);
      w->reloaded_at = now;
    }
    if (!w->leader) {
      if (http_multi_run(w->hm, RELOAD_MS, on_done, w))
        log_warn("webhook.poll", "the transfer loop failed; going on");
      continue;
    }
    if (now - w->polled_at >= POLL_MS) {
      fresh = 1;
      w->polled_at = now;
    }
    for (int i = 0; i < GW_WEBHOOKS_MAX; i++) {
      struct ep_run *r = &w->eps[i];
      if (!r->used || r->busy || !r->ep.enabled)
        continue;
      if (fresh)
        r->idle = 0;
      if (r->ep.next_at > now) {
        if (r->ep.next_at - now < wait)
          wait = r->ep.next_at - now;
        continue;
      }
      if (!r->idle) {
        start_next(w, r, now);
        if (!r->busy && !r->idle && r->ep.next_at <= now)
          wait = 0; /* more of the log to look at */
      }
    }
    if (w->pending && (w->pending->b.n_attempts >= BATCH_MAX / 2 ||
                       clock_mono_ms() - w->flushed_at >= FLUSH_MS))
      flush(w, 0);
    else if (w->pending && wait > FLUSH_MS)
      wait = FLUSH_MS;
    if (!w->pending) {
      int dirty = 0;
      for (int i = 0; i < GW_WEBHOOKS_MAX && !dirty; i++)
        dirty = w->eps[i].used && w->eps[i].dirty;
      if (dirty && clock_mono_ms() - w->flushed_at >= FLUSH_MS)
        flush(w, 0);
      else if (dirty && wait > FLUSH_MS)
        wait = FLUSH_MS;
    }
    if (atomic_load(&w->events) || atomic_load(&w->edits))
      wait = 0;
    if (http_multi_run(w->hm, (int)(wait > 0 ? wait : 0), on_done, w))
      log_warn("webhook.poll", "the transfer loop failed; going on");
  }
  /* A clean stop lets the attempts in flight finish (briefly), so their
   * events are not sent again after the restart, and writes what was
   * delivered before the store closes. */
  for (int64_t until = clock_mono_ms() + STOP_WAIT_MS;
       clock_mono_ms() < until;) {
    int busy = 0;
    for (int i = 0; i < GW_WEBHOOKS_MAX && !busy; i++)
      busy = w->eps[i].used && w->eps[i].busy;
    if (!busy ||
        http_multi_run(w->hm, (int)(until - clock_mono_ms()), on_done, w))
      break;
  }
  flush(w, 1);
  if (w->shared && w->leader) { /* the next node need not wait it out */
    int held;
    store_lease_take(w->gw->store, "webhooks", w->gw->node_id, 0, 0, &held);
  }
  return NULL;
}

enum lb_err gw_webhooks_start(struct gateway *gw)
{
  struct webhooks *w = calloc(1, sizeof *w);
  struct http_multi_options mo = {gw->cfg->events_timeout_seconds * 1000L,
                                  gw->cfg->events_allow_private_urls,
                                  RESPONSE_MAX};
  enum lb_err rc;
  if (!w)
    return LB_ENOMEM;
  w->gw = gw;
  w->shared = gw->cfg->nodes > 1;
  w->leader = !w->shared;
  atomic_init(&w->stop, 0);
  atomic_init(&w->events, 1);
  atomic_init(&w->edits, 1);
  atomic_init(&w->committed, 0);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  if ((rc = http_multi_new(&mo, &w->hm))) {
    free(w);
    return rc;
  }
  if (pthread_create(&w->th, NULL, worker_main, w)) {
    http_multi_free(w->hm);
    free(w);
    return LB_ENOMEM;
  }
  gw->webhooks = w;
  return LB_OK;
}

void gw_webhooks_wake(struct gateway *gw)
{
  struct webhooks *w = gw->webhooks;
  if (!w)
    return;
  atomic_store(&w->events, 1);
  http_multi_wakeup(w->hm);
}

void gw_webhooks_edited(struct gateway *gw)
{
  struct webhooks *w = gw->webhooks;
  if (!w)
    return;
  atomic_store(&w->edits, 1);
  http_multi_wakeup(w->hm);
}

void gw_webhooks_stop(struct gateway *gw)
{
  struct webhooks *w = gw->webhooks;
  if (!w)
    return;
  atomic_store(&w->stop, 1);
  http_multi_wakeup(w->hm);
  pthread_join(w->th, NULL);
  /* Attempts in flight end unrecorded: sent again after the restart, with
   * the same webhook-id. */
  http_multi_free(w->hm);
  for (int i = 0; i < GW_WEBHOOKS_MAX; i++)
    run_release(&w->eps[i]);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w);
  gw->webhooks = NULL;
}

/* ---- lyrebird webhook test --------------------------------------------- */

struct test_wait {
  int done;
  struct http_multi_result res;
};

static void test_done(void *arg, const struct http_multi_result *res)
{
  struct test_wait *t = arg;
  t->res = *res;
  t->done = 1;
}

static enum lb_err test_record_tx(struct store_tx *tx, void *arg)
{
  return store_tx_webhook_batch(tx, arg);
}

enum lb_err gw_webhook_test(struct gateway *gw, const char *id,
                            struct webhook_attempt *out)
{
  struct webhook_endpoint ep;
  struct http_multi_options mo = {gw->cfg->events_timeout_seconds * 1000L,
                                  gw->cfg->events_allow_private_urls,
                                  RESPONSE_MAX};
  struct http_multi *hm = NULL;
  struct wire_request req;
  struct event_row e;
  struct test_wait t = {0};
  int64_t now = clock_now_ms();
  char rid[LB_ID_SIZE];
  json_t *data;
  enum lb_err rc;

  memset(out, 0, sizeof *out);
  memset(&e, 0, sizeof e);
  wire_request_init(&req);
  if ((rc = store_webhook_get(gw->store, id, &ep)))
    return rc;
  id_new(rid);
  snprintf(e.id, sizeof e.id, "evt_%s", rid);
  str_copy(e.type, sizeof e.type, "ping");
  e.at = now;
  data = json_pack("{s:s, s:s}", "endpoint", ep.id, "message",
                   "a test event from lyrebird: this endpoint receives and "
                   "verifies events");
  e.payload = data ? json_dumps(data, JSON_COMPACT) : NULL;
  json_decref(data);
  if (!e.payload) {
    rc = LB_ENOMEM;
    goto out;
  }
  if ((rc = gw_webhook_request(gw, &ep, &e, now, &req)) ||
      (rc = http_multi_new(&mo, &hm)) || (rc = http_multi_add(hm, &req, NULL)))
    goto out;
  while (!t.done && !rc)
    rc = http_multi_run(hm, 200, test_done, &t);
  if (rc)
    goto out;
  str_copy(out->event_id, sizeof out->event_id, e.id);
  str_copy(out->event_type, sizeof out->event_type, "ping");
  out->attempt = 1;
  out->at = now;
  out->status = (int)t.res.status;
  out->duration_ms = (int)t.res.duration_ms;
  if (t.res.err)
    str_copy(out->error, sizeof out->error, t.res.error);
  else if (t.res.status < 200 || t.res.status >= 300)
    snprintf(out->error, sizeof out->error, "HTTP %ld", t.res.status);
  str_copy(out->outcome, sizeof out->outcome,
           out->error[0] ? "failed" : "delivered");
  /* On the endpoint's record; its cursor and state do not move. */
  str_copy(out->endpoint_id, sizeof out->endpoint_id, ep.id);
  {
    struct webhook_batch b = {out, 1, NULL, 0, 0};
    rc = store_write(gw->store, test_record_tx, &b);
  }
out:
  http_multi_free(hm);
  wire_request_release(&req);
  event_row_release(&e);
  return rc;
}
