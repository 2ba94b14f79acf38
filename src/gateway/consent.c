/* Patients' choices: a change recorded once, in the transaction of what
 * caused it (a keyword, a provider's report, staff), emitted to the
 * clinic's app, and audited when staff override it. The keywords
 * themselves are matched in receive.c; enforcement is in queue.c and
 * send.c. */
#include <stdio.h>
#include <string.h>

#include "gateway/internal.h"
#include "util/clock.h"

enum lb_err gw_tx_consent_change(struct gateway *gw, struct store_tx *tx,
                                 struct consent_event *e, int *changed,
                                 struct event *ev)
{
  enum lb_err rc = store_tx_consent_change(tx, e, changed);
  if (rc || !*changed)
    return rc;
  memset(ev, 0, sizeof *ev);
  ev->type = e->state == CONSENT_OPTED_OUT ? EVENT_PATIENT_OPTED_OUT
                                           : EVENT_PATIENT_OPTED_IN;
  ev->patient = e->patient;
  ev->consent = e;
  return gw_emit_in_tx(gw, tx, ev);
}

void gw_render_reply(const struct gateway *gw, const char *tpl, char *out,
                     size_t n)
{
  const struct config *c = gw->cfg;
  size_t j = 0;
  while (*tpl && j + 1 < n) {
    const char *v = NULL;
    size_t skip = 0;
    if (strncmp(tpl, "{clinic}", 8) == 0)
      v = c->clinic_name, skip = 8;
    else if (strncmp(tpl, "{phone}", 7) == 0)
      v = c->clinic_phone[0] ? c->clinic_phone : c->number, skip = 7;
    if (v) {
      j += (size_t)snprintf(out + j, n - j, "%s", v);
      if (j >= n)
        j = n - 1;
      tpl += skip;
    } else {
      out[j++] = *tpl++;
    }
  }
  out[j] = '\0';
}

int gw_opted_out_result(struct gateway *gw, const struct message *m,
                        struct send_result *sr)
{
  struct consent c;
  char since[LB_ISO8601_LEN], how[CONSENT_REASON_MAX + 100];
  if (m->purpose == PURPOSE_CONSENT)
    return 0; /* the confirmation of the choice itself */
  if (store_patient_consent(gw->store, m->to, &c) != LB_OK || !c.opted_out)
    return 0;
  clock_iso8601(c.since, since, sizeof since);
  consent_describe(&c.last, how, sizeof how);
  memset(sr, 0, sizeof *sr);
  sr->outcome = SEND_FINAL;
  /* About the recipient: no other route reaches them either. */
  sr->recipient = RECIPIENT_REFUSED;
  snprintf(sr->error_code, sizeof sr->error_code, "opted_out");
  snprintf(sr->error_text, sizeof sr->error_text,
           "not sent: the patient opted out on %.10s (%s); lyrebird sends "
           "them nothing until they opt in again",
           since, how);
  return 1;
}

struct set_tx {
  struct gateway *gw;
  struct consent_event *e;
  const struct gw_actor *who;
  int changed;
  struct event ev;
};

static enum lb_err set_in_tx(struct store_tx *tx, void *arg)
{
  struct set_tx *s = arg;
  struct audit_entry a;
  enum lb_err rc = gw_tx_consent_change(s->gw, tx, s->e, &s->changed, &s->ev);
  if (rc || !s->changed)
    return rc;
  audit_entry_init(&a, s->who->kind, s->who->name,
                   s->e->state == CONSENT_OPTED_IN ? "consent.opted_in"
                                                   : "consent.opted_out",
                   s->e->patient, s->e->id, s->who->ip);
  gw_audit_detail(&a, "reason", s->e->reason);
  return store_tx_audit(tx, &a);
}

enum lb_err gw_consent_set(struct gateway *gw, const char *patient,
                           enum consent_state state, const struct gw_actor *who,
                           const char *reason, struct consent_event *out,
                           int *changed)
{
  struct set_tx s = {.gw = gw, .e = out, .who = who};
  enum lb_err rc;
  memset(out, 0, sizeof *out);
  *changed = 0;
  if (!reason || !reason[0])
    return LB_EINVAL;
  snprintf(out->patient, sizeof out->patient, "%s", patient);
  out->state = state;
  out->source = strcmp(who->kind, "key") == 0 ? CONSENT_API : CONSENT_STAFF;
  snprintf(out->actor, sizeof out->actor, "%s", who->name ? who->name : "");
  str_copy(out->reason, sizeof out->reason, reason);
  rc = store_write(gw->store, set_in_tx, &s);
  if (!rc && s.changed)
    gw_emit_committed(gw, &s.ev);
  *changed = s.changed;
  return rc;
}
