/* What providers tell us: a patient's message (with its media, and the
 * provider's opt-out report), stored in one transaction before the
 * webhook is answered; and delivery receipts. Only the number's host
 * receives for it; receipts also come from the allowed second sender. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/internal.h"
#include "media/intake.h"
#include "outbox/fetchq.h"
#include "util/clock.h"
#include "util/log.h"

enum lb_err gw_hook_provider(const struct gateway *gw, const char *name,
                             int status, const struct provider **out, char *why,
                             size_t whylen)
{
  const struct provider_set *ps = &gw->providers;
  const struct provider *p = provider_set_get(ps, name);
  *out = NULL;
  if (p && p != &ps->host && !status) {
    snprintf(why, whylen,
             "%s only sends the clinic's MMS from another number; replies to "
             "that number are not received here (its number's host provider "
             "is %s)",
             name, ps->host.ops->name);
    return LB_ENOTFOUND;
  }
  if (!p) {
    snprintf(why, whylen,
             "this gateway does not receive from '%s'; its number's host "
             "provider is %s",
             name, ps->host.ops->name);
    return LB_ENOTFOUND;
  }
  *out = p;
  return LB_OK;
}

/* An inbound message between its parse and its commit. It lives on the
 * heap: the caller is told only once the store has committed it. */
struct gw_inbound {
  struct gateway *gw;
  struct message m;
  struct media md[LB_MEDIA_MAX];
  size_t n_md;
  /* Media the provider sent as links: fetched after the commit (the fetch
   * queue), never before, so a slow or hostile URL cannot cost the
   * message. */
  char *urls[LB_MEDIA_MAX];
  size_t n_urls;
  int provider_opt_out; /* the provider reported an opt-out */
  enum keyword_kind keyword;
  /* The consent changes the message made, and the reply to send (the
   * confirmation, or the help text), in the same transaction. */
  struct consent_event consent[2];
  int changed[2];
  struct message reply;
  int has_reply, reply_queued;
  /* What the transaction emits: the message, the consent changes, the
   * reply; heard again after the commit. */
  struct event ev, consent_ev[2], reply_ev;
  /* A conversation that was done is open again: the patient wrote. */
  struct conv_team team;
  struct event team_ev;
  int reopened;
  enum lb_err rc; /* the commit's */
  void (*done)(void *arg);
  void *arg;
};

static void inbound_free(struct gw_inbound *x)
{
  message_release(&x->m);
  message_release(&x->reply);
  for (size_t i = 0; i < x->n_urls; i++)
    free(x->urls[i]);
  free(x);
}

static enum lb_err receive_in_tx(struct store_tx *tx, void *arg)
{
  struct gw_inbound *x = arg;
  int answers = x->gw->providers.host.caps.answers_keywords;
  enum lb_err rc;
  x->changed[0] = x->changed[1] = x->reply_queued = x->reopened = 0;
  rc = store_tx_conversation_team(tx, x->m.to, x->m.from, &x->team);
  if (rc && rc != LB_ENOTFOUND)
    return rc;
  x->reopened = !rc && x->team.state == CONV_DONE;
  if ((rc = store_tx_receive(tx, &x->m, x->md, x->n_md,
                             (const char *const *)x->urls, x->n_urls)))
    return rc; /* LB_EDUPLICATE too: the whole transaction is undone */
  x->ev = event_of_message(&x->m, CHANGE_CREATED, NULL);
  if ((rc = gw_emit_in_tx(x->gw, tx, &x->ev)))
    return rc;
  if (x->reopened) { /* store_tx_receive opened it */
    x->team.state = CONV_OPEN;
    memset(&x->team_ev, 0, sizeof x->team_ev);
    x->team_ev.type = EVENT_CONVERSATION_STATE;
    x->team_ev.patient = x->m.from;
    x->team_ev.team = &x->team;
    if ((rc = gw_emit_in_tx(x->gw, tx, &x->team_ev)))
      return rc;
  }
  /* The provider's report first (its own opt-out webhook, or an error
   * it gave), then the keyword: a STOP that the provider also reports is
   * one opt-out, recorded as the provider's. */
  if (x->provider_opt_out &&
      (rc = gw_tx_consent_change(x->gw, tx, &x->consent[1], &x->changed[1],
                                 &x->consent_ev[1])))
    return rc;
  if (x->keyword == KEYWORD_OPT_OUT || x->keyword == KEYWORD_OPT_IN) {
    if ((rc = gw_tx_consent_change(x->gw, tx, &x->consent[0], &x->changed[0],
                                   &x->consent_ev[0])))
      return rc;
  }
  /* One reply: to a change (not to STOP twice), or to HELP; none when the
   * provider answers keywords itself. */
  if (x->has_reply && !answers &&
      (x->keyword == KEYWORD_HELP || x->changed[0] ||
       (x->keyword == KEYWORD_OPT_OUT && x->changed[1]))) {
    x->reply_ev = event_of_message(&x->reply, CHANGE_CREATED, NULL);
    if ((rc = store_tx_enqueue(tx, &x->reply, NULL, NULL, NULL)) ||
        (rc = gw_emit_in_tx(x->gw, tx, &x->reply_ev)))
      return rc;
    x->reply_queued = 1;
  }
  return LB_OK;
}

