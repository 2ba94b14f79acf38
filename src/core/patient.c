#include "core/patient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static int days_in(long month, long year)
{
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

/* Days since 1970-01-01 (proleptic Gregorian), for the "not in the future"
 * check without calling the C library's time zone code. */
static long long days_since_epoch(long y, long m, long d)
{
  long long era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

enum lb_err dob_from_parts(long day, long month, long year, int64_t now_ms,
                           char out[LB_DOB_SIZE], char *why, size_t whylen)
{
  if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > days_in(month, year)) {
    snprintf(why, whylen, "that is not a date of birth (day, month, year)");
    return LB_EINVAL;
  }
  /* A day's slack: the patient's "today" may be ahead of UTC. */
  if (days_since_epoch(year, month, day) > now_ms / 86400000 + 1) {
    snprintf(why, whylen, "a date of birth cannot be in the future");
    return LB_EINVAL;
  }
  /* (The remainders only tell the compiler the widths checked above.) */
  snprintf(out, LB_DOB_SIZE, "%04u-%02u-%02u", (unsigned)(year % 10000),
           (unsigned)(month % 100), (unsigned)(day % 100));
  return LB_OK;
}

/* Reads up to 'max' digits; the number, or -1. */
static long digits(const char **p, int max)
{
  long v = 0;
  int n = 0;
  while (n < max && **p >= '0' && **p <= '9') {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  return n ? v : -1;
}

enum lb_err dob_parse(const char *s, int64_t now_ms, char out[LB_DOB_SIZE],
                      char *why, size_t whylen)
{
  const char *p = s ? s : "";
  long a, b, c;
  char sep;
  a = digits(&p, 4);
  sep = *p;
  if (a < 0 || (sep != '-' && sep != '/' && sep != '.'))
    goto bad;
  p++;
  b = digits(&p, 2);
  if (b < 0 || *p != sep)
    goto bad;
  p++;
  c = digits(&p, 4);
  if (c < 0 || *p)
    goto bad;
  if (p - s == 10 && s[4] == '-') /* YYYY-MM-DD */
    return dob_from_parts(c, b, a, now_ms, out, why, whylen);
  if (a <= 31 && c >= 1000) /* D/M/YYYY */
    return dob_from_parts(a, b, c, now_ms, out, why, whylen);
bad:
  snprintf(why, whylen,
           "write a date of birth as YYYY-MM-DD or DD/MM/YYYY, e.g. "
           "1984-03-07");
  return LB_EINVAL;
}
