/* Queueing a message to a patient, from staff or the clinic's app: the
 * number normalised, the media looked up and fitted, the route decided,
 * the secure link made, and everything stored in one transaction with the
 * idempotency key. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"
#include "util/clock.h"

static enum lb_err refuse(struct gw_refusal *why, enum lb_err rc,
                          const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum lb_err refuse(struct gw_refusal *why, enum lb_err rc,
                          const char *code, const char *fmt, ...)
{
  va_list ap;
  snprintf(why->code, sizeof why->code, "%s", code);
  va_start(ap, fmt);
  vsnprintf(why->message, sizeof why->message, fmt, ap);
  va_end(ap);
  return rc;
}

/* The transaction: the message (with its link and idempotency key), and
 * what the event subscribers add. */
struct queue_tx {
  struct gateway *gw;
  struct message *m;
  const struct link *link;
  const char *idem, *hash;
  struct audit_entry *audit; /* NULL: none */
  struct event ev;
};

static enum lb_err queue_in_tx(struct store_tx *tx, void *arg)
{
  struct queue_tx *q = arg;
  enum lb_err rc = store_tx_enqueue(tx, q->m, q->link, q->idem, q->hash);
  if (rc)
    return rc; /* LB_EDUPLICATE too: nothing new, nothing to emit */
  if (q->audit) {
    snprintf(q->audit->subject, sizeof q->audit->subject, "%s", q->m->id);
    if ((rc = store_tx_audit(tx, q->audit)))
      return rc;
  }
  q->ev = event_of_message(q->m, CHANGE_CREATED, NULL);
  return gw_emit_in_tx(q->gw, tx, &q->ev);
}

/* Stores m; on LB_OK wakes the outbox and emits it. */
static enum lb_err enqueue(struct gateway *gw, struct message *m,
                           const struct link *link, const char *idem,
                           const char *hash, struct audit_entry *audit)
{
  struct queue_tx q = {.gw = gw, .m = m, .link = link, .idem = idem,
                       .hash = hash, .audit = audit};
  enum lb_err rc = store_write(gw->store, queue_in_tx, &q);
  if (rc == LB_OK) {
    gw_outbox_wake(gw);
    gw_emit_committed(gw, &q.ev);
  }
  return rc;
}

enum lb_err gw_queue(struct gateway *gw, const struct send_request *req,
                     struct message *m, struct gw_refusal *why)
{
  const struct config *c = gw->cfg;
  struct media mds[LB_MEDIA_MAX];
  struct media_variant fits[LB_MEDIA_MAX];
  struct route_media rmedia[LB_MEDIA_MAX];
  struct gw_route_request rr = {0};
  struct route_decision plan;
  struct link_options lopt;
  struct link link;
  const struct provider *mp;
  const char *text = req->text ? req->text : "";
  char msg[400], e164[LB_E164_SIZE];
  enum lb_err rc;

