#include "util/wire.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"

void wire_request_init(struct wire_request *r)
{
  memset(r, 0, sizeof *r);
  r->method = "POST";
  buf_init(&r->body, LB_WIRE_BODY_MAX);
}

void wire_request_release(struct wire_request *r)
{
  buf_release(&r->body);
  memset(r->userpwd, 0, sizeof r->userpwd);
}

enum lb_err wire_request_header(struct wire_request *r, const char *name,
                                const char *value)
{
  int n;
  if (r->n_headers >= LB_WIRE_HEADERS)
    return LB_ETOOBIG;
  n = snprintf(r->headers[r->n_headers], LB_WIRE_HEADER_MAX, "%s: %s", name,
               value);
  if (n < 0 || n >= LB_WIRE_HEADER_MAX)
    return LB_ETOOBIG;
  r->n_headers++;
  return LB_OK;
}

void wire_response_init(struct wire_response *r)
{
  memset(r, 0, sizeof *r);
  r->retry_after_s = -1;
  buf_init(&r->body, LB_WIRE_RESPONSE_MAX);
}

void wire_response_release(struct wire_response *r)
{
  buf_release(&r->body);
}

const char *hook_param(const struct hook_request *req, const char *name)
{
  for (size_t i = 0; i < req->n_params; i++)
    if (req->params[i].name && strcmp(req->params[i].name, name) == 0)
      return req->params[i].value ? req->params[i].value : "";
  return NULL;
}

int wire_form_add(struct buf *b, const char *name, const char *value)
{
  char *n = curl_easy_escape(NULL, name, 0);
  char *v = curl_easy_escape(NULL, value ? value : "", 0);
  int rc = LB_ENOMEM;
  if (n && v)
    rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", n, v);
  curl_free(n);
  curl_free(v);
  return rc;
}

int wire_ctype_is(const char *ct, const char *type)
{
  size_t n = strlen(type);
  if (!ct)
    return 0;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  return strncasecmp(ct, type, n) == 0 &&
         (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

int hook_body_is_json(const struct hook_request *req)
{
  size_t i = 0;
  if (req->content_type && strstr(req->content_type, "json"))
    return 1;
  if (req->content_type &&
      strncasecmp(req->content_type, "application/x-www-form-urlencoded", 33) ==
          0)
    return 0;
  while (i < req->body_len && (req->body[i] == ' ' || req->body[i] == '\t' ||
                               req->body[i] == '\r' || req->body[i] == '\n'))
    i++;
  return i < req->body_len && req->body[i] == '{';
}
