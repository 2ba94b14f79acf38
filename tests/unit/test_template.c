/* Template rendering: placeholders filled in, missing values reported,
 * braces escaped, and the caps that keep a body and its result bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/template.h"

static const struct template_value clinic[] = {
    {"first_name", "Ada"},
    {"clinic_name", "Harbour Medical"},
    {"clinic_phone", "02 9999 0000"},
};

static void test_fills_builtins(void **state)
{
  char out[512], why[200];
  struct template_fields missing;
  assert_int_equal(template_render("Hi {first_name}, {clinic_name} here. Call "
                                   "{clinic_phone}. Bye {first_name}",
                                   clinic, 3, out, sizeof out, &missing, why,
                                   sizeof why),
                   LB_OK);
  assert_string_equal(out, "Hi Ada, Harbour Medical here. Call 02 9999 0000. "
                           "Bye Ada");
  assert_int_equal(missing.n, 0);
}

static void test_missing_values_reported_and_kept(void **state)
{
  char out[512], why[200];
  struct template_fields missing;
  struct template_value v[] = {{"first_name", ""}, {"clinic_name", "Harbour"}};
  assert_int_equal(template_render("Hi {first_name}, see you at {time} on "
                                   "{day} at {clinic_name} ({time})",
                                   v, 2, out, sizeof out, &missing, why,
                                   sizeof why),
                   LB_OK);
  assert_string_equal(out, "Hi {first_name}, see you at {time} on {day} at "
                           "Harbour ({time})");
  assert_int_equal(missing.n, 3);
  assert_string_equal(missing.name[0], "first_name");
  assert_string_equal(missing.name[1], "time");
  assert_string_equal(missing.name[2], "day");
  /* Filled in, the free field goes. */
  struct template_value all[] = {{"first_name", "Bo"},
                                 {"time", "10:30"},
                                 {"day", "Monday"},
                                 {"clinic_name", "Harbour"}};
  assert_int_equal(template_render("{first_name}: {time} {day}", all, 4, out,
                                   sizeof out, &missing, why, sizeof why),
                   LB_OK);
  assert_string_equal(out, "Bo: 10:30 Monday");
  assert_int_equal(missing.n, 0);
}

static void test_braces_escape(void **state)
{
  char out[256], why[200];
  struct template_fields missing, f;
  assert_int_equal(template_render("Use {{code}} and }} {first_name}", clinic,
                                   3, out, sizeof out, &missing, why,
                                   sizeof why),
                   LB_OK);
  assert_string_equal(out, "Use {code} and } Ada");
  assert_int_equal(template_parse("a {{b}} c", &f, why, sizeof why), LB_OK);
  assert_int_equal(f.n, 0);
}

static void test_bad_bodies_refused_with_reason(void **state)
{
  char why[200];
  struct template_fields f;
  const char *const bad[] = {"",
                             "Hi {First}",
                             "Hi {first name}",
                             "Hi {",
                             "a } b",
                             "{1x}",
                             "{}",
                             "x {toolongtoolongtoolongtoolongtoolong} y",
                             "bell \a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    why[0] = '\0';
    if (template_parse(bad[i], &f, why, sizeof why) == LB_OK)
      fail_msg("accepted '%s'", bad[i]);
    assert_true(why[0] != '\0');
  }
  assert_int_equal(template_parse("Hi {first", &f, why, sizeof why), LB_EINVAL);
  assert_non_null(strstr(why, "{{"));
  assert_int_equal(template_parse("ok {a1_b}\nline two", &f, why, sizeof why),
                   LB_OK);
  assert_int_equal(f.n, 1);
  assert_string_equal(f.name[0], "a1_b");
}

static void test_caps(void **state)
{
  char body[8000], out[8000], why[200];
  struct template_fields f, missing;
  /* At most TEMPLATE_FIELDS_MAX distinct placeholders. */
  body[0] = '\0';
  for (int i = 0; i <= TEMPLATE_FIELDS_MAX; i++) {
    char p[16];
    snprintf(p, sizeof p, "{f%d} ", i);
    strcat(body, p);
  }
  assert_int_equal(template_parse(body, &f, why, sizeof why), LB_ETOOBIG);
  assert_non_null(strstr(why, "placeholders"));
  /* Repeats count once. */
  assert_int_equal(template_parse("{a}{a}{a}{a}{a}{a}{a}{a}{a}{a}{a}{a}", &f,
                                  why, sizeof why),
                   LB_OK);
  assert_int_equal(f.n, 1);
  /* The body's length. */
  memset(body, 'x', TEMPLATE_BODY_MAX + 1);
  body[TEMPLATE_BODY_MAX + 1] = '\0';
  assert_int_equal(template_parse(body, &f, why, sizeof why), LB_ETOOBIG);
  body[TEMPLATE_BODY_MAX] = '\0';
  assert_int_equal(template_parse(body, &f, why, sizeof why), LB_OK);
  /* A value over its cap, and a result over the body's. */
  char big[TEMPLATE_VALUE_MAX + 2];
  memset(big, 'v', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  struct template_value v = {"time", big};
  assert_int_equal(template_render("{time}", &v, 1, out, sizeof out, &missing,
                                   why, sizeof why),
                   LB_ETOOBIG);
  big[TEMPLATE_VALUE_MAX] = '\0';
  memset(body, 'x', TEMPLATE_BODY_MAX - 6);
  strcpy(body + TEMPLATE_BODY_MAX - 6, "{time}");
  assert_int_equal(
      template_render(body, &v, 1, out, sizeof out, &missing, why, sizeof why),
      LB_ETOOBIG);
  assert_non_null(strstr(why, "longer"));
  /* And the caller's buffer. */
  assert_int_equal(template_render("{first_name} and more", clinic, 3, out, 5,
                                   &missing, why, sizeof why),
                   LB_ETOOBIG);
  /* A value with a control character. */
  struct template_value ctl = {"time", "10\n30"};
  assert_int_equal(template_render("{time}", &ctl, 1, out, sizeof out, &missing,
                                   why, sizeof why),
                   LB_EINVAL);
}

static void test_names_and_first_name(void **state)
{
  char why[200], first[64];
  assert_int_equal(template_name_check("Appointment reminder", why, sizeof why),
                   LB_OK);
  assert_int_equal(template_name_check("", why, sizeof why), LB_EINVAL);
  assert_int_equal(template_name_check("   ", why, sizeof why), LB_EINVAL);
  assert_int_equal(template_name_check("a\tb", why, sizeof why), LB_EINVAL);
  assert_true(template_field_is_builtin("clinic_phone"));
  assert_false(template_field_is_builtin("time"));
  template_first_name("  Zoë Smith", first, sizeof first);
  assert_string_equal(first, "Zoë");
  template_first_name(NULL, first, sizeof first);
  assert_string_equal(first, "");
  template_first_name("Zoë", first, 4); /* never half a character */
  assert_string_equal(first, "Zo");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fills_builtins),
      cmocka_unit_test(test_missing_values_reported_and_kept),
      cmocka_unit_test(test_braces_escape),
      cmocka_unit_test(test_bad_bodies_refused_with_reason),
      cmocka_unit_test(test_caps),
      cmocka_unit_test(test_names_and_first_name),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
