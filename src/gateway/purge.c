#define _DEFAULT_SOURCE /* timegm */
/* The retention purge ([retention]): every patient whose record has been
 * kept long enough -- their last message more than keep_years ago, and,
 * when their date of birth is on file, past min_age_years -- loses their
 * messages, media (blobs and thumbnails too), links and link views, in
 * batches; each run leaves a tombstone in the audit log. Also the
 * provider-side redactions ([twilio] redact_after), and the thread that
 * runs both. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/internal.h"
#include "outbox/outbox.h"
#include "http/client.h"
#include "util/clock.h"
#include "util/log.h"

/* now, 'years' calendar years earlier (UTC). */
static int64_t years_before(int64_t now_ms, int years, char date[11])
{
  time_t t = (time_t)(now_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  tm.tm_year -= years;
  if (tm.tm_mon == 1 && tm.tm_mday == 29)
    tm.tm_mday = 28; /* no 29 February in most years */
  if (date)
    strftime(date, 11, "%Y-%m-%d", &tm);
  return (int64_t)timegm(&tm) * 1000 + now_ms % 1000;
}

struct purge_run {
  struct gateway *gw;
  int dry_run;
  struct gw_purge_report *rep;
  struct purge_batch b;
  const char *patient;
};

static enum lb_err batch_tx(struct store_tx *tx, void *arg)
{
  struct purge_run *r = arg;
  return store_tx_purge_batch(tx, r->patient, r->gw->cfg->purge_batch, &r->b);
}

static enum lb_err purge_patient(void *arg, const char *patient)
{
  struct purge_run *r = arg;
  enum lb_err rc;
  if (r->dry_run) {
    r->rep->counts.patients++;
    return store_purge_count(r->gw->store, patient, &r->rep->counts);
  }
  r->patient = patient;
  do {
    struct purge_counts before = r->b.counts;
    r->b.n_blobs = 0;
    if ((rc = store_write(r->gw->store, batch_tx, r))) {
      r->b.counts = before; /* rolled back */
      return rc;
    }
    /* Committed: now the blobs no row refers to. */
    for (size_t i = 0; i < r->b.n_blobs; i++)
      if (blob_delete(r->gw->blobs, r->b.blobs[i]) == LB_OK)
        r->b.counts.blobs++;
      else
        log_warn("purge.blob",
                 "a purged blob could not be deleted (%s); "
                 "delete it by hand",
                 r->b.blobs[i]);
  } while (r->b.more);
  return LB_OK;
}

enum lb_err gw_purge(struct gateway *gw, int dry_run,
                     const struct gw_actor *who, struct gw_purge_report *rep)
{
  const struct config *c = gw->cfg;
  struct purge_run r;
  int64_t now = clock_now_ms();
  char from[LB_ISO8601_LEN], to[LB_ISO8601_LEN];
  enum lb_err rc;

  memset(rep, 0, sizeof *rep);
  memset(&r, 0, sizeof r);
  rep->dry_run = dry_run;
  rep->last_before = years_before(now, c->keep_years, NULL);
  years_before(now, c->min_age_years, rep->born_by);
  r.gw = gw;
  r.dry_run = dry_run;
  r.rep = rep;
  r.b.cap_blobs = (size_t)c->purge_batch * PURGE_BLOBS_PER_MESSAGE;
  if (!dry_run && !(r.b.blobs = calloc(r.b.cap_blobs, sizeof *r.b.blobs)))
    return LB_ENOMEM;
  rc = store_purge_patients(gw->store, rep->last_before, rep->born_by,
                            purge_patient, &r);
  if (!dry_run) {
    json_t *d;
    rep->counts = r.b.counts;
    clock_iso8601(rep->counts.oldest, from, sizeof from);
    clock_iso8601(rep->counts.newest, to, sizeof to);
    d = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:b}",
                  "patients", (json_int_t)rep->counts.patients, "messages",
                  (json_int_t)rep->counts.messages, "media",
                  (json_int_t)rep->counts.media, "thumbnails_and_variants",
                  (json_int_t)rep->counts.variants, "links",
                  (json_int_t)rep->counts.links, "link_views",
                  (json_int_t)rep->counts.link_views, "blobs",
                  (json_int_t)rep->counts.blobs, "from",
                  rep->counts.oldest ? json_string(from) : json_null(), "to",
                  rep->counts.newest ? json_string(to) : json_null(),
                  "complete", rc == LB_OK);
    /* The tombstone: what went, never what it said. */
    gw_audit(gw, who, "purge", NULL, NULL, d);
    json_decref(d);
    log_info("purge.done",
             "purged %lld message(s) of %lld patient(s), %lld media item(s), "
             "%lld blob(s)%s",
             (long long)rep->counts.messages, (long long)rep->counts.patients,
             (long long)rep->counts.media, (long long)rep->counts.blobs,
             rc ? " (stopped by an error)" : "");
  }
  free(r.b.blobs);
  return rc;
}

/* ---- provider-side redaction ----------------------------------------------
 */

