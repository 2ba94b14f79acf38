/* Sending one queued message: its provider's request (an MMS with its
 * fitted media, or an SMS carrying a secure link), the call, and the
 * result recorded -- with retries and back-off, the fallback from a failed
 * MMS to a link, and the provider's opt-out report, in one transaction. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"
#include "media/urls.h"
#include "media/variants.h"
#include "outbox/outbox.h"
#include "util/clock.h"
#include "util/log.h"

/* Loads the bytes of m's media as they go in the MMS through p: each item
 * fitted to its share of p's budget (made when the message was accepted,
 * and cached). LB_ETOOBIG (with why) when an item no longer fits. The
 * caller releases bufs[0..*n). */
static enum lb_err load_media(struct gateway *gw, const struct provider *p,
                              const struct message *m, struct send_media *sm,
                              struct media_variant *mv,
                              char (*urls)[MEDIA_URL_MAX], struct buf *bufs,
                              size_t *n, char *why, size_t whylen)
{
  struct media md;
  enum lb_err rc;
  *n = 0;
  for (size_t i = 0; i < m->n_media; i++) {
    if ((rc = store_media_get(gw->store, m->media_ids[i], &md))) {
      snprintf(why, whylen, "the message's media could not be read: %s",
               lb_strerror(rc));
      return rc;
    }
    if ((rc = gw_fit_for_mms(gw, p, &md, m->n_media, &mv[i], why, whylen)))
      return rc;
    buf_init(&bufs[i], (size_t)mv[i].bytes + 1);
    *n = i + 1;
    if ((rc = blob_get(gw->blobs, mv[i].blob_key, &bufs[i]))) {
      snprintf(why, whylen, "the message's media could not be read: %s",
               lb_strerror(rc));
      return rc;
    }
    if ((rc = media_url_make(gw->cfg, md.id, mv[i].kind, clock_now_ms() / 1000,
                             urls[i], MEDIA_URL_MAX)))
      return rc;
    sm[i].content_type = mv[i].content_type;
    sm[i].data = (const unsigned char *)bufs[i].data;
    sm[i].len = bufs[i].len;
    sm[i].url = urls[i];
  }
  return LB_OK;
}

/* Builds p's request for m into req, or says in sr why it cannot go. */
static void prepare(struct gateway *gw, const struct provider *p,
                    const struct message *m, struct wire_request *req,
                    struct send_result *sr, int *ready)
{
  const struct config *c = gw->cfg;
  struct send_media sm[LB_MEDIA_MAX];
  struct media_variant mv[LB_MEDIA_MAX];
  char urls[LB_MEDIA_MAX][MEDIA_URL_MAX];
  struct buf bufs[LB_MEDIA_MAX];
  char status_url[LB_URL_MAX];
  char link_text[LB_TEXT_MAX_CHARS * 4 + 800];
  struct message shadow = *m;
  struct send_input in = {m, sm, 0, status_url};
  size_t n_bufs = 0;
  enum lb_err rc;

  *ready = 0;
  snprintf(status_url, sizeof status_url, "%s/hooks/%s/status", c->public_url,
           p->ops->name);
  if (m->route == ROUTE_LINK) {
    if ((rc = links_prepare(gw->store, c, m, link_text, sizeof link_text,
                            sr->error_text, sizeof sr->error_text))) {
      /* Not as configured (no date of birth): final. Otherwise (the
       * store): try again later. */
      sr->outcome = rc == LB_ENOTFOUND ? SEND_FINAL : SEND_RETRY;
      snprintf(sr->error_code, sizeof sr->error_code, "link_unavailable");
      if (rc != LB_ENOTFOUND)
        snprintf(sr->error_text, sizeof sr->error_text,
                 "the secure link could not be made: %s", lb_strerror(rc));
      goto out;
    }
    /* A link SMS carries no media: the text with the link stands in. */
    shadow.text = link_text;
    shadow.n_media = 0;
    in.msg = &shadow;
  } else if (m->n_media &&
             (rc = load_media(gw, p, m, sm, mv, urls, bufs, &n_bufs,
                              sr->error_text, sizeof sr->error_text))) {
    /* Too large for the host now (its budget changed): a final MMS
     * failure, which the routing policy may turn into a link. */
    sr->outcome = rc == LB_ENOTFOUND || rc == LB_ETOOBIG ||
                          rc == LB_EUNSUPPORTED || rc == LB_EMEDIATYPE
                      ? SEND_FINAL
                      : SEND_RETRY;
    snprintf(sr->error_code, sizeof sr->error_code, "%s",
             rc == LB_ETOOBIG ? "media_too_large" : "media_unavailable");
    goto out;
  } else {
    in.n_media = n_bufs;
  }
  rc = p->ops->build_send(p, &in, req);
  if (rc) {
    sr->outcome = SEND_FINAL;
    snprintf(sr->error_code, sizeof sr->error_code, "cannot_build");
    snprintf(sr->error_text, sizeof sr->error_text,
             "the request for %s could not be built: %s", p->ops->title,
             lb_strerror(rc));
  } else {
    *ready = 1;
  }
out:
  sodium_memzero(link_text, sizeof link_text);
  for (size_t i = 0; i < n_bufs; i++)
    buf_release(&bufs[i]);
}

