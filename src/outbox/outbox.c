#include "outbox/outbox.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/app.h"
#include "api/media_urls.h"
#include "core/route.h"
#include "links/links.h"
#include "http/client.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"
#include "util/ratelimit.h"

#define MAX_WORKERS 64
#define POLL_MS 1000

struct outbox {
  struct app *a;
  pthread_t threads[MAX_WORKERS];
  int n_threads;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
  int wakeups;
  struct token_bucket bucket; /* the host's; one provider per gateway */
  pthread_mutex_t bucket_mu;
};

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void rate_limit(struct outbox *o)
{
  for (;;) {
    long wait;
    pthread_mutex_lock(&o->bucket_mu);
    wait = bucket_take(&o->bucket, clock_mono_ms());
    pthread_mutex_unlock(&o->bucket_mu);
    if (!wait)
      return;
    sleep_ms(wait);
  }
}

/* Loads the bytes of m's media as they go in the MMS: each item fitted to
 * its share of the host's budget (made when the message was accepted, and
 * cached). LB_ETOOBIG (with why) when an item no longer fits. */
static int load_media(struct app *a, const struct provider *p,
                      const struct message *m, struct send_media *sm,
                      struct media_variant *mv, char (*urls)[MEDIA_URL_MAX],
                      struct buf *bufs, size_t *n, char *why, size_t whylen)
{
  struct media md;
  int rc;
  *n = 0;
  for (size_t i = 0; i < m->n_media; i++) {
    if ((rc = store_media_get(a->store, m->media_ids[i], &md))) {
      snprintf(why, whylen, "the message's media could not be read: %s",
               lb_strerror(rc));
      return rc;
    }
    if ((rc = app_fit_for_mms(a, p, &md, m->n_media, &mv[i], why, whylen)))
      return rc;
    buf_init(&bufs[i], (size_t)mv[i].bytes + 1);
    *n = i + 1;
    if ((rc = blob_get(a->blobs, mv[i].blob_key, &bufs[i]))) {
      snprintf(why, whylen, "the message's media could not be read: %s",
               lb_strerror(rc));
      return rc;
    }
    sm[i].content_type = mv[i].content_type;
    if ((rc = media_url_make(a, md.id, mv[i].kind, urls[i], MEDIA_URL_MAX)))
      return rc;
    sm[i].data = (const unsigned char *)bufs[i].data;
    sm[i].len = bufs[i].len;
    sm[i].url = urls[i];
  }
  return LB_OK;
}

/* After a final MMS failure: 1 (and m's route set to the link) when the
 * routing policy resends it as a link. */
static int fallback_to_link(struct app *a, struct message *m,
                            const char *error_text)
{
  struct route_media rmedia[LB_MEDIA_MAX];
  struct route_input in;
  struct route_decision d;
  for (size_t i = 0; i < m->n_media; i++) {
    rmedia[i].content_type = "";
    rmedia[i].bytes = -1;
  }
  app_route_input(a, &in, m->text && m->text[0], rmedia, m->n_media,
                  DELIVERY_AUTO);
  if (strcmp(m->provider, a->host.ops->name) != 0)
    in.failed_via = m->provider; /* the second sender refused it */
  route_after_mms_failure(&in, error_text, &d);
  if (d.plan != ROUTE_LINK)
    return 0;
  snprintf(m->route, sizeof m->route, "link");
  snprintf(m->route_reason, sizeof m->route_reason, "%s", d.reason);
  /* A link always goes from the clinic's own number, through its host,
   * even when the MMS was tried through the second sender. */
  snprintf(m->provider, sizeof m->provider, "%s", a->host.ops->name);
  snprintf(m->from, sizeof m->from, "%s", a->cfg->number);
  return 1;
}

static void send_one(struct outbox *o, struct http_client *hc,
                     struct message *m)
{
  struct app *a = o->a;
  const struct config *c = a->cfg;
  /* The host, or (for a marked MMS from the allowed second sender) that
   * sender: never any other. */
  const struct provider *p = app_provider(a, m->provider);
  struct send_media sm[LB_MEDIA_MAX];
  struct media_variant mv[LB_MEDIA_MAX];
  char urls[LB_MEDIA_MAX][MEDIA_URL_MAX];
  struct buf bufs[LB_MEDIA_MAX];
  struct wire_request req;
  struct wire_response res;
  struct send_result sr;
  char status_url[LB_URL_MAX], detail[LB_ERRTEXT_MAX + 128];
  char link_text[LB_TEXT_MAX_CHARS * 4 + 800];
  int as_link = strcmp(m->route, "link") == 0;
  size_t n_bufs = 0;
  int64_t now;
  int rc;

