/* Provider webhooks: the form or query decoded (libmicrohttpd), the
 * signature verified and the body parsed by the adapter, then one gateway
 * call (gw_receive, gw_receipt); the answer comes only after the commit.
 * Only the number's host provider may post inbound messages here: it is the
 * only one that receives for the number. */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/handlers.h"
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
static enum lb_err hook_begin(struct api *a, struct http_req *r, int status,
                              struct hook_request *hr, struct hook_params *p,
                              const struct provider **pv)
{
  char why[300];
  enum lb_err rc;
  memset(p, 0, sizeof *p);
  if ((rc = gw_hook_provider(a->gw, r->params[0], status, pv, why,
                             sizeof why))) {
    http_reply_error(r, 404, "unknown_provider", "%s", why);
    return rc;
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
    return LB_ETOOBIG;
  }
  hr->params = p->items;
  hr->n_params = p->n;
  rc = (*pv)->ops->verify_hook(*pv, hr);
  if (rc == LB_EAUTH) {
    http_reply_error(r, 401, "unauthorized",
                     "the webhook carries no credentials");
    return rc;
  }
  if (rc) {
    log_warn("hook.signature",
             "rejected a %s webhook with a bad signature "
             "from %s",
             (*pv)->ops->name, r->remote);
    http_reply_error(r, 403, "bad_signature",
                     "the webhook signature does not verify");
    return rc;
  }
  return LB_OK;
}

/* An inbound webhook parked (http_suspend) while the gateway stores its
 * message, so no HTTP thread waits for the commit. */
struct inbound_ctx {
  struct api *a;
  struct http_req *r;
  const struct provider *pv;
  struct gw_inbound *in; /* the gateway's, until gw_receive_finish */
  enum lb_err rc;        /* a synchronous failure of gw_receive */
  char why[300];
};

static void inbound_ctx_free(void *p)
{
  struct inbound_ctx *x = p;
  struct gw_received got;
  /* The request ended after the commit but before its answer: the
   * gateway's part still finishes (the message is stored either way). */
  if (x && x->in)
    gw_receive_finish(x->in, &got);
  free(x);
}

/* Runs on an HTTP thread once the commit is done: only now answer 200. */
static void inbound_committed(void *cls, struct http_req *r)
{
  struct inbound_ctx *x = r->ctx;
  struct gw_received got = {LB_OK, ""};
  (void)cls;
  if (x->rc == LB_EPHONE) {
    http_reply_error(r, 400, "invalid_number", "%s", x->why);
    return;
  }
  if (x->rc == LB_ENOTFOUND) {
    http_reply_error(r, 422, "unknown_number", "%s", x->why);
    return;
  }
  if (x->rc == LB_EIO || x->rc == LB_ENOMEM) {
    http_reply_error(r, 503, "storage_unavailable",
                     "media could not be stored; retry later");
    return;
  }
  if (x->rc) {
    api_store_error(r, x->rc);
    return;
  }
  gw_receive_finish(x->in, &got);
  x->in = NULL;
  if (got.rc && got.rc != LB_EDUPLICATE) {
    api_store_error(r, got.rc);
    return;
  }
  hook_ok(x->pv, r,
          json_pack("{s:b, s:s, s:b}", "ok", 1, "id", got.id, "duplicate",
                    got.rc == LB_EDUPLICATE));
}

/* Runs wherever the store finished: wake the parked request. */
static void inbound_done(void *arg)
{
  struct inbound_ctx *x = arg;
  http_resume(x->r);
}

void h_hook_inbound(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct hook_request hr;
  struct hook_params hp;
  const struct provider *pv;
  struct inbound_msg in;
  struct inbound_ctx *x = NULL;
  char why[300];
  enum lb_err rc;

  inbound_msg_init(&in);
  if (hook_begin(a, r, 0, &hr, &hp, &pv))
    goto out;
  why[0] = '\0';
  if ((rc = pv->ops->parse_inbound(pv, &hr, &in, why, sizeof why))) {
    http_reply_error(r, 400, "invalid_request", "%s",
                     why[0] ? why : lb_strerror(rc));
    goto out;
  }
  if (!(x = calloc(1, sizeof *x))) {
    http_reply_error(r, 503, "overloaded", "out of memory; try again");
    goto out;
  }
  x->a = a;
  x->r = r;
  x->pv = pv;
  /* Park first, then hand over: the commit may finish at once. */
  http_suspend(r, inbound_committed, x, inbound_ctx_free);
  if ((x->rc = gw_receive(a->gw, pv, &in, inbound_done, x, &x->in, x->why,
                          sizeof x->why)))
    http_resume(r);
out:
  inbound_msg_release(&in);
  buf_release(&hp.arena);
}

void h_hook_status(void *cls, struct http_req *r)
{
  struct api *a = cls;
  struct hook_request hr;
  struct hook_params hp;
  const struct provider *pv;
  struct status_update su;
  char why[300], id[LB_ID_SIZE];
  enum lb_err rc;

  memset(&su, 0, sizeof su);
  if (hook_begin(a, r, 1, &hr, &hp, &pv))
    goto out;
  why[0] = '\0';
  if ((rc = pv->ops->parse_status(pv, &hr, &su, why, sizeof why))) {
    http_reply_error(r, 400, "invalid_request", "%s",
                     why[0] ? why : lb_strerror(rc));
    goto out;
  }
  rc = gw_receipt(a->gw, pv, &su, id);
  if (rc == LB_ENOTFOUND) {
    /* Not ours (or not any more): acknowledge, so it is not redelivered. */
    hook_ok(pv, r, json_pack("{s:b, s:b}", "ok", 1, "matched", 0));
    goto out;
  }
  if (rc) {
    api_store_error(r, rc);
    goto out;
  }
  hook_ok(pv, r, json_pack("{s:b, s:b, s:s}", "ok", 1, "matched", 1, "id", id));
out:
  buf_release(&hp.arena);
}
