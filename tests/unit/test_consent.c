/* Patients' choices as the domain sees them: the keywords a patient texts
 * (ICU's NFKC case folding, trimmed, trailing punctuation dropped), the
 * consent records in words, and the audit log's hash chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/audit.h"
#include "core/consent.h"
#include "core/keywords.h"
#include "util/err.h"

#define OPT_OUT "STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT, OPT OUT"
#define OPT_IN "START, UNSTOP, YES"
#define HELP "HELP, INFO"

static void test_keywords_match(void **state)
{
  static const struct {
    const char *text;
    enum keyword_kind want;
  } rows[] = {
      {"STOP", KEYWORD_OPT_OUT},
      {"stop", KEYWORD_OPT_OUT},
      {"  Stop  ", KEYWORD_OPT_OUT},
      {"STOP.", KEYWORD_OPT_OUT},
      {"stop!!", KEYWORD_OPT_OUT},
      {"Stop !", KEYWORD_OPT_OUT},
      {"\n\tSTOP\r\n", KEYWORD_OPT_OUT},
      /* Full-width letters and an ideographic space, as phones send. */
      {"\xef\xbc\xb3\xef\xbc\xb4\xef\xbc\xaf\xef\xbc\xb0", KEYWORD_OPT_OUT},
      {"\xe3\x80\x80stop\xef\xbc\x81", KEYWORD_OPT_OUT},
      {"OPT OUT", KEYWORD_OPT_OUT},
      {"opt   out", KEYWORD_OPT_OUT},
      {"OptOut", KEYWORD_OPT_OUT},
      {"unsubscribe", KEYWORD_OPT_OUT},
      {"STOPALL", KEYWORD_OPT_OUT},
      {"Quit", KEYWORD_OPT_OUT},
      {"START", KEYWORD_OPT_IN},
      {"unstop", KEYWORD_OPT_IN},
      {"Yes", KEYWORD_OPT_IN},
      {"yes!", KEYWORD_OPT_IN},
      {"HELP", KEYWORD_HELP},
      {"info?", KEYWORD_HELP},
      /* Not keywords: more words, other words, nothing at all. */
      {"stop it", KEYWORD_NONE},
      {"please stop texting me", KEYWORD_NONE},
      {"STOPP", KEYWORD_NONE},
      {"s t o p", KEYWORD_NONE},
      {"", KEYWORD_NONE},
      {"   ", KEYWORD_NONE},
      {"!!!", KEYWORD_NONE},
      {"Yes please", KEYWORD_NONE},
      {"\xff\xfe", KEYWORD_NONE}, /* not UTF-8 */
  };
  struct keywords k;
  char why[200];
  assert_int_equal(keywords_init(&k, OPT_OUT, OPT_IN, HELP, why, sizeof why),
                   LB_OK);
  assert_int_equal(k.n[0], 8);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    enum keyword_kind got =
        keywords_match(&k, rows[i].text, strlen(rows[i].text));
    if (got != rows[i].want)
      fail_msg("row %zu ('%s'): %s, want %s", i, rows[i].text,
               keyword_kind_name(got), keyword_kind_name(rows[i].want));
  }
  /* A long message is never a keyword, and never costs a normalisation. */
  {
    char longer[200];
    memset(longer, 's', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(keywords_match(&k, longer, strlen(longer)), KEYWORD_NONE);
  }
}

static void test_keywords_config_errors(void **state)
{
  struct keywords k;
  char why[200];
  assert_int_equal(keywords_init(&k, "STOP, ", OPT_IN, HELP, why, sizeof why),
                   LB_EINVAL);
  assert_non_null(strstr(why, "empty"));
  assert_int_equal(keywords_init(&k, "STOP, YES", OPT_IN, HELP, why,
                                 sizeof why),
                   LB_EINVAL);
  assert_non_null(strstr(why, "'yes' is both"));
  assert_int_equal(keywords_init(&k, "STOP,,END", OPT_IN, HELP, why,
                                 sizeof why),
                   LB_EINVAL);
  /* Custom lists work, in any script. */
  assert_int_equal(keywords_init(&k, "ARRÊTER, stop", "", "", why, sizeof why),
                   LB_OK);
  assert_int_equal(keywords_match(&k, "arrêter", strlen("arrêter")),
                   KEYWORD_OPT_OUT);
  assert_int_equal(keywords_match(&k, "ARRÊTER!", strlen("ARRÊTER!")),
                   KEYWORD_OPT_OUT);
}