  wire_request_init(&req);
  wire_response_init(&res);
  memset(&sr, 0, sizeof sr);
  snprintf(status_url, sizeof status_url, "%s/hooks/%s/status", c->public_url,
           p->ops->name);

  if (!p) {
    p = &a->host;
    sr.outcome = SEND_FINAL;
    snprintf(sr.error_code, sizeof sr.error_code, "provider_changed");
    snprintf(sr.error_text, sizeof sr.error_text,
             "queued for %s, but %s now hosts %s; not sent from another "
             "provider",
             m->provider, p->ops->name, c->number);
    goto record;
  }
  if (as_link && (rc = links_prepare(a, m, link_text, sizeof link_text,
                                     sr.error_text, sizeof sr.error_text))) {
    /* Not as configured (no date of birth): final. Otherwise (the store):
     * try again later. */
    sr.outcome = rc == LB_ENOTFOUND ? SEND_FINAL : SEND_RETRY;
    snprintf(sr.error_code, sizeof sr.error_code, "link_unavailable");
    if (rc != LB_ENOTFOUND)
      snprintf(sr.error_text, sizeof sr.error_text,
               "the secure link could not be made: %s", lb_strerror(rc));
    goto record;
  }
  if (!as_link && m->n_media &&
      (rc = load_media(a, p, m, sm, mv, urls, bufs, &n_bufs, sr.error_text,
                       sizeof sr.error_text))) {
    /* Too large for the host now (its budget changed): a final MMS
     * failure, which the routing policy may turn into a link. */
    sr.outcome = rc == LB_ENOTFOUND || rc == LB_ETOOBIG ||
                         rc == LB_EUNSUPPORTED || rc == LB_EMEDIATYPE
                     ? SEND_FINAL
                     : SEND_RETRY;
    snprintf(sr.error_code, sizeof sr.error_code, "%s",
             rc == LB_ETOOBIG ? "media_too_large" : "media_unavailable");
    goto record;
  }
  {
    /* A link SMS carries no media: the text with the link stands in. */
    struct message shadow = *m;
    struct send_input in = {m, sm, n_bufs, status_url};
    if (as_link) {
      shadow.text = link_text;
      shadow.n_media = 0;
      in.msg = &shadow;
    }
    rc = p->ops->build_send(p, &in, &req);
    sodium_memzero(link_text, sizeof link_text);
    if (rc) {
      sr.outcome = SEND_FINAL;
      snprintf(sr.error_code, sizeof sr.error_code, "cannot_build");
      snprintf(sr.error_text, sizeof sr.error_text,
               "the request for %s could not be built: %s", p->ops->title,
               lb_strerror(rc));
      goto record;
    }
  }
  rate_limit(o);
  if ((rc = http_client_perform(hc, &req, &res)) ||
      (rc = p->ops->parse_send(p, &res, &sr))) {
    sr.outcome = SEND_RETRY;
    snprintf(sr.error_code, sizeof sr.error_code, "internal");
    snprintf(sr.error_text, sizeof sr.error_text, "%s", lb_strerror(rc));
  }
  if (sr.outcome == SEND_UNKNOWN && p->caps.dedupes_by_ref)
    sr.outcome = SEND_RETRY; /* the provider recognises the resend */

record:
  now = clock_now_ms();
  message_set_error(m, NULL, NULL, 0);
  switch (sr.outcome) {
  case SEND_ACCEPTED:
    m->status = ST_SENT;
    snprintf(m->provider_msg_id, sizeof m->provider_msg_id, "%s",
             sr.provider_msg_id);
    snprintf(detail, sizeof detail, "accepted by %s as %s", p->ops->name,
             sr.provider_msg_id);
    break;
  case SEND_RETRY:
    if (m->attempts >= c->max_attempts) {
      m->status = ST_FAILED;
      message_set_error(m, sr.error_code, sr.error_text, 1);
      snprintf(detail, sizeof detail, "gave up after %d attempts: %s",
               m->attempts, sr.error_text);
    } else {
      long delay = retry_delay_ms(m->attempts, c->backoff_base_ms,
                                  c->backoff_max_ms, randombytes_random());
      if (sr.retry_after_ms > delay)
        delay = sr.retry_after_ms;
      m->status = ST_QUEUED;
      m->next_attempt_at = now + delay;
      message_set_error(m, sr.error_code, sr.error_text, 1);
      snprintf(detail, sizeof detail, "retry in %.1f s: %s", delay / 1000.0,
               sr.error_text);
    }
    break;
  case SEND_FINAL:
    m->status = ST_FAILED;
    message_set_error(m, sr.error_code, sr.error_text, 0);
    snprintf(detail, sizeof detail, "failed: %s", sr.error_text);
    if (strcmp(m->route, "mms") == 0 && sr.recipient == RECIPIENT_OK &&
        fallback_to_link(a, m, sr.error_text)) {
      /* [routing] mms_fallback = link: the same message again, as an SMS
       * with a secure link, from the same number. Both attempts stay in
       * its history. */
      m->status = ST_QUEUED;
      m->next_attempt_at = now;
      snprintf(detail, sizeof detail,
               "MMS failed (%s); resending as an SMS with a secure link",
               sr.error_text);
    }
    break;
  case SEND_UNKNOWN:
    /* It may have gone, and this provider cannot tell a resend: never
     * resend blindly. Stay in sending, unconfirmed, for a receipt. */
    m->status = ST_SENDING;
    message_set_error(m, "unconfirmed", sr.error_text, 0);
    snprintf(detail, sizeof detail,
             "unconfirmed (%s); waiting for a receipt, not resent",
             sr.error_text);
    break;
  }
  if (sr.outcome == SEND_FINAL && sr.recipient == RECIPIENT_OPTED_OUT) {
    /* The provider refused because the patient opted out (replied STOP):
     * keep that on the patient, for the clinic's records. */
    char source[96];
    snprintf(source, sizeof source, "%s refused a send: opted out",
             p->ops->name);
    if (store_patient_opt_out(a->store, m->to, source))
      log_warn("outbox.optout", "the opt-out of %s was not recorded", m->id);
  }
  rc = store_outbox_result(a->store, m, detail);
  if (rc && rc != LB_ETRANSITION)
    log_error("outbox.record", "could not record the result for %s: %s", m->id,
              lb_strerror(rc));
  else
    log_event(sr.outcome == SEND_ACCEPTED ? LOG_INFO : LOG_WARN, "outbox.send",
              json_pack("{s:s, s:s, s:i}", "message", m->id, "status",
                        status_name(m->status), "attempt", m->attempts),
              "%s", detail);
  if (rc == LB_OK)
    app_notify_message(a, m->id);
  for (size_t i = 0; i < n_bufs; i++)
    buf_release(&bufs[i]);
  wire_request_release(&req);
  wire_response_release(&res);
}

