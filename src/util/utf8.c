#include "util/utf8.h"

size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
  uint32_t c;
  size_t len;
  if (n == 0)
    return 0;
  if (s[0] < 0x80) {
    c = s[0];
    len = 1;
  } else {
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
      len = 2;
      c = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
      len = 3;
      c = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
      len = 4;
      c = s[0] & 0x07;
    } else {
      return 0;
    }
    if (n < len)
      return 0;
    for (size_t i = 1; i < len; i++) {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      c = (c << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
        (c >= 0xd800 && c <= 0xdfff))
      return 0;
  }
  if (cp)
    *cp = c;
  return len;
}

enum lb_err utf8_count(const char *s, size_t n, size_t *chars)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t count = 0;
  for (size_t i = 0; i < n; count++) {
    size_t k = utf8_next(p + i, n - i, NULL);
    if (!k)
      return LB_EINVAL;
    i += k;
  }
  if (chars)
    *chars = count;
  return LB_OK;
}
