/* Working as a team, the pure parts: a conversation's states, the checks a
 * note's text must pass, and the names of the team's events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/event.h"
#include "core/team.h"

static void states_parse_and_name(void **state)
{
  enum conv_state s = CONV_OPEN;
  (void)state;
  assert_int_equal(conv_state_parse("done", &s), LB_OK);
  assert_int_equal(s, CONV_DONE);
  assert_string_equal(conv_state_name(s), "done");
  assert_int_equal(conv_state_parse("open", &s), LB_OK);
  assert_string_equal(conv_state_name(s), "open");
  assert_int_equal(conv_state_parse("Done", &s), LB_EINVAL);
  assert_int_equal(conv_state_parse("", &s), LB_EINVAL);
  assert_int_equal(conv_state_parse(NULL, &s), LB_EINVAL);
}

/* A note of n copies of the UTF-8 character c. */
static char *repeat(const char *c, size_t n)
{
  size_t len = strlen(c);
  char *s = malloc(len * n + 1);
  for (size_t i = 0; i < n; i++)
    memcpy(s + i * len, c, len);
  s[len * n] = '\0';
  return s;
}

static void note_text_is_bounded_and_not_empty(void **state)
{
  char why[200];
  char *s;
  (void)state;
  assert_int_equal(note_text_check("Called back", why, sizeof why), LB_OK);
  assert_int_equal(note_text_check("", why, sizeof why), LB_EINVAL);
  assert_int_equal(note_text_check(" \n\t ", why, sizeof why), LB_EINVAL);
  assert_non_null(strstr(why, "needs some text"));
  assert_int_equal(note_text_check("bad \xff byte", why, sizeof why),
                   LB_EINVAL);
  /* 2,000 characters, in any script; not one more. */
  s = repeat("x", NOTE_TEXT_MAX_CHARS);
  assert_int_equal(note_text_check(s, why, sizeof why), LB_OK);
  free(s);
  s = repeat("\xf0\x9f\x98\x80", NOTE_TEXT_MAX_CHARS); /* 4-byte emoji */
  assert_int_equal(note_text_check(s, why, sizeof why), LB_OK);
  free(s);
  s = repeat("\xc3\xa9", NOTE_TEXT_MAX_CHARS + 1);
  assert_int_equal(note_text_check(s, why, sizeof why), LB_EINVAL);
  assert_non_null(strstr(why, "2001"));
  free(s);
}

static void team_events_have_names(void **state)
{
  struct event ev;
  (void)state;
  memset(&ev, 0, sizeof ev);
  ev.type = EVENT_CONVERSATION_ASSIGNED;
  assert_string_equal(event_type_name(&ev), "conversation.assigned");
  ev.type = EVENT_CONVERSATION_STATE;
  assert_string_equal(event_type_name(&ev), "conversation.state_changed");
  ev.type = EVENT_NOTE_CREATED;
  assert_string_equal(event_type_name(&ev), "note.created");
  assert_true(event_type_known("conversation.assigned"));
  assert_true(event_type_known("conversation.state_changed"));
  assert_true(event_type_known("note.created"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(states_parse_and_name),
      cmocka_unit_test(note_text_is_bounded_and_not_empty),
      cmocka_unit_test(team_events_have_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
