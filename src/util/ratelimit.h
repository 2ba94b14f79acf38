/* A token bucket: 'rate' tokens a second, at most 'burst' saved up.
 * Pure arithmetic; the caller supplies the time and does any locking. */
#ifndef LB_RATELIMIT_H
#define LB_RATELIMIT_H

#include <stdint.h>

struct token_bucket {
  double tokens;
  double rate;
  double burst;
  int64_t last_ms;
};

void bucket_init(struct token_bucket *b, double rate, double burst,
                 int64_t now_ms);
/* Takes a token and returns 0, or returns the milliseconds to wait
 * before one is free (and takes nothing). */
long bucket_take(struct token_bucket *b, int64_t now_ms);

#endif
