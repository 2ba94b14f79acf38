#include "core/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/utf8.h"

static const char *const plan_names[] = {"sms", "mms", "link", "refused"};

const char *route_plan_name(enum route_plan p)
{
  return (unsigned)p < sizeof plan_names / sizeof plan_names[0] ? plan_names[p]
                                                                : "unknown";
}

enum lb_err route_plan_parse(const char *s, enum route_plan *out)
{
  for (size_t i = 0; s && i < sizeof plan_names / sizeof plan_names[0]; i++)
    if (strcmp(s, plan_names[i]) == 0) {
      *out = (enum route_plan)i;
      return LB_OK;
    }
  return LB_EINVAL;
}

void message_init(struct message *m)
{
  memset(m, 0, sizeof *m);
  m->route = ROUTE_NONE;
  m->ref_round = 1;
}

void message_release(struct message *m)
{
  free(m->text);
  m->text = NULL;
}

void str_copy(char *dst, size_t n, const char *src)
{
  size_t len;
  if (!n)
    return;
  if (!src)
    src = "";
  len = strlen(src);
  if (len >= n) {
    len = n - 1;
    /* Do not cut a UTF-8 sequence in half. */
    while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
      len--;
  }
  memcpy(dst, src, len);
  dst[len] = '\0';
}

void message_set_error(struct message *m, const char *code, const char *text,
                       int retryable)
{
  str_copy(m->error_code, sizeof m->error_code, code);
  str_copy(m->error_text, sizeof m->error_text, text);
  m->error_retryable = retryable;
}

enum lb_err text_check(const char *s, size_t len, char *why, size_t whylen)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t chars = 0;
  for (size_t i = 0; i < len;) {
    size_t k;
    if (p[i] == 0) {
      snprintf(why, whylen, "text must not contain NUL characters");
      return LB_EINVAL;
    }
    k = utf8_next(p + i, len - i, NULL);
    if (!k) {
      snprintf(why, whylen, "text is not valid UTF-8 (byte %zu)", i);
      return LB_EINVAL;
    }
    i += k;
    if (++chars > LB_TEXT_MAX_CHARS) {
      snprintf(why, whylen, "text is longer than %d characters",
               LB_TEXT_MAX_CHARS);
      return LB_ETOOBIG;
    }
  }
  return LB_OK;
}

enum lb_err str_copy_whole(char *dst, size_t n, const char *src)
{
  size_t len = strlen(src ? src : "");
  if (len >= n)
    return LB_ETOOBIG;
  memcpy(dst, src ? src : "", len + 1);
  return LB_OK;
}