/* After the commit, on whichever thread the store finished on (its
 * writer): only the result is noted, and the caller told. The rest is
 * gw_receive_finish's, on the caller's own thread. */
static void received(void *arg, enum lb_err rc)
{
  struct gw_inbound *x = arg;
  x->rc = rc;
  x->done(x->arg);
}

void gw_receive_finish(struct gw_inbound *x, struct gw_received *res)
{
  res->rc = x->rc;
  snprintf(res->id, sizeof res->id, "%s", x->m.id);
  if (x->rc == LB_OK) {
    gw_emit_committed(x->gw, &x->ev);
    if (x->reopened)
      gw_emit_committed(x->gw, &x->team_ev);
    for (int i = 1; i >= 0; i--)
      if (x->changed[i])
        gw_emit_committed(x->gw, &x->consent_ev[i]);
    if (x->reply_queued) {
      gw_emit_committed(x->gw, &x->reply_ev);
      gw_outbox_wake(x->gw);
    }
    if (x->n_urls)
      store_notify(x->gw->store, STORE_CH_FETCH);
  }
  inbound_free(x);
}

/* What the message says about the patient's choice: a keyword, the
 * provider's report, and the reply to queue. */
static enum lb_err prepare_consent(struct gateway *gw, const struct provider *p,
                                   const struct inbound_msg *in,
                                   struct gw_inbound *x)
{
  const struct config *c = gw->cfg;
  const struct message *m = &x->m;
  const char *tpl = NULL;
  char text[LB_TEXT_MAX_CHARS], word[KEYWORD_BYTES];
  x->keyword = keywords_match(&gw->keywords, m->text ? m->text : "",
                              m->text ? strlen(m->text) : 0);
  x->provider_opt_out = in->opt_out;
  if (x->keyword == KEYWORD_OPT_OUT || x->keyword == KEYWORD_OPT_IN) {
    struct consent_event *e = &x->consent[0];
    snprintf(e->patient, sizeof e->patient, "%s", m->from);
    e->state =
        x->keyword == KEYWORD_OPT_OUT ? CONSENT_OPTED_OUT : CONSENT_OPTED_IN;
    e->source = CONSENT_KEYWORD;
    snprintf(e->message_id, sizeof e->message_id, "%s", m->id);
    snprintf(e->provider, sizeof e->provider, "%s", p->ops->name);
    /* The word as the patient sent it, for the history. */
    snprintf(word, sizeof word, "%.*s", (int)strcspn(m->text, "\r\n"), m->text);
    str_copy(e->reason, sizeof e->reason, word);
    e->at = m->created_at;
    tpl = x->keyword == KEYWORD_OPT_OUT ? c->optout_reply : c->optin_reply;
  } else if (x->keyword == KEYWORD_HELP) {
    tpl = c->help_reply;
  }
  if (in->opt_out) {
    struct consent_event *e = &x->consent[1];
    snprintf(e->patient, sizeof e->patient, "%s", m->from);
    e->state = CONSENT_OPTED_OUT;
    e->source = CONSENT_PROVIDER;
    snprintf(e->message_id, sizeof e->message_id, "%s", m->id);
    snprintf(e->provider, sizeof e->provider, "%s", p->ops->name);
    e->at = m->created_at;
  }
  if (!tpl || !tpl[0])
    return LB_OK;
  gw_render_reply(gw, tpl, text, sizeof text);
  x->has_reply = 1;
  return gw_text_message(gw, m->from, text,
                         x->keyword == KEYWORD_HELP
                             ? "The reply to the patient's help keyword, on "
                               "the same number."
                             : "The confirmation of the patient's choice, "
                               "sent even when they opted out.",
                         PURPOSE_CONSENT, &x->reply);
}

