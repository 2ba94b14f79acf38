#include "util/id.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "util/clock.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t last_ms = -1;
static unsigned char last_rand[10];

/* Increment an 80-bit big-endian number; keeps ids monotonic in one ms. */
static void incr80(unsigned char r[10])
{
  for (int i = 9; i >= 0; i--)
    if (++r[i] != 0)
      break;
}

/* 'clamp': never go below the last time used (the wall clock can step
 * back; ids must still sort in creation order). */
static void gen(char out[LB_ID_SIZE], int64_t ms, int clamp)
{
  unsigned char b[16];
  uint64_t t = (uint64_t)ms;

  pthread_mutex_lock(&id_lock);
  if (clamp && ms < last_ms)
    ms = last_ms;
  t = (uint64_t)ms;
  if (ms == last_ms) {
    incr80(last_rand);
  } else {
    randombytes_buf(last_rand, sizeof last_rand);
    last_ms = ms;
  }
  for (int i = 0; i < 6; i++)
    b[i] = (unsigned char)(t >> (40 - 8 * i));
  memcpy(b + 6, last_rand, 10);
  pthread_mutex_unlock(&id_lock);

  /* 128 bits -> 26 base32 digits; the first digit carries 3 bits. */
  for (int i = 0; i < LB_ID_LEN; i++) {
    int bit = 128 - 5 * (LB_ID_LEN - i); /* bit offset of this digit */
    unsigned v = 0;
    for (int k = 0; k < 5; k++) {
      int pos = bit + k;
      if (pos < 0)
        continue;
      v = (v << 1) | ((b[pos / 8] >> (7 - pos % 8)) & 1u);
    }
    out[i] = crockford[v & 31u];
  }
  out[LB_ID_LEN] = '\0';
}

void id_new_at(char out[LB_ID_SIZE], int64_t ms)
{
  gen(out, ms, 0);
}

void id_new(char out[LB_ID_SIZE])
{
  gen(out, clock_now_ms(), 1);
}

int id_valid(const char *s)
{
  size_t n = 0;
  if (!s)
    return 0;
  for (; s[n]; n++)
    if (n >= LB_ID_LEN || !strchr(crockford, s[n]))
      return 0;
  return n == LB_ID_LEN;
}
