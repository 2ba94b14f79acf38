/* Working as a team on a conversation: its state (open, or done until the
 * patient writes again), the staff member it is assigned to, and the
 * internal notes staff leave on it, which are never sent. Pure. */
#ifndef LB_TEAM_H
#define LB_TEAM_H

#include <stddef.h>
#include <stdint.h>

#include "core/phone.h"
#include "core/user.h"
#include "util/err.h"
#include "util/id.h"

enum conv_state {
  CONV_OPEN, /* the default: shown in the list */
  CONV_DONE, /* dealt with: hidden by default until the patient writes */
};

/* "open" or "done". */
const char *conv_state_name(enum conv_state s);
/* LB_EINVAL for anything but "open" and "done". */
enum lb_err conv_state_parse(const char *s, enum conv_state *out);

/* A conversation's team fields as they are after a change. */
struct conv_team {
  enum conv_state state;
  char assigned_to[LB_USERNAME_MAX]; /* "" when unassigned */
  char changed_by[LB_USERNAME_MAX];  /* who made this change ("" if none) */
};

#define NOTE_TEXT_MAX_CHARS 2000
#define NOTE_TEXT_SIZE (NOTE_TEXT_MAX_CHARS * 4 + 1) /* UTF-8, and the NUL */

/* An internal note: staff only, never sent to the patient. */
struct note {
  char id[LB_ID_SIZE];
  char patient[LB_E164_SIZE];
  char author[LB_USERNAME_MAX]; /* a username, or the API key's name */
  char author_kind[8];          /* "user" or "key" */
  char text[NOTE_TEXT_SIZE];
  int64_t created_at;
};

/* Checks a note's text: LB_EINVAL with why (size n) when it is empty (or
 * only white space), not UTF-8, or longer than NOTE_TEXT_MAX_CHARS. */
enum lb_err note_text_check(const char *text, char *why, size_t n);

#endif
