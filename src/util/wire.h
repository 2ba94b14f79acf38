/* Plain data for one HTTP exchange with a provider, and for one webhook
 * request from a provider. Adapters (src/providers) fill and read these;
 * src/http performs them. No I/O here.
 *
 * Ownership: each struct owns its bufs; wire_request_release() and
 * wire_response_release() free them. hook_request borrows everything. */
#ifndef LB_WIRE_H
#define LB_WIRE_H

#include <stddef.h>

#include "util/buf.h"

#define LB_URL_MAX 2048
#define LB_WIRE_HEADERS 12
#define LB_WIRE_HEADER_MAX 512
#define LB_WIRE_BODY_MAX (64u * 1024 * 1024) /* MMS with inline media */
#define LB_WIRE_RESPONSE_MAX (1024u * 1024)

struct wire_request {
  const char *method; /* static string: "POST", "GET", ... */
  char url[LB_URL_MAX];
  char headers[LB_WIRE_HEADERS][LB_WIRE_HEADER_MAX]; /* "Name: value" */
  size_t n_headers;
  char userpwd[256]; /* Basic auth "user:secret", "" for none */
  struct buf body;
};

struct wire_response {
  long status;    /* HTTP status, 0 if no answer */
  int error;      /* LB_OK, or LB_ETIMEOUT / LB_EIO for transport */
  int maybe_sent; /* 1 if the request may have reached the provider */
  char error_text[256];
  char content_type[128];
  long retry_after_s; /* from Retry-After, -1 if absent */
  struct buf body;
};

void wire_request_init(struct wire_request *r);
void wire_request_release(struct wire_request *r);
enum lb_err wire_request_header(struct wire_request *r, const char *name,
                                const char *value);
void wire_response_init(struct wire_response *r);
void wire_response_release(struct wire_response *r);

/* One decoded name=value pair of a form body or a query string. */
struct wire_param {
  const char *name;
  const char *value;
};

#define LB_HOOK_PARAMS_MAX 128

/* A webhook as the adapter sees it. Lookups return NULL when absent. */
struct hook_request {
  const char *method;
  const char *path;         /* as requested, without the query, e.g.
                               /hooks/sim/inbound */
  const char *query_string; /* as requested, after '?', undecoded; "" if
                               none, NULL if too long to keep */
  const char *public_url;   /* configured public base URL */
  const char *content_type;
  const char *body;
  size_t body_len;
  const char *(*header)(void *ctx, const char *name);
  const char *(*query)(void *ctx, const char *name);
  void *ctx;
  long long now_s; /* Unix time, for replay windows */
  /* Decoded form fields: the body's when it is
   * application/x-www-form-urlencoded, else the query string's (a GET
   * webhook). In the order received, repeats kept. Parsed by the HTTP
   * layer (libmicrohttpd), never by adapters. */
  const struct wire_param *params;
  size_t n_params;
};

/* 1 if the Content-Type's media type is 'type', ignoring case, leading
 * blanks and parameters ("application/json; charset=utf-8"). */
int wire_ctype_is(const char *ct, const char *type);

/* 1 if a webhook's body is JSON: by its Content-Type, or (when that says
 * neither JSON nor a form) by starting with '{'. */
int hook_body_is_json(const struct hook_request *req);

/* The first value of 'name' in req's params, or NULL. */
const char *hook_param(const struct hook_request *req, const char *name);

/* Appends "name=value" to an application/x-www-form-urlencoded body (with
 * '&' after the first), both percent-encoded by libcurl. */
int wire_form_add(struct buf *b, const char *name, const char *value);

#endif