  message_init(m);
  why->code[0] = why->message[0] = '\0';
  if (text_check(text, req->text ? req->text_len : 0, msg, sizeof msg))
    return refuse(why, LB_EINVAL, "invalid_request", "%s", msg);
  if (!text[0] && req->n_media == 0)
    return refuse(why, LB_EINVAL, "invalid_request",
                  "a message needs 'text', 'media', or both");
  if (req->n_media > (size_t)c->media_max_items || req->n_media > LB_MEDIA_MAX)
    return refuse(why, LB_EINVAL, "invalid_request",
                  "at most %d media items per message", c->media_max_items);
  if ((rc = phone_normalize(req->to, c->region, e164, msg, sizeof msg)))
    return refuse(why, rc == LB_ENOTMOBILE ? LB_ENOTMOBILE : LB_EPHONE,
                  rc == LB_ENOTMOBILE ? "not_mobile" : "invalid_number", "%s",
                  msg);
  /* Nothing goes to a patient who opted out (the outbox checks again at
   * send time, for messages queued before the STOP). */
  if ((rc = store_patient_consent(gw->store, e164, &why->consent)))
    return rc;
  if (why->consent.opted_out) {
    char how[CONSENT_REASON_MAX + 100];
    consent_describe(&why->consent.last, how, sizeof how);
    return refuse(why, LB_EDENIED, "opted_out",
                  "%s opted out of messages from this number: %s. Nothing "
                  "is sent to them until they text START, or staff record "
                  "their consent with a reason",
                  e164, how);
  }
  for (size_t i = 0; i < req->n_media; i++) {
    if (!id_valid(req->media_ids[i]) ||
        store_media_get(gw->store, req->media_ids[i], &mds[i]) != LB_OK)
      return refuse(why, LB_ENOTFOUND, "media_not_found",
                    "media[%zu] is not the id of uploaded media; upload with "
                    "POST /api/v1/media first",
                    i);
    rmedia[i].content_type = mds[i].content_type;
    rmedia[i].bytes = mds[i].bytes;
    snprintf(m->media_ids[i], LB_ID_SIZE, "%s", mds[i].id);
  }
  m->n_media = req->n_media;
  /* An image that could go as MMS is judged by its fitted form: made now
   * (and kept for the outbox), so a 12 MP photo goes as MMS when it fits
   * the host's budget at a decent quality, and as a link when not. */
  if (req->delivery != DELIVERY_LINK &&
      (mp = provider_set_mms(&gw->providers, m->n_media)))
    for (size_t i = 0; i < m->n_media; i++)
      if (gw_fit_for_mms(gw, mp, &mds[i], m->n_media, &fits[i], msg,
                         sizeof msg) == LB_OK) {
        rmedia[i].content_type = fits[i].content_type;
        rmedia[i].bytes = fits[i].bytes;
      }
  rr.has_text = text[0] != '\0';
  rr.media = rmedia;
  rr.n_media = m->n_media;
  rr.delivery = req->delivery;
  gw_route(gw, &rr, &plan);
  if (plan.plan == ROUTE_REFUSE)
    return refuse(why, LB_EDENIED,
                  plan.cause == CAUSE_TOO_LARGE ? "mms_too_large"
                                                : "mms_unsupported",
                  "%s", plan.reason);
  m->route = plan.plan;
  snprintf(m->route_reason, sizeof m->route_reason, "%s", plan.reason);
  id_new(m->id);
  if (plan.plan == ROUTE_LINK) {
    if (req->link)
      lopt = *req->link;
    else
      links_defaults(c, &lopt);
    rc = links_make(gw->store, c, m->id, e164, &lopt, &link, msg, sizeof msg);
    if (rc == LB_ENOTFOUND)
      return refuse(why, LB_ENOTFOUND, "dob_required", "%s", msg);
    if (rc)
      return refuse(why, rc, "link_unavailable",
                    "the link could not be made: %s", lb_strerror(rc));
  }

  m->direction = DIR_OUTBOUND;
  snprintf(m->from, sizeof m->from, "%s", c->number);
  if (plan.other_sender) { /* allowed, marked: see route.h */
    snprintf(m->from, sizeof m->from, "%s", c->mms_from);
    snprintf(m->clinic_number, sizeof m->clinic_number, "%s", c->number);
  }
  snprintf(m->to, sizeof m->to, "%s", e164);
  if (!(m->text = strdup(text)))
    return LB_ENOMEM;
  str_copy(m->metadata, sizeof m->metadata, req->metadata);
  str_copy(m->client_reference, sizeof m->client_reference,
           req->client_reference);
  str_copy(m->resend_of, sizeof m->resend_of, req->resend_of);
  m->status = ST_QUEUED;
  snprintf(m->provider, sizeof m->provider, "%s",
           plan.other_sender ? gw->providers.other.ops->name
                             : gw->providers.host.ops->name);
  m->created_at = m->updated_at = m->next_attempt_at = clock_now_ms();

  rc = enqueue(gw, m, plan.plan == ROUTE_LINK ? &link : NULL,
               req->idempotency_key, req->request_hash, req->audit);
  if (rc == LB_ECONFLICT)
    return refuse(why, LB_ECONFLICT, "idempotency_conflict",
                  "this Idempotency-Key was used for a different request "
                  "(message %s); use a new key for a new message",
                  m->id);
  return rc;
}

enum lb_err gw_text_message(struct gateway *gw, const char *to,
                            const char *text, const char *reason,
                            enum msg_purpose purpose, struct message *m)
{
  message_init(m);
  id_new(m->id);
  m->direction = DIR_OUTBOUND;
  snprintf(m->from, sizeof m->from, "%s", gw->cfg->number);
  snprintf(m->to, sizeof m->to, "%s", to);
  if (!(m->text = strdup(text)))
    return LB_ENOMEM;
  m->status = ST_QUEUED;
  snprintf(m->provider, sizeof m->provider, "%s", gw->providers.host.ops->name);
  m->route = ROUTE_SMS;
  snprintf(m->route_reason, sizeof m->route_reason, "%s", reason);
  m->purpose = purpose;
  m->created_at = m->updated_at = m->next_attempt_at = clock_now_ms();
  return LB_OK;
}

enum lb_err gw_queue_text(struct gateway *gw, const char *to, const char *text,
                          const char *reason, char id[LB_ID_SIZE])
{
  struct message m;
  enum lb_err rc = gw_text_message(gw, to, text, reason, PURPOSE_NORMAL, &m);
  if (!rc)
    rc = enqueue(gw, &m, NULL, NULL, NULL, NULL);
  if (!rc)
    snprintf(id, LB_ID_SIZE, "%s", m.id);
  message_release(&m);
  return rc;
}
