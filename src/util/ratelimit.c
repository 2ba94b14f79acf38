#include "util/ratelimit.h"

void bucket_init(struct token_bucket *b, double rate, double burst,
                 int64_t now_ms)
{
  b->rate = rate > 0 ? rate : 1;
  b->burst = burst >= 1 ? burst : 1;
  b->tokens = b->burst;
  b->last_ms = now_ms;
}

long bucket_take(struct token_bucket *b, int64_t now_ms)
{
  if (now_ms > b->last_ms) {
    b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
    if (b->tokens > b->burst)
      b->tokens = b->burst;
    b->last_ms = now_ms;
  }
  if (b->tokens >= 1.0) {
    b->tokens -= 1.0;
    return 0;
  }
  return (long)((1.0 - b->tokens) * 1000.0 / b->rate) + 1;
}
