#include "util/throttle.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define KEY_MAX 96
#define PROBE 8
/* A key with no failure for this long starts afresh. */
#define FORGET_MS (24 * 3600 * 1000LL)

struct slot {
  char key[KEY_MAX]; /* "" when free */
  int fails;
  int64_t first_at, last_at, locked_until;
};

struct throttle {
  struct throttle_rule rule;
  pthread_mutex_t mu;
  unsigned char hkey[crypto_shorthash_KEYBYTES];
  struct slot *slots;
  size_t n;
};

enum lb_err throttle_new(const struct throttle_rule *rule, size_t slots,
                         struct throttle **out)
{
  struct throttle *t;
  if (sodium_init() < 0 || slots < PROBE)
    return LB_EINVAL;
  t = calloc(1, sizeof *t);
  if (!t || !(t->slots = calloc(slots, sizeof *t->slots))) {
    free(t);
    return LB_ENOMEM;
  }
  t->rule = *rule;
  t->n = slots;
  crypto_shorthash_keygen(t->hkey);
  pthread_mutex_init(&t->mu, NULL);
  *out = t;
  return LB_OK;
}

void throttle_free(struct throttle *t)
{
  if (!t)
    return;
  pthread_mutex_destroy(&t->mu);
  free(t->slots);
  free(t);
}

static size_t home(const struct throttle *t, const char *key)
{
  unsigned char h[crypto_shorthash_BYTES];
  uint64_t v = 0;
  crypto_shorthash(h, (const unsigned char *)key, strlen(key), t->hkey);
  memcpy(&v, h, sizeof v < sizeof h ? sizeof v : sizeof h);
  return (size_t)(v % t->n);
}

/* The key's slot, or NULL; with 'make', claims one (evicting the stalest
 * in its probe run). Caller holds mu. */
static struct slot *find(struct throttle *t, const char *key, int make,
                         int64_t now)
{
  size_t h = home(t, key);
  struct slot *free_slot = NULL, *stalest = NULL;
  for (size_t i = 0; i < PROBE; i++) {
    struct slot *s = &t->slots[(h + i) % t->n];
    if (s->key[0] && strcmp(s->key, key) == 0) {
      if (now - s->last_at > FORGET_MS)
        memset(s, 0, sizeof *s), snprintf(s->key, KEY_MAX, "%s", key);
      return s;
    }
    if (!s->key[0] && !free_slot)
      free_slot = s;
    if (s->key[0] && (!stalest || s->last_at < stalest->last_at))
      stalest = s;
  }
  if (!make)
    return NULL;
  if (!free_slot) {
    free_slot = stalest;
    memset(free_slot, 0, sizeof *free_slot);
  }
  snprintf(free_slot->key, KEY_MAX, "%s", key);
  return free_slot;
}

int64_t throttle_wait(struct throttle *t, const char *key, int64_t now)
{
  struct slot *s;
  int64_t wait = 0;
  pthread_mutex_lock(&t->mu);
  s = find(t, key, 0, now);
  if (s && s->locked_until > now)
    wait = s->locked_until - now;
  pthread_mutex_unlock(&t->mu);
  return wait;
}

void throttle_step(const struct throttle_rule *r, struct throttle_state *s,
                   int64_t now)
{
  if (r->mode == THROTTLE_WINDOW && s->fails &&
      now - s->first_at >= r->window_ms)
    s->fails = 0;
  if (!s->fails)
    s->first_at = now;
  s->fails++;
  if (s->fails >= r->max_failures) {
    if (r->mode == THROTTLE_WINDOW) {
      s->locked_until = s->first_at + r->window_ms;
    } else {
      int64_t doublings = s->fails - r->max_failures;
      int64_t lock = r->lock_ms;
      while (doublings-- > 0 && lock < r->lock_max_ms)
        lock *= 2;
      if (lock > r->lock_max_ms)
        lock = r->lock_max_ms;
      s->locked_until = now + lock;
    }
  }
}

void throttle_fail(struct throttle *t, const char *key, int64_t now)
{
  struct slot *s;
  struct throttle_state st;
  pthread_mutex_lock(&t->mu);
  s = find(t, key, 1, now);
  st.fails = s->fails;
  st.first_at = s->first_at;
  st.locked_until = s->locked_until;
  throttle_step(&t->rule, &st, now);
  s->fails = (int)st.fails;
  s->first_at = st.first_at;
  s->locked_until = st.locked_until;
  s->last_at = now;
  pthread_mutex_unlock(&t->mu);
}

void throttle_clear(struct throttle *t, const char *key)
{
  struct slot *s;
  pthread_mutex_lock(&t->mu);
  s = find(t, key, 0, 0);
  if (s)
    memset(s, 0, sizeof *s);
  pthread_mutex_unlock(&t->mu);
}
