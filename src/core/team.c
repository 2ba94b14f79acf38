#include "core/team.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

const char *conv_state_name(enum conv_state s)
{
  return s == CONV_DONE ? "done" : "open";
}

enum lb_err conv_state_parse(const char *s, enum conv_state *out)
{
  if (s && strcmp(s, "open") == 0)
    *out = CONV_OPEN;
  else if (s && strcmp(s, "done") == 0)
    *out = CONV_DONE;
  else
    return LB_EINVAL;
  return LB_OK;
}

enum lb_err note_text_check(const char *text, char *why, size_t n)
{
  size_t chars = 0, len = text ? strlen(text) : 0;
  if (!len || strspn(text, " \t\r\n") == len) {
    snprintf(why, n, "a note needs some text");
    return LB_EINVAL;
  }
  if (utf8_count(text, len, &chars)) {
    snprintf(why, n, "the note is not valid UTF-8");
    return LB_EINVAL;
  }
  if (chars > NOTE_TEXT_MAX_CHARS || len >= NOTE_TEXT_SIZE) {
    snprintf(why, n, "a note is at most %d characters (this one has %zu)",
             NOTE_TEXT_MAX_CHARS, chars);
    return LB_EINVAL;
  }
  return LB_OK;
}
