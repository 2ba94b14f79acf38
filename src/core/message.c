#include "core/message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void message_init(struct message *m)
{
  memset(m, 0, sizeof *m);
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

/* Length of the UTF-8 sequence at p (max n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
  unsigned c = p[0];
  size_t len;
  unsigned cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    len = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    len = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    len = 4, cp = c & 0x07;
  else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

int text_check(const char *s, size_t len, char *why, size_t whylen)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t chars = 0;
  for (size_t i = 0; i < len;) {
    size_t k;
    if (p[i] == 0) {
      snprintf(why, whylen, "text must not contain NUL characters");
      return LB_EINVAL;
    }
    k = utf8_seq(p + i, len - i);
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
