/* Provider webhooks: verify, parse with the adapter, dedupe, store media,
 * commit, and only then answer 200. Only the number's host provider may
 * post here: it is the only one that receives for the number. */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/handlers.h"
#include "outbox/fetchq.h"
#include "media/intake.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

static const char *hook_header(void *ctx, const char *name)
{
  return http_header(ctx, name);
}

static const char *hook_query(void *ctx, const char *name)
{
  return http_query(ctx, name);
}

/* A webhook's decoded form fields (or query arguments), for adapters that
 * take form posts or GETs. libmicrohttpd decodes them; names and values
 * are copied into one bounded arena and pointed at once complete. */
struct hook_params {
  struct wire_param items[LB_HOOK_PARAMS_MAX];
  size_t offs[LB_HOOK_PARAMS_MAX][2];
  size_t n;
  struct buf arena;
  int overflow;
};

static int param_add(struct hook_params *p, const char *key, const char *data,
                     size_t size, int more)
{
  if (p->overflow)
    return 0;
  if (!more) {
    if (p->n == LB_HOOK_PARAMS_MAX) {
      p->overflow = 1;
      return 0;
    }
    p->offs[p->n][0] = p->arena.len;
    if (buf_append(&p->arena, key, strlen(key) + 1)) {
      p->overflow = 1;
      return 0;
    }
    p->offs[p->n][1] = p->arena.len;
    p->n++;
  } else if (p->arena.len) {
    p->arena.len--; /* a value in pieces: drop its NUL, then go on */
  }
  if ((size && buf_append(&p->arena, data, size)) ||
      buf_append(&p->arena, "", 1))
    p->overflow = 1;
  return 0;
}

static enum MHD_Result on_form_field(void *cls, enum MHD_ValueKind kind,
                                     const char *key, const char *filename,
                                     const char *ctype, const char *encoding,
                                     const char *data, uint64_t off,
                                     size_t size)
{
  (void)kind;
  (void)filename;
  (void)ctype;
  (void)encoding;
  param_add(cls, key ? key : "", data, size, off > 0);
  return MHD_YES;
}

static enum MHD_Result on_query_arg(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value)
{
  (void)kind;
  param_add(cls, key ? key : "", value ? value : "", value ? strlen(value) : 0,
            0);
  return MHD_YES;
}

/* Fills p from the urlencoded body, or else from the query string. */
static void params_parse(struct http_req *r, struct hook_params *p)
{
  const char *ct = http_header(r, "Content-Type");
  memset(p, 0, sizeof *p);
  buf_init(&p->arena, r->body.len + sizeof r->query + 4096);
  if (strcmp(r->method, "POST") == 0 && ct &&
      strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
    struct MHD_PostProcessor *pp =
        MHD_create_post_processor(r->conn, 4096, on_form_field, p);
    if (pp) {
      MHD_post_process(pp, r->body.data ? r->body.data : "", r->body.len);
      MHD_destroy_post_processor(pp);
    }
  } else {
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, on_query_arg, p);
  }
  for (size_t i = 0; i < p->n; i++) {
    p->items[i].name = p->arena.data + p->offs[i][0];
    p->items[i].value = p->arena.data + p->offs[i][1];
  }
}

/* 200 for a handled webhook: the adapter's own body (Twilio wants TwiML),
 * else the JSON given (consumed either way). */
static void hook_ok(const struct provider *pv, struct http_req *r, json_t *json)
{
  const struct provider_ops *ops = pv->ops;
  if (ops->hook_reply_body) {
    char *b = strdup(ops->hook_reply_body);
    json_decref(json);
    if (b) {
      http_reply_bytes(r, 200, ops->hook_reply_type, b, strlen(b));
      return;
    }
    json = NULL;
  }
  http_reply_json(r, 200, json ? json : json_pack("{s:b}", "ok", 1));
}

/* Checks the provider and the signature; answers itself on failure, else
 * sets *pv to the provider the webhook is from: the host, or for receipts
 * (status) also the allowed second sender. 'p' (the form fields) must stay
 * valid while hr is used; release it with buf_release(&p->arena). */