static void test_consent_describe(void **state)
{
  struct consent_event e;
  char out[400];
  memset(&e, 0, sizeof e);
  e.state = CONSENT_OPTED_OUT;
  e.source = CONSENT_KEYWORD;
  snprintf(e.message_id, sizeof e.message_id, "01JD3Q7X8Y9Z0ABCDEFGHJKMNP");
  snprintf(e.reason, sizeof e.reason, "Unsubscribe");
  consent_describe(&e, out, sizeof out);
  assert_string_equal(out, "the patient replied Unsubscribe (message "
                           "01JD3Q7X8Y9Z0ABCDEFGHJKMNP)");
  e.source = CONSENT_PROVIDER;
  snprintf(e.provider, sizeof e.provider, "twilio");
  snprintf(e.reason, sizeof e.reason, "refused a send: opted out");
  consent_describe(&e, out, sizeof out);
  assert_string_equal(out,
                      "twilio reported an opt-out: refused a send: opted out");
  e.state = CONSENT_OPTED_IN;
  e.source = CONSENT_STAFF;
  snprintf(e.actor, sizeof e.actor, "reception");
  snprintf(e.reason, sizeof e.reason, "consent given in person on 3 Dec");
  consent_describe(&e, out, sizeof out);
  assert_string_equal(out,
                      "opted in by reception: consent given in person on 3 Dec");
  {
    enum consent_state s;
    enum consent_source src;
    assert_int_equal(consent_state_parse("opted_out", &s), LB_OK);
    assert_int_equal(s, CONSENT_OPTED_OUT);
    assert_int_equal(consent_source_parse("api", &src), LB_OK);
    assert_int_equal(src, CONSENT_API);
    assert_int_equal(consent_state_parse("maybe", &s), LB_EINVAL);
    assert_string_equal(consent_source_name(CONSENT_PROVIDER), "provider");
  }
}

static void test_audit_hash_chain(void **state)
{
  struct audit_entry e;
  char h[AUDIT_HASH_HEX], again[AUDIT_HASH_HEX];
  audit_entry_init(&e, "user", "reception", "media.viewed", "+61491570156",
                   "01JD3Q7X8Y9Z0ABCDEFGHJKMNQ", "127.0.0.1");
  e.seq = 1;
  snprintf(e.id, sizeof e.id, "01JD3Q7X8Y9Z0ABCDEFGHJKMNP");
  e.at = 1795000000000LL;
  snprintf(e.detail, sizeof e.detail, "{\"a\":\"b\"}");
  snprintf(e.prev_hash, sizeof e.prev_hash, "%s", AUDIT_GENESIS);
  /* SHA-256 over "<len>:<field>\n" for prev_hash, seq, id, at, actor kind,
   * actor, action, patient, subject, detail and ip, computed by hand. */
  audit_hash(&e, h);
  assert_string_equal(
      h, "96e41f5ca943712f7f436fbfe8844721d0345f2d571ca011280060a8ec30d484");
  /* Every field counts, and the previous hash chains the rows. */
  snprintf(e.actor, sizeof e.actor, "someone-else");
  audit_hash(&e, again);
  assert_string_not_equal(h, again);
  snprintf(e.actor, sizeof e.actor, "reception");
  e.prev_hash[0] = '1';
  audit_hash(&e, again);
  assert_string_not_equal(h, again);
  /* Length prefixes: moving text from one field to the next changes it. */
  e.prev_hash[0] = '0';
  snprintf(e.subject, sizeof e.subject, "01JD3Q7X8Y9Z0ABCDEFGHJKMNQ{");
  snprintf(e.detail, sizeof e.detail, "\"a\":\"b\"}");
  audit_hash(&e, again);
  assert_string_not_equal(h, again);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keywords_match),
      cmocka_unit_test(test_keywords_config_errors),
      cmocka_unit_test(test_consent_describe),
      cmocka_unit_test(test_audit_hash_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
