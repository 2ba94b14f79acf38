#include "util/duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TEN_YEARS_MS (10LL * 366 * 24 * 3600 * 1000)

/* Parses one duration in s[0..len). */
static enum lb_err parse_one(const char *s, size_t len, int64_t *ms)
{
  char buf[32], *end;
  long long v, unit = 1000;
  size_t i = 0, j;
  while (i < len && isspace((unsigned char)s[i]))
    i++;
  while (len > i && isspace((unsigned char)s[len - 1]))
    len--;
  if (len - i == 0 || len - i >= sizeof buf)
    return LB_EINVAL;
  memcpy(buf, s + i, len - i);
  buf[len - i] = '\0';
  if (!isdigit((unsigned char)buf[0]))
    return LB_EINVAL;
  errno = 0;
  v = strtoll(buf, &end, 10);
  if (errno)
    return LB_EINVAL;
  while (*end == ' ')
    end++;
  j = strlen(end);
  if (j == 0 || strcmp(end, "s") == 0)
    unit = 1000;
  else if (strcmp(end, "ms") == 0)
    unit = 1;
  else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
    unit = 60 * 1000;
  else if (strcmp(end, "h") == 0)
    unit = 3600 * 1000;
  else if (strcmp(end, "d") == 0)
    unit = 24LL * 3600 * 1000;
  else
    return LB_EINVAL;
  if (v < 0 || v > TEN_YEARS_MS / unit)
    return LB_EINVAL;
  *ms = v * unit;
  return LB_OK;
}

enum lb_err duration_parse(const char *s, int64_t *ms)
{
  if (!s)
    return LB_EINVAL;
  return parse_one(s, strlen(s), ms);
}

enum lb_err duration_parse_list(const char *s, int64_t *ms, size_t max,
                                size_t *n)
{
  const char *p = s;
  *n = 0;
  if (!s)
    return LB_EINVAL;
  for (;;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    enum lb_err rc;
    if (*n == max)
      return LB_ETOOBIG;
    if ((rc = parse_one(p, len, &ms[*n])))
      return rc;
    (*n)++;
    if (!end)
      return LB_OK;
    p = end + 1;
  }
}