static int hook_begin(struct app *a, struct http_req *r, int status,
                      struct hook_request *hr, struct hook_params *p,
                      const struct provider **pv)
{
  int rc;
  memset(p, 0, sizeof *p);
  *pv = app_provider(a, r->params[0]);
  if (*pv && *pv != &a->host && !status) {
    http_reply_error(r, 404, "unknown_provider",
                     "%s only sends the clinic's MMS from another number; "
                     "replies to that number are not received here (its "
                     "number's host provider is %s)",
                     r->params[0], a->host.ops->name);
    return -1;
  }
  if (!*pv) {
    http_reply_error(r, 404, "unknown_provider",
                     "this gateway does not receive from '%s'; its number's "
                     "host provider is %s",
                     r->params[0], a->host.ops->name);
    return -1;
  }
  memset(hr, 0, sizeof *hr);
  hr->method = r->method;
  hr->path = r->path;
  hr->public_url = a->cfg->public_url;
  hr->content_type = http_header(r, "Content-Type");
  hr->body = r->body.data ? r->body.data : "";
  hr->body_len = r->body.len;
  hr->header = hook_header;
  hr->query = hook_query;
  hr->ctx = r;
  hr->now_s = clock_now_ms() / 1000;
  hr->query_string = http_query_string(r);
  params_parse(r, p);
  if (p->overflow) {
    http_reply_error(r, 413, "body_too_large",
                     "the webhook has more than %d fields, or larger ones "
                     "than fit",
                     LB_HOOK_PARAMS_MAX);
    return -1;
  }
  hr->params = p->items;
  hr->n_params = p->n;
  rc = (*pv)->ops->verify_hook(*pv, hr);
  if (rc == LB_EAUTH) {
    http_reply_error(r, 401, "unauthorized",
                     "the webhook carries no credentials");
    return -1;
  }
  if (rc) {
    log_warn("hook.signature",
             "rejected a %s webhook with a bad signature "
             "from %s",
             (*pv)->ops->name, r->remote);
    http_reply_error(r, 403, "bad_signature",
                     "the webhook signature does not verify");
    return -1;
  }
  return 0;
}

/* An inbound message between its parse and its commit. It lives on the
 * heap because the request is parked (http_suspend) while the store's
 * writer commits it, so no HTTP thread waits. */
struct inbound_ctx {
  struct http_req *r;
  struct message m;
  struct media md[LB_MEDIA_MAX];
  /* Media the provider sent as links: fetched after the commit (outbox/
   * fetch.c), never before, so a slow or hostile URL cannot cost the
   * message. */
  char *urls[LB_MEDIA_MAX];
  size_t n_urls;
  int opt_out; /* the provider says the patient opted out */
  int rc;      /* the commit's result */
};

static void inbound_ctx_free(void *p)
{
  struct inbound_ctx *x = p;
  if (!x)
    return;
  message_release(&x->m);
  for (size_t i = 0; i < x->n_urls; i++)
    free(x->urls[i]);
  free(x);
}

/* Runs on an HTTP thread once the commit is done: only now answer 200. */
static void inbound_committed(void *cls, struct http_req *r)
{
  struct inbound_ctx *x = r->ctx;
  if (x->rc && x->rc != LB_EDUPLICATE) {
    api_store_error(r, x->rc);
    return;
  }
  hook_ok(&((struct app *)cls)->host, r,
          json_pack("{s:b, s:s, s:b}", "ok", 1, "id", x->m.id, "duplicate",
                    x->rc == LB_EDUPLICATE));
  if (x->rc != LB_EDUPLICATE)
    app_notify_message(cls, x->m.id);
  if (x->rc != LB_EDUPLICATE && x->n_urls)
    fetchq_kick(((struct app *)cls)->fetcher);
  if (x->rc != LB_EDUPLICATE && x->opt_out) {
    struct app *a = cls;
    char source[96];
    snprintf(source, sizeof source, "%s reported an opt-out",
             a->host.ops->name);
    if (store_patient_opt_out(a->store, x->m.from, source))
      log_warn("hook.optout", "the opt-out in %s was not recorded", x->m.id);
  }
}

/* Runs on the store's writer thread. */
static void inbound_done(void *arg, int rc)
{
  struct inbound_ctx *x = arg;
  x->rc = rc;
  http_resume(x->r);
}