void gw_send(void *arg, struct outbox_worker *w, struct message *m)
{
  struct gateway *gw = arg;
  /* The host, or (for a marked MMS from the allowed second sender) that
   * sender: never any other. */
  const struct provider *p = provider_set_get(&gw->providers, m->provider);
  struct wire_request req;
  struct wire_response res;
  struct send_result sr;
  int ready = 0;
  enum lb_err rc;

  wire_request_init(&req);
  wire_response_init(&res);
  memset(&sr, 0, sizeof sr);
  if (!p) {
    /* Queued for a provider that was since taken out of the
     * configuration: it is not sent from another one. */
    sr.outcome = SEND_FINAL;
    snprintf(sr.error_code, sizeof sr.error_code, "provider_changed");
    snprintf(sr.error_text, sizeof sr.error_text,
             "queued for %s, but %s now hosts %s; not sent from another "
             "provider",
             m->provider, gw->providers.host.ops->name, gw->cfg->number);
    p = &gw->providers.host;
  } else if (!gw_opted_out_result(gw, m, &sr)) {
    prepare(gw, p, m, &req, &sr, &ready);
  }
  if (ready) {
    outbox_wait_turn(w, p);
    /* Again after the wait: a STOP may have come meanwhile, and nothing
     * goes to a patient who opted out. */
    if (gw_opted_out_result(gw, m, &sr))
      ready = 0;
  }
  if (ready) {
    if ((rc = outbox_perform(w, &req, &res)) ||
        (rc = p->ops->parse_send(p, &res, &sr))) {
      sr.outcome = SEND_RETRY;
      snprintf(sr.error_code, sizeof sr.error_code, "internal");
      snprintf(sr.error_text, sizeof sr.error_text, "%s", lb_strerror(rc));
    }
    if (sr.outcome == SEND_UNKNOWN && p->caps.dedupes_by_ref)
      sr.outcome = SEND_RETRY; /* the provider recognises the resend */
  }
  gw_record_result(gw, p, m, &sr);
  wire_request_release(&req);
  wire_response_release(&res);
}

/* The transaction of a result: the message's new state, the patient's
 * opt-out when the provider reported one, and the subscribers' rows. */
struct result_tx {
  struct gateway *gw;
  const struct message *m;
  const char *detail;
  struct consent_event opt_out; /* the provider refused: opted out */
  int has_opt_out, opt_out_changed;
  struct event opt_out_ev;
  int ignored;
  struct message after;
  struct event ev;
};

static enum lb_err result_in_tx(struct store_tx *tx, void *arg)
{
  struct result_tx *r = arg;
  enum lb_err rc;
  if ((rc = store_tx_outbox_result(tx, r->m, r->detail, &r->ignored)))
    return rc;
  if (r->has_opt_out &&
      (rc =
           gw_tx_consent_change(r->gw, tx, &r->opt_out, &r->opt_out_changed,
                                &r->opt_out_ev)) &&
      rc != LB_ENOTFOUND)
    return rc;
  if (r->ignored)
    return LB_OK;
  if ((rc = store_tx_message_get(tx, r->m->id, &r->after)))
    return rc;
  r->ev = event_of_message(&r->after, CHANGE_STATUS, r->detail);
  return gw_emit_in_tx(r->gw, tx, &r->ev);
}

enum lb_err gw_record_result(struct gateway *gw, const struct provider *p,
                             struct message *m, const struct send_result *sr)
{
  const struct config *c = gw->cfg;
  struct result_tx r = {.gw = gw, .m = m};
  char detail[LB_ERRTEXT_MAX + 128];
  int64_t now = clock_now_ms();
  enum lb_err rc;

