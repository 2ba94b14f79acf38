/* Durations as people write them in lyrebird.ini: "24h", "5m", "30s",
 * "5d", or a plain number of seconds; lists of them separated by commas
 * ("5s, 5m, 30m"). Pure. */
#ifndef LB_DURATION_H
#define LB_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* *ms = the duration s names. LB_EINVAL for anything else, a negative
 * number, or more than ten years. */
enum lb_err duration_parse(const char *s, int64_t *ms);
/* Up to max durations from a list; *n says how many. LB_EINVAL for a bad
 * entry or an empty list, LB_ETOOBIG past max. */
enum lb_err duration_parse_list(const char *s, int64_t *ms, size_t max,
                                size_t *n);

#endif