void h_hook_inbound(void *cls, struct http_req *r)
{
  struct app *a = cls;
  const struct config *c = a->cfg;
  struct hook_request hr;
  struct hook_params hp;
  const struct provider *pv;
  struct inbound_msg in;
  struct inbound_ctx *x = NULL;
  struct message *m;
  char why[300], from[LB_E164_SIZE], to[LB_E164_SIZE], rejected[LB_ERRTEXT_MAX];
  struct intake_limits lim;
  size_t n = 0;
  int rc;

  inbound_msg_init(&in);
  rejected[0] = '\0';
  if (hook_begin(a, r, 0, &hr, &hp, &pv))
    goto out;
  why[0] = '\0';
  if ((rc = pv->ops->parse_inbound(pv, &hr, &in, why, sizeof why))) {
    http_reply_error(r, 400, "invalid_request", "%s",
                     why[0] ? why : lb_strerror(rc));
    goto out;
  }
  /* The carrier vouches for these; E.164 is taken as it is, and only
   * other forms go through libphonenumber (a hot path under load). */
  if (phone_is_e164(in.from))
    snprintf(from, sizeof from, "%s", in.from);
  else if (phone_parse(in.from, c->region, from, why, sizeof why)) {
    http_reply_error(r, 400, "invalid_number", "sender: %s", why);
    goto out;
  }
  if (strcmp(in.to, c->number) == 0)
    snprintf(to, sizeof to, "%s", in.to);
  else if (phone_parse(in.to, c->region, to, why, sizeof why) ||
           strcmp(to, c->number) != 0) {
    http_reply_error(r, 422, "unknown_number",
                     "this gateway hosts %s, not '%s'", c->number, in.to);
    goto out;
  }
  x = calloc(1, sizeof *x);
  if (!x) {
    http_reply_error(r, 503, "overloaded", "out of memory; try again");
    goto out;
  }
  x->r = r;
  m = &x->m;
  /* Media that cannot be accepted never costs the message: it is stored
   * without it, with the reason. */
  intake_limits_from_config(c, &lim);
  for (size_t i = 0; i < in.n_media; i++) {
    if (in.media[i].url) {
      x->urls[x->n_urls++] = in.media[i].url;
      in.media[i].url = NULL;
      continue;
    }
    rc = media_intake(a->blobs, &lim, in.media[i].data, in.media[i].len,
                      &x->md[n], why, sizeof why);
    if (rc == LB_EMEDIATYPE || rc == LB_ETOOBIG || rc == LB_EINVAL) {
      snprintf(rejected, sizeof rejected, "media item %zu not kept: %s", i + 1,
               why);
      continue;
    }
    if (rc) {
      http_reply_error(r, 503, "storage_unavailable",
                       "media could not be stored; retry later");
      goto out;
    }
    memcpy(m->media_ids[n], x->md[n].id, LB_ID_SIZE); /* both ids, NUL-ended */
    n++;
  }
  m->n_media = n;
  id_new(m->id);
  m->direction = DIR_INBOUND;
  snprintf(m->from, sizeof m->from, "%s", from);
  snprintf(m->to, sizeof m->to, "%s", to);
  m->text = in.text;
  in.text = NULL;
  m->status = ST_RECEIVED;
  snprintf(m->provider, sizeof m->provider, "%s", a->host.ops->name);
  snprintf(m->provider_msg_id, sizeof m->provider_msg_id, "%s",
           in.provider_msg_id);
  if (rejected[0])
    message_set_error(m, "media_rejected", rejected, 0);
  m->created_at = m->updated_at = clock_now_ms();

  /* Park first, then hand over: the commit may finish at once. */
  x->opt_out = in.opt_out;
  http_suspend(r, inbound_committed, x, inbound_ctx_free);
  rc = store_message_receive_async(a->store, m, x->md, n,
                                   (const char *const *)x->urls, x->n_urls,
                                   inbound_done, x);
  if (rc) {
    x->rc = rc;
    http_resume(r);
  }
  x = NULL; /* the request owns it now */
out:
  inbound_ctx_free(x);
  inbound_msg_release(&in);
  buf_release(&hp.arena);
}

void h_hook_status(void *cls, struct http_req *r)
{
  struct app *a = cls;
  struct hook_request hr;
  struct hook_params hp;
  const struct provider *pv;
  struct status_update su;
  char why[300], id[LB_ID_SIZE];
  int rc;

  memset(&su, 0, sizeof su);
  if (hook_begin(a, r, 1, &hr, &hp, &pv))
    goto out;
  why[0] = '\0';
  if ((rc = pv->ops->parse_status(pv, &hr, &su, why, sizeof why))) {
    http_reply_error(r, 400, "invalid_request", "%s",
                     why[0] ? why : lb_strerror(rc));
    goto out;
  }
  rc = store_status_apply(a->store, pv->ops->name, su.provider_msg_id, su.ref,
                          su.status, su.error_code, su.error_text, id);
  if (rc == LB_ENOTFOUND) {
    /* Not ours (or not any more): acknowledge, so it is not redelivered. */
    log_warn("hook.status", "receipt for an unknown %s message", pv->ops->name);
    hook_ok(pv, r, json_pack("{s:b, s:b}", "ok", 1, "matched", 0));
    goto out;
  }
  if (rc) {
    api_store_error(r, rc);
    goto out;
  }
  hook_ok(pv, r, json_pack("{s:b, s:b, s:s}", "ok", 1, "matched", 1, "id", id));
  app_notify_message(a, id);
out:
  buf_release(&hp.arena);
}
