/* Wall-clock and monotonic time in milliseconds, and ISO 8601 rendering. */
#ifndef LB_CLOCK_H
#define LB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_now_ms(void); /* Unix epoch milliseconds (CLOCK_REALTIME). */
/* 1 in a test build, where LYREBIRD_TEST_CLOCK_FILE sets clock_now_ms()
 * (util/clock.c); 0 in every other build. */
int clock_is_settable(void);
int64_t clock_mono_ms(void); /* Monotonic milliseconds, for intervals. */
/* "2026-11-24T03:04:05.678Z" into out (at least 25 bytes). */
void clock_iso8601(int64_t ms, char *out, size_t outlen);

#define LB_ISO8601_LEN 25

/* Unix ms of "2026-12-03T04:05:06Z" (milliseconds and "+00:00" allowed)
 * or of a date "2026-12-03" (midnight UTC); *ok 0 for anything else. */
int64_t clock_parse_iso8601(const char *s, int *ok);

#endif