  message_set_error(m, NULL, NULL, 0);
  switch (sr->outcome) {
  case SEND_ACCEPTED:
    m->status = ST_SENT;
    snprintf(m->provider_msg_id, sizeof m->provider_msg_id, "%s",
             sr->provider_msg_id);
    snprintf(detail, sizeof detail, "accepted by %s as %s", p->ops->name,
             sr->provider_msg_id);
    break;
  case SEND_RETRY:
    if (m->attempts >= c->max_attempts) {
      m->status = ST_FAILED;
      message_set_error(m, sr->error_code, sr->error_text, 1);
      snprintf(detail, sizeof detail, "gave up after %d attempts: %s",
               m->attempts, sr->error_text);
    } else {
      long delay = retry_delay_ms(m->attempts, c->backoff_base_ms,
                                  c->backoff_max_ms, randombytes_random());
      if (sr->retry_after_ms > delay)
        delay = sr->retry_after_ms;
      m->status = ST_QUEUED;
      m->next_attempt_at = now + delay;
      message_set_error(m, sr->error_code, sr->error_text, 1);
      snprintf(detail, sizeof detail, "retry in %.1f s: %s", delay / 1000.0,
               sr->error_text);
    }
    break;
  case SEND_FINAL:
    m->status = ST_FAILED;
    message_set_error(m, sr->error_code, sr->error_text, 0);
    snprintf(detail, sizeof detail, "failed: %s", sr->error_text);
    if (m->route == ROUTE_MMS && sr->recipient == RECIPIENT_OK) {
      /* [routing] mms_fallback = link: the same message again, as an SMS
       * with a secure link, from the same number. Both attempts stay in
       * its history. */
      struct route_media rmedia[LB_MEDIA_MAX];
      struct gw_route_request rr = {0};
      struct route_decision d;
      for (size_t i = 0; i < m->n_media; i++) {
        rmedia[i].content_type = "";
        rmedia[i].bytes = -1;
      }
      rr.has_text = m->text && m->text[0];
      rr.media = rmedia;
      rr.n_media = m->n_media;
      rr.delivery = DELIVERY_AUTO;
      rr.failed_error = sr->error_text;
      rr.failed_via = m->provider;
      gw_route(gw, &rr, &d);
      if (d.plan == ROUTE_LINK) {
        m->route = ROUTE_LINK;
        snprintf(m->route_reason, sizeof m->route_reason, "%s", d.reason);
        /* A link always goes from the clinic's own number, through its
         * host, even when the MMS was tried through the second sender. */
        snprintf(m->provider, sizeof m->provider, "%s",
                 gw->providers.host.ops->name);
        snprintf(m->from, sizeof m->from, "%s", c->number);
        m->status = ST_QUEUED;
        m->next_attempt_at = now;
        snprintf(detail, sizeof detail,
                 "MMS failed (%s); resending as an SMS with a secure link",
                 sr->error_text);
      }
    }
    break;
  case SEND_UNKNOWN:
    /* It may have gone, and this provider cannot tell a resend: never
     * resend blindly. Stay in sending, unconfirmed, for a receipt. */
    m->status = ST_SENDING;
    message_set_error(m, "unconfirmed", sr->error_text, 0);
    snprintf(detail, sizeof detail,
             "unconfirmed (%s); waiting for a receipt, not resent",
             sr->error_text);
    break;
  }
  if (sr->outcome == SEND_FINAL && sr->recipient == RECIPIENT_OPTED_OUT) {
    /* The provider refused because the patient opted out (replied STOP to
     * it): kept on the patient, with the result, in one transaction. */
    snprintf(r.opt_out.patient, sizeof r.opt_out.patient, "%s", m->to);
    r.opt_out.state = CONSENT_OPTED_OUT;
    r.opt_out.source = CONSENT_PROVIDER;
    snprintf(r.opt_out.provider, sizeof r.opt_out.provider, "%s", p->ops->name);
    snprintf(r.opt_out.message_id, sizeof r.opt_out.message_id, "%s", m->id);
    snprintf(r.opt_out.reason, sizeof r.opt_out.reason,
             "refused a send: opted out (%s)", sr->error_code);
    r.has_opt_out = 1;
  }
  r.detail = detail;
  message_init(&r.after);
  rc = store_write(gw->store, result_in_tx, &r);
  if (rc)
    log_error("outbox.record", "could not record the result for %s: %s", m->id,
              lb_strerror(rc));
  else
    log_event(sr->outcome == SEND_ACCEPTED ? LOG_INFO : LOG_WARN, "outbox.send",
              json_pack("{s:s, s:s, s:i}", "message", m->id, "status",
                        status_name(m->status), "attempt", m->attempts),
              "%s", detail);
  if (rc == LB_OK && !r.ignored)
    gw_emit_committed(gw, &r.ev);
  if (rc == LB_OK && r.opt_out_changed)
    gw_emit_committed(gw, &r.opt_out_ev);
  message_release(&r.after);
  return rc;
}
