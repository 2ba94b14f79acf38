/* Dates of birth: the forms staff type, real days only, never the future. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/patient.h"
#include "util/err.h"

/* 2026-11-24T12:00:00Z */
#define NOW 1795521600000LL

static void test_dob_forms(void **state)
{
  static const struct {
    const char *in, *out;
  } good[] = {{"1984-03-07", "1984-03-07"}, {"7/3/1984", "1984-03-07"},
              {"07/03/1984", "1984-03-07"}, {"7.3.1984", "1984-03-07"},
              {"29/02/2000", "2000-02-29"}, {"2026-11-24", "2026-11-24"},
              {"1900-01-01", "1900-01-01"}};
  static const char *const bad[] = {
      "",           "1984-3-7x",   "29/02/1900", "31/04/2001",
      "1984-13-01", "00/01/1984",  "1899-12-31", "2027-01-01",
      "3/7",        "1984/03/07x", "12-1984-03", "abcd-ef-gh"};
  char out[LB_DOB_SIZE], why[200];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    assert_int_equal(dob_parse(good[i].in, NOW, out, why, sizeof why), LB_OK);
    assert_string_equal(out, good[i].out);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    why[0] = '\0';
    assert_int_equal(dob_parse(bad[i], NOW, out, why, sizeof why), LB_EINVAL);
    assert_true(strlen(why) > 10);
  }
}

static void test_dob_parts(void **state)
{
  char out[LB_DOB_SIZE], why[200];
  assert_int_equal(dob_from_parts(7, 3, 1984, NOW, out, why, sizeof why),
                   LB_OK);
  assert_string_equal(out, "1984-03-07");
  assert_int_equal(dob_from_parts(29, 2, 2023, NOW, out, why, sizeof why),
                   LB_EINVAL);
  assert_int_equal(dob_from_parts(1, 1, 99999, NOW, out, why, sizeof why),
                   LB_EINVAL);
  assert_int_equal(dob_from_parts(-1, 1, 1984, NOW, out, why, sizeof why),
                   LB_EINVAL);
  /* Tomorrow in UTC can be today in Sydney; the day after is the future. */
  assert_int_equal(dob_from_parts(25, 11, 2026, NOW, out, why, sizeof why),
                   LB_OK);
  assert_int_equal(dob_from_parts(26, 11, 2026, NOW, out, why, sizeof why),
                   LB_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_dob_forms),
                                     cmocka_unit_test(test_dob_parts)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
