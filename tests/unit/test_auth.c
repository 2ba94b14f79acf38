/* Staff sign-in rules: usernames, passwords, Argon2id hashing and the
 * failed sign-in throttles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/user.h"
#include "util/err.h"
#include "util/password.h"
#include "util/throttle.h"

#define SEC 1000LL
#define MIN (60 * SEC)

/* ---- usernames, roles, passwords --------------------------------------- */

static void test_usernames(void **state)
{
  char why[200];
  const char *good[] = {"reception", "dr.ng", "sam_ng-2",
                        "a",         "0pod",  "sam@clinic.example"};
  const char *bad[] = {"",   "Reception", "sam ng", ".hidden",
                       "-x", "ñame",      "a/b",    "x;drop"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_int_equal(username_check(good[i], why, sizeof why), LB_OK);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    why[0] = '\0';
    assert_int_equal(username_check(bad[i], why, sizeof why), LB_EINVAL);
    assert_true(strlen(why) > 10); /* says what the rule is */
  }
  {
    char longname[80];
    memset(longname, 'a', 65);
    longname[65] = '\0';
    assert_int_equal(username_check(longname, why, sizeof why), LB_EINVAL);
    longname[64] = '\0';
    assert_int_equal(username_check(longname, why, sizeof why), LB_OK);
  }
}

static void test_roles(void **state)
{
  enum user_role r;
  assert_int_equal(role_parse("staff", &r), LB_OK);
  assert_int_equal(r, ROLE_STAFF);
  assert_int_equal(role_parse("admin", &r), LB_OK);
  assert_int_equal(r, ROLE_ADMIN);
  assert_int_equal(role_parse("Admin", &r), LB_EINVAL);
  assert_int_equal(role_parse(NULL, &r), LB_EINVAL);
  assert_string_equal(role_name(ROLE_ADMIN), "admin");
  assert_string_equal(role_name(ROLE_STAFF), "staff");
}

static void test_password_rules(void **state)
{
  char why[200], big[300];
  assert_int_equal(password_check("correct horse", why, sizeof why), LB_OK);
  assert_int_equal(password_check("pässwörd-ok", why, sizeof why), LB_OK);
  assert_int_equal(password_check("short", why, sizeof why), LB_EINVAL);
  assert_non_null(strstr(why, "10"));
  assert_int_equal(password_check("has\ttab in it", why, sizeof why),
                   LB_EINVAL);
  assert_int_equal(password_check("bad \xff utf-8 here", why, sizeof why),
                   LB_EINVAL);
  memset(big, 'x', 257);
  big[257] = '\0';
  assert_int_equal(password_check(big, why, sizeof why), LB_EINVAL);
  big[256] = '\0';
  assert_int_equal(password_check(big, why, sizeof why), LB_OK);
}

/* ---- Argon2id ------------------------------------------------------------ */

static void test_password_hash(void **state)
{
  char h1[LB_PWHASH_MAX], h2[LB_PWHASH_MAX];
  assert_int_equal(password_hash("correct horse", h1), LB_OK);
  assert_int_equal(password_hash("correct horse", h2), LB_OK);
  /* Argon2id, and salted: the same password hashes differently. */
  assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
  assert_string_not_equal(h1, h2);
  assert_null(strstr(h1, "correct"));
  assert_int_equal(password_verify(h1, "correct horse"), LB_OK);
  assert_int_equal(password_verify(h2, "correct horse"), LB_OK);
  assert_int_equal(password_verify(h1, "correct horsE"), LB_EAUTH);
  assert_int_equal(password_verify(h1, ""), LB_EAUTH);
  assert_int_equal(password_verify("not a hash", "correct horse"), LB_EAUTH);
  assert_false(password_needs_rehash(h1));
}

/* ---- throttles ------------------------------------------------------------
 */

static const struct throttle_rule lockout = {THROTTLE_LOCKOUT, 3, 60 * SEC,
                                             15 * MIN, 0};
static const struct throttle_rule window = {THROTTLE_WINDOW, 4, 0, 0, 15 * MIN};

