/* Counts failures per key (an account, a client address) and says how long
 * a key must wait before it may try again. Used for sign-in.
 *
 * Two rules:
 *   THROTTLE_LOCKOUT  after max_failures failures in a row, lock for
 *                     lock_ms; each further failure doubles the lock, up to
 *                     lock_max_ms. throttle_clear() (a success) resets.
 *   THROTTLE_WINDOW   max_failures failures within window_ms of the first
 *                     block the key until that window ends.
 *
 * The table is fixed-size (no growth under attack): when it is full, the
 * entry whose last failure is oldest is forgotten. Keys are hashed with a
 * random SipHash key, so nobody can aim collisions at it. Thread-safe.
 * Time is passed in (milliseconds), so tests drive it. */
#ifndef LB_THROTTLE_H
#define LB_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

enum throttle_mode { THROTTLE_LOCKOUT, THROTTLE_WINDOW };

struct throttle_rule {
  enum throttle_mode mode;
  int max_failures;
  int64_t lock_ms;     /* LOCKOUT: the first lock */
  int64_t lock_max_ms; /* LOCKOUT: the longest */
  int64_t window_ms;   /* WINDOW */
};

struct throttle;

enum lb_err throttle_new(const struct throttle_rule *rule, size_t slots,
                         struct throttle **out);
void throttle_free(struct throttle *t);
/* Milliseconds until 'key' may try again; 0 if it may now. */
int64_t throttle_wait(struct throttle *t, const char *key, int64_t now);
/* Records a failure. */
void throttle_fail(struct throttle *t, const char *key, int64_t now);
/* Forgets the key (after a success). */
void throttle_clear(struct throttle *t, const char *key);

/* One key's counters, and the rule's step on a failure: what the table
 * does in memory, for a store that keeps the counters elsewhere (shared
 * between nodes). */
struct throttle_state {
  int64_t fails, first_at, locked_until;
};
void throttle_step(const struct throttle_rule *r, struct throttle_state *s,
                   int64_t now);

#endif
