/* The message status lifecycle and the retry back-off. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"
#include "util/err.h"

#define Q ST_QUEUED
#define SG ST_SENDING
#define ST ST_SENT
#define D ST_DELIVERED
#define U ST_UNDELIVERED
#define F ST_FAILED
#define R ST_RECEIVED

/* The whole table: allowed[from][to]. Everything not listed is refused,
 * including staying put, and nothing ever leaves a final status. */
static const int allowed[ST__COUNT][ST__COUNT] = {
    /*               Q  SG  ST  D  U  F  R */
    [ST_QUEUED] = {0, 1, 0, 0, 0, 1, 0},
    [ST_SENDING] = {1, 0, 1, 1, 1, 1, 0},
    [ST_SENT] = {0, 0, 0, 1, 1, 1, 0},
    [ST_DELIVERED] = {0, 0, 0, 0, 0, 0, 0},
    [ST_UNDELIVERED] = {0, 0, 0, 0, 0, 0, 0},
    [ST_FAILED] = {0, 0, 0, 0, 0, 0, 0},
    [ST_RECEIVED] = {0, 0, 0, 0, 0, 0, 0},
};

static void test_transition_table(void **state)
{
  for (int from = 0; from < ST__COUNT; from++)
    for (int to = 0; to < ST__COUNT; to++) {
      int got = status_can_move((enum msg_status)from, (enum msg_status)to);
      if (got != allowed[from][to])
        fail_msg("status_can_move(%s -> %s) = %d, want %d",
                 status_name((enum msg_status)from),
                 status_name((enum msg_status)to), got, allowed[from][to]);
    }
}

/* The cases the header calls out, spelled out. */
static void test_transition_stories(void **state)
{
  /* A receipt overtaking the send call's answer. */
  assert_true(status_can_move(SG, D));
  assert_true(status_can_move(SG, U));
  /* A late "sent" never undoes a final status. */
  assert_false(status_can_move(D, ST));
  assert_false(status_can_move(U, ST));
  assert_false(status_can_move(F, ST));
  /* A retryable failure goes back to the queue; a sent one does not. */
  assert_true(status_can_move(SG, Q));
  assert_false(status_can_move(ST, Q));
  /* Inbound messages never enter the outbound lifecycle. */
  for (int to = 0; to < ST__COUNT; to++)
    assert_false(status_can_move(R, (enum msg_status)to));
  for (int from = 0; from < ST__COUNT; from++)
    assert_false(status_can_move((enum msg_status)from, R));
}

/* Out-of-range values are refused, not read past the table. */
static void test_transition_out_of_range(void **state)
{
  assert_false(status_can_move(ST__COUNT, Q));
  assert_false(status_can_move((enum msg_status) - 1, SG));
  assert_false(status_can_move(Q, ST__COUNT));
  assert_false(status_can_move(SG, (enum msg_status)99));
}

/* Final means "nothing leaves it" and agrees with the table. */
static void test_final_matches_table(void **state)
{
  for (int s = 0; s < ST__COUNT; s++) {
    int leaves = 0;
    for (int to = 0; to < ST__COUNT; to++)
      leaves |= allowed[s][to];
    assert_int_equal(status_is_final((enum msg_status)s), !leaves);
  }
}

static void test_names_round_trip(void **state)
{
  static const char *const want[ST__COUNT] = {
      "queued",      "sending", "sent",    "delivered",
      "undelivered", "failed",  "received"};
  for (int s = 0; s < ST__COUNT; s++) {
    enum msg_status back = ST__COUNT;
    assert_string_equal(status_name((enum msg_status)s), want[s]);
    assert_int_equal(status_parse(want[s], &back), LB_OK);
    assert_int_equal(back, s);
  }
}

static void test_parse_unknown(void **state)
{
  static const char *const bad[] = {
      "", "QUEUED", "Delivered", "deliver", "delivered ", "unknown", "lost"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    enum msg_status out = ST_SENT;
    assert_int_equal(status_parse(bad[i], &out), LB_EINVAL);
    assert_int_equal(out, ST_SENT); /* untouched */
  }
  enum msg_status out = ST_SENT;
  assert_int_equal(status_parse(NULL, &out), LB_EINVAL);
  assert_string_equal(status_name(ST__COUNT), "unknown");
  assert_string_equal(direction_name(DIR_INBOUND), "inbound");
  assert_string_equal(direction_name(DIR_OUTBOUND), "outbound");
}