enum lb_err gw_redact_due(struct gateway *gw, struct http_client *hc, int *done)
{
  const struct provider *p = &gw->providers.host;
  struct redaction due[32];
  size_t n = 0;
  enum lb_err rc;
  *done = 0;
  if (!p->caps.redact_after_s || !p->ops->build_redact)
    return LB_OK;
  if ((rc = store_redactions_due(gw->store, p->ops->name,
                                 clock_now_ms() - p->caps.redact_after_s * 1000,
                                 due, 32, &n)))
    return rc;
  for (size_t i = 0; i < n; i++) {
    struct wire_request req;
    struct wire_response res;
    wire_request_init(&req);
    wire_response_init(&res);
    rc = p->ops->build_redact(p, due[i].provider_msg_id, &req);
    if (!rc)
      rc = http_client_perform(hc, &req, &res);
    if (!rc && res.status >= 200 && res.status < 300) {
      store_redacted(gw->store, due[i].id, clock_now_ms());
      (*done)++;
    } else if (rc == LB_EINVAL || res.status == 404) {
      /* Not one of its messages, or gone there: nothing to redact. */
      store_redacted(gw->store, due[i].id, clock_now_ms());
    } else {
      log_warn("redact.fail",
               "message %s could not be redacted at %s (HTTP %ld); trying "
               "again later",
               due[i].id, p->ops->title, res.status);
    }
    wire_request_release(&req);
    wire_response_release(&res);
  }
  return LB_OK;
}

/* ---- the thread ------------------------------------------------------------
 */

#define TICK_MS 60000
#define FIRST_PURGE_MS 60000
#define PURGE_EVERY_MS (24LL * 3600 * 1000)

struct maintenance {
  struct gateway *gw;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
};

#define PRUNE_BATCH 1000

void gw_events_prune(struct gateway *gw)
{
  int64_t before =
      clock_now_ms() - (int64_t)gw->cfg->events_keep_days * 86400 * 1000;
  int n = 0, m = 0;
  enum lb_err rc = store_events_prune(gw->store, before, PRUNE_BATCH, &n);
  if (!rc)
    rc = store_webhook_attempts_prune(gw->store, before, PRUNE_BATCH, &m);
  if (rc)
    log_warn("events.prune", "cannot prune the event log: %s",
             lb_strerror(rc));
  else if (n || m)
    log_info("events.prune",
             "removed %d events and %d delivery attempts older than %d "
             "days ([events] keep_days)",
             n, m, gw->cfg->events_keep_days);
}

static void *run(void *arg)
{
  struct maintenance *mt = arg;
  struct gateway *gw = mt->gw;
  struct http_client *hc = NULL;
  int64_t next_purge = clock_mono_ms() + FIRST_PURGE_MS;
  struct gw_actor who = {"system", "retention", NULL};
  /* Redactions are looked for at least twice within their delay. */
  long tick = TICK_MS, redact = gw->providers.host.caps.redact_after_s;
  if (redact > 0 && redact * 500 < tick)
    tick = redact * 500 < 1000 ? 1000 : redact * 500;
  for (;;) {
    struct timespec ts;
    int stop, done;
    pthread_mutex_lock(&mt->mu);
    if (!mt->stop) {
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_sec += tick / 1000;
      ts.tv_nsec += (tick % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L)
        ts.tv_sec++, ts.tv_nsec -= 1000000000L;
      pthread_cond_timedwait(&mt->cv, &mt->mu, &ts);
    }
    stop = mt->stop;
    pthread_mutex_unlock(&mt->mu);
    if (stop)
      break;
    if (!hc && http_client_new(gw->cfg->send_timeout_ms, &hc))
      hc = NULL;
    if (hc)
      gw_redact_due(gw, hc, &done);
    gw_events_prune(gw);
    if (gw->cfg->purge_daily && clock_mono_ms() >= next_purge) {
      struct gw_purge_report rep;
      gw_purge(gw, 0, &who, &rep);
      next_purge = clock_mono_ms() + PURGE_EVERY_MS;
    }
  }
  http_client_free(hc);
  return NULL;
}

enum lb_err gw_maintenance_start(struct gateway *gw, struct maintenance **out)
{
  struct maintenance *mt = calloc(1, sizeof *mt);
  if (!mt)
    return LB_ENOMEM;
  mt->gw = gw;
  pthread_mutex_init(&mt->mu, NULL);
  pthread_cond_init(&mt->cv, NULL);
  if (pthread_create(&mt->thread, NULL, run, mt)) {
    pthread_mutex_destroy(&mt->mu);
    pthread_cond_destroy(&mt->cv);
    free(mt);
    return LB_ENOMEM;
  }
  *out = mt;
  return LB_OK;
}

void gw_maintenance_stop(struct maintenance *mt)
{
  if (!mt)
    return;
  pthread_mutex_lock(&mt->mu);
  mt->stop = 1;
  pthread_cond_signal(&mt->cv);
  pthread_mutex_unlock(&mt->mu);
  pthread_join(mt->thread, NULL);
  pthread_mutex_destroy(&mt->mu);
  pthread_cond_destroy(&mt->cv);
  free(mt);
}
