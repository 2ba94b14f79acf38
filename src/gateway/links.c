/* A patient opening a secure link, and staff withdrawing one. The pages
 * are the viewer's (src/api/viewer.c); the decisions are here: whether the
 * link may be used, the second check (a date of birth, or a one-time code
 * texted from the clinic's number), what is counted, and when it locks. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/patient.h"
#include "gateway/internal.h"
#include "util/clock.h"
#include "util/crypto.h"

#define CODE_MINUTES 10
#define CODE_GAP_MS (60 * 1000)
#define CODE_MAX 5

/* Link-preview fetchers and crawlers, by their user agents: a chat app
 * unfurling the link, not the patient. */
static int looks_like_bot(const char *ua)
{
  static const char *const bots[] = {
      "bot",     "crawler", "spider",   "facebookexternalhit",
      "preview", "slurp",   "whatsapp", "telegram",
      "discord", "embedly", "skypeuri", "curl/",
      "python-", "wget/",   "headless", "go-http-client"};
  char low[256];
  size_t i;
  if (!ua || !ua[0])
    return 1;
  for (i = 0; ua[i] && i + 1 < sizeof low; i++)
    low[i] = (char)(ua[i] >= 'A' && ua[i] <= 'Z' ? ua[i] + 32 : ua[i]);
  low[i] = '\0';
  for (i = 0; i < sizeof bots / sizeof bots[0]; i++)
    if (strstr(low, bots[i]))
      return 1;
  return 0;
}

static json_t *link_audit_detail(const struct link *l, const char *ua)
{
  char agent[200];
  str_copy(agent, sizeof agent, ua ? ua : "");
  return json_pack("{s:b, s:s, s:s}", "bot", looks_like_bot(ua), "user_agent",
                   agent, "message", l->message_id);
}

static void audit_link(struct gateway *gw, const struct link *l,
                       const char *action, const char *ip, const char *ua)
{
  char who[LB_ID_SIZE + 8];
  struct gw_actor a = {"patient", who, ip};
  json_t *d = link_audit_detail(l, ua);
  snprintf(who, sizeof who, "link:%s", l->id);
  gw_audit(gw, &a, action, l->patient, l->id, d);
  json_decref(d);
}

/* A view: counted, on the link's own audit and the audit log, and emitted
 * (link.viewed), in one transaction. */
struct view_tx {
  struct gateway *gw;
  const struct link *l;
  const char *ip, *ua;
  struct link after;
  struct event ev;
  enum link_outcome refusal; /* LINK_VIEWED unless the count refused it */
};

static enum lb_err view_in_tx(struct store_tx *tx, void *arg)
{
  struct view_tx *v = arg;
  char who[LB_ID_SIZE + 8];
  struct gw_actor a = {"patient", who, v->ip};
  struct audit_entry e;
  json_t *d;
  enum lb_err rc = store_tx_link_attempt(tx, v->l->id, LINK_VIEWED,
                                         v->gw->cfg->link_max_failures, v->ip,
                                         v->ua, &v->after);
  if (rc)
    return rc;
  /* The barrier again, on the row as counted in this transaction: another
   * view (on any node) may have used the last one meanwhile, or a wrong
   * answer locked the link. Then nothing of this view is kept. */
  if (v->after.revoked_at)
    v->refusal = LINK_REFUSED_REVOKED;
  else if (v->after.locked_at)
    v->refusal = LINK_REFUSED_LOCKED;
  else if (v->after.max_views && v->after.views > v->after.max_views)
    v->refusal = LINK_REFUSED_USED_UP;
  if (v->refusal != LINK_VIEWED)
    return LB_ECONFLICT;
  snprintf(who, sizeof who, "link:%s", v->l->id);
  d = link_audit_detail(v->l, v->ua);
  gw_audit_prepare(&e, &a, "link.viewed", v->l->patient, v->l->id, d);
  json_decref(d);
  if ((rc = store_tx_audit(tx, &e)))
    return rc;
  memset(&v->ev, 0, sizeof v->ev);
  v->ev.type = EVENT_LINK_VIEWED;
  v->ev.patient = v->l->patient;
  v->ev.link = &v->after;
  return gw_emit_in_tx(v->gw, tx, &v->ev);
}

