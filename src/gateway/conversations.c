/* Reading a conversation, and editing what lyrebird knows of a patient:
 * each a transaction that emits the conversation's change. */
#include <stdio.h>
#include <string.h>

#include "gateway/internal.h"

enum lb_err gw_patient_number(const struct gateway *gw, const char *in,
                              char out[LB_E164_SIZE], char *why, size_t whylen)
{
  return phone_parse(in, gw->cfg->region, out, why, whylen);
}

struct conv_tx {
  struct gateway *gw;
  const char *patient;
  const char *name, *dob; /* gw_patient_update */
  const struct gw_actor *who;
  struct event ev;
};

static enum lb_err emit_conversation(struct conv_tx *c, struct store_tx *tx,
                                     enum event_type type)
{
  memset(&c->ev, 0, sizeof c->ev);
  c->ev.type = type;
  c->ev.patient = c->patient;
  return gw_emit_in_tx(c->gw, tx, &c->ev);
}

static void emit_conversation_committed(struct conv_tx *c)
{
  gw_emit_committed(c->gw, &c->ev);
}

static enum lb_err read_in_tx(struct store_tx *tx, void *arg)
{
  struct conv_tx *c = arg;
  enum lb_err rc =
      store_tx_conversation_read(tx, c->gw->cfg->number, c->patient);
  return rc ? rc : emit_conversation(c, tx, EVENT_CONVERSATION_READ);
}

enum lb_err gw_conversation_read(struct gateway *gw, const char *patient)
{
  struct conv_tx c = {.gw = gw, .patient = patient};
  enum lb_err rc = store_write(gw->store, read_in_tx, &c);
  if (!rc)
    emit_conversation_committed(&c);
  return rc;
}

static enum lb_err update_in_tx(struct store_tx *tx, void *arg)
{
  struct conv_tx *c = arg;
  enum lb_err rc = LB_OK;
  if (c->name)
    rc = store_tx_patient_rename(tx, c->patient, c->name);
  if (!rc && c->dob)
    rc = store_tx_patient_set_dob(tx, c->patient, c->dob);
  if (!rc && c->who) {
    /* Which fields changed, not their values: the record holds those. */
    struct audit_entry a;
    audit_entry_init(&a, c->who->kind ? c->who->kind : "system", c->who->name,
                     "patient.updated", c->patient, NULL, c->who->ip);
    gw_audit_detail(&a, "fields",
                    c->name && c->dob ? "name,dob"
                    : c->name         ? "name"
                                      : "dob");
    rc = store_tx_audit(tx, &a);
  }
  return rc ? rc : emit_conversation(c, tx, EVENT_CONVERSATION);
}

enum lb_err gw_patient_update(struct gateway *gw, const char *patient,
                              const char *name, const char *dob,
                              const struct gw_actor *who)
{
  struct conv_tx c = {
      .gw = gw, .patient = patient, .name = name, .dob = dob, .who = who};
  enum lb_err rc = store_write(gw->store, update_in_tx, &c);
  if (!rc)
    emit_conversation_committed(&c);
  return rc;
}
