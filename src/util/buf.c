#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void buf_init(struct buf *b, size_t max)
{
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

static enum lb_err buf_reserve(struct buf *b, size_t extra)
{
  size_t need, ncap;
  char *p;

  if (extra > b->max || b->len > b->max - extra)
    return LB_ETOOBIG;
  need = b->len + extra + 1;
  if (need <= b->cap)
    return LB_OK;
  ncap = b->cap ? b->cap : 256;
  while (ncap < need)
    ncap *= 2;
  if (ncap > b->max + 1)
    ncap = b->max + 1;
  p = realloc(b->data, ncap);
  if (!p)
    return LB_ENOMEM;
  b->data = p;
  b->cap = ncap;
  return LB_OK;
}

enum lb_err buf_append(struct buf *b, const void *p, size_t n)
{
  int rc = buf_reserve(b, n);
  if (rc)
    return rc;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return LB_OK;
}

int buf_puts(struct buf *b, const char *s)
{
  return buf_append(b, s, strlen(s));
}

enum lb_err buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  int n, rc;

  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return LB_EINVAL;
  rc = buf_reserve(b, (size_t)n);
  if (rc)
    return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return LB_OK;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void buf_reset(struct buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

char *buf_steal(struct buf *b, size_t *len)
{
  char *p = b->data;
  if (len)
    *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void buf_release(struct buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