enum lb_err gw_receive(struct gateway *gw, const struct provider *p,
                       struct inbound_msg *in, void (*done)(void *arg),
                       void *arg, struct gw_inbound **out, char *why,
                       size_t whylen)
{
  const struct config *c = gw->cfg;
  char from[LB_E164_SIZE], to[LB_E164_SIZE], msg[300];
  char rejected[LB_ERRTEXT_MAX] = "";
  struct intake_limits lim;
  struct gw_inbound *x;
  struct message *m;
  enum lb_err rc;

  /* The carrier vouches for these; E.164 is taken as it is, and only
   * other forms go through libphonenumber (a hot path under load). */
  if (phone_is_e164(in->from))
    snprintf(from, sizeof from, "%s", in->from);
  else if (phone_parse(in->from, c->region, from, msg, sizeof msg)) {
    snprintf(why, whylen, "sender: %s", msg);
    return LB_EPHONE;
  }
  if (strcmp(in->to, c->number) == 0)
    snprintf(to, sizeof to, "%s", in->to);
  else if (phone_parse(in->to, c->region, to, msg, sizeof msg) ||
           strcmp(to, c->number) != 0) {
    snprintf(why, whylen, "this gateway hosts %s, not '%s'", c->number, in->to);
    return LB_ENOTFOUND;
  }
  if (!(x = calloc(1, sizeof *x))) {
    snprintf(why, whylen, "out of memory; try again");
    return LB_ENOMEM;
  }
  x->gw = gw;
  x->done = done;
  x->arg = arg;
  m = &x->m;
  message_init(m);
  message_init(&x->reply);
  /* Media that cannot be accepted never costs the message: it is stored
   * without it, with the reason. */
  intake_limits_from_config(c, &lim);
  for (size_t i = 0; i < in->n_media; i++) {
    if (in->media[i].url) {
      x->urls[x->n_urls++] = in->media[i].url;
      in->media[i].url = NULL;
      continue;
    }
    rc = media_intake(gw->blobs, &lim, in->media[i].data, in->media[i].len,
                      &x->md[x->n_md], msg, sizeof msg);
    if (rc == LB_EMEDIATYPE || rc == LB_ETOOBIG || rc == LB_EINVAL) {
      snprintf(rejected, sizeof rejected, "media item %zu not kept: %s", i + 1,
               msg);
      continue;
    }
    if (rc) {
      snprintf(why, whylen, "media could not be stored; retry later");
      inbound_free(x);
      return LB_EIO;
    }
    /* both ids are NUL-ended */
    memcpy(m->media_ids[x->n_md], x->md[x->n_md].id, LB_ID_SIZE);
    x->n_md++;
  }
  m->n_media = x->n_md;
  id_new(m->id);
  m->direction = DIR_INBOUND;
  snprintf(m->from, sizeof m->from, "%s", from);
  snprintf(m->to, sizeof m->to, "%s", to);
  m->text = in->text;
  in->text = NULL;
  m->status = ST_RECEIVED;
  snprintf(m->provider, sizeof m->provider, "%s", p->ops->name);
  snprintf(m->provider_msg_id, sizeof m->provider_msg_id, "%s",
           in->provider_msg_id);
  if (rejected[0])
    message_set_error(m, "media_rejected", rejected, 0);
  m->created_at = m->updated_at = clock_now_ms();
  if ((rc = prepare_consent(gw, p, in, x))) {
    snprintf(why, whylen, "out of memory; try again");
    inbound_free(x);
    return rc;
  }

  /* The handle first: the commit may finish before the call returns. */
  *out = x;
  if ((rc = store_write_async(gw->store, receive_in_tx, x, received, x))) {
    *out = NULL;
    snprintf(why, whylen, "the database could not take the message (%s)",
             lb_strerror(rc));
    inbound_free(x);
  }
  return rc;
}

/* A receipt: applied, then the message as it now stands emitted. */
struct receipt_tx {
  struct gateway *gw;
  const struct provider *p;
  const struct status_update *su;
  char *id;
  struct message after;
  int moved;
  struct event ev;
};

static enum lb_err receipt_in_tx(struct store_tx *tx, void *arg)
{
  struct receipt_tx *r = arg;
  enum lb_err rc = store_tx_status_apply(
      tx, r->p->ops->name, r->su->provider_msg_id, r->su->ref, r->su->status,
      r->su->error_code, r->su->error_text, r->id, &r->moved);
  /* A repeated receipt, or one too late to count, changes nothing. */
  if (rc || !r->moved || (rc = store_tx_message_get(tx, r->id, &r->after)))
    return rc;
  r->ev = event_of_message(&r->after, CHANGE_STATUS,
                           r->after.error_text[0] ? r->after.error_text
                                                  : "delivery receipt");
  return gw_emit_in_tx(r->gw, tx, &r->ev);
}

enum lb_err gw_receipt(struct gateway *gw, const struct provider *p,
                       const struct status_update *su, char id[LB_ID_SIZE])
{
  struct receipt_tx r = {.gw = gw, .p = p, .su = su, .id = id};
  enum lb_err rc;
  message_init(&r.after);
  id[0] = '\0';
  rc = store_write(gw->store, receipt_in_tx, &r);
  if (rc == LB_ENOTFOUND)
    log_warn("hook.status", "receipt for an unknown %s message", p->ops->name);
  else if (rc == LB_OK && r.moved)
    gw_emit_committed(gw, &r.ev);
  message_release(&r.after);
  return rc;
}
