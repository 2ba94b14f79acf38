/* A failed message sent again: Retry (a new attempt of the same message)
 * and Edit and resend (a new message with the text changed, linked to the
 * first). Both only from failed or undelivered, both refused for a patient
 * who opted out, both audited in the transaction that makes the change.
 *
 * Why those two statuses, and no others: a message queued or sending is
 * the outbox's (sending may be with the provider already, unconfirmed);
 * sent means the provider took it and its receipt is still to come;
 * delivered reached the patient. Failed and undelivered are final: the
 * provider refused it, lyrebird gave up before the provider took it, or
 * the provider reported it did not arrive. A failed message the provider
 * may still hold goes again under the same reference, which a provider
 * that dedupes recognises (one that cannot never ends such a message
 * failed: it stays sending, unconfirmed); one the provider had and ended
 * goes under a new one, so it is sent afresh. */
#include <stdio.h>
#include <string.h>

#include "gateway/internal.h"
#include "util/clock.h"

static enum lb_err refuse(struct gw_refusal *why, enum lb_err rc,
                          const char *code, const char *msg)
{
  snprintf(why->code, sizeof why->code, "%s", code);
  snprintf(why->message, sizeof why->message, "%s", msg);
  return rc;
}

/* Whether m may be sent again (LB_OK), else the refusal. Reads the
 * patient's consent on tx, so the decision and the change are one. */
static enum lb_err check_again(struct store_tx *tx, const struct message *m,
                               struct gw_refusal *why)
{
  char msg[400];
  enum lb_err rc;
  if (m->direction != DIR_OUTBOUND)
    return refuse(why, LB_ECONFLICT, "not_retryable",
                  "this message came from the patient; only messages sent "
                  "to a patient can be sent again");
  if (!status_can_retry(m->status)) {
    snprintf(msg, sizeof msg,
             "the message is %s, not failed or undelivered: %s",
             status_name(m->status),
             m->status == ST_DELIVERED ? "it reached the patient"
             : m->status == ST_SENT
                 ? "the provider has it, and its delivery report is "
                   "still to come"
                 : "it is still on its way (sending it again could reach "
                   "the patient twice)");
    return refuse(why, LB_ECONFLICT, "not_retryable", msg);
  }
  if ((rc = store_tx_patient_consent(tx, m->to, &why->consent)))
    return rc;
  if (why->consent.opted_out) {
    char how[CONSENT_REASON_MAX + 100];
    consent_describe(&why->consent.last, how, sizeof how);
    snprintf(msg, sizeof msg,
             "%s opted out of messages from this number: %.200s. Nothing is "
             "sent to them until they text START, or staff record their "
             "consent with a reason",
             m->to, how);
    return refuse(why, LB_EDENIED, "opted_out", msg);
  }
  return LB_OK;
}

struct retry_tx {
  struct gateway *gw;
  const char *id;
  const struct gw_actor *who;
  struct gw_refusal *why;
  struct message *out;
  struct event ev;
  char detail[300];
};

static enum lb_err retry_in_tx(struct store_tx *tx, void *arg)
{
  struct retry_tx *r = arg;
  struct message m;
  struct audit_entry a;
  char round[16];
  enum lb_err rc;

  message_init(&m);
  if ((rc = store_tx_message_get(tx, r->id, &m))) {
    if (rc == LB_ENOTFOUND)
      refuse(r->why, rc, "not_found", "no message with that id");
    goto out;
  }
  if ((rc = check_again(tx, &m, r->why)))
    goto out;
  snprintf(r->detail, sizeof r->detail,
           "retried by %.60s %.80s: a new attempt after %s%s%.60s%s",
           r->who->kind, r->who->name ? r->who->name : "",
           status_name(m.status), m.error_code[0] ? " (" : "", m.error_code,
           m.error_code[0] ? ")" : "");
  if ((rc = store_tx_message_retry(tx, &m, r->detail))) {
    if (rc == LB_ECONFLICT)
      refuse(r->why, rc, "not_retryable",
             "the message changed meanwhile (someone retried it already)");
    goto out;
  }
  gw_audit_prepare(&a, r->who, "message.retried", m.to, m.id, NULL);
  gw_audit_detail(&a, "after", status_name(m.status));
  gw_audit_detail(&a, "error_code", m.error_code);
  snprintf(round, sizeof round, "%d",
           m.ref_round + (m.provider_msg_id[0] ? 1 : 0));
  gw_audit_detail(&a, "ref_round", round);
  if ((rc = store_tx_audit(tx, &a)) ||
      (rc = store_tx_message_get(tx, r->id, r->out)))
    goto out;
  r->ev = event_of_message(r->out, CHANGE_STATUS, r->detail);
  rc = gw_emit_in_tx(r->gw, tx, &r->ev);
out:
  message_release(&m);
  return rc;
}

enum lb_err gw_message_retry(struct gateway *gw, const char *id,
                             const struct gw_actor *who, struct message *out,
                             struct gw_refusal *why)
{
  struct retry_tx r = {.gw = gw, .id = id, .who = who, .why = why, .out = out};
  enum lb_err rc;
  message_init(out);
  why->code[0] = why->message[0] = '\0';
  rc = store_write(gw->store, retry_in_tx, &r);
  if (rc == LB_OK) {
    gw_outbox_wake(gw);
    gw_emit_committed(gw, &r.ev);
  }
  return rc;
}

struct resend_check {
  const char *id;
  struct message *orig;
  struct gw_refusal *why;
};

static enum lb_err resend_check_tx(struct store_tx *tx, void *arg)
{
  struct resend_check *c = arg;
  enum lb_err rc = store_tx_message_get(tx, c->id, c->orig);
  if (rc == LB_ENOTFOUND)
    return refuse(c->why, rc, "not_found", "no message with that id");
  return rc ? rc : check_again(tx, c->orig, c->why);
}

enum lb_err gw_message_resend(struct gateway *gw, const char *id,
                              const char *text, size_t text_len,
                              const struct gw_actor *who, struct message *out,
                              struct gw_refusal *why)
{
  struct message orig;
  struct resend_check chk = {id, &orig, why};
  struct send_request req = {0};
  const char *ids[LB_MEDIA_MAX];
  struct audit_entry a;
  enum lb_err rc;

  message_init(&orig);
  message_init(out);
  why->code[0] = why->message[0] = '\0';
  /* Read-only, but on the writer so it sees the latest status; gw_queue
   * checks consent again in its own transaction. */
  if ((rc = store_write(gw->store, resend_check_tx, &chk)))
    goto out;
  for (size_t i = 0; i < orig.n_media; i++)
    ids[i] = orig.media_ids[i];
  req.to = orig.to;
  req.text = text;
  req.text_len = text_len;
  req.media_ids = ids;
  req.n_media = orig.n_media;
  req.delivery = DELIVERY_AUTO;
  req.resend_of = orig.id;
  gw_audit_prepare(&a, who, "message.resent", orig.to, NULL, NULL);
  gw_audit_detail(&a, "resend_of", orig.id);
  gw_audit_detail(&a, "after", status_name(orig.status));
  req.audit = &a;
  message_release(out);
  rc = gw_queue(gw, &req, out, why);
out:
  message_release(&orig);
  return rc;
}