/* A small deterministic generator, so failures reproduce. */
static uint32_t xorshift(uint32_t *s)
{
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

static long expected_cap(int n, long base, long max)
{
  long d = base;
  for (int i = 1; i < n; i++) {
    if (d >= max)
      break;
    d *= 2;
  }
  return d < max ? d : max;
}

/* Full jitter: a delay in [d/2, d], d = min(base * 2^(n-1), max). */
static void test_retry_delay_bounds(void **state)
{
  static const struct {
    long base, max;
  } cfgs[] = {
      {2000, 600000}, /* the defaults */
      {1, 86400000},  {1000, 1000}, {3, 1000}, {999, 7777}, {3600000, 86400000},
  };
  uint32_t seed = 0x9E3779B9u;
  for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++)
    for (int n = 1; n <= 64; n++) {
      long d = expected_cap(n, cfgs[c].base, cfgs[c].max);
      for (int k = 0; k < 200; k++) {
        unsigned r = k == 0 ? 0u : k == 1 ? UINT_MAX : xorshift(&seed);
        long got = retry_delay_ms(n, cfgs[c].base, cfgs[c].max, r);
        if (got < d / 2 || got > d)
          fail_msg("retry_delay_ms(%d, %ld, %ld, %u) = %ld, want [%ld, %ld]", n,
                   cfgs[c].base, cfgs[c].max, r, got, d / 2, d);
      }
    }
}

/* The bounds are reached: the jitter spans the whole interval. */
static void test_retry_delay_spans_interval(void **state)
{
  long lo = LONG_MAX, hi = 0;
  uint32_t seed = 12345;
  for (int k = 0; k < 20000; k++) {
    long got = retry_delay_ms(3, 1000, 600000, xorshift(&seed));
    lo = got < lo ? got : lo;
    hi = got > hi ? got : hi;
  }
  /* n=3: d = 4000, so [2000, 4000]. */
  assert_int_equal(lo, 2000);
  assert_int_equal(hi, 4000);
}

/* Capped at max however many attempts, with no overflow. */
static void test_retry_delay_capped(void **state)
{
  uint32_t seed = 7;
  for (int n = 10; n < 100000; n = n * 3 + 1)
    for (int k = 0; k < 100; k++) {
      long got = retry_delay_ms(n, 2000, 600000, xorshift(&seed));
      assert_in_range(got, 300000, 600000);
    }
  assert_int_equal(retry_delay_ms(INT_MAX, 2000, 600000, UINT_MAX) <= 600000,
                   1);
  /* base above max: max wins. */
  assert_in_range(retry_delay_ms(1, 5000, 1000, 123), 500, 1000);
  /* The first retry waits about base, never more. */
  assert_in_range(retry_delay_ms(1, 2000, 600000, 0xdeadbeef), 1000, 2000);
  /* n < 1 is treated as the first retry. */
  assert_in_range(retry_delay_ms(0, 2000, 600000, 99), 1000, 2000);
}

/* The delay grows: the lowest possible delay for n+1 is at least the
 * lowest for n, until the cap. */
static void test_retry_delay_grows(void **state)
{
  long prev = 0;
  for (int n = 1; n <= 20; n++) {
    long lo = retry_delay_ms(n, 2000, 600000, 0);
    assert_true(lo >= prev);
    prev = lo;
  }
  assert_int_equal(retry_delay_ms(1, 2000, 600000, 0), 1000);
  assert_int_equal(retry_delay_ms(2, 2000, 600000, 0), 2000);
  assert_int_equal(retry_delay_ms(20, 2000, 600000, 0), 300000);
}

/* Staff may send again only what ended without reaching the patient:
 * never what is queued, sending (the provider may have it), sent (a
 * receipt is to come) or delivered. */
static void test_retry_only_from_failed_or_undelivered(void **state)
{
  for (int s = 0; s < ST__COUNT; s++)
    assert_int_equal(status_can_retry((enum msg_status)s), s == F || s == U);
  assert_false(status_can_retry((enum msg_status)99));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transition_table),
      cmocka_unit_test(test_retry_only_from_failed_or_undelivered),
      cmocka_unit_test(test_transition_stories),
      cmocka_unit_test(test_transition_out_of_range),
      cmocka_unit_test(test_final_matches_table),
      cmocka_unit_test(test_names_round_trip),
      cmocka_unit_test(test_parse_unknown),
      cmocka_unit_test(test_retry_delay_bounds),
      cmocka_unit_test(test_retry_delay_spans_interval),
      cmocka_unit_test(test_retry_delay_capped),
      cmocka_unit_test(test_retry_delay_grows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
