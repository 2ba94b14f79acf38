/* Keywords a patient texts to the clinic's number: opt-out (STOP), opt-in
 * (START) and help (HELP), each list configurable in [optout].
 *
 * A message is a keyword when all of it, normalised, is one of a list's
 * words, normalised the same way: NFKC with Unicode case folding (ICU's
 * NFKC_Casefold, so full-width "ＳＴＯＰ" and "Stop" are "stop"), white
 * space trimmed and runs of it made one space ("OPT  OUT" is "opt out"),
 * and trailing punctuation dropped ("Stop." and "STOP!!" match). Anything
 * longer or with other words ("stop texting me at work") is a message, not
 * a keyword. Pure: no I/O.
 *
 * Ownership: struct keywords is plain inline data; nothing to release. */
#ifndef LB_KEYWORDS_H
#define LB_KEYWORDS_H

#include <stddef.h>

#include "util/err.h"

enum keyword_kind {
  KEYWORD_NONE,
  KEYWORD_OPT_OUT,
  KEYWORD_OPT_IN,
  KEYWORD_HELP,
};

#define KEYWORDS_MAX 24     /* words per list */
#define KEYWORD_BYTES 48    /* one normalised word, with its NUL */
#define KEYWORD_TEXT_MAX 96 /* a longer message is never a keyword */

struct keywords {
  char words[3][KEYWORDS_MAX][KEYWORD_BYTES]; /* opt-out, opt-in, help */
  size_t n[3];
};

/* Parses three comma-separated lists ("STOP, STOPALL, OPT OUT"). A word
 * that normalises to nothing, one too long, too many words, or a word in
 * two lists is LB_EINVAL, with 'why' naming it. */
enum lb_err keywords_init(struct keywords *k, const char *opt_out,
                          const char *opt_in, const char *help, char *why,
                          size_t whylen);

/* The kind of text[0..len): KEYWORD_NONE unless all of it is a word of
 * one list. */
enum keyword_kind keywords_match(const struct keywords *k, const char *text,
                                 size_t len);

/* Normalises text[0..len) as above into out (UTF-8, NUL-terminated).
 * LB_ETOOBIG when the result does not fit; LB_EINVAL for bad UTF-8. */
enum lb_err keyword_normalize(const char *text, size_t len, char *out,
                              size_t n);

/* "opt_out", "opt_in", "help", "none". */
const char *keyword_kind_name(enum keyword_kind k);

#endif
