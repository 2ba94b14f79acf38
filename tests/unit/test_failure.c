/* The failure table: every error code the adapters and the gateway write
 * on a message reads as a sentence with an action, and an unknown one as
 * a generic sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/failure.h"

/* What the adapters (src/providers), the sim carrier and the gateway put in
 * error_code (read from the sources): exact codes, and examples of the
 * families passed through with a prefix. */
static const char *const emitted[] = {
    /* registry.c: send_result_begin */
    "timeout", "network",
    /* sim.c and the sim carrier */
    "absent_subscriber", "unavailable", "invalid_number", "invalid_request",
    "mms_not_supported", "mms_too_large", "handset_no_mms", "invalid_media",
    "unauthorized", "http_error", "bad_response",
    /* twilio.c */
    "rate_limited", "http_500", "http_404", "opted_out", "media_too_large",
    "canceled", "twilio_20003", "twilio_21211", "twilio_21614", "twilio_30003",
    "twilio_30004", "twilio_30005", "twilio_30006", "twilio_30007",
    "twilio_30008", "twilio_99999",
    /* clicksend.c */
    "country_not_enabled", "no_credit", "invalid_sender", "duplicate",
    "blocked", "forbidden", "bad_request", "auth_failed",
    "clicksend_something_new", "clicksend_301",
    /* messagemedia.c */
    "rejected", "messagemedia_302", "messagemedia_320", "messagemedia_401",
    "messagemedia_411", "messagemedia_414", "messagemedia_999", "expired",
    "undeliverable", "cancelled",
    /* smsbroadcast.c */
    "provider_error", "provider_busy", "failed", "undelivered",
    /* gateway: send.c, consent.c, the outbox */
    "link_unavailable", "media_unavailable", "cannot_build", "provider_changed",
    "internal", "unconfirmed"};

static void test_every_emitted_code_has_an_entry(void **state)
{
  for (size_t i = 0; i < sizeof emitted / sizeof emitted[0]; i++) {
    const struct failure_info *f = failure_describe(emitted[i]);
    if (!failure_known(emitted[i]))
      fail_msg("no entry for '%s'", emitted[i]);
    assert_non_null(f);
    assert_true(strlen(f->message) > 20);
    assert_true(strlen(f->action) > 10);
  }
}

static void test_the_phone_off_sentence(void **state)
{
  const struct failure_info *f = failure_describe("absent_subscriber");
  assert_string_equal(f->reason, "phone_unreachable");
  assert_non_null(strstr(f->message, "phone was off or out of range"));
  assert_non_null(strstr(f->action, "call them"));
  /* Twilio's code for the same thing reads the same. */
  assert_ptr_equal(failure_describe("twilio_30003"), f);
}

static void test_classes_that_staff_act_on_differently(void **state)
{
  assert_string_equal(failure_describe("invalid_number")->reason,
                      "invalid_number");
  assert_string_equal(failure_describe("twilio_21610")->reason, "opted_out");
  assert_string_equal(failure_describe("http_503")->reason,
                      "carrier_unavailable");
  assert_string_equal(failure_describe("http_429")->reason,
                      "carrier_unavailable");
  assert_string_equal(failure_describe("http_400")->reason, "rejected");
  assert_string_equal(failure_describe("unconfirmed")->reason, "unconfirmed");
  assert_string_equal(failure_describe("no_credit")->reason, "account_problem");
}

static void test_unknown_code_gets_a_generic_sentence(void **state)
{
  const char *const odd[] = {"zz_never_heard_of", "", NULL, "ABSENT_SUBSCRIBER",
                             "http_"};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
    const struct failure_info *f = failure_describe(odd[i]);
    assert_non_null(f);
    assert_string_equal(f->reason, "unknown");
    assert_non_null(strstr(f->message, "could not be delivered"));
    assert_true(f->action[0] != '\0');
    assert_false(failure_known(odd[i]));
  }
}

static void test_classes_are_distinct_and_complete(void **state)
{
  size_t n = 0;
  for (const struct failure_info *f; (f = failure_class_at(n)); n++) {
    assert_true(f->reason[0] && f->message[0] && f->action[0]);
    for (size_t j = 0; j < n; j++)
      assert_string_not_equal(failure_class_at(j)->reason, f->reason);
  }
  assert_true(n >= 10);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_emitted_code_has_an_entry),
      cmocka_unit_test(test_the_phone_off_sentence),
      cmocka_unit_test(test_classes_that_staff_act_on_differently),
      cmocka_unit_test(test_unknown_code_gets_a_generic_sentence),
      cmocka_unit_test(test_classes_are_distinct_and_complete),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