void gw_link_seen(struct gateway *gw, const struct link *l, const char *ip,
                  const char *ua)
{
  /* A person's GET shows a neutral page and counts nothing; a preview
   * bot's is worth knowing about. */
  if (looks_like_bot(ua))
    audit_link(gw, l, "link.previewed", ip, ua);
}

enum lb_err gw_link_find(struct gateway *gw, const char *token,
                         struct link *out)
{
  char hash[LB_SHA256_HEX];
  if (!gw->cfg->link_secret[0] || strlen(token) > LINK_TOKEN_MAX)
    return LB_ENOTFOUND;
  crypto_sha256_hex(token, strlen(token), hash);
  return store_link_by_token(gw->store, hash, out);
}

enum link_outcome gw_link_barrier(const struct link *l, int64_t now)
{
  if (l->revoked_at)
    return LINK_REFUSED_REVOKED;
  if (now >= l->expires_at)
    return LINK_REFUSED_EXPIRED;
  if (l->locked_at)
    return LINK_REFUSED_LOCKED;
  if (l->max_views && l->views >= l->max_views)
    return LINK_REFUSED_USED_UP;
  return LINK_VIEWED;
}

enum lb_err gw_link_refused(struct gateway *gw, const struct link *l,
                            enum link_outcome o, const char *ip, const char *ua)
{
  return store_link_attempt(gw->store, l->id, o, gw->cfg->link_max_failures, ip,
                            ua, NULL);
}

static void ask(struct gw_link_outcome *out, const char *note)
{
  out->result = GW_LINK_ASK;
  snprintf(out->note, sizeof out->note, "%s", note ? note : "");
}

/* Texts a new one-time code to the link's patient, from the clinic's
 * number like every message. */
static enum lb_err send_code(struct gateway *gw, const struct link *l,
                             struct gw_link_outcome *out)
{
  char code[8], hash[65], text[300], id[LB_ID_SIZE];
  int64_t expires = clock_now_ms() + CODE_MINUTES * 60 * 1000LL;
  enum lb_err rc;
  snprintf(code, sizeof code, "%06u", (unsigned)randombytes_uniform(1000000));
  links_answer_hash(l->id, code, hash);
  rc = store_link_set_code(gw->store, l->id, hash, expires, CODE_GAP_MS,
                           CODE_MAX);
  if (rc == LB_ECONFLICT) {
    sodium_memzero(code, sizeof code);
    ask(out, l->codes_sent >= CODE_MAX
                 ? "No more codes can be sent for this link. Please call the "
                   "clinic."
                 : "A code was sent less than a minute ago. Please wait for "
                   "it, or try again in a minute.");
    return LB_OK;
  }
  snprintf(text, sizeof text,
           "Your code to open the image from %s: %s. It works for %d "
           "minutes. Never share it.",
           gw->cfg->clinic_name, code, CODE_MINUTES);
  sodium_memzero(code, sizeof code);
  if (!rc)
    rc = gw_queue_text(gw, l->patient, text,
                       "A one-time code for a secure link, as an SMS on the "
                       "same number.",
                       id);
  sodium_memzero(text, sizeof text);
  if (rc)
    return rc;
  out->result = GW_LINK_CODE_SENT;
  out->link.code_expires_at = expires;
  snprintf(out->note, sizeof out->note,
           "We have texted you a code. Enter it below.");
  return LB_OK;
}

/* The patient's answer to l's check, as the stored hash's input; LB_EINVAL
 * (with the note to show) when it is not an answer at all, which counts
 * no guess. */
static enum lb_err answer_of(const struct link *l,
                             const struct gw_link_answer *ans,
                             char out[LB_DOB_SIZE], struct gw_link_outcome *o)
{
  char why[200], *end;
  if (strcmp(l->check, "code") == 0) {
    const char *code = ans->code ? ans->code : "";
    if (l->code_expires_at <= clock_now_ms()) {
      ask(o, l->code_expires_at ? "That code has expired. Text yourself a "
                                  "new one."
                                : NULL);
      return LB_EINVAL;
    }
    if (strlen(code) != 6 || strspn(code, "0123456789") != 6) {
      ask(o, "Enter the 6-digit code from the text message.");
      return LB_EINVAL;
    }
    snprintf(out, LB_DOB_SIZE, "%s", code);
    return LB_OK;
  }
  if (!ans->day || !ans->month || !ans->year || !ans->day[0] ||
      !ans->month[0] || !ans->year[0] ||
      dob_from_parts(strtol(ans->day, &end, 10), strtol(ans->month, &end, 10),
                     strtol(ans->year, &end, 10), clock_now_ms(), out, why,
                     sizeof why)) {
    ask(o, "Enter your date of birth: day, month and year (4 digits).");
    return LB_EINVAL;
  }
  return LB_OK;
}