static void *worker(void *arg)
{
  struct outbox *o = arg;
  struct http_client *hc = NULL;
  struct message m;

  if (http_client_new(o->a->cfg->send_timeout_ms, &hc)) {
    log_error("outbox.worker", "cannot create an HTTP client");
    return NULL;
  }
  message_init(&m);
  for (;;) {
    size_t n = 0;
    int64_t due = -1, now;
    int rc;

    pthread_mutex_lock(&o->mu);
    if (o->stop) {
      pthread_mutex_unlock(&o->mu);
      break;
    }
    o->wakeups = 0;
    pthread_mutex_unlock(&o->mu);

    /* One at a time: another worker can take the next one meanwhile. */
    rc = store_outbox_claim(o->a->store, clock_now_ms(), &m, 1, &n);
    if (rc)
      log_error("outbox.claim", "cannot claim messages: %s", lb_strerror(rc));
    if (n) {
      send_one(o, hc, &m);
      message_release(&m);
      continue;
    }

    /* Nothing due: sleep until the next due message, a wake-up or a
     * poll (other nodes may queue too). */
    store_outbox_next_due(o->a->store, &due);
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
  http_client_free(hc);
  return NULL;
}

int outbox_start(struct app *a, struct outbox **out)
{
  struct outbox *o = calloc(1, sizeof *o);
  if (!o)
    return LB_ENOMEM;
  o->a = a;
  pthread_mutex_init(&o->mu, NULL);
  pthread_mutex_init(&o->bucket_mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  bucket_init(&o->bucket, a->host.caps.rate_per_s ? a->host.caps.rate_per_s : 1,
              a->host.caps.rate_per_s ? a->host.caps.rate_per_s : 1,
              clock_mono_ms());
  for (int i = 0; i < a->cfg->workers && i < MAX_WORKERS; i++) {
    if (pthread_create(&o->threads[i], NULL, worker, o))
      break;
    o->n_threads++;
  }
  *out = o;
  return o->n_threads ? LB_OK : LB_ENOMEM;
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
  pthread_mutex_lock(&o->mu);
  o->stop = 1;
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
  for (int i = 0; i < o->n_threads; i++)
    pthread_join(o->threads[i], NULL);
  pthread_mutex_destroy(&o->mu);
  pthread_mutex_destroy(&o->bucket_mu);
  pthread_cond_destroy(&o->cv);
  free(o);
}
