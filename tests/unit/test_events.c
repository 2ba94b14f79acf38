/* The pure parts of the clinic app's interface: Standard Webhooks signing
 * (with the spec's published test vectors), API key scopes, the event
 * type names, and the durations of [events]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/event.h"
#include "core/scope.h"
#include "util/duration.h"
#include "util/stdwebhook.h"

/* Vector 1: shared by the reference libraries' tests (Go, JavaScript, C#,
 * Java, Python). */
static void sign_matches_the_reference_vector(void **state)
{
  const char body[] = "{\"test\": 2432232314}";
  char sig[STDWH_SIG_MAX];
  (void)state;
  assert_int_equal(stdwh_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                              "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                              strlen(body), sig),
                   LB_OK);
  assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

/* Vector 2: the Rust library's test, with its negative twin. */
static void sign_matches_the_second_vector(void **state)
{
  const char body[] = "{\"email\":\"test@example.com\",\"username\":"
                      "\"test_user\"}";
  char sig[STDWH_SIG_MAX];
  (void)state;
  assert_int_equal(stdwh_sign("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                              "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1649367553,
                              body, strlen(body), sig),
                   LB_OK);
  assert_string_equal(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
  assert_string_not_equal(sig,
                          "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=");
}

static void every_byte_is_signed(void **state)
{
  const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  char a[STDWH_SIG_MAX], b[STDWH_SIG_MAX];
  (void)state;
  assert_int_equal(stdwh_sign(secret, "evt_1", 1, "{}", 2, a), LB_OK);
  assert_int_equal(stdwh_sign(secret, "evt_1", 2, "{}", 2, b), LB_OK);
  assert_string_not_equal(a, b); /* the timestamp */
  assert_int_equal(stdwh_sign(secret, "evt_2", 1, "{}", 2, b), LB_OK);
  assert_string_not_equal(a, b); /* the id */
  assert_int_equal(stdwh_sign(secret, "evt_1", 1, "{ }", 3, b), LB_OK);
  assert_string_not_equal(a, b); /* the body */
}

static void bad_secrets_and_ids_are_refused(void **state)
{
  char sig[STDWH_SIG_MAX];
  (void)state;
  /* No prefix, empty, not base64, too short (under 24 bytes). */
  assert_int_equal(stdwh_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a", 1, "", 0,
                              sig),
                   LB_EINVAL);
  assert_int_equal(stdwh_sign("whsec_", "a", 1, "", 0, sig), LB_EINVAL);
  assert_int_equal(stdwh_sign("whsec_!!!!", "a", 1, "", 0, sig), LB_EINVAL);
  assert_int_equal(stdwh_sign("whsec_c2hvcnQ=", "a", 1, "", 0, sig),
                   LB_EINVAL);
  /* The id may not hold the separator. */
  assert_int_equal(stdwh_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a.b",
                              1, "", 0, sig),
                   LB_EINVAL);
  assert_false(stdwh_secret_valid("whsec_"));
  assert_true(stdwh_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
}

static void new_secrets_are_32_random_bytes(void **state)
{
  char a[STDWH_SECRET_MAX], b[STDWH_SECRET_MAX];
  (void)state;
  stdwh_secret_new(a);
  stdwh_secret_new(b);
  assert_memory_equal(a, "whsec_", 6);
  assert_int_equal(strlen(a), 6 + 44); /* padded base64 of 32 bytes */
  assert_true(stdwh_secret_valid(a));
  assert_string_not_equal(a, b);
}

static void scopes_parse_and_format(void **state)
{
  unsigned m = 0;
  char bad[64], out[SCOPE_LIST_MAX];
  (void)state;
  assert_int_equal(scope_parse("messages:send, media:write", &m, bad,
                               sizeof bad),
                   LB_OK);
  assert_int_equal(m, SCOPE_MESSAGES_SEND | SCOPE_MEDIA_WRITE);
  scope_format(m, out, sizeof out);
  assert_string_equal(out, "messages:send,media:write");
  assert_int_equal(scope_parse("messages:send,messages:delete", &m, bad,
                               sizeof bad),
                   LB_EINVAL);
  assert_string_equal(bad, "messages:delete");
  assert_int_equal(scope_parse("", &m, bad, sizeof bad), LB_EINVAL);
  scope_format(SCOPE_ALL, out, sizeof out);
  assert_non_null(strstr(out, "webhooks:manage"));
  assert_non_null(strstr(out, "admin"));
}

static void scopes_allow_only_what_they_name(void **state)
{
  (void)state;
  assert_true(scope_allows(SCOPE_MESSAGES_SEND, SCOPE_MESSAGES_SEND));
  assert_false(scope_allows(SCOPE_MESSAGES_READ, SCOPE_MESSAGES_SEND));
  assert_true(scope_allows(SCOPE_ADMIN, SCOPE_WEBHOOKS_MANAGE));
  assert_true(scope_allows(0, 0));
  assert_false(scope_allows(SCOPE_STAFF, SCOPE_ADMIN));
  assert_false(scope_allows(SCOPE_STAFF, SCOPE_WEBHOOKS_MANAGE));
}

static void event_names(void **state)
{
  struct message m;
  struct event ev;
  (void)state;
  message_init(&m);
  m.direction = DIR_INBOUND;
  ev = event_of_message(&m, CHANGE_CREATED, NULL);
  assert_string_equal(event_type_name(&ev), "message.received");
  m.direction = DIR_OUTBOUND;
  assert_string_equal(event_type_name(&ev), "message.status");
  ev.change = CHANGE_UPDATED;
  assert_string_equal(event_type_name(&ev), "message.updated");
  ev.type = EVENT_CONVERSATION_READ;
  assert_string_equal(event_type_name(&ev), "conversation.read");
  for (size_t i = 0; event_type_names[i]; i++)
    assert_true(event_type_known(event_type_names[i]));
  assert_false(event_type_known("message.deleted"));
}

static void durations(void **state)
{
  int64_t ms[16];
  size_t n;
  (void)state;
  assert_int_equal(duration_parse("24h", &ms[0]), LB_OK);
  assert_int_equal(ms[0], 24LL * 3600 * 1000);
  assert_int_equal(duration_parse("90", &ms[0]), LB_OK);
  assert_int_equal(ms[0], 90000);
  assert_int_equal(duration_parse("5d", &ms[0]), LB_OK);
  assert_int_equal(ms[0], 5LL * 86400 * 1000);
  assert_int_equal(duration_parse("-1s", &ms[0]), LB_EINVAL);
  assert_int_equal(duration_parse("soon", &ms[0]), LB_EINVAL);
  assert_int_equal(duration_parse_list("5s, 5m, 30m, 2h", ms, 16, &n), LB_OK);
  assert_int_equal(n, 4);
  assert_int_equal(ms[1], 300000);
  assert_int_equal(duration_parse_list("5s,,5m", ms, 16, &n), LB_EINVAL);
  assert_int_equal(duration_parse_list("1s,1s,1s", ms, 2, &n), LB_ETOOBIG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sign_matches_the_reference_vector),
      cmocka_unit_test(sign_matches_the_second_vector),
      cmocka_unit_test(every_byte_is_signed),
      cmocka_unit_test(bad_secrets_and_ids_are_refused),
      cmocka_unit_test(new_secrets_are_32_random_bytes),
      cmocka_unit_test(scopes_parse_and_format),
      cmocka_unit_test(scopes_allow_only_what_they_name),
      cmocka_unit_test(event_names),
      cmocka_unit_test(durations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