/* Three failures in a row lock for a minute; each further one doubles the
 * lock up to the cap; a success forgets it all. */
static void test_lockout(void **state)
{
  struct throttle *t;
  int64_t now = 1000000;
  assert_int_equal(throttle_new(&lockout, 64, &t), LB_OK);
  assert_int_equal(throttle_wait(t, "u:sam", now), 0);
  throttle_fail(t, "u:sam", now);
  throttle_fail(t, "u:sam", now);
  assert_int_equal(throttle_wait(t, "u:sam", now), 0);
  throttle_fail(t, "u:sam", now);
  assert_int_equal(throttle_wait(t, "u:sam", now), 60 * SEC);
  assert_int_equal(throttle_wait(t, "u:sam", now + 59 * SEC), 1 * SEC);
  assert_int_equal(throttle_wait(t, "u:sam", now + 60 * SEC), 0);
  /* Another account is untouched. */
  assert_int_equal(throttle_wait(t, "u:lee", now), 0);

  now += 61 * SEC;
  throttle_fail(t, "u:sam", now); /* 4th: 2 minutes */
  assert_int_equal(throttle_wait(t, "u:sam", now), 2 * MIN);
  throttle_fail(t, "u:sam", now); /* 5th: 4 minutes */
  assert_int_equal(throttle_wait(t, "u:sam", now), 4 * MIN);
  for (int i = 0; i < 20; i++)
    throttle_fail(t, "u:sam", now);
  assert_int_equal(throttle_wait(t, "u:sam", now), 15 * MIN); /* capped */

  throttle_clear(t, "u:sam");
  assert_int_equal(throttle_wait(t, "u:sam", now), 0);
  throttle_fail(t, "u:sam", now);
  assert_int_equal(throttle_wait(t, "u:sam", now), 0); /* count restarted */
  throttle_free(t);
}

/* Four failures within the window block until the window ends; failures
 * spread wider than the window never block. */
static void test_window(void **state)
{
  struct throttle *t;
  int64_t now = 5000000;
  assert_int_equal(throttle_new(&window, 64, &t), LB_OK);
  for (int i = 0; i < 3; i++)
    throttle_fail(t, "ip:10.0.0.1", now + i * MIN);
  assert_int_equal(throttle_wait(t, "ip:10.0.0.1", now + 3 * MIN), 0);
  throttle_fail(t, "ip:10.0.0.1", now + 3 * MIN);
  assert_int_equal(throttle_wait(t, "ip:10.0.0.1", now + 3 * MIN), 12 * MIN);
  assert_int_equal(throttle_wait(t, "ip:10.0.0.1", now + 15 * MIN), 0);

  /* One failure every 6 minutes: at most three within any 15. */
  for (int i = 0; i < 10; i++) {
    int64_t at = now + 60 * MIN + i * 6 * MIN;
    throttle_fail(t, "ip:10.0.0.2", at);
    assert_int_equal(throttle_wait(t, "ip:10.0.0.2", at), 0);
  }
  throttle_free(t);
}

/* A full table forgets the stalest key instead of growing, and every key
 * still gets a slot. */
static void test_table_bounded(void **state)
{
  struct throttle *t;
  char key[32];
  int64_t now = 9000000;
  assert_int_equal(throttle_new(&lockout, 16, &t), LB_OK);
  for (int i = 0; i < 3; i++)
    throttle_fail(t, "u:victim", now);
  assert_true(throttle_wait(t, "u:victim", now) > 0);
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "u:flood%d", i);
    for (int k = 0; k < 3; k++)
      throttle_fail(t, key, now + 1 + i);
    assert_true(throttle_wait(t, key, now + 1 + i) > 0);
  }
  throttle_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_usernames),
      cmocka_unit_test(test_roles),
      cmocka_unit_test(test_password_rules),
      cmocka_unit_test(test_password_hash),
      cmocka_unit_test(test_lockout),
      cmocka_unit_test(test_window),
      cmocka_unit_test(test_table_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
