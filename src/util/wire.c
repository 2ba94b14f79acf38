#include "util/wire.h"

#include <stdio.h>
#include <string.h>

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

int wire_request_header(struct wire_request *r, const char *name,
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
