#define _DEFAULT_SOURCE /* timegm */
#include "util/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef LYREBIRD_TEST_CLOCK
#include <stdlib.h>
#include <sys/stat.h>

/* Test builds only (cmake -DLYREBIRD_TEST_CLOCK=ON; the sanitizer build):
 * when LYREBIRD_TEST_CLOCK_FILE names a file holding a UTC time
 * "YYYY-MM-DDTHH:MM:SSZ", the clock reads that time as of the file's last
 * change and runs on from it, so a test can move every process's clock,
 * even a running one's, by rewriting the file. */
static int64_t real_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t test_offset_ms(void)
{
  const char *path = getenv("LYREBIRD_TEST_CLOCK_FILE");
  char buf[40] = "";
  struct stat st;
  struct tm tm;
  FILE *f;
  if (!path || stat(path, &st) || !(f = fopen(path, "r")))
    return 0;
  if (!fgets(buf, sizeof buf, f))
    buf[0] = '\0';
  fclose(f);
  memset(&tm, 0, sizeof tm);
  if (sscanf(buf, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
             &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return (int64_t)timegm(&tm) * 1000 -
         ((int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
}

int64_t clock_now_ms(void)
{
  return real_now_ms() + test_offset_ms();
}

int clock_is_settable(void)
{
  return 1;
}
#else
int64_t clock_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int clock_is_settable(void)
{
  return 0;
}
#endif

int64_t clock_mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_iso8601(int64_t ms, char *out, size_t outlen)
{
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, (int)(ms % 1000));
}

int64_t clock_parse_iso8601(const char *s, int *ok)
{
  struct tm tm;
  int ms = 0, n = 0;
  memset(&tm, 0, sizeof tm);
  *ok = 0;
  if (!s)
    return 0;
  if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 6) {
    s += n;
    if (*s == '.') {
      int digits = 0;
      for (s++; *s >= '0' && *s <= '9'; s++, digits++)
        if (digits < 3)
          ms = ms * 10 + (*s - '0');
      while (digits > 0 && digits < 3)
        ms *= 10, digits++;
    }
    if (strcmp(s, "Z") != 0 && strcmp(s, "+00:00") != 0)
      return 0;
  } else if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &n) != 3 ||
             s[n]) {
    return 0;
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *ok = 1;
  return (int64_t)timegm(&tm) * 1000 + ms;
}