enum lb_err gw_link_open(struct gateway *gw, const struct link *l,
                         const struct gw_link_answer *ans, const char *ip,
                         const char *ua, struct gw_link_outcome *out)
{
  const struct config *c = gw->cfg;
  char answer[LB_DOB_SIZE], hash[65];
  enum lb_err rc;
  int ok;

  memset(out, 0, sizeof *out);
  out->link = *l;
  out->refusal = gw_link_barrier(l, clock_now_ms());
  if (out->refusal != LINK_VIEWED) {
    out->result = GW_LINK_REFUSED;
    return gw_link_refused(gw, l, out->refusal, ip, ua);
  }
  if (strcmp(l->check, "none") != 0) {
    if (strcmp(l->check, "code") == 0 && ans->step &&
        strcmp(ans->step, "send") == 0)
      return send_code(gw, l, out);
    if (answer_of(l, ans, answer, out))
      return LB_OK;
    links_answer_hash(l->id, answer, hash);
    ok = crypto_streq(hash, l->check_hash);
    sodium_memzero(answer, sizeof answer);
    if (!ok) {
      const char *what =
          strcmp(l->check, "code") == 0 ? "code" : "date of birth";
      int left;
      if ((rc = store_link_attempt(gw->store, l->id, LINK_WRONG,
                                   c->link_max_failures, ip, ua, &out->link)))
        return rc;
      if (out->link.locked_at) {
        out->result = GW_LINK_REFUSED;
        out->refusal = LINK_REFUSED_LOCKED;
        return LB_OK;
      }
      left = c->link_max_failures - out->link.failures;
      out->result = GW_LINK_ASK;
      snprintf(out->note, sizeof out->note,
               "That %s does not match. %d more %s before the link locks.",
               what, left, left == 1 ? "try" : "tries");
      return LB_OK;
    }
  }
  {
    struct view_tx v = {
        .gw = gw, .l = l, .ip = ip, .ua = ua, .refusal = LINK_VIEWED};
    rc = store_write(gw->store, view_in_tx, &v);
    if (rc == LB_ECONFLICT && v.refusal != LINK_VIEWED) {
      out->result = GW_LINK_REFUSED;
      out->refusal = v.refusal;
      return gw_link_refused(gw, l, v.refusal, ip, ua);
    }
    if (rc)
      return rc;
    gw_emit_committed(gw, &v.ev);
  }
  out->result = GW_LINK_SHOW;
  return LB_OK;
}

struct revoke_tx {
  struct gateway *gw;
  const char *id, *by;
  struct link *after;
  struct message m;
  struct event ev;
};

static enum lb_err revoke_in_tx(struct store_tx *tx, void *arg)
{
  struct revoke_tx *r = arg;
  enum lb_err rc = store_tx_link_revoke(tx, r->id, r->by, r->after);
  /* The link's message shows the link's state: it is emitted again. */
  if (rc || (rc = store_tx_message_get(tx, r->after->message_id, &r->m)))
    return rc;
  r->ev = event_of_message(&r->m, CHANGE_UPDATED, "link revoked");
  return gw_emit_in_tx(r->gw, tx, &r->ev);
}

enum lb_err gw_link_revoke(struct gateway *gw, const char *id, const char *by,
                           struct link *after)
{
  struct revoke_tx r = {.gw = gw, .id = id, .by = by, .after = after};
  enum lb_err rc;
  message_init(&r.m);
  if ((rc = store_write(gw->store, revoke_in_tx, &r)) == LB_OK)
    gw_emit_committed(gw, &r.ev);
  message_release(&r.m);
  return rc;
}
