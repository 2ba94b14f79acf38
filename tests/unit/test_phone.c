/* Phone numbers: what staff type becomes E.164, and only numbers that can
 * take an SMS are accepted as recipients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/phone.h"
#include "util/err.h"

/* Local and international mobile forms, with the spacing staff use. */
static void test_normalize_mobile(void **state)
{
  static const struct {
    const char *input, *region, *want;
  } rows[] = {
      {"0412 345 678", "AU", "+61412345678"},
      {"+61 412 345 678", "AU", "+61412345678"},
      {"+61412345678", "AU", "+61412345678"},
      {"0412345678", "AU", "+61412345678"},
      {"(04) 1234-5678", "AU", "+61412345678"},
      {"0488 868 772", "AU", "+61488868772"},
      /* International form wins over the default region. */
      {"+61 412 345 678", "NZ", "+61412345678"},
      {"+64 21 123 4567", "AU", "+64211234567"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char out[LB_E164_SIZE], why[256] = "";
    print_message("normalize '%s' (%s)\n", rows[i].input, rows[i].region);
    assert_int_equal(
        phone_normalize(rows[i].input, rows[i].region, out, why, sizeof why),
        LB_OK);
    assert_string_equal(out, rows[i].want);
    assert_true(phone_is_e164(out));
  }
}

/* A landline cannot receive SMS: refused, and the user is told why. */
static void test_normalize_refuses_landline(void **state)
{
  static const char *const inputs[] = {"02 9999 9999", "+61299999999",
                                       "(02) 9999 9999"};
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    char out[LB_E164_SIZE], why[256] = "";
    print_message("landline '%s'\n", inputs[i]);
    assert_int_equal(phone_normalize(inputs[i], "AU", out, why, sizeof why),
                     LB_ENOTMOBILE);
    assert_non_null(strstr(why, "landline"));
    assert_non_null(strstr(why, "+61299999999"));
  }
}

/* Toll-free numbers are not mobiles either, and the reason says so. */
static void test_normalize_refuses_toll_free(void **state)
{
  char out[LB_E164_SIZE], why[256] = "";
  assert_int_equal(phone_normalize("1800 123 456", "AU", out, why, sizeof why),
                   LB_ENOTMOBILE);
  assert_non_null(strstr(why, "toll-free"));
}

/* Things that are not phone numbers at all. */
static void test_normalize_refuses_garbage(void **state)
{
  static const char *const inputs[] = {
      "hello",
      "",
      "+",
      "04",
      "0412 345 67",             /* one digit short */
      "+61 412 345 678 999 999", /* too many digits */
  };
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    char out[LB_E164_SIZE], why[256] = "";
    print_message("garbage '%s'\n", inputs[i]);
    assert_int_equal(phone_normalize(inputs[i], "AU", out, why, sizeof why),
                     LB_EPHONE);
    assert_true(why[0] != '\0');
  }
}

/* The reason names what the user typed, so a form can show it back. */
static void test_error_names_input(void **state)
{
  char out[LB_E164_SIZE], why[256] = "";
  assert_int_equal(phone_normalize("hello", "AU", out, why, sizeof why),
                   LB_EPHONE);
  assert_non_null(strstr(why, "'hello'"));

  assert_int_equal(phone_normalize("", "AU", out, why, sizeof why), LB_EPHONE);
  assert_non_null(strstr(why, "required"));

  assert_int_equal(phone_normalize(NULL, "AU", out, why, sizeof why),
                   LB_EPHONE);
}

/* A very long input is refused before it reaches libphonenumber, and does
 * not overflow 'out' or 'why'. */
static void test_overlong_input(void **state)
{
  char input[4096], out[LB_E164_SIZE], why[64];
  memset(out, 'X', sizeof out);
  /* Digits only: the kind of input a parser might try hard on. */
  memset(input, '4', sizeof input - 1);
  input[sizeof input - 1] = '\0';
  assert_int_equal(phone_normalize(input, "AU", out, why, sizeof why),
                   LB_EPHONE);
  assert_true(memchr(why, '\0', sizeof why) != NULL);

  /* Just past the 64-character limit, even with a valid number inside. */
  char padded[80];
  memset(padded, ' ', 65);
  memcpy(padded + 65 - 12, "+61412345678", 12);
  padded[65] = '\0';
  assert_int_equal(strlen(padded), 65);
  assert_int_equal(phone_normalize(padded, "AU", out, why, sizeof why),
                   LB_EPHONE);
}

/* phone_parse skips the mobile check: the clinic's own number or an
 * inbound sender may be a landline. It still rejects garbage. */
static void test_parse_accepts_landline(void **state)
{
  char out[LB_E164_SIZE], why[256] = "";
  assert_int_equal(phone_parse("02 9999 9999", "AU", out, why, sizeof why),
                   LB_OK);
  assert_string_equal(out, "+61299999999");
  assert_int_equal(phone_parse("+61299999999", "AU", out, why, sizeof why),
                   LB_OK);
  assert_string_equal(out, "+61299999999");
  assert_int_equal(phone_parse("0412 345 678", "AU", out, why, sizeof why),
                   LB_OK);
  assert_string_equal(out, "+61412345678");
  assert_int_equal(phone_parse("hello", "AU", out, why, sizeof why), LB_EPHONE);
  assert_int_equal(phone_parse("", "AU", out, why, sizeof why), LB_EPHONE);
}

/* A local number needs a region to mean anything. */
static void test_local_number_needs_region(void **state)
{
  char out[LB_E164_SIZE], why[256] = "";
  assert_int_equal(phone_normalize("0412 345 678", "", out, why, sizeof why),
                   LB_EPHONE);
  assert_int_equal(phone_normalize("0412 345 678", NULL, out, why, sizeof why),
                   LB_EPHONE);
  /* The international form does not. */
  assert_int_equal(phone_normalize("+61412345678", NULL, out, why, sizeof why),
                   LB_OK);
  assert_string_equal(out, "+61412345678");
}

static void test_is_e164(void **state)
{
  static const struct {
    const char *s;
    int want;
  } rows[] = {
      {"+61412345678", 1},
      {"+12025550123", 1},
      {"+12345678", 1},         /* 8 digits: shortest */
      {"+123456789012345", 1},  /* 15 digits: longest */
      {"+1234567", 0},          /* 7 digits */
      {"+1234567890123456", 0}, /* 16 digits */
      {"61412345678", 0},       /* no + */
      {"0412345678", 0},
      {"+61 412 345 678", 0}, /* spaces */
      {"+61-412-345-678", 0},
      {"+6141234567a", 0},
      {"++61412345678", 0},
      {"+", 0},
      {"", 0},
      {NULL, 0},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    print_message("is_e164 '%s'\n", rows[i].s ? rows[i].s : "(null)");
    assert_int_equal(phone_is_e164(rows[i].s), rows[i].want);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_normalize_mobile),
      cmocka_unit_test(test_normalize_refuses_landline),
      cmocka_unit_test(test_normalize_refuses_toll_free),
      cmocka_unit_test(test_normalize_refuses_garbage),
      cmocka_unit_test(test_error_names_input),
      cmocka_unit_test(test_overlong_input),
      cmocka_unit_test(test_parse_accepts_landline),
      cmocka_unit_test(test_local_number_needs_region),
      cmocka_unit_test(test_is_e164),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
